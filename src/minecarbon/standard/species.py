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

Layout. This module holds the fallback chain (:func:`resolve_model_key`); the tables and their
records live in :mod:`._species_tables`, name normalisation, the name indexes and
:func:`resolve_species` in :mod:`._species_names`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from minecarbon.errors import InputDataError, UnknownSpeciesError
from minecarbon.standard._species_names import (
    _genus_indexes,
    _lookup_species,
    normalise_name,
    resolve_species,
)
from minecarbon.standard._species_tables import (
    Genus,
    Group,
    Habit,
    LifeForm,
    SpeciesGroup,
    by_code,
    by_key,
    genera,
    species_groups,
    species_keys,
)

__all__ = [
    "BROADLEAF_HINTS",
    "CONIFER_HINTS",
    "GENERIC_MODEL_KEY",
    "GROUP_MODEL_KEYS",
    "Genus",
    "Group",
    "Habit",
    "Level",
    "LifeForm",
    "SpeciesGroup",
    "SpeciesResolution",
    "by_code",
    "by_key",
    "genera",
    "model_key_label",
    "model_keys",
    "normalise_name",
    "resolve_model_key",
    "resolve_species",
    "species_groups",
    "species_keys",
]

# ---------------------------------------------------------------- the fallback chain

Level = Literal["species", "genus", "group", "generic"]

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
