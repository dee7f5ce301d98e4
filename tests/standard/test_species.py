"""Species groups: stable codes, complete records, name resolution from zh / Latin / English."""

from __future__ import annotations

import pytest

from minecarbon.errors import UnknownSpeciesError
from minecarbon.standard.species import (
    SpeciesGroup,
    by_code,
    by_key,
    normalise_name,
    resolve_species,
    species_groups,
    species_keys,
)
from minecarbon.types import LeafHabit

# The codes are written into species rasters: they must never change.
EXPECTED_CODES = {
    1: "pinus_tabuliformis",
    2: "platycladus_orientalis",
    3: "larix_principis_rupprechtii",
    4: "robinia_pseudoacacia",
    5: "populus",
    6: "quercus",
    7: "betula",
}


def _all_names() -> list[tuple[str, str]]:
    return [(g.key, name) for g in species_groups() for name in (g.zh, g.latin, g.en, *g.synonyms)]


def test_codes_are_unique_and_one_to_seven() -> None:
    codes = [g.code for g in species_groups()]
    assert codes == list(range(1, 8))
    assert {g.code: g.key for g in species_groups()} == EXPECTED_CODES
    assert len(set(species_keys())) == len(species_keys()) == 7


def test_records_are_complete() -> None:
    for g in species_groups():
        assert isinstance(g, SpeciesGroup)
        assert g.zh and g.latin and g.en and g.genus and g.source
        assert g.group in ("conifer", "broadleaf")
        assert g.leaf_habit in ("evergreen", "deciduous")
        assert g.latin.startswith(g.genus)


def test_group_and_leaf_habit_accessors() -> None:
    pine, larch, oak = by_key("pinus_tabuliformis"), by_code(3), by_key("quercus")
    assert pine.is_conifer and pine.habit is LeafHabit.EVERGREEN
    assert larch.is_conifer and larch.habit is LeafHabit.DECIDUOUS  # a deciduous conifer
    assert not oak.is_conifer and oak.habit is LeafHabit.DECIDUOUS
    assert pine.label == "油松 Pinus tabuliformis"


@pytest.mark.parametrize(("key", "name"), _all_names())
def test_every_name_and_synonym_resolves(key: str, name: str) -> None:
    assert resolve_species(name).key == key


@pytest.mark.parametrize(("key", "name"), _all_names())
def test_resolution_ignores_case_and_whitespace(key: str, name: str) -> None:
    assert resolve_species(f"  {name.upper()}  ").key == key
    assert resolve_species(name.lower().replace(" ", "   ")).key == key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Pinus tabulaeformis", "pinus_tabuliformis"),  # the older spelling
        ("pinus   TABULAEFORMIS", "pinus_tabuliformis"),
        ("P. tabuliformis", "pinus_tabuliformis"),
        ("p.tabulaeformis", "pinus_tabuliformis"),
        # full-width letters and space, as typed with a Chinese input method
        ("Ｐｉｎｕｓ　ｔａｂｕｌｉｆｏｒｍｉｓ", "pinus_tabuliformis"),
        ("油松\u3000", "pinus_tabuliformis"),
        ("\t侧柏\n", "platycladus_orientalis"),
        ("Larix principis rupprechtii", "larix_principis_rupprechtii"),
        ("larix_principis_rupprechtii", "larix_principis_rupprechtii"),
        ("L. principis-rupprechtii", "larix_principis_rupprechtii"),
        ("Quercus spp.", "quercus"),
        ("Populus sp.", "populus"),
        ("Populus sp", "populus"),
        ("Q. mongolica", "quercus"),
        ("B. platyphylla", "betula"),
        ("black locust", "robinia_pseudoacacia"),
        ("Black Locust", "robinia_pseudoacacia"),
    ],
)
def test_variant_spellings(name: str, key: str) -> None:
    assert resolve_species(name).key == key


@pytest.mark.parametrize("name", ["油杉", "Pinus bungeana", "白皮松", "Pinus", "", "pine tree"])
def test_unknown_name_raises_with_the_name_and_a_fix(name: str) -> None:
    with pytest.raises(UnknownSpeciesError) as info:
        resolve_species(name)
    assert isinstance(info.value, KeyError)
    text = str(info.value)
    assert repr(name) in text
    assert "synonym" in text
    assert "油松" in text and "Pinus tabuliformis" in text  # lists the known names


def test_unknown_name_suggests_a_close_match() -> None:
    with pytest.raises(UnknownSpeciesError, match="did you mean 'Pinus tabuliformis'"):
        resolve_species("Pinus tabuliformi")


def test_by_code_and_by_key() -> None:
    for g in species_groups():
        assert by_code(g.code) is g
        assert by_key(g.key) is g
    with pytest.raises(UnknownSpeciesError, match="code 0"):
        by_code(0)
    with pytest.raises(UnknownSpeciesError, match="'pinus'") as info:
        by_key("pinus")
    assert isinstance(info.value, KeyError)


def test_normalised_names_do_not_collide_between_groups() -> None:
    owner: dict[str, str] = {}
    for key, name in _all_names():
        assert owner.setdefault(normalise_name(name), key) == key, name
