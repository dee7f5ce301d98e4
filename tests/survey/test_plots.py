"""Plot records: the canonical GeoDataFrame, reprojection, bad rows, and the plot squares."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from minecarbon.errors import GeographicCRSError, InputDataError
from minecarbon.io.tables import read_table
from minecarbon.survey.plots import parse_date, plot_squares, validate_plots
from minecarbon.survey.trees import InvalidRowsError

PROJECT = "EPSG:4546"  # CGCS2000 / 3-degree Gauss-Kruger CM 111E
COLUMNS = ["plot_id", "x", "y", "crs", "side_m", "survey_date", "forest_type", "species_group"]
DEMO = [
    ["P001", 587895.0, 4094175.0, "EPSG:4546", 30.0, "2024-08-02", "阔叶林", "刺槐"],
    ["P002", 587445.0, 4094205.0, "EPSG:4546", 30.0, "2024-08-22", "针阔混交林", "桦木"],
    ["P003", 588375.0, 4094265.0, "EPSG:4546", 20.0, "2024-08-16", "阔叶林", "刺槐"],
]


def demo_plots() -> pd.DataFrame:
    return pd.DataFrame(DEMO, columns=COLUMNS)


def quiet(raw: pd.DataFrame, pixel: float = 20.0) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return validate_plots(raw, "plots.csv", PROJECT, pixel)


def test_the_demo_layout(tmp_path: Path) -> None:
    path = tmp_path / "plots.csv"
    demo_plots().to_csv(path, index=False, encoding="utf-8-sig")
    plots = quiet(read_table(path))
    assert isinstance(plots, gpd.GeoDataFrame)
    assert plots.crs.to_epsg() == 4546
    assert list(plots.columns) == [*COLUMNS, "row", "geometry"]
    assert plots["plot_id"].tolist() == ["P001", "P002", "P003"]
    assert plots.geometry.iloc[0].equals(Point(587895.0, 4094175.0))
    assert plots["x"].tolist() == [587895.0, 587445.0, 588375.0]
    assert plots["side_m"].tolist() == [30.0, 30.0, 20.0]
    assert plots["survey_date"].tolist() == [date(2024, 8, 2), date(2024, 8, 22), date(2024, 8, 16)]
    assert plots["forest_type"].tolist() == ["阔叶林", "针阔混交林", "阔叶林"]
    assert plots["species_group"].tolist() == ["刺槐", "桦木", "刺槐"]
    assert plots["row"].tolist() == [2, 3, 4]


def test_chinese_headers() -> None:
    raw = demo_plots()
    raw.columns = ["样地号", "东坐标", "北坐标", "坐标系", "边长(m)", "调查日期", "森林类型",
                   "优势树种"]
    pd.testing.assert_frame_equal(quiet(raw), quiet(demo_plots()))


def test_reprojection_from_wgs84_warns_naming_the_plot() -> None:
    raw = demo_plots()
    raw.loc[1, ["x", "y", "crs"]] = [111.0, 37.0, "EPSG:4326"]
    raw.loc[2, ["x", "y", "crs"]] = [111.02, 37.01, "4326"]
    with pytest.warns(UserWarning, match=r"plots P002, P003 are in EPSG:4326; reprojected to "
                                         r"the project CRS EPSG:4546"):
        plots = validate_plots(raw, "plots.csv", PROJECT, 20.0)
    # on the central meridian 111°E the Gauss–Krüger false easting is exactly 500 000 m
    assert plots["x"].iloc[1] == pytest.approx(500_000.0, abs=1e-6)
    expected = Transformer.from_crs("EPSG:4326", PROJECT, always_xy=True).transform(111.02, 37.01)
    assert (plots["x"].iloc[2], plots["y"].iloc[2]) == pytest.approx(expected)
    assert plots.geometry.iloc[2].x == pytest.approx(expected[0])
    assert plots["crs"].tolist() == ["EPSG:4546", "EPSG:4326", "4326"]
    assert plots["x"].iloc[0] == 587895.0  # the others untouched


def test_duplicate_plot_ids_name_every_row() -> None:
    raw = pd.DataFrame([*DEMO, DEMO[0], DEMO[1], DEMO[0]], columns=COLUMNS)
    with pytest.raises(InvalidRowsError) as err:
        validate_plots(raw, "plots.csv", PROJECT, 30.0)
    assert [(i.row, i.column) for i in err.value.issues] == [
        (2, "plot_id"), (3, "plot_id"), (5, "plot_id"), (6, "plot_id"), (7, "plot_id")]
    message = str(err.value)
    assert message.splitlines()[0] == "plots.csv: 5 invalid rows (fix them in the plot records)"
    assert "plot id 'P001' appears 3 times (rows 2, 5, 7)" in message
    assert "plot id 'P002' appears 2 times (rows 3, 6)" in message


def test_missing_coordinates_name_the_rows() -> None:
    raw = demo_plots().astype({"x": object, "y": object})
    raw.loc[0, "x"] = np.nan
    raw.loc[2, "y"] = " "
    raw.loc[1, "y"] = "north"
    with pytest.raises(InvalidRowsError) as err:
        validate_plots(raw, "plots.csv", PROJECT, 30.0)
    assert [(i.row, i.column, i.value) for i in err.value.issues] == [
        (2, "x", ""), (3, "y", "north"), (4, "y", "")]
    assert "row 2, column x: the centre's x coordinate is missing" in str(err.value)


def test_a_missing_coordinate_column_is_refused() -> None:
    with pytest.raises(InputDataError, match=r"\[y\].*accepted headers: y, 北坐标"):
        validate_plots(demo_plots().drop(columns=["y"]), "plots.csv", PROJECT, 30.0)


def test_default_side_is_the_pixel_size() -> None:
    no_column = quiet(demo_plots().drop(columns=["side_m"]), pixel=30.0)
    assert no_column["side_m"].tolist() == [30.0, 30.0, 30.0]
    raw = demo_plots()
    raw.loc[2, "side_m"] = np.nan
    assert quiet(raw, pixel=25.0)["side_m"].tolist() == [30.0, 30.0, 25.0]


def test_a_side_smaller_than_a_pixel_warns() -> None:
    with pytest.warns(UserWarning, match=r"plot P003 is smaller than one 30 m pixel"):
        validate_plots(demo_plots(), "plots.csv", PROJECT, 30.0)


def test_bad_side_date_and_crs_are_issues() -> None:
    raw = demo_plots().astype({"side_m": object})
    raw.loc[0, "side_m"] = -5
    raw.loc[1, "survey_date"] = "02/08/2024"
    raw.loc[2, "survey_date"] = "2024-02-30"
    raw.loc[2, "crs"] = "EPSG:999999"
    with pytest.raises(InvalidRowsError) as err:
        validate_plots(raw, "plots.csv", PROJECT, 30.0)
    assert [(i.row, i.column, i.value) for i in err.value.issues] == [
        (2, "side_m", "-5"), (3, "survey_date", "02/08/2024"), (4, "crs", "EPSG:999999"),
        (4, "survey_date", "2024-02-30")]


@pytest.mark.parametrize(
    "value",
    ["2024-08-02", "2024/8/2", "2024.08.02", "2024年8月2日", "20240802", "2024-08-02 00:00:00",
     pd.Timestamp("2024-08-02 10:30"), date(2024, 8, 2), 20240802],
)
def test_date_forms(value: object) -> None:
    assert parse_date(value) == date(2024, 8, 2)


def test_missing_dates_and_crs_are_assumed_with_warnings() -> None:
    raw = demo_plots()
    raw.loc[0, "survey_date"] = None
    raw.loc[1, "crs"] = ""
    with pytest.warns(UserWarning) as record:
        plots = validate_plots(raw, "plots.csv", PROJECT, 20.0)
    messages = [str(w.message) for w in record]
    assert any("plot P001 has no survey date" in m for m in messages)
    assert any("plot P002 has no CRS" in m for m in messages)
    assert plots["survey_date"].iloc[0] is None
    assert plots["crs"].iloc[1] == "EPSG:4546"
    with pytest.warns(UserWarning, match="no CRS column"):
        validate_plots(demo_plots().drop(columns=["crs"]), "plots.csv", PROJECT, 20.0)


def test_swapped_or_wrong_coordinates_are_caught() -> None:
    raw = demo_plots()
    raw.loc[0, ["x", "y"]] = [4094175.0, 587895.0]  # X as the northing, the surveyor's way
    raw.loc[1, ["x", "y"]] = [111.0, 37.0]  # degrees without a CRS
    with pytest.raises(InvalidRowsError) as err:
        validate_plots(raw, "plots.csv", PROJECT, 30.0)
    assert [i.row for i in err.value.issues] == [2, 3]
    assert "outside the area of use of EPSG:4546" in str(err.value)
    assert "swapped" in err.value.issues[0].fix


def test_the_project_crs_must_be_projected() -> None:
    with pytest.raises(GeographicCRSError):
        validate_plots(demo_plots(), "plots.csv", "EPSG:4326", 30.0)


def test_plot_squares() -> None:
    plots = quiet(demo_plots())
    squares = plot_squares(plots)
    assert squares.crs == plots.crs
    assert squares["plot_id"].tolist() == plots["plot_id"].tolist()
    assert squares.geometry.iloc[0].equals(box(587880.0, 4094160.0, 587910.0, 4094190.0))
    assert squares.area.tolist() == pytest.approx([900.0, 900.0, 400.0])
    centroids = squares.geometry.centroid
    assert np.allclose(centroids.x, plots["x"]) and np.allclose(centroids.y, plots["y"])
    assert plots.geometry.iloc[0].geom_type == "Point"  # the input is not modified


def test_plot_squares_need_a_projected_crs_and_points() -> None:
    plots = quiet(demo_plots())
    with pytest.raises(GeographicCRSError):
        plot_squares(plots.to_crs("EPSG:4326"))
    with pytest.raises(InputDataError, match="centre points"):
        plot_squares(plot_squares(plots))
