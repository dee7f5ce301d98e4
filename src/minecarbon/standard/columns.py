"""Accepted column headers of survey tables (tree lists, plot records), as data.

``data/column_aliases.csv`` has one row per accepted header: ``canonical`` is the column name used
in code (``plot_id``, ``dbh_cm``, …), ``alias`` a header a data provider may write for it. How
headers are compared (case, spaces, brackets, unit suffixes) is up to the reader,
:func:`minecarbon.survey.trees.match_columns`. To accept a new header, add a row to the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from minecarbon.standard._data import read_table

#: The data file, as named in messages.
ALIASES_FILE = "minecarbon/standard/data/column_aliases.csv"


@cache
def column_aliases() -> Mapping[str, tuple[str, ...]]:
    """Canonical column name → its accepted headers, in the order of the data file."""
    aliases: dict[str, list[str]] = {}
    for row in read_table("column_aliases.csv"):
        aliases.setdefault(row["canonical"].strip(), []).append(row["alias"].strip())
    return MappingProxyType({canonical: tuple(names) for canonical, names in aliases.items()})
