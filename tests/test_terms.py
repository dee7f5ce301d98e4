"""The glossary: complete records, unique keys, agreement with the enums and the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from minecarbon.standard.terms import Term, all_terms, glossary_markdown, term
from minecarbon.types import AssessmentUnit, DamageForm, ForestType, LeafHabit

GLOSSARY = Path(__file__).parents[1] / "docs" / "glossary.md"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CJK = re.compile(r"[\u4e00-\u9fff]")

UNIT_TERMS = {
    AssessmentUnit.PERSISTENT: "persistent_forest",
    AssessmentUnit.TO_BE_DAMAGED: "to_be_damaged_forest",
    AssessmentUnit.DAMAGED: "damaged_forest",
    AssessmentUnit.RECLAIMED: "reclaimed_forest",
    AssessmentUnit.OTHER_DISTURBANCE: "other_disturbance",
}
DAMAGE_TERMS = {
    DamageForm.EXCAVATION: "excavation",
    DamageForm.SUBSIDENCE: "subsidence",
    DamageForm.OCCUPATION: "occupation",
}
FOREST_TYPE_TERMS = {
    ForestType.CONIFEROUS: "coniferous",
    ForestType.BROADLEAF: "broadleaf",
    ForestType.MIXED: "mixed",
    ForestType.SPARSE: "sparse",
}
LEAF_HABIT_TERMS = {
    LeafHabit.EVERGREEN: "evergreen_forest",
    LeafHabit.DECIDUOUS: "deciduous_forest",
}


def test_there_are_terms() -> None:
    terms = all_terms()
    assert len(terms) >= 10
    assert all(isinstance(t, Term) for t in terms)


@pytest.mark.parametrize("t", all_terms(), ids=lambda t: t.key)
def test_every_field_is_filled(t: Term) -> None:
    for field in ("key", "zh", "en", "definition", "source"):
        value = getattr(t, field)
        assert isinstance(value, str)
        assert value.strip(), f"{t.key}: empty {field}"
        assert value == value.strip(), f"{t.key}: {field} has surrounding whitespace"


@pytest.mark.parametrize("t", all_terms(), ids=lambda t: t.key)
def test_zh_is_chinese_and_key_snake_case(t: Term) -> None:
    assert SNAKE_CASE.match(t.key), t.key
    assert CJK.search(t.zh), t.zh
    assert t.label == f"{t.zh} {t.en}"


@pytest.mark.parametrize("t", all_terms(), ids=lambda t: t.key)
def test_fields_fit_in_a_markdown_table_cell(t: Term) -> None:
    for field in ("key", "zh", "en", "definition", "source"):
        value = getattr(t, field)
        assert "|" not in value and "\n" not in value, f"{t.key}.{field} breaks the table"


def test_keys_unique() -> None:
    keys = [t.key for t in all_terms()]
    assert len(keys) == len(set(keys))


def test_zh_unique() -> None:
    zh = [t.zh for t in all_terms()]
    assert len(zh) == len(set(zh))


@pytest.mark.parametrize(
    ("member", "key"),
    [*UNIT_TERMS.items(), *DAMAGE_TERMS.items(), *FOREST_TYPE_TERMS.items(),
     *LEAF_HABIT_TERMS.items()],
    ids=lambda v: getattr(v, "name", v),
)
def test_enum_labels_match_terms(member: object, key: str) -> None:
    t = term(key)
    assert t.zh == member.zh  # type: ignore[attr-defined]


def test_all_five_units_and_three_damage_forms_have_terms() -> None:
    assert set(UNIT_TERMS) == set(AssessmentUnit)
    assert set(DAMAGE_TERMS) == set(DamageForm)
    keys = {t.key for t in all_terms()}
    assert set(UNIT_TERMS.values()) <= keys
    assert set(DAMAGE_TERMS.values()) <= keys
    # English names of units and damage forms agree too
    for member, key in [*UNIT_TERMS.items(), *DAMAGE_TERMS.items()]:
        assert term(key).en == member.en


def test_level_terms_exist() -> None:
    assert term("level1_unit").zh == "一级监测评估单元"
    assert term("level2_unit").zh == "二级监测评估单元"


def test_term_lookup() -> None:
    first = all_terms()[0]
    assert term(first.key) == first


def test_unknown_term_raises_key_error() -> None:
    with pytest.raises(KeyError, match="nope"):
        term("nope")


def test_glossary_doc_is_generated() -> None:
    assert GLOSSARY.read_text(encoding="utf-8") == glossary_markdown(), (
        "docs/glossary.md is stale: run "
        "`python -m minecarbon.standard.terms > docs/glossary.md`"
    )


def test_glossary_lists_every_term() -> None:
    text = glossary_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(all_terms())
    for t in all_terms():
        assert t.zh in text
        assert f"`{t.key}`" in text
    for row in rows:
        # 5 cells → 6 pipes
        assert row.count("|") == 6, row
