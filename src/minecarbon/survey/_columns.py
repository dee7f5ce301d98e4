"""Headers and cells of survey tables: canonical columns for any headers, cells as written.

:func:`match_columns` maps a table's headers to the canonical columns through the aliases of
``standard/data/column_aliases.csv``; :func:`normalise_header` ignores case, spaces, punctuation,
full-width forms and a trailing unit, and a unit that contradicts the column's is an error.
:func:`is_empty`, :func:`cell_text`, :func:`clean_id` and :func:`parse_number` read cells the way
a spreadsheet shows them. The tree lists and the plot records both use these;
:mod:`minecarbon.survey.trees` re-exports them and is the module to import.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError
from minecarbon.standard.columns import ALIASES_FILE, column_aliases

#: What each canonical column is, for messages.
COLUMN_LABELS: Mapping[str, str] = {
    "plot_id": "plot id (样地号)",
    "tree_id": "tree id (树号)",
    "species": "species (树种)",
    "dbh_cm": "DBH in cm (胸径)",
    "height_m": "tree height in m (树高)",
    "x": "x / easting (东坐标)",
    "y": "y / northing (北坐标)",
    "side_m": "plot side in m (边长)",
    "crs": "coordinate reference system (坐标系)",
    "survey_date": "survey date (调查日期)",
    "forest_type": "forest type (森林类型)",
    "species_group": "species group (优势树种)",
}

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[_\-.·#:]+")
_BRACKETED = re.compile(r"[(\[【]([^()\[\]【】]*)[)\]】]$")
_UNIT_SUFFIX = re.compile(r"[_/](cm|mm|m|厘米|毫米|米)$")
_UNITS = {
    "cm": "cm", "厘米": "cm", "公分": "cm",
    "m": "m", "米": "m",
    "mm": "mm", "毫米": "mm",
    "in": "inch", "inch": "inch", "inches": "inch", "英寸": "inch",
    "ft": "ft", "feet": "ft", "英尺": "ft",
}


# ----------------------------------------------------------------------------- headers
def normalise_header(header: object) -> tuple[str, str | None]:
    """A header as compared (case-folded, no spaces or punctuation), and the unit it names.

    >>> normalise_header("胸径（cm）")
    ('胸径', 'cm')
    >>> normalise_header(" Plot No. ")
    ('plotno', None)

    """
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(header)).casefold())
    unit: str | None = None
    while True:  # a trailing bracket is a unit or a note; both are dropped
        match = _BRACKETED.search(text)
        if match is None or match.start() == 0:
            break
        unit = _UNITS.get(match.group(1), unit)
        text = text[: match.start()]
    match = _UNIT_SUFFIX.search(text)
    if match is not None and match.start() > 0:
        unit = _UNITS[match.group(1)]
        text = text[: match.start()]
    return _PUNCTUATION.sub("", text), unit


def _canonical_unit(canonical: str) -> str | None:
    return normalise_header(canonical)[1]


@cache
def _alias_index() -> dict[str, str]:
    """Normalised header → canonical column. An alias claimed by two columns is a data error."""
    index: dict[str, str] = {}
    for canonical, aliases in column_aliases().items():
        for alias in (canonical, *aliases):
            key = normalise_header(alias)[0]
            other = index.setdefault(key, canonical)
            if other != canonical:
                raise ValueError(
                    f"{ALIASES_FILE}: the header {alias!r} is an alias of both {other} and "
                    f"{canonical}"
                )
    return index


def accepted_headers(canonical: str) -> tuple[str, ...]:
    """The headers accepted for a canonical column (from ``column_aliases.csv``)."""
    aliases = column_aliases().get(canonical, ())
    return aliases if canonical in aliases else (canonical, *aliases)


def _missing_message(canonical: str) -> str:
    label = COLUMN_LABELS.get(canonical, canonical)
    return f"no column for the {label} [{canonical}]; accepted headers: " + ", ".join(
        accepted_headers(canonical)
    )


def match_columns(
    headers: Sequence[object],
    source: str,
    wanted: Sequence[str],
    required: Sequence[str] = (),
) -> dict[str, str]:
    """Map a table's headers to canonical columns: canonical name → the header as written.

    Headers that match none of ``wanted`` are ignored.

    Raises
    ------
    InputDataError
        If a ``required`` column is missing (the message lists the accepted headers), two
        headers give the same column, or a header's unit contradicts the column's.

    """
    index = _alias_index()
    found: dict[str, str] = {}
    for header in headers:
        written = str(header)
        key, unit = normalise_header(written)
        canonical = index.get(key)
        if canonical is None or canonical not in wanted:
            continue
        if canonical in found:
            raise InputDataError(
                f"{source}: the columns {found[canonical]!r} and {written!r} both give the "
                f"{COLUMN_LABELS.get(canonical, canonical)} [{canonical}]",
                fix="delete or rename one of them",
            )
        expected = _canonical_unit(canonical)
        if unit is not None and expected is not None and unit != expected:
            raise InputDataError(
                f"{source}: column {written!r} gives the {COLUMN_LABELS.get(canonical, canonical)} "
                f"in {unit}, but it must be in {expected}",
                fix=f"convert the column to {expected} and name it e.g. "
                f"{accepted_headers(canonical)[0]!r}",
            )
        found[canonical] = written
    missing = [c for c in required if c not in found]
    if missing:
        written_headers = ", ".join(str(h) for h in headers) or "none"
        raise InputDataError(
            f"{source}: " + "; ".join(_missing_message(c) for c in missing)
            + f" (the table's headers: {written_headers})",
            fix="rename the column to one of the accepted headers (case, spaces and full-width "
            f"brackets do not matter), or add its header to {ALIASES_FILE}",
        )
    return found


# ----------------------------------------------------------------------------- cells
def is_empty(value: object) -> bool:
    """True for a missing cell: None, NaN, NA, NaT or a blank string."""
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_text(value: object) -> str:
    """A cell as text, the way a spreadsheet shows it: ``3.0`` → ``"3"``, empty → ``""``."""
    if is_empty(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def clean_id(value: object) -> str:
    """A plot or tree id as compared: NFKC, stripped; Excel's ``1.0`` becomes ``"1"``."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", cell_text(value))).strip()


def parse_number(value: object) -> float:
    """A finite number from a cell (numbers, or text such as ``" 12.5 "`` or ``"１２．５"``).

    Raises
    ------
    ValueError
        If the cell is not a finite number.

    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        number = float(unicodedata.normalize("NFKC", str(value)).strip())
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _range_text(bounds: tuple[float, float], unit: str) -> str:
    return f"{bounds[0]:g}–{bounds[1]:g} {unit}"
