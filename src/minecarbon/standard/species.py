"""Species groups (树种组): the groups that biomass models, maps and reports are keyed by.

The records live in ``data/species_groups.csv`` (columns: code, key, zh, latin, en, genus, group,
leaf_habit, synonyms, source). ``code`` is the integer written into species rasters (0 is
"none/outside"), ``key`` the identifier used in code, model tables and file names. Both are
stable: never renumber or rename a group, add a new one at the end.

A tree-list name resolves to a group through its Chinese, Latin or English name, its key, or any
of its ``;``-separated synonyms. Matching ignores case, surrounding and repeated whitespace,
full-width/half-width differences (NFKC), hyphens and underscores, a trailing ``sp.``/``spp.``,
and accepts the genus abbreviated (``P. tabuliformis``). Anything else must be added as a
synonym: the resolver does not guess.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

from minecarbon.errors import UnknownSpeciesError
from minecarbon.standard._data import read_table
from minecarbon.types import LeafHabit

Group = Literal["conifer", "broadleaf"]
Habit = Literal["evergreen", "deciduous"]

_DATA_FILE = "standard/data/species_groups.csv"
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[-‐‑‒–—_]+")
_UNSPECIFIED = re.compile(r"\s+spp?\.?$")
_ABBREVIATED = re.compile(r"^([a-z])\.\s*([a-z].*)$")


@dataclass(frozen=True)
class SpeciesGroup:
    """One species group, as in ``data/species_groups.csv``."""

    code: int
    key: str
    zh: str
    latin: str
    en: str
    genus: str
    group: Group
    leaf_habit: Habit
    synonyms: tuple[str, ...]
    source: str

    @property
    def label(self) -> str:
        """Bilingual label, Chinese first: ``油松 Pinus tabuliformis``."""
        return f"{self.zh} {self.latin}"

    @property
    def is_conifer(self) -> bool:
        """True for conifers (针叶树), False for broadleaves (阔叶树)."""
        return self.group == "conifer"

    @property
    def habit(self) -> LeafHabit:
        """The leaf habit as the enum used in leaf-habit rasters."""
        return LeafHabit.EVERGREEN if self.leaf_habit == "evergreen" else LeafHabit.DECIDUOUS

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this group is known by: zh, latin, en, key and the synonyms."""
        return (self.zh, self.latin, self.en, self.key, *self.synonyms)


def _group_of(value: str, row: int) -> Group:
    if value == "conifer":
        return "conifer"
    if value == "broadleaf":
        return "broadleaf"
    raise ValueError(f"{_DATA_FILE} row {row}: group {value!r} is not conifer or broadleaf")


def _habit_of(value: str, row: int) -> Habit:
    if value == "evergreen":
        return "evergreen"
    if value == "deciduous":
        return "deciduous"
    raise ValueError(f"{_DATA_FILE} row {row}: leaf_habit {value!r} is not evergreen or deciduous")


@cache
def species_groups() -> tuple[SpeciesGroup, ...]:
    """Every species group, in the order of the data file (which is the order of the codes)."""
    groups = []
    for i, row in enumerate(read_table("species_groups.csv"), start=1):
        groups.append(
            SpeciesGroup(
                code=int(row["code"]),
                key=row["key"],
                zh=row["zh"],
                latin=row["latin"],
                en=row["en"],
                genus=row["genus"],
                group=_group_of(row["group"], i),
                leaf_habit=_habit_of(row["leaf_habit"], i),
                synonyms=tuple(s.strip() for s in row["synonyms"].split(";") if s.strip()),
                source=row["source"],
            )
        )
    return tuple(groups)


def species_keys() -> tuple[str, ...]:
    """The keys of every species group, in code order."""
    return tuple(g.key for g in species_groups())


def by_code(code: int) -> SpeciesGroup:
    """The species group with this raster code.

    Raises
    ------
    UnknownSpeciesError
        If no group has that code.

    """
    for g in species_groups():
        if g.code == code:
            return g
    codes = ", ".join(f"{g.code} {g.zh}" for g in species_groups())
    raise UnknownSpeciesError(
        f"no species group has code {code!r}", fix=f"use one of the codes {codes}"
    )


def by_key(key: str) -> SpeciesGroup:
    """The species group with this key (e.g. ``pinus_tabuliformis``).

    Raises
    ------
    UnknownSpeciesError
        If no group has that key.

    """
    for g in species_groups():
        if g.key == key:
            return g
    raise UnknownSpeciesError(
        f"no species group has key {key!r}",
        fix=f"use one of the keys {', '.join(species_keys())}",
    )


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
    found = index.get(normalised)
    if found is None:
        match = _ABBREVIATED.match(normalised)
        if match is not None:
            found = index.get(f"{match.group(1)}. {match.group(2)}")
    if found is not None:
        return found[0]
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
