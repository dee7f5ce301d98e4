"""Matching tree-list names: normalisation, the name indexes, :func:`resolve_species`.

Part of :mod:`minecarbon.standard.species`, whose module docstring says what matching ignores.
:func:`normalise_name` puts a name in the form in which names are compared; the indexes map
every normalised name (and abbreviated genus) of the species groups, and every Latin,
Chinese and English name of the genera, to its record, and refuse a name claimed by two.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import cache

from minecarbon.errors import UnknownSpeciesError
from minecarbon.standard._species_tables import (
    _DATA_FILE,
    _GENERA_FILE,
    Genus,
    SpeciesGroup,
    genera,
    species_groups,
)

_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[-‐‑‒–—_]+")
_UNSPECIFIED = re.compile(r"\s+spp?\.?$")
_ABBREVIATED = re.compile(r"^([a-z])\.\s*([a-z].*)$")


def normalise_name(name: str) -> str:
    """The form in which names are compared: NFKC, case-folded, one space between words.

    Hyphens and underscores count as spaces and a trailing ``sp.``/``spp.`` is dropped, so that
    ``Larix principis-rupprechtii``, ``larix_principis_rupprechtii`` and
    ``Larix  principis rupprechtii`` compare equal, and ``Quercus spp.`` equals ``Quercus``.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _SEPARATORS.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return _UNSPECIFIED.sub("", text)


def _abbreviations(normalised: str, genus: str) -> tuple[str, ...]:
    """``pinus tabuliformis`` → ``p. tabuliformis``, for names that start with the genus."""
    words = normalised.split(" ")
    if len(words) < 2 or words[0] != normalise_name(genus):
        return ()
    return (f"{words[0][0]}. {' '.join(words[1:])}",)


@cache
def _name_index() -> dict[str, tuple[SpeciesGroup, str]]:
    """Normalised name → (group, the name as written). A name shared by two groups is an error."""
    index: dict[str, tuple[SpeciesGroup, str]] = {}
    for g in species_groups():
        for raw in g.names:
            name = normalise_name(raw)
            for alias in (name, *_abbreviations(name, g.genus)):
                other = index.get(alias)
                if other is not None and other[0].key != g.key:
                    raise ValueError(
                        f"{_DATA_FILE}: the name {raw!r} belongs to both {other[0].key} and {g.key}"
                    )
                index.setdefault(alias, (g, raw))
    return index


def _lookup_species(normalised: str) -> SpeciesGroup | None:
    """The group an already normalised name belongs to, or None (no suggestions, no error)."""
    index = _name_index()
    found = index.get(normalised)
    if found is None:
        match = _ABBREVIATED.match(normalised)
        if match is not None:
            found = index.get(f"{match.group(1)}. {match.group(2)}")
    return None if found is None else found[0]


def resolve_species(name: str) -> SpeciesGroup:
    """The species group a tree-list name belongs to.

    ``name`` may be the Chinese, Latin or English name, the key, or any synonym of a group
    (see the module docstring for what matching ignores).

    Raises
    ------
    UnknownSpeciesError
        If the name matches no group; the message names it, suggests close names and says how to
        add a synonym.

    """
    index = _name_index()
    normalised = normalise_name(name)
    group = _lookup_species(normalised)
    if group is not None:
        return group
    suggestions: dict[str, str] = {}
    for close in difflib.get_close_matches(normalised, list(index), n=5, cutoff=0.75):
        group, raw = index[close]
        suggestions.setdefault(group.key, f"{raw!r} ({group.zh})")
    hint = f"did you mean {' or '.join(suggestions.values())}? " if suggestions else ""
    known = "; ".join(f"{g.zh} / {g.latin} / {g.en}" for g in species_groups())
    raise UnknownSpeciesError(
        f"unknown species name {name!r}: it matches no species group",
        fix=(
            f"{hint}use a known name ({known}), or add {name!r} to the synonyms of its group "
            f"in {_DATA_FILE}"
        ),
    )


def _add(index: dict[str, Genus], raw: str, row: Genus) -> None:
    name = normalise_name(raw)
    other = index.get(name)
    if other is not None and other.taxon != row.taxon:
        raise ValueError(
            f"{_GENERA_FILE}: the name {raw!r} belongs to both {other.taxon} and {row.taxon}"
        )
    index[name] = row


@cache
def _genus_indexes() -> tuple[dict[str, Genus], dict[str, Genus]]:
    """(Latin names → row, Chinese and English names → row). A name on two rows is an error."""
    latin: dict[str, Genus] = {}
    vernacular: dict[str, Genus] = {}
    for row in genera():
        for raw in (row.taxon, *row.latin_synonyms):
            _add(latin, raw, row)
        for raw in (*row.zh, *row.en):
            _add(vernacular, raw, row)
    return latin, vernacular
