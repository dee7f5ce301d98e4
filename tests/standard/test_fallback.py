"""The species → genus → group → generic fallback chain, and the genera table behind it."""

from __future__ import annotations

import dataclasses

import pytest

from minecarbon.errors import InputDataError, UnknownSpeciesError
from minecarbon.standard.species import (
    BROADLEAF_HINTS,
    CONIFER_HINTS,
    GENERIC_MODEL_KEY,
    GROUP_MODEL_KEYS,
    SpeciesResolution,
    by_key,
    genera,
    model_key_label,
    model_keys,
    normalise_name,
    resolve_model_key,
    resolve_species,
    species_keys,
)

# ------------------------------------------------------------------ the four levels


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("油松", "pinus_tabuliformis"),
        ("Pinus tabulaeformis", "pinus_tabuliformis"),
        ("Pinus tabuliformis", "pinus_tabuliformis"),
        ("Chinese pine", "pinus_tabuliformis"),
        ("落叶松", "larix_principis_rupprechtii"),  # contains the hint 松 – still the species
        ("侧柏", "platycladus_orientalis"),  # contains the hint 柏 – still the species
        ("刺槐", "robinia_pseudoacacia"),  # contains the hint 槐
        ("杨树林", "populus"),
        ("白桦", "betula"),
        ("black locust", "robinia_pseudoacacia"),
    ],
)
def test_species_level(name: str, key: str) -> None:
    r = resolve_model_key(name)
    assert (r.level, r.model_key, r.species_key) == ("species", key, key)
    assert r.group == by_key(key).group and r.genus == by_key(key).genus
    assert not r.is_fallback
    assert "species match" in r.note and "fallback" not in r.note


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("油松树", "'油松'"),  # a trailing 树 (tree) is dropped
        ("Quercus mongolica Fisch. ex Ledeb.", "'Quercus mongolica'"),  # authors ignored
        ("Pinus tabuliformis var. mukdensis", "'Pinus tabuliformis'"),  # a variety
    ],
)
def test_species_level_after_trimming(name: str, detail: str) -> None:
    r = resolve_model_key(name)
    assert r.level == "species"
    assert f"species match on {detail}" in r.note


@pytest.mark.parametrize(
    ("name", "genus", "key"),
    [
        ("白皮松", "Pinus", "pinus_tabuliformis"),
        ("Pinus bungeana", "Pinus", "pinus_tabuliformis"),
        ("Pinus bungeana Zucc.", "Pinus", "pinus_tabuliformis"),
        ("樟子松", "Pinus", "pinus_tabuliformis"),
        ("Pinus armandii", "Pinus", "pinus_tabuliformis"),  # genus by its first word
        ("Pinus", "Pinus", "pinus_tabuliformis"),
        ("pine", "Pinus", "pinus_tabuliformis"),
        ("兴安落叶松", "Larix", "larix_principis_rupprechtii"),
        ("Larix gmelinii", "Larix", "larix_principis_rupprechtii"),
        ("Quercus dentata", "Quercus", "quercus"),
        ("Populus alba", "Populus", "populus"),
        ("Betula chinensis", "Betula", "betula"),
        ("毛刺槐", "Robinia", "robinia_pseudoacacia"),
    ],
)
def test_genus_level(name: str, genus: str, key: str) -> None:
    r = resolve_model_key(name)
    assert (r.level, r.model_key, r.species_key, r.genus) == ("genus", key, key, genus)
    assert r.group == by_key(key).group
    assert r.is_fallback
    assert f"genus {genus}" in r.note and by_key(key).label in r.note
    assert "(genus fallback)" in r.note


def test_genus_note_reads_as_documented() -> None:
    note = resolve_model_key("白皮松").note
    assert note.startswith("'白皮松' → genus Pinus")
    assert note.endswith("→ model of 油松 Pinus tabuliformis (genus fallback)")


@pytest.mark.parametrize(
    ("name", "genus", "group"),
    [
        ("Picea meyeri", "Picea", "conifer"),
        ("云杉", "Picea", "conifer"),
        ("白杄", "Picea", "conifer"),
        ("Abies nephrolepis", "Abies", "conifer"),
        ("圆柏", "Juniperus", "conifer"),
        ("Sabina chinensis", "Juniperus", "conifer"),  # a genus synonym
        ("国槐", "Styphnolobium", "broadleaf"),
        ("Styphnolobium japonicum", "Styphnolobium", "broadleaf"),
        ("Sophora japonica L.", "Styphnolobium", "broadleaf"),  # a species synonym
        ("Sophora davidii", "Sophora", "broadleaf"),  # but the rest of Sophora is Sophora
        ("榆树", "Ulmus", "broadleaf"),
        ("Ulmus pumila", "Ulmus", "broadleaf"),
        ("Siberian elm", "Ulmus", "broadleaf"),
        ("臭椿", "Ailanthus", "broadleaf"),
        ("臭椿树", "Ailanthus", "broadleaf"),
        ("tree of heaven", "Ailanthus", "broadleaf"),
        ("tree-of-heaven", "Ailanthus", "broadleaf"),
        ("Prunus armeniaca", "Prunus", "broadleaf"),
        ("Armeniaca vulgaris", "Prunus", "broadleaf"),
        ("水曲柳", "Fraxinus", "broadleaf"),  # contains 柳, but is an ash
        ("黄柏", "Phellodendron", "broadleaf"),  # contains the conifer hint 柏, but is not one
        ("红柳", "Tamarix", "broadleaf"),
    ],
)
def test_group_level_through_a_known_genus(name: str, genus: str, group: str) -> None:
    r = resolve_model_key(name)
    assert (r.level, r.model_key, r.group, r.genus) == ("group", group, group, genus)
    assert r.species_key is None
    assert f"genus {genus}" in r.note and "(group fallback)" in r.note


@pytest.mark.parametrize(
    ("name", "group", "char"),
    [
        ("柏树", "conifer", "柏"),  # 柏 alone names no single genus
        ("金钱松", "conifer", "松"),  # Pseudolarix: a conifer, but not a Pinus
        ("罗汉松", "conifer", "松"),  # Podocarpus
        ("水杉", "conifer", "杉"),
        ("柳杉", "conifer", "杉"),  # 柳 (willow) and 杉: the head noun, at the end, decides
        ("杉叶杨", "broadleaf", "杨"),  # invented: 杉 before 杨, the last hint wins
        ("枫香林", "broadleaf", "枫"),
        ("梧桐", "broadleaf", "桐"),
        ("大叶榆", "broadleaf", "榆"),
        ("苹果梨", "broadleaf", "梨"),
    ],
)
def test_group_level_through_a_hint(name: str, group: str, char: str) -> None:
    r = resolve_model_key(name)
    assert (r.level, r.model_key, r.group) == ("group", group, group)
    assert r.genus is None and r.species_key is None
    assert f"character {char!r} marks a {group}" in r.note


@pytest.mark.parametrize(
    ("name", "level", "key"),
    [
        ("红松林", "genus", "pinus_tabuliformis"),  # 红松 is listed under Pinus
        ("胡杨林", "genus", "populus"),  # 胡杨 is listed under Populus
        ("蒙古栎树", "species", "quercus"),  # 蒙古栎 is a synonym of the group 栎类
    ],
)
def test_known_names_outrank_hints_after_dropping_suffixes(name: str, level: str, key: str) -> None:
    r = resolve_model_key(name)
    assert (r.level, r.model_key) == (level, key)


def test_hint_sets_are_disjoint_and_documented_examples_hold() -> None:
    assert not set(CONIFER_HINTS) & set(BROADLEAF_HINTS)
    for char in "松杉柏":
        assert char in CONIFER_HINTS
    for char in "杨柳榆槐椴槭枫桦栎橡杏桃梨苹":
        assert char in BROADLEAF_HINTS


@pytest.mark.parametrize(
    "name", ["xyz", "Foo bar", "123", "??", "Cunninghamia lanceolata", "苏铁", "P. bungeana"]
)
def test_generic_level(name: str) -> None:
    r = resolve_model_key(name)
    assert (r.level, r.model_key) == ("generic", GENERIC_MODEL_KEY)
    assert r.species_key is None and r.genus is None and r.group is None
    assert "(generic fallback)" in r.note and repr(name) in r.note


def test_hints_apply_to_chinese_names_only() -> None:
    # Latin or English text never triggers a hint, even one that contains those letters
    assert resolve_model_key("Songshu").level == "generic"


@pytest.mark.parametrize("name", ["", "   ", "\u3000", "\t\n"])
def test_empty_name_raises(name: str) -> None:
    with pytest.raises(InputDataError, match="empty") as info:
        resolve_model_key(name)
    assert "fix:" in str(info.value)


def test_a_name_that_is_not_text_raises() -> None:
    with pytest.raises(InputDataError, match="empty"):
        resolve_model_key(float("nan"))  # type: ignore[arg-type]  # a blank cell from pandas


def test_unknown_names_never_raise_but_resolve_species_still_does() -> None:
    assert resolve_model_key("白皮松").level == "genus"
    with pytest.raises(UnknownSpeciesError):
        resolve_species("白皮松")


@pytest.mark.parametrize(
    ("name", "genus"),
    [
        ("沙棘", "Hippophae"),
        ("紫穗槐", "Amorpha"),
        ("柠条", "Caragana"),
        ("山杏", "Prunus"),
        ("沙地柏", "Juniperus"),
        ("沙柳", "Salix"),
    ],
)
def test_shrubs_resolve_to_their_group_and_say_shrub(name: str, genus: str) -> None:
    r = resolve_model_key(name)
    assert r.level == "group" and r.genus == genus
    assert r.life_form == "shrub"
    assert "shrub" in r.note


def test_trees_do_not_say_shrub() -> None:
    for name in ("国槐", "白皮松", "油松", "山桃"):
        r = resolve_model_key(name)
        assert r.life_form == "tree" and "shrub" not in r.note


def test_resolution_keeps_the_name_as_given_and_is_cached() -> None:
    r = resolve_model_key("  Pinus  Bungeana ")
    assert r.name == "  Pinus  Bungeana "
    assert r.level == "genus"
    assert resolve_model_key("  Pinus  Bungeana ") is r
    assert isinstance(r, SpeciesResolution)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.level = "species"  # type: ignore[misc]


# ------------------------------------------------------------------ model keys


def test_model_keys_are_the_species_then_the_fallbacks() -> None:
    assert model_keys() == (*species_keys(), "conifer", "broadleaf", "generic")
    assert GROUP_MODEL_KEYS == ("conifer", "broadleaf")
    assert model_key_label("pinus_tabuliformis") == "油松 Pinus tabuliformis"
    assert model_key_label("conifer") == "针叶树 conifer group"
    assert model_key_label("broadleaf") == "阔叶树 broadleaf group"
    assert model_key_label("generic") == "通用 generic"
    with pytest.raises(UnknownSpeciesError, match="'pinus'"):
        model_key_label("pinus")


# ------------------------------------------------------------------ genera.csv

REQUIRED_GENERA = {
    "Pinus", "Larix", "Picea", "Abies", "Platycladus", "Juniperus", "Cupressus", "Populus",
    "Salix", "Betula", "Quercus", "Robinia", "Styphnolobium", "Ulmus", "Tilia", "Acer",
    "Ailanthus", "Fraxinus", "Juglans", "Prunus", "Malus", "Pyrus", "Elaeagnus", "Hippophae",
    "Amorpha", "Caragana", "Koelreuteria", "Toona", "Paulownia", "Broussonetia", "Morus",
    "Catalpa", "Cotinus", "Carpinus", "Corylus", "Castanea",
}  # fmt: skip

SAME_GENUS = {
    "Pinus": "pinus_tabuliformis",
    "Larix": "larix_principis_rupprechtii",
    "Populus": "populus",
    "Quercus": "quercus",
    "Betula": "betula",
    "Robinia": "robinia_pseudoacacia",
    "Platycladus": "platycladus_orientalis",
}


def test_genera_cover_north_china_and_reclamation() -> None:
    missing = REQUIRED_GENERA - {row.genus for row in genera()}
    assert not missing
    assert len({row.taxon for row in genera()}) >= 40
    assert "Pinus bungeana" in {row.taxon for row in genera()}


def test_genera_rows_are_complete() -> None:
    for row in genera():
        assert row.taxon and row.taxon[0].isupper(), row
        assert row.zh, row.taxon
        assert row.group in ("conifer", "broadleaf")
        assert row.life_form in ("tree", "shrub")
        assert row.source.startswith("Flora of China vol. "), row.taxon
    for row in genera():
        if row.taxon == row.genus:  # a genus row names its genus in Chinese (…属)
            assert any(name.endswith("属") for name in row.zh), row.taxon


def test_genera_species_keys_are_valid_and_agree_on_the_group() -> None:
    for row in genera():
        if row.species_key is None:
            continue
        assert row.species_key in species_keys(), row.taxon
        species = by_key(row.species_key)
        assert species.group == row.group, row.taxon
        assert species.genus == row.genus, row.taxon  # only the SAME genus falls back to it


def test_genera_species_keys_are_exactly_the_species_groups_genera() -> None:
    for row in genera():
        assert row.species_key == SAME_GENUS.get(row.genus), row.taxon
    assert {by_key(k).genus for k in species_keys()} <= {row.genus for row in genera()}


def test_species_rows_agree_with_their_genus_row() -> None:
    by_genus = {row.taxon: row for row in genera() if row.taxon == row.genus}
    for row in genera():
        parent = by_genus[row.genus]
        assert row.group == parent.group, row.taxon
        assert row.species_key == parent.species_key, row.taxon


def test_every_genera_name_resolves_to_its_row() -> None:
    for row in genera():
        for name in (row.taxon, *row.latin_synonyms, *row.zh, *row.en):
            r = resolve_model_key(name)
            if r.level == "species":  # a name that is also a species group's must agree
                assert r.species_key == row.species_key, name
                continue
            assert r.genus == row.genus, name
            assert r.group == row.group, name
            assert r.life_form == row.life_form, name
            assert r.level == ("genus" if row.species_key else "group"), name


def test_genera_names_are_unique() -> None:
    seen: dict[str, str] = {}
    for row in genera():
        for name in (*row.zh, *row.en):
            assert seen.setdefault(normalise_name(name), row.taxon) == row.taxon, name
