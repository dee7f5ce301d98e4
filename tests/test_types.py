"""Shared enumerations: codes, bilingual labels and the members the standard names."""

from __future__ import annotations

import pytest

from minecarbon.types import AssessmentUnit, DamageForm, ForestType, LeafHabit, ModelKind

LABELLED = [AssessmentUnit, DamageForm, ForestType, LeafHabit]


@pytest.mark.parametrize("enum", LABELLED, ids=lambda e: e.__name__)
def test_codes_are_one_to_n(enum: type) -> None:
    codes = [int(m) for m in enum]
    assert codes == list(range(1, len(codes) + 1))
    assert len(set(codes)) == len(codes)
    assert 0 not in codes  # 0 is reserved for "none/outside" in rasters


@pytest.mark.parametrize("enum", LABELLED, ids=lambda e: e.__name__)
def test_labels_are_bilingual(enum: type) -> None:
    for member in enum:
        assert member.zh and member.en
        assert member.label == f"{member.zh} {member.en}"
        # zh holds CJK characters, en none
        assert any("\u4e00" <= ch <= "\u9fff" for ch in member.zh)
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in member.en)


@pytest.mark.parametrize("enum", LABELLED, ids=lambda e: e.__name__)
def test_labels_unique(enum: type) -> None:
    assert len({m.zh for m in enum}) == len(enum)
    assert len({m.en for m in enum}) == len(enum)


def test_assessment_units_are_the_five_of_s3() -> None:
    # REQUIREMENTS S3, in order
    assert [(m.zh, m.en) for m in AssessmentUnit] == [
        ("持续森林", "persistent forest"),
        ("拟损毁森林", "to-be-damaged forest"),
        ("已损毁森林", "damaged forest"),
        ("已复垦森林", "reclaimed forest"),
        ("其他扰动", "other disturbance"),
    ]


def test_damage_forms_are_the_three() -> None:
    assert [(m.zh, m.en) for m in DamageForm] == [
        ("挖损", "excavation"),
        ("塌陷", "subsidence"),
        ("压占", "occupation"),
    ]


def test_forest_types_are_the_four_of_s2() -> None:
    assert [m.zh for m in ForestType] == ["针叶林", "阔叶林", "针阔混交林", "稀疏林"]
    assert len(ForestType) == 4


def test_ints_compare_and_round_trip() -> None:
    assert AssessmentUnit.DAMAGED == 3
    assert AssessmentUnit.PERSISTENT == 1
    assert DamageForm.OCCUPATION == 3
    assert AssessmentUnit(3) is AssessmentUnit.DAMAGED
    assert ForestType(4) is ForestType.SPARSE
    assert isinstance(AssessmentUnit.DAMAGED, int)
    with pytest.raises(ValueError):
        AssessmentUnit(0)


def test_label_example() -> None:
    assert AssessmentUnit.PERSISTENT.label == "持续森林 persistent forest"


def test_model_kinds_are_strings() -> None:
    assert {m.value for m in ModelKind} == {"svr", "rf", "gbdt", "xgboost"}
    assert ModelKind("rf") is ModelKind.RANDOM_FOREST
