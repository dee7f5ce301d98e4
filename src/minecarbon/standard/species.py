"""Species groups (树种组): the groups that biomass models, maps and reports are keyed by.

The records live in ``data/species_groups.csv`` (columns: code, key, zh, latin, en, genus, group,
leaf_habit, synonyms, source). ``code`` is the integer written into species rasters (0 is
"none/outside"), ``key`` the identifier used in code, model tables and file names. Both are
stable: never renumber or rename a group, add a new one at the end.

A tree-list name resolves to a group through its Chinese, Latin or English name, its key, or any
of its ``;``-separated synonyms. Matching ignores case, surrounding and repeated whitespace,
full-width/half-width differences (NFKC), hyphens and underscores, a trailing ``sp.``/``spp.``,
and accepts the genus abbreviated (``P. tabuliformis``). Anything else must be added as a
synonym: :func:`resolve_species` does not guess.

Biomass models are keyed by :func:`model_keys`: the seven species-group keys plus the fallback
keys ``conifer``, ``broadleaf`` and ``generic``. :func:`resolve_model_key` maps *any* non-empty
name to one of them through an explicit chain — species group → genus → conifer/broadleaf
group → generic — and returns a :class:`SpeciesResolution` whose ``level`` and ``note`` say
which step answered, so that every tree's record can show it. The genus step reads
``data/genera.csv`` (columns: genus, zh, en, latin_synonyms, group, life_form, species_key,
source): common genera of North China and of reclaimed mine land, a few species of them with
names or a life form of their own, each with its Flora of China volume; ``species_key`` is set
only where the genus is that of one of the seven species groups.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

from minecarbon.errors import InputDataError, UnknownSpeciesError
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


# ---------------------------------------------------------------- the fallback chain

Level = Literal["species", "genus", "group", "generic"]
LifeForm = Literal["tree", "shrub"]

#: Model keys of the group fallback models (针叶树 conifers, 阔叶树 broadleaves).
GROUP_MODEL_KEYS: tuple[Group, Group] = ("conifer", "broadleaf")
#: Model key of the generic model, the last step of the chain.
GENERIC_MODEL_KEY = "generic"

#: Characters that mark a Chinese name as a conifer's (松 pine, 杉 fir/China-fir, 柏 cypress,
#: 桧 juniper, 榧 torreya) …
CONIFER_HINTS = "松杉柏桧榧"
#: … or a broadleaf's (杨 poplar, 柳 willow, 榆 elm, 槐 pagoda tree, 椴 linden, 槭/枫 maple,
#: 桦 birch, 栎/橡/柞 oak, 杏 apricot, 桃 peach, 梨 pear, 苹 apple, 椿 toon, 桐 paulownia,
#: 桑 mulberry, 柿 persimmon, 枣 jujube, 栗 chestnut, 楸 catalpa/walnut).
BROADLEAF_HINTS = "杨柳榆槐椴槭枫桦栎橡柞杏桃梨苹椿桐桑柿枣栗楸"
#: Suffixes dropped from a Chinese name when it does not match as written: 林 stand, 类 kind,
#: 树 tree (``油松林`` → ``油松``, ``臭椿树`` → ``臭椿``).
_ZH_SUFFIXES = "林类树"
_GENERA_FILE = "standard/data/genera.csv"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

_GROUP_LABELS = {
    "conifer": "针叶树 conifer group",
    "broadleaf": "阔叶树 broadleaf group",
    GENERIC_MODEL_KEY: "通用 generic",
}


def model_keys() -> tuple[str, ...]:
    """Every key a biomass model table may use: the species groups, then the fallback models.

    ``conifer`` and ``broadleaf`` key the group models, ``generic`` the model of last resort
    (see :func:`resolve_model_key`).
    """
    return (*species_keys(), *GROUP_MODEL_KEYS, GENERIC_MODEL_KEY)


def model_key_label(key: str) -> str:
    """A bilingual label for a model key: ``油松 Pinus tabuliformis``, ``针叶树 conifer group``.

    Raises
    ------
    UnknownSpeciesError
        If ``key`` is not one of :func:`model_keys`.

    """
    if key in _GROUP_LABELS:
        return _GROUP_LABELS[key]
    if key in species_keys():
        return by_key(key).label
    raise UnknownSpeciesError(
        f"no biomass model key {key!r}", fix=f"use one of the keys {', '.join(model_keys())}"
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


def _prefixes(words: list[str], shortest: int) -> list[str]:
    """``a b c`` → ``a b c``, ``a b`` (, ``a``): the name without trailing words (authors, var.)."""
    return [" ".join(words[:n]) for n in range(len(words), shortest - 1, -1)]


def _zh_variants(normalised: str) -> list[str]:
    """The name, then without its trailing 林/类/树 suffixes one by one."""
    variants = [normalised]
    text = normalised
    while len(text) > 1 and text[-1] in _ZH_SUFFIXES:
        text = text[:-1]
        variants.append(text)
    return variants


def _group_hint(normalised: str) -> tuple[Group, str] | None:
    """The group a Chinese name's last hint character marks, with that character."""
    for char in reversed(normalised):
        if char in CONIFER_HINTS:
            return "conifer", char
        if char in BROADLEAF_HINTS:
            return "broadleaf", char
    return None


@dataclass(frozen=True)
class SpeciesResolution:
    """How a tree-list name was mapped to a biomass model key, and through which fallback.

    ``level`` is the step of the chain that answered: ``species`` (a species group matched),
    ``genus`` (the genus is that of a species group), ``group`` (only conifer/broadleaf is
    known) or ``generic``. ``note`` says so in one English sentence, for the tree's record.
    """

    name: str
    model_key: str
    level: Level
    species_key: str | None
    genus: str | None
    group: Group | None
    note: str
    life_form: LifeForm | None = None

    @property
    def is_fallback(self) -> bool:
        """True unless the name matched a species group itself."""
        return self.level != "species"


def _shrub_note(row: Genus) -> str:
    if row.life_form != "shrub":
        return ""
    return " [shrub: a tree biomass model may not fit it]"


@cache
def resolve_model_key(name: str) -> SpeciesResolution:
    """Map a tree-list name to a biomass model key through the fallback chain; never guess silently.

    The chain, first answer wins:

    1. **species** — the name (or, for a Chinese name, the name without a trailing 林/类/树; for
       a Latin name, its first words, so that authors and ``var.`` are ignored) matches a species
       group as in :func:`resolve_species` → that group's key.
    2. **genus** — the name matches a row of ``data/genera.csv``: a Latin name by its longest
       leading words (``Pinus bungeana Zucc.`` → ``Pinus bungeana``, ``Pinus armandii`` →
       ``Pinus``), a Chinese or English name exactly (after dropping 林/类/树). If that row
       names a ``species_key`` → that species group's key (level ``genus``).
    3. **group** — the genus is known but has no species group, *or* (Chinese names only) the
       name contains a hint character: of :data:`CONIFER_HINTS` → ``conifer``, of
       :data:`BROADLEAF_HINTS` → ``broadleaf``. When a name contains both kinds, the hint
       **nearest the end** decides, since a Chinese tree name ends in its head noun (柳杉 is a
       杉, a conifer). Hints come after steps 1–2, so 落叶松 and 侧柏 stay species matches
       and 水曲柳 (Fraxinus) or 黄柏 (Phellodendron) stay genus matches.
    4. **generic** — nothing matched → ``generic``.

    A shrub genus (``life_form`` shrub) resolves like any other, and its note says ``shrub``.

    Raises
    ------
    InputDataError
        If the name is empty (or not text). Any other name resolves, at worst to ``generic``.

    """
    if not isinstance(name, str) or not normalise_name(name):
        raise InputDataError(
            f"species name {name!r} is empty",
            fix="write the species (树种) in Chinese, Latin or English for every tree",
        )
    normalised = normalise_name(name)
    words = normalised.split(" ")
    has_zh = _CJK.search(normalised) is not None
    shown = f"{name.strip()!r}"

    species_tries = _zh_variants(normalised) if has_zh else [normalised]
    if len(words) > 2:
        species_tries += _prefixes(words, 2)[1:]
    for attempt in species_tries:
        group = _lookup_species(attempt)
        if group is not None:
            on = attempt if has_zh else attempt[:1].upper() + attempt[1:]
            how = "species match" if attempt == normalised else f"species match on {on!r}"
            return SpeciesResolution(
                name=name,
                model_key=group.key,
                level="species",
                species_key=group.key,
                genus=group.genus,
                group=group.group,
                note=f"{shown} → species group {group.label} ({how})",
                life_form="tree",
            )

    latin, vernacular = _genus_indexes()
    row: Genus | None = None
    for attempt in _prefixes(words, 1):
        row = latin.get(attempt)
        if row is not None:
            break
    if row is None:
        for attempt in _zh_variants(normalised) if has_zh else [normalised]:
            row = vernacular.get(attempt)
            if row is not None:
                break
    if row is not None:
        via = row.genus if row.taxon == row.genus else f"{row.genus} ({row.label})"
        if row.species_key is not None:
            target = by_key(row.species_key)
            return SpeciesResolution(
                name=name,
                model_key=target.key,
                level="genus",
                species_key=target.key,
                genus=row.genus,
                group=row.group,
                note=(
                    f"{shown} → genus {via} → model of {target.label} (genus fallback)"
                    f"{_shrub_note(row)}"
                ),
                life_form=row.life_form,
            )
        return SpeciesResolution(
            name=name,
            model_key=row.group,
            level="group",
            species_key=None,
            genus=row.genus,
            group=row.group,
            note=(
                f"{shown} → genus {via}, which has no species-group model → "
                f"{_GROUP_LABELS[row.group]} model (group fallback){_shrub_note(row)}"
            ),
            life_form=row.life_form,
        )

    hint = _group_hint(normalised) if has_zh else None
    if hint is not None:
        group_key, char = hint
        return SpeciesResolution(
            name=name,
            model_key=group_key,
            level="group",
            species_key=None,
            genus=None,
            group=group_key,
            note=(
                f"{shown} → no species or genus match; its character {char!r} marks a "
                f"{group_key} → {_GROUP_LABELS[group_key]} model (group fallback)"
            ),
        )
    return SpeciesResolution(
        name=name,
        model_key=GENERIC_MODEL_KEY,
        level="generic",
        species_key=None,
        genus=None,
        group=None,
        note=(
            f"{shown} → no species, genus or group match → {_GROUP_LABELS[GENERIC_MODEL_KEY]} "
            f"model (generic fallback); add the name to data/genera.csv or the species synonyms "
            f"if it is known"
        ),
    )
