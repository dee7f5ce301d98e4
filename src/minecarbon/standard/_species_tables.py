"""The species tables as records: the species groups and the genera they fall back through.

Part of :mod:`minecarbon.standard.species`. :func:`species_groups` reads
``data/species_groups.csv`` into :class:`SpeciesGroup` records (looked up by raster code with
:func:`by_code` and by key with :func:`by_key`); :func:`genera` reads ``data/genera.csv`` into
:class:`Genus` records and checks each against the species groups. Both are read once and
cached; matching names to them is :mod:`minecarbon.standard._species_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from minecarbon.errors import UnknownSpeciesError
from minecarbon.standard._data import read_table
from minecarbon.types import LeafHabit

Group = Literal["conifer", "broadleaf"]
Habit = Literal["evergreen", "deciduous"]
LifeForm = Literal["tree", "shrub"]

_DATA_FILE = "standard/data/species_groups.csv"
_GENERA_FILE = "standard/data/genera.csv"


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


@dataclass(frozen=True)
class Genus:
    """One row of ``data/genera.csv``: a genus (or a species of it) and what it falls back to.

    ``taxon`` is a genus (``Ulmus``) or, where a species needs its own names or life form, a
    species of it (``Pinus bungeana``); ``genus`` is its first word.
    """

    taxon: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    latin_synonyms: tuple[str, ...]
    group: Group
    life_form: LifeForm
    species_key: str | None
    source: str

    @property
    def genus(self) -> str:
        """The genus: the first word of :attr:`taxon`."""
        return self.taxon.split(" ")[0]

    @property
    def label(self) -> str:
        """``白皮松 Pinus bungeana``: the first Chinese name that is not the genus name."""
        names = [n for n in self.zh if not n.endswith("属")] or list(self.zh)
        return f"{names[0]} {self.taxon}" if names else self.taxon


def _split(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(";") if s.strip())


def _life_form_of(value: str, row: int) -> LifeForm:
    if value == "tree":
        return "tree"
    if value == "shrub":
        return "shrub"
    raise ValueError(f"{_GENERA_FILE} row {row}: life_form {value!r} is not tree or shrub")


@cache
def genera() -> tuple[Genus, ...]:
    """Every row of ``data/genera.csv``, checked against the species groups.

    Raises
    ------
    ValueError
        If a row's group or life form is invalid, its ``species_key`` is not a species group,
        or that group is not in the row's conifer/broadleaf group (a bug in the data file).

    """
    rows = []
    for i, row in enumerate(read_table("genera.csv"), start=1):
        key = row["species_key"].strip() or None
        group = _group_of(row["group"], i)
        if key is not None:
            if key not in species_keys():
                raise ValueError(f"{_GENERA_FILE} row {i}: unknown species_key {key!r}")
            if by_key(key).group != group:
                raise ValueError(
                    f"{_GENERA_FILE} row {i}: {row['genus']} is {group} but {key} is "
                    f"{by_key(key).group}"
                )
        rows.append(
            Genus(
                taxon=row["genus"].strip(),
                zh=_split(row["zh"]),
                en=_split(row["en"]),
                latin_synonyms=_split(row["latin_synonyms"]),
                group=group,
                life_form=_life_form_of(row["life_form"], i),
                species_key=key,
                source=row["source"],
            )
        )
    return tuple(rows)
