"""Row problems of survey tables: :class:`RowIssue`, :class:`InvalidRowsError` and the row checks.

Every problem is a :class:`RowIssue` naming the row as a spreadsheet shows it (the first data row
is :data:`FIRST_DATA_ROW`); :class:`InvalidRowsError` refuses a table listing them and
:func:`skipped_summary` reports the rows dropped. :class:`_Rows` collects the issues of a table
whose columns :func:`~minecarbon.survey._columns.match_columns` matched, and
:func:`_measurements` and :func:`_ids` check a numeric and an id column. The tree lists and the
plot records both use these; :mod:`minecarbon.survey.trees` re-exports them and is the module to
import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError
from minecarbon.survey._columns import _range_text, cell_text, clean_id, is_empty, parse_number

#: How many issues an error message lists before "… and N more".
MAX_LISTED_ISSUES = 20

#: Spreadsheet row of the first data row (the header is row 1).
FIRST_DATA_ROW = 2


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


# ----------------------------------------------------------------------------- row checks
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
