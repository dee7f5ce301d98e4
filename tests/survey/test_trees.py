"""Tree lists: header aliases, the canonical table, and every kind of bad row."""

from __future__ import annotations

import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minecarbon.errors import InputDataError
from minecarbon.io.tables import read_table
from minecarbon.standard.columns import column_aliases
from minecarbon.survey.trees import (
    InvalidRowsError,
    RowIssue,
    TreeList,
    TreeListIssue,
    check_tree_list,
    match_columns,
    normalise_header,
    skipped_summary,
    validate_tree_list,
)

CANONICAL = ["plot_id", "tree_id", "species", "dbh_cm", "height_m", "source", "row"]


def chinese(rows: list[list[object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["样地号", "树号", "树种", "胸径", "树高"])


GOOD = [
    ["P001", "P001-001", "刺槐", "11.6", "8.3"],
    ["P001", "P001-002", " 油松 ", "21.5", ""],
    ["P002", "P002-001", "Populus", "30", "15.2"],
]


def issue_keys(issues: tuple[RowIssue, ...] | list[RowIssue]) -> set[tuple[int, str, str]]:
    return {(i.row, i.column, i.value) for i in issues}


# ----------------------------------------------------------------------------- aliases
def test_column_aliases_are_data() -> None:
    aliases = column_aliases()
    assert "胸径" in aliases["dbh_cm"]
    assert "样地号" in aliases["plot_id"]
    assert "树高" in aliases["height_m"]
    assert {"plot_id", "tree_id", "species", "dbh_cm", "height_m", "x", "y", "side_m", "crs",
            "survey_date", "forest_type", "species_group"} <= set(aliases)
    assert all(isinstance(v, tuple) for v in aliases.values())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("胸径（cm）", ("胸径", "cm")),
        ("胸径(cm)", ("胸径", "cm")),
        ("胸径/cm", ("胸径", "cm")),
        ("胸径_cm", ("胸径", "cm")),
        ("DBH (cm)", ("dbh", "cm")),
        ("H (m)", ("h", "m")),
        (" Plot No. ", ("plotno", None)),
        ("树高(必填)", ("树高", None)),
        ("胸径(mm)", ("胸径", "mm")),
        ("DBH [cm]", ("dbh", "cm")),
    ],
)
def test_normalise_header(header: str, expected: tuple[str, str | None]) -> None:
    assert normalise_header(header) == expected


# ----------------------------------------------------------------------------- headers → table
def test_chinese_headers_map_to_the_canonical_table() -> None:
    frame = validate_tree_list(chinese(GOOD), "trees.csv")
    assert list(frame.columns) == CANONICAL
    assert frame["plot_id"].tolist() == ["P001", "P001", "P002"]
    assert frame["tree_id"].tolist() == ["P001-001", "P001-002", "P002-001"]
    assert frame["species"].tolist() == ["刺槐", "油松", "Populus"]
    assert frame["dbh_cm"].tolist() == [11.6, 21.5, 30.0]
    assert frame["height_m"].iloc[0] == 8.3 and math.isnan(frame["height_m"].iloc[1])
    assert frame["source"].tolist() == ["tally"] * 3
    assert frame["row"].tolist() == [2, 3, 4]
    assert frame["dbh_cm"].dtype == np.float64 and frame["height_m"].dtype == np.float64
    assert frame["row"].dtype == np.int64
    assert all(isinstance(v, str) for v in frame["plot_id"])
    assert frame.attrs["skipped"] == ()


def test_english_headers_map_to_the_same_table() -> None:
    raw = pd.DataFrame(GOOD, columns=["Plot", "Tree No", "Species", "DBH (cm)", "Height (m)"])
    english = validate_tree_list(raw, "trees.xlsx")
    pd.testing.assert_frame_equal(english, validate_tree_list(chinese(GOOD), "trees.csv"))


@pytest.mark.parametrize(
    "headers",
    [
        ["plot_id", "tree_id", "species", "dbh_cm", "height_m"],
        ["样地编号", "木号", "树种名", "胸径（cm）", "树高（m）"],
        ["PLOT ID", "tree", "species_name", "胸径/cm", "树高/m"],
        ["样地", "编号", "树种", "胸径_cm", "树高_m"],
        ["Plot No.", "TREE_NO", "SPECIES", " d ", "H (m)"],
        ["样地号", "树号", "Species", "dbh", "h"],
    ],
)
def test_mixed_headers_with_units(headers: list[str]) -> None:
    frame = validate_tree_list(pd.DataFrame(GOOD, columns=headers), "trees.csv")
    assert frame["dbh_cm"].tolist() == [11.6, 21.5, 30.0]
    assert frame["tree_id"].tolist() == ["P001-001", "P001-002", "P002-001"]
    assert frame["height_m"].iloc[2] == 15.2


def test_extra_columns_are_ignored() -> None:
    raw = chinese(GOOD).assign(备注=["", "断梢", ""])
    assert list(validate_tree_list(raw, "trees.csv").columns) == CANONICAL


@pytest.mark.parametrize(("header", "unit"), [("胸径(mm)", "mm"), ("DBH (inch)", "inch"),
                                               ("dbh_m", " m,")])
def test_a_header_with_the_wrong_unit_is_refused(header: str, unit: str) -> None:
    raw = pd.DataFrame(GOOD, columns=["样地号", "树号", "树种", header, "树高"])
    with pytest.raises(InputDataError, match="must be in cm") as err:
        validate_tree_list(raw, "trees.csv")
    assert header in str(err.value) and unit in str(err.value)


def test_height_in_cm_is_refused() -> None:
    raw = pd.DataFrame(GOOD, columns=["样地号", "树号", "树种", "胸径", "树高(cm)"])
    with pytest.raises(InputDataError, match=r"'树高\(cm\)'.*in cm, but it must be in m"):
        validate_tree_list(raw, "trees.csv")


def test_two_columns_for_one_field_are_refused() -> None:
    raw = chinese(GOOD).assign(DBH=[1, 2, 3])
    with pytest.raises(InputDataError, match="'胸径' and 'DBH' both give the DBH"):
        validate_tree_list(raw, "trees.csv")


@pytest.mark.parametrize(
    ("dropped", "canonical", "accepted"),
    [("胸径", "dbh_cm", "胸径(cm)"), ("样地号", "plot_id", "样地编号"),
     ("树种", "species", "树种名")],
)
def test_a_missing_required_column_names_it_and_the_accepted_headers(
    dropped: str, canonical: str, accepted: str
) -> None:
    raw = chinese(GOOD).drop(columns=[dropped])
    with pytest.raises(InputDataError) as err:
        validate_tree_list(raw, "trees.csv")
    message = str(err.value)
    assert message.startswith("trees.csv: no column for the")
    assert f"[{canonical}]" in message
    assert "accepted headers:" in message and accepted in message
    assert "column_aliases.csv" in message  # how to teach it a new header


def test_match_columns_reports_every_missing_column() -> None:
    with pytest.raises(InputDataError, match=r"\[plot_id\].*\[dbh_cm\]"):
        match_columns(["树种", "备注"], "t.csv", ["plot_id", "species", "dbh_cm"],
                      ["plot_id", "species", "dbh_cm"])


def test_missing_tree_ids_are_generated_per_plot_with_a_warning() -> None:
    raw = chinese(GOOD).drop(columns=["树号"])
    with pytest.warns(UserWarning, match="no tree-id column.*generated"):
        frame = validate_tree_list(raw, "trees.csv")
    assert frame["tree_id"].tolist() == ["P001-1", "P001-2", "P002-1"]


def test_a_missing_height_column_gives_nan_heights_with_a_warning() -> None:
    raw = chinese(GOOD).drop(columns=["树高"])
    with pytest.warns(UserWarning, match="no height column"):
        frame = validate_tree_list(raw, "trees.csv")
    assert frame["height_m"].isna().all()


# ----------------------------------------------------------------------------- real layouts
def test_the_demo_layout_read_from_csv(tmp_path: Path) -> None:
    """The demo's files: UTF-8 CSV with BOM, Chinese headers; tally with positions."""
    trees = tmp_path / "trees.csv"
    chinese(GOOD).to_csv(trees, index=False, encoding="utf-8-sig")
    tally = tmp_path / "tally_P005.csv"
    pd.DataFrame(
        [["P005", "P005-001", "侧柏", 21.9, 10.2, 589293.42, 4094407.33],
         ["P005", "P005-002", "侧柏", 12.1, 7.9, 589309.12, 4094406.96]],
        columns=["样地号", "树号", "树种", "胸径", "树高", "x", "y"],
    ).to_csv(tally, index=False, encoding="utf-8-sig")

    frame = validate_tree_list(read_table(trees), "trees.csv", known_plots={"P001", "P002"})
    assert frame["dbh_cm"].tolist() == [11.6, 21.5, 30.0]
    positioned = validate_tree_list(read_table(tally), "tally_P005.csv")
    assert list(positioned.columns) == [*CANONICAL[:5], "x", "y", "source", "row"]
    assert positioned["x"].tolist() == [589293.42, 589309.12]
    assert positioned["y"].tolist() == [4094407.33, 4094406.96]


def test_gb18030_csv(tmp_path: Path) -> None:
    path = tmp_path / "trees.csv"
    chinese(GOOD).to_csv(path, index=False, encoding="gb18030")
    assert validate_tree_list(read_table(path), "trees.csv")["species"].iloc[0] == "刺槐"


def test_spreadsheet_cell_types() -> None:
    """What read_excel gives: numeric ids (1 → 1.0 when a column has gaps), numbers, NaN."""
    raw = pd.DataFrame({
        "样地号": [1, 1, 2],
        "树号": [1.0, 2.0, 1.0],
        "树种": ["刺槐", "刺槐", "油松"],
        "胸径(cm)": [11.6, 21, np.float32(30.5)],
        "树高(m)": [8.3, np.nan, 12],
    })
    frame = validate_tree_list(raw, "trees.xlsx", known_plots={"1", 2})
    assert frame["plot_id"].tolist() == ["1", "1", "2"]
    assert frame["tree_id"].tolist() == ["1", "2", "1"]
    assert frame["dbh_cm"].tolist() == [11.6, 21.0, 30.5]
    assert math.isnan(frame["height_m"].iloc[1])


@pytest.mark.skipif(importlib.util.find_spec("openpyxl") is None, reason="openpyxl not installed")
def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "trees.xlsx"
    chinese(GOOD).to_excel(path, index=False)
    frame = validate_tree_list(read_table(path), "trees.xlsx")
    pd.testing.assert_frame_equal(frame, validate_tree_list(chinese(GOOD), "trees.csv"))


def test_tls_trees() -> None:
    frame = validate_tree_list(chinese(GOOD), "P005_trees.csv", origin="tls")
    assert frame["source"].tolist() == ["tls"] * 3
    with pytest.raises(ValueError, match="origin"):
        validate_tree_list(chinese(GOOD), "t.csv", origin="lidar")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- bad rows
BAD = [
    ["P001", "1", "刺槐", "11.6", "8.3"],  # row 2: fine
    ["P001", "2", "刺槐", "-3", "8.3"],  # row 3: DBH out of range
    ["P001", "3", "刺槐", "abc", "8.3"],  # row 4: DBH not a number
    ["P001", "4", "刺槐", "", "8.3"],  # row 5: DBH empty
    ["P001", "5", "刺槐", "500", "8.3"],  # row 6: DBH too large
    ["P001", "6", "  ", "12", "8.3"],  # row 7: species empty
    ["P001", "7", "刺槐", "12", "0.5"],  # row 8: height below breast height
    ["P001", "8", "刺槐", "12", "75"],  # row 9: height too large
    ["P001", "9", "刺槐", "12", "tall"],  # row 10: height not a number
    ["", "10", "刺槐", "12", "8"],  # row 11: plot empty
    ["P001", "", "刺槐", "12", "8"],  # row 12: tree id empty
    ["P001", "11", "刺槐", "12,5", "x"],  # row 13: two bad cells
    ["P002", "1", "油松", "1", "1.3"],  # row 14: fine (bounds are inclusive)
    ["P002", "2", "油松", "300", "60"],  # row 15: fine
]
EXPECTED_BAD = {
    (3, "胸径", "-3"),
    (4, "胸径", "abc"),
    (5, "胸径", ""),
    (6, "胸径", "500"),
    (7, "树种", ""),
    (8, "树高", "0.5"),
    (9, "树高", "75"),
    (10, "树高", "tall"),
    (11, "样地号", ""),
    (12, "树号", ""),
    (13, "胸径", "12,5"),
    (13, "树高", "x"),
}


def test_every_bad_row_is_reported_with_its_row_and_column() -> None:
    with pytest.raises(InvalidRowsError) as err:
        validate_tree_list(chinese(BAD), "trees.csv")
    error = err.value
    assert isinstance(error, InputDataError) and isinstance(error, ValueError)
    assert issue_keys(error.issues) == EXPECTED_BAD
    assert error.rows == (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    lines = str(error).splitlines()
    assert lines[0] == "trees.csv: 11 invalid rows (fix them, or rerun with --skip-invalid)"
    assert "row 3, column 胸径: '-3' is not a DBH in 1–300 cm" in lines
    assert "row 8, column 树高: '0.5' is not a height in 1.3–60 m" in lines
    assert "row 4, column 胸径: 'abc' is not a number (DBH in 1–300 cm)" in lines
    assert "row 5, column 胸径: DBH is empty" in lines
    assert "row 7, column 树种: the species is empty" in lines
    # within a row, issues follow the table's column order
    assert lines.index("row 13, column 胸径: '12,5' is not a number (DBH in 1–300 cm)") + 1 == \
        lines.index("row 13, column 树高: 'x' is not a number (height in 1.3–60 m)")
    assert len(lines) == 1 + len(EXPECTED_BAD)
    assert all(i.fix for i in error.issues)


def test_row_numbers_follow_the_spreadsheet_not_the_index() -> None:
    raw = chinese(BAD[:3])
    raw.index = [100, 7, 3]  # e.g. a filtered frame
    with pytest.raises(InvalidRowsError) as err:
        validate_tree_list(raw, "trees.csv")
    assert issue_keys(err.value.issues) == {(3, "胸径", "-3"), (4, "胸径", "abc")}


def test_the_message_stays_readable_for_many_issues() -> None:
    rows = [["P1", str(n), "刺槐", "-1", ""] for n in range(30)]
    with pytest.raises(InvalidRowsError) as err:
        validate_tree_list(chinese(rows), "trees.csv")
    lines = str(err.value).splitlines()
    assert lines[0].startswith("trees.csv: 30 invalid rows")
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "… and 10 more"
    assert len(err.value.issues) == 30


def test_one_invalid_row_is_singular() -> None:
    with pytest.raises(InvalidRowsError, match=r"^trees\.csv: 1 invalid row \("):
        validate_tree_list(chinese([*GOOD, ["P1", "9", "刺槐", "0", ""]]), "trees.csv")


def test_skip_invalid_drops_exactly_the_bad_rows_and_reports_them() -> None:
    frame = validate_tree_list(chinese(BAD), "trees.csv", skip_invalid=True)
    assert frame["row"].tolist() == [2, 14, 15]
    assert frame["tree_id"].tolist() == ["1", "1", "2"]
    assert frame.index.tolist() == [0, 1, 2]
    skipped = frame.attrs["skipped"]
    assert all(isinstance(i, RowIssue) for i in skipped)
    assert issue_keys(skipped) == EXPECTED_BAD
    summary = skipped_summary(skipped)
    assert summary.splitlines()[0] == "skipped 11 rows:"
    assert "  row 3, column 胸径: '-3' is not a DBH in 1–300 cm" in summary.splitlines()
    assert skipped_summary(()) == ""


def test_check_tree_list_returns_the_result_without_raising() -> None:
    result = check_tree_list(chinese(BAD), "trees.csv")
    assert isinstance(result, TreeList)
    assert not result.ok
    assert result.skipped_rows == (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    assert result.frame["row"].tolist() == [2, 14, 15]
    assert result.skipped_summary().startswith("skipped 11 rows:")
    assert isinstance(result.error(), InvalidRowsError)
    assert TreeListIssue is RowIssue


def test_nothing_valid_left_is_an_error() -> None:
    with pytest.raises(InputDataError, match="no valid tree rows"):
        validate_tree_list(chinese(BAD[1:3]), "trees.csv", skip_invalid=True)
    with pytest.raises(InputDataError, match="no tree rows"):
        validate_tree_list(chinese([]), "trees.csv")


def test_blank_spreadsheet_rows_are_ignored() -> None:
    raw = chinese([GOOD[0], [None, np.nan, "", " ", None], GOOD[2]])
    frame = validate_tree_list(raw, "trees.csv")
    assert frame["row"].tolist() == [2, 4]


def test_duplicate_tree_ids_report_every_row_of_each_group() -> None:
    rows = [
        ["P1", "1", "刺槐", "10", ""],  # row 2 ┐
        ["P1", "2", "刺槐", "10", ""],  # row 3 │ ┐
        ["P1", "1", "刺槐", "11", ""],  # row 4 ┤ │
        ["P2", "1", "刺槐", "12", ""],  # row 5: same id in another plot: fine
        ["P1", "2", "刺槐", "13", ""],  # row 6   ┘
        ["P1", " 1", "刺槐", "14", ""],  # row 7 ┘ (spaces do not make it another id)
    ]
    with pytest.raises(InvalidRowsError) as err:
        validate_tree_list(chinese(rows), "trees.csv")
    issues = err.value.issues
    assert [i.row for i in issues] == [2, 3, 4, 6, 7]
    assert {i.column for i in issues} == {"树号"}
    by_row = {i.row: str(i) for i in issues}
    assert "appears 3 times in plot 'P1' (rows 2, 4, 7)" in by_row[4]
    assert "(rows 3, 6)" in by_row[6]
    frame = validate_tree_list(chinese(rows), "trees.csv", skip_invalid=True)
    assert frame["row"].tolist() == [5]


def test_trees_of_unknown_plots() -> None:
    with pytest.raises(InvalidRowsError) as err:
        validate_tree_list(chinese(GOOD), "trees.csv", known_plots={"P001", "P003"})
    (issue,) = err.value.issues
    assert (issue.row, issue.column, issue.value) == (4, "样地号", "P002")
    assert "plot 'P002' is not in the plot records" in str(err.value)
    assert "did you mean" in issue.fix
    validate_tree_list(chinese(GOOD), "trees.csv", known_plots={"P001", "P002"})  # no error


def test_positions_need_both_columns_and_both_cells() -> None:
    raw = chinese(GOOD).assign(x=[1.0, 2.0, 3.0])
    with pytest.raises(InputDataError, match=r"\[y\]"):
        validate_tree_list(raw, "trees.csv")
    raw = raw.assign(y=[1.0, None, "north"])
    with pytest.raises(InvalidRowsError) as err:
        validate_tree_list(raw, "trees.csv")
    assert issue_keys(err.value.issues) == {(3, "y", ""), (4, "y", "north")}


def test_no_warning_for_a_complete_list() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_tree_list(chinese(GOOD), "trees.csv")
