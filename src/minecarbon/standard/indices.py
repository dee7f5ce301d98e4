"""The standard's spectral indices and their Awesome Spectral Indices (ASI) keys.

The records live in ``data/indices.csv`` (columns: name, asi_key, constants, feature_name, zh,
note, source). ``name`` is the index as the standard names it (``RVI``, ``NDWI`` …), ``asi_key``
the key of the formula in the Awesome Spectral Indices catalogue (evaluated by spyndex), and
``constants`` the formula constants pinned by the standard, as ``key=value`` pairs separated by
``;`` (``L=0.5`` for SAVI; an empty field keeps the catalogue's defaults). ``feature_name`` is the
variable name the index gets in feature stacks: lower case and saying which index it is where a
name is ambiguous (``rvi_nir_red``, ``ndwi_mcfeeters``).

Two names are traps and are pinned here: the standard's RVI (NIR / Red) is ASI ``SR``, not ASI
``RVI`` (RE2 / R); the standard's NDWI is McFeeters' green–NIR water index (ASI ``NDWI``), while
Gao's NIR–SWIR1 vegetation-water index is ASI ``NDMI`` (names ``NDMI`` and ``NDWI_GAO``).
"""

from __future__ import annotations

from dataclasses import dataclass

from minecarbon.standard._data import read_table

_TABLE = "indices.csv"


@dataclass(frozen=True)
class IndexRecord:
    """One index of the standard, as in ``data/indices.csv``."""

    name: str
    asi_key: str
    constants: dict[str, float]
    feature_name: str
    zh: str
    note: str
    source: str


def parse_constants(text: str) -> dict[str, float]:
    """Parse ``"g=2.5;C1=6.0"`` into ``{"g": 2.5, "C1": 6.0}`` (an empty string gives ``{}``).

    Raises
    ------
    ValueError
        If a pair is not ``key=number``.

    """
    out: dict[str, float] = {}
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"constant {pair!r} in {_TABLE} is not key=value")
        out[key.strip()] = float(value)
    return out


def standard_indices() -> tuple[IndexRecord, ...]:
    """Every index of the standard, in the order of the data file."""
    return tuple(
        IndexRecord(
            name=row["name"],
            asi_key=row["asi_key"],
            constants=parse_constants(row["constants"]),
            feature_name=row["feature_name"],
            zh=row["zh"],
            note=row["note"],
            source=row["source"],
        )
        for row in read_table(_TABLE)
    )


def standard_index(name: str) -> IndexRecord | None:
    """The record of a standard index by its name (case-insensitive), or ``None``."""
    wanted = name.strip().upper()
    for record in standard_indices():
        if record.name.upper() == wanted:
            return record
    return None
