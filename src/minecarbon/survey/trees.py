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

The pieces that the plot records share live in private siblings and are re-exported here:
header matching and cell reading in :mod:`minecarbon.survey._columns`, row issues, the error
and the row checks in :mod:`minecarbon.survey._rows`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError, warn
from minecarbon.survey._columns import COLUMN_LABELS as COLUMN_LABELS
from minecarbon.survey._columns import _missing_message
from minecarbon.survey._columns import accepted_headers as accepted_headers
from minecarbon.survey._columns import cell_text as cell_text
from minecarbon.survey._columns import clean_id as clean_id
from minecarbon.survey._columns import is_empty as is_empty
from minecarbon.survey._columns import match_columns as match_columns
from minecarbon.survey._columns import normalise_header as normalise_header
from minecarbon.survey._columns import parse_number as parse_number
from minecarbon.survey._rows import FIRST_DATA_ROW as FIRST_DATA_ROW
from minecarbon.survey._rows import MAX_LISTED_ISSUES as MAX_LISTED_ISSUES
from minecarbon.survey._rows import InvalidRowsError as InvalidRowsError
from minecarbon.survey._rows import RowIssue as RowIssue
from minecarbon.survey._rows import _blank_rows, _ids, _measurements
from minecarbon.survey._rows import _Rows as _Rows
from minecarbon.survey._rows import format_issues as format_issues
from minecarbon.survey._rows import skipped_summary as skipped_summary

TreeSource = Literal["tally", "tls"]

#: Accepted DBH, cm (inclusive).
DBH_RANGE_CM = (1.0, 300.0)

#: Accepted tree height, m (inclusive); 1.3 m is breast height.
HEIGHT_RANGE_M = (1.3, 60.0)

#: Columns of a tree list, in the order of the canonical table.
TREE_COLUMNS = ("plot_id", "tree_id", "species", "dbh_cm", "height_m", "x", "y")

#: Columns a tree list must have.
REQUIRED_TREE_COLUMNS = ("plot_id", "species", "dbh_cm")

#: The issue type of tree lists (the same record serves the plot table).
TreeListIssue: TypeAlias = RowIssue


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
