"""Tree lists (每木检尺 tally, or trees derived from TLS), requirement P2: schema and checks.

A tree list arrives as a table with whatever headers its author chose (``样地号, 树号, 树种, 胸径,
树高`` or ``plot, tree no, species, DBH (cm), H (m)``). :func:`validate_tree_list` maps the headers
to the canonical columns (accepted headers are data: ``standard/data/column_aliases.csv``), checks
every row and returns one canonical table:

==========  =======  ==========================================================================
column      dtype    meaning
==========  =======  ==========================================================================
plot_id     str      the plot (样地号)
tree_id     str      the tree (树号); ``<plot_id>-<n>`` in row order when the list has no ids
species     str      the species name as written (surrounding spaces removed)
dbh_cm      float    diameter at breast height (1.3 m), cm, within :data:`DBH_RANGE_CM`
height_m    float    tree height, m, within :data:`HEIGHT_RANGE_M`; NaN where not measured
x, y        float    tree position (only when the list has positions); NaN where not given
source      str      ``"tally"`` or ``"tls"``
row         int      the row in the input as a spreadsheet shows it (header = row 1)
==========  =======  ==========================================================================

Every problem is a :class:`RowIssue` naming the spreadsheet row, the column as the author wrote
it, the value and the fix. Without ``skip_invalid`` any issue raises :class:`InvalidRowsError` (an
:class:`~minecarbon.errors.InputDataError`) listing them; with it, the invalid rows are dropped
and listed in ``frame.attrs["skipped"]`` (a tuple of :class:`RowIssue`, empty when none), which
:func:`skipped_summary` turns into a message. :func:`check_tree_list` does the same checks and
returns everything as a :class:`TreeList` without raising for bad rows.

Header matching (:func:`match_columns`) ignores case, spaces, underscores, hyphens and dots,
full-width/half-width differences, and a trailing unit or note in brackets, ``(cm)``, ``（cm）``,
``[m]``, or after ``_``/``/`` (``胸径_cm``, ``树高/m``). A unit that contradicts the column's unit
(``胸径(mm)``, ``树高(cm)``) is an error rather than a silent mismatch.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError, warn
from minecarbon.standard.columns import ALIASES_FILE, column_aliases

TreeSource = Literal["tally", "tls"]

#: Accepted DBH, cm (inclusive).
DBH_RANGE_CM = (1.0, 300.0)

#: Accepted tree height, m (inclusive); 1.3 m is breast height.
HEIGHT_RANGE_M = (1.3, 60.0)

#: How many issues an error message lists before "… and N more".
MAX_LISTED_ISSUES = 20

#: Spreadsheet row of the first data row (the header is row 1).
FIRST_DATA_ROW = 2

#: Columns of a tree list, in the order of the canonical table.
TREE_COLUMNS = ("plot_id", "tree_id", "species", "dbh_cm", "height_m", "x", "y")

#: Columns a tree list must have.
REQUIRED_TREE_COLUMNS = ("plot_id", "species", "dbh_cm")

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


# ----------------------------------------------------------------------------- issues and errors
@dataclass(frozen=True)
class RowIssue:
    """One problem in one cell of a survey table (a tree list or the plot records).

    Attributes
    ----------
    row
        The row as a spreadsheet shows it: the header is row 1, the first data row is row 2.
    column
        The column's header as written in the input (not the canonical name).
    value
        The cell as written ("" when empty).
    problem
        What is wrong, e.g. ``'-3' is not a DBH in 1–300 cm``.
    fix
        How to fix it.

    """

    row: int
    column: str
    value: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.problem}"


#: The issue type of tree lists (the same record serves the plot table).
TreeListIssue: TypeAlias = RowIssue


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_issues(issues: Sequence[RowIssue], limit: int = MAX_LISTED_ISSUES) -> list[str]:
    """One line per issue, the first ``limit`` of them, then ``… and N more``."""
    lines = [str(issue) for issue in issues[:limit]]
    if len(issues) > limit:
        lines.append(f"… and {len(issues) - limit} more")
    return lines


def _sorted(issues: Iterable[RowIssue]) -> tuple[RowIssue, ...]:
    return tuple(sorted(issues, key=lambda i: i.row))  # stable: column order within a row


class InvalidRowsError(InputDataError):
    """Rows of a survey table are invalid; :attr:`issues` lists every problem.

    The message is a one-line summary (``trees.csv: 3 invalid rows (fix them, or rerun with
    --skip-invalid)``) followed by one line per issue (at most :data:`MAX_LISTED_ISSUES`).
    """

    def __init__(self, source: str, issues: Iterable[RowIssue], *, hint: str) -> None:
        self.issues: tuple[RowIssue, ...] = _sorted(issues)
        self.source = source
        rows = {issue.row for issue in self.issues}
        head = f"{source}: {_plural(len(rows), 'invalid row')} ({hint})"
        super().__init__("\n".join([head, *format_issues(self.issues)]))
        self.fix = hint

    @property
    def rows(self) -> tuple[int, ...]:
        """The invalid rows (spreadsheet numbering), ascending."""
        return tuple(sorted({issue.row for issue in self.issues}))


def skipped_summary(issues: Sequence[RowIssue], limit: int = MAX_LISTED_ISSUES) -> str:
    """``skipped 3 rows:`` and a line per issue; ``""`` when nothing was skipped.

    Pass ``frame.attrs["skipped"]`` of a frame from :func:`validate_tree_list`.
    """
    if not issues:
        return ""
    rows = {issue.row for issue in issues}
    lines = [f"skipped {_plural(len(rows), 'row')}:"]
    lines += [f"  {line}" for line in format_issues(_sorted(issues), limit)]
    return "\n".join(lines)


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


# ----------------------------------------------------------------------------- tree lists
@dataclass(frozen=True, eq=False)
class TreeList:
    """A checked tree list.

    Attributes
    ----------
    frame
        The valid rows in the canonical schema (see the module docstring).
    issues
        Every problem found, by row.
    source
        The input's name, as used in messages.

    """

    frame: pd.DataFrame
    issues: tuple[RowIssue, ...]
    source: str

    @property
    def skipped_rows(self) -> tuple[int, ...]:
        """The invalid rows (spreadsheet numbering), which :attr:`frame` leaves out."""
        return tuple(sorted({issue.row for issue in self.issues}))

    @property
    def ok(self) -> bool:
        """True when no row has a problem."""
        return not self.issues

    def error(self) -> InvalidRowsError:
        """The error listing every issue (raise it to refuse the list)."""
        return InvalidRowsError(
            self.source, self.issues, hint="fix them, or rerun with --skip-invalid"
        )

    def skipped_summary(self) -> str:
        """``skipped 3 rows:`` and a line per issue; ``""`` when nothing was skipped."""
        return skipped_summary(self.issues)


class _Rows:
    """Collects issues for a table whose columns were matched by :func:`match_columns`."""

    def __init__(self, raw: pd.DataFrame, columns: Mapping[str, str]) -> None:
        self.raw = raw.reset_index(drop=True)
        self.columns = columns
        self.headers = [str(c) for c in raw.columns]
        self.issues: list[RowIssue] = []

    def values(self, canonical: str) -> list[Any]:
        """The cells of a canonical column (all None when the table does not have it)."""
        if canonical not in self.columns:
            return [None] * len(self.raw)
        position = self.headers.index(self.columns[canonical])
        return list(self.raw.iloc[:, position].tolist())

    def add(self, i: int, canonical: str, value: object, problem: str, fix: str) -> None:
        """Record a problem in data row ``i`` (0-based) of a canonical column."""
        self.issues.append(
            RowIssue(
                row=i + FIRST_DATA_ROW,
                column=self.columns[canonical],
                value=cell_text(value),
                problem=problem,
                fix=fix,
            )
        )

    def sorted_issues(self) -> tuple[RowIssue, ...]:
        """The issues by row, and within a row in the table's column order."""
        order = {header: k for k, header in enumerate(self.headers)}
        return tuple(sorted(self.issues, key=lambda i: (i.row, order.get(i.column, len(order)))))


def _blank_rows(rows: _Rows) -> np.ndarray:
    """Rows whose every recognised cell is empty (padding in spreadsheets): ignored."""
    blank = np.ones(len(rows.raw), dtype=bool)
    for canonical in rows.columns:
        blank &= np.array([is_empty(v) for v in rows.values(canonical)], dtype=bool)
    return blank


def _measurements(
    rows: _Rows, canonical: str, bounds: tuple[float, float] | None, unit: str, what: str,
    *, required: bool, fix: str,
) -> np.ndarray:
    """Numbers of one column (NaN where empty or invalid), with an issue per bad cell."""
    out = np.full(len(rows.raw), np.nan)
    if canonical not in rows.columns:
        return out
    limits = f" in {_range_text(bounds, unit)}" if bounds else ""
    for i, value in enumerate(rows.values(canonical)):
        if is_empty(value):
            if required:
                rows.add(i, canonical, value, f"{what} is empty", fix)
            continue
        try:
            number = parse_number(value)
        except ValueError:
            rows.add(i, canonical, value, f"{cell_text(value)!r} is not a number ({what}{limits})",
                     fix)
            continue
        if bounds is not None and not bounds[0] <= number <= bounds[1]:
            rows.add(i, canonical, value, f"{cell_text(value)!r} is not a {what}{limits}", fix)
            continue
        out[i] = number
    return out


def _ids(rows: _Rows, canonical: str, what: str, fix: str) -> list[str]:
    ids = [clean_id(v) for v in rows.values(canonical)]
    for i, value in enumerate(ids):
        if not value:
            rows.add(i, canonical, "", f"the {what} is empty", fix)
    return ids


def _generated_tree_ids(plot_ids: Sequence[str]) -> list[str]:
    counts: dict[str, int] = {}
    ids = []
    for plot in plot_ids:
        counts[plot] = counts.get(plot, 0) + 1
        ids.append(f"{plot}-{counts[plot]}" if plot else "")
    return ids


def _check_duplicates(rows: _Rows, plot_ids: Sequence[str], tree_ids: Sequence[str],
                      skip: np.ndarray) -> None:
    groups: dict[tuple[str, str], list[int]] = {}
    for i, (plot, tree) in enumerate(zip(plot_ids, tree_ids, strict=True)):
        if plot and tree and not skip[i]:
            groups.setdefault((plot, tree), []).append(i)
    for (plot, tree), members in groups.items():
        if len(members) < 2:
            continue
        listed = ", ".join(str(m + FIRST_DATA_ROW) for m in members)
        for i in members:
            rows.add(
                i, "tree_id", tree,
                f"tree id {tree!r} appears {len(members)} times in plot {plot!r} (rows {listed})",
                "give every tree of a plot its own id",
            )


def _check_known_plots(rows: _Rows, plot_ids: Sequence[str], known: Iterable[object],
                       skip: np.ndarray) -> None:
    known_ids = {clean_id(p) for p in known}
    for i, plot in enumerate(plot_ids):
        if not plot or skip[i] or plot in known_ids:
            continue
        close = difflib.get_close_matches(plot, sorted(known_ids), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        rows.add(
            i, "plot_id", plot, f"plot {plot!r} is not in the plot records",
            f"{hint}correct the plot id, or add the plot to the plot records",
        )


def check_tree_list(
    raw: pd.DataFrame,
    source: str,
    *,
    known_plots: Iterable[object] | None = None,
    origin: TreeSource = "tally",
) -> TreeList:
    """Check a tree list and return the valid rows with every issue found.

    Parameters
    ----------
    raw
        The table as read (e.g. by :func:`minecarbon.io.tables.read_table`); any headers listed
        in ``column_aliases.csv``, any cell types (text, numbers).
    source
        The input's name for messages, e.g. ``"trees.csv"``.
    known_plots
        The plot ids of the plot records; a tree in another plot is an issue. ``None``: not
        checked.
    origin
        Where the trees come from: ``"tally"`` (每木检尺) or ``"tls"`` (derived from terrestrial
        laser scans); written into the ``source`` column.

    Raises
    ------
    InputDataError
        For problems of the whole table: a required column missing, a column given twice, a
        header with the wrong unit, x without y. Row problems are returned, not raised.

    """
    if origin not in ("tally", "tls"):
        raise ValueError(f"origin must be 'tally' or 'tls', not {origin!r}")
    columns = match_columns(list(raw.columns), source, TREE_COLUMNS, REQUIRED_TREE_COLUMNS)
    if ("x" in columns) != ("y" in columns):
        have, lack = ("x", "y") if "x" in columns else ("y", "x")
        raise InputDataError(
            f"{source}: column {columns[have]!r} gives tree positions but "
            + _missing_message(lack),
            fix=f"add the {lack} column, or delete {columns[have]!r}",
        )
    rows = _Rows(raw, columns)
    blank = _blank_rows(rows)

    plot_ids = _ids(rows, "plot_id", "plot id", "write the plot id (样地号) of the tree")
    if "tree_id" in columns:
        tree_ids = _ids(rows, "tree_id", "tree id",
                        "write the tree id (树号), or delete the column to have ids generated")
    else:
        tree_ids = _generated_tree_ids(plot_ids)
        warn(
            f"{source} has no tree-id column ({', '.join(accepted_headers('tree_id')[:3])}); "
            "tree ids were generated as <plot id>-<n> in row order",
            UserWarning,
            stacklevel=3,
        )
    species = [cell_text(v).strip() for v in rows.values("species")]
    for i, name in enumerate(species):
        if not name:
            rows.add(i, "species", "", "the species is empty",
                     "write the species (树种) in Chinese, Latin or English")
    dbh = _measurements(
        rows, "dbh_cm", DBH_RANGE_CM, "cm", "DBH", required=True,
        fix="write the DBH in cm, measured at 1.3 m, as a number with a decimal point",
    )
    if "height_m" in columns:
        height = _measurements(
            rows, "height_m", HEIGHT_RANGE_M, "m", "height", required=False,
            fix="write the tree height in m as a number, or leave the cell empty if not measured",
        )
    else:
        height = np.full(len(rows.raw), np.nan)
        warn(
            f"{source} has no height column ({', '.join(accepted_headers('height_m')[:3])}); "
            "every height is missing and must be estimated from DBH",
            UserWarning,
            stacklevel=3,
        )
    positions: dict[str, np.ndarray] = {}
    if "x" in columns:
        for axis in ("x", "y"):
            positions[axis] = _measurements(
                rows, axis, None, "m", f"{axis} coordinate", required=False,
                fix=f"write the tree's {axis} coordinate as a number, or leave x and y empty",
            )
        for i, (x, y) in enumerate(zip(rows.values("x"), rows.values("y"), strict=True)):
            if is_empty(x) != is_empty(y):
                lack = "x" if is_empty(x) else "y"
                rows.add(i, lack, "", f"{lack} is empty but {'y' if lack == 'x' else 'x'} is given",
                         "give both coordinates of the tree, or neither")

    if "tree_id" in columns:  # generated ids are unique
        _check_duplicates(rows, plot_ids, tree_ids, blank)
    if known_plots is not None:
        _check_known_plots(rows, plot_ids, known_plots, blank)

    issues = tuple(i for i in rows.sorted_issues() if not blank[i.row - FIRST_DATA_ROW])
    invalid = {issue.row - FIRST_DATA_ROW for issue in issues}
    keep = np.array([not blank[i] and i not in invalid for i in range(len(rows.raw))], dtype=bool)
    data: dict[str, Any] = {
        "plot_id": np.asarray(plot_ids, dtype=object)[keep],
        "tree_id": np.asarray(tree_ids, dtype=object)[keep],
        "species": np.asarray(species, dtype=object)[keep],
        "dbh_cm": dbh[keep],
        "height_m": height[keep],
    }
    for axis, values in positions.items():
        data[axis] = values[keep]
    frame = pd.DataFrame(data)
    for column in ("plot_id", "tree_id", "species"):
        frame[column] = frame[column].astype(str)
    frame["source"] = pd.Series([origin] * len(frame), dtype=str)
    frame["row"] = (np.flatnonzero(keep) + FIRST_DATA_ROW).astype("int64")
    return TreeList(frame=frame, issues=issues, source=source)


def validate_tree_list(
    raw: pd.DataFrame,
    source: str,
    *,
    known_plots: Iterable[object] | None = None,
    skip_invalid: bool = False,
    origin: TreeSource = "tally",
) -> pd.DataFrame:
    """The canonical tree table of a tree list, or an error listing every invalid row.

    Parameters are those of :func:`check_tree_list`, plus:

    skip_invalid
        Drop invalid rows instead of refusing the list. The dropped rows' issues are in
        ``frame.attrs["skipped"]`` (a tuple of :class:`RowIssue`, empty when nothing was
        dropped); ``skipped_summary(frame.attrs["skipped"])`` is the message to print.

    Raises
    ------
    InvalidRowsError
        Without ``skip_invalid``, if any row is invalid; its ``issues`` lists them and its
        message has a summary line and a line per issue.
    InputDataError
        If a required column is missing (or another problem of the whole table), or no valid
        row is left.

    """
    result = check_tree_list(raw, source, known_plots=known_plots, origin=origin)
    if result.issues and not skip_invalid:
        raise result.error()
    frame = result.frame
    if frame.empty:
        what = "no valid tree rows" if result.issues else "no tree rows"
        raise InputDataError(f"{source} has {what}", fix="check that this is the tree list")
    frame.attrs["skipped"] = result.issues
    return frame
