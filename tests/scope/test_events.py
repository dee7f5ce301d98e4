"""Cleaning the mining-event polygon layers (requirement S3) and reading vector files."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from geopandas.testing import assert_geodataframe_equal
from pyproj import CRS
from shapely.geometry import LineString, Point, Polygon, box

from minecarbon.errors import InputDataError, MissingCRSError, PathNotFoundError
from minecarbon.io.vector import read_vector
from minecarbon.scope.events import clean_events, parse_form
from minecarbon.types import DamageForm

CRS_GK = "EPSG:4546"
X0, Y0 = 500_000.0, 4_100_000.0
SRC = "raw/damage/pits.gpkg"


def sq(i: int) -> Polygon:
    return box(X0 + 100 * i, Y0, X0 + 100 * i + 50, Y0 + 50)


def frame(crs: str | None = CRS_GK, geoms=None, **columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    geoms = geoms if geoms is not None else [sq(i) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=crs)


def clean_quietly(gdf, layer="damage", source=SRC):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return clean_events(gdf, layer, CRS_GK, source)


# ------------------------------------------------------------------ forms and years
@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("excavation", DamageForm.EXCAVATION),
        (" Excavation ", DamageForm.EXCAVATION),
        ("挖损", DamageForm.EXCAVATION),
        ("SUBSIDENCE", DamageForm.SUBSIDENCE),
        ("塌陷 ", DamageForm.SUBSIDENCE),
        ("occupation", DamageForm.OCCUPATION),
        ("压占", DamageForm.OCCUPATION),
        (DamageForm.OCCUPATION, DamageForm.OCCUPATION),
    ],
)
def test_parse_form(text, form) -> None:
    assert parse_form(text) is form


@pytest.mark.parametrize("text", ["flood", "", "1", 1, None, "挖"])
def test_parse_form_unknown(text) -> None:
    assert parse_form(text) is None


def test_clean_damage_layer() -> None:
    gdf = frame(id=["P1", "P2", "P3"], form=["挖损", " Subsidence", "occupation"],
                year=[2010, 2012.0, "2015"])
    out = clean_quietly(gdf)
    assert list(out["form"]) == [1, 2, 3]
    assert list(out["year"]) == [2010, 2012, 2015]
    assert out["year"].dtype.kind == "i" and out["form"].dtype.kind == "i"
    assert list(out["feature"]) == ["P1", "P2", "P3"]
    assert CRS.from_user_input(out.crs) == CRS.from_user_input(CRS_GK)
    assert out.geometry.geom_equals(gdf.geometry).all()
    assert {"feature", "form", "year", "geometry"} <= set(out.columns)


def test_features_labelled_by_row_without_id() -> None:
    out = clean_quietly(frame(form=["挖损", "塌陷"], year=[2010, 2011]))
    assert list(out["feature"]) == ["row 1", "row 2"]


def test_features_labelled_by_name_column() -> None:
    out = clean_quietly(frame(Name=["north pit", None], form=["挖损", "塌陷"], year=[2010, 2011]))
    assert list(out["feature"]) == ["north pit", "row 2"]


def test_column_aliases() -> None:
    out = clean_quietly(frame(TYPE=["挖损"], 年份=[2010]))
    assert (out["form"].tolist(), out["year"].tolist()) == ([1], [2010])
    plan = clean_quietly(frame(form=["塌陷"], planned_year=[2030]), layer="plan")
    assert plan["year"].tolist() == [2030]


def test_input_is_not_modified() -> None:
    gdf = frame(id=[1, 2], form=["挖损", "塌陷"], year=["2010", 2011],
                geoms=[Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)]),
                       sq(1)]).to_crs("EPSG:4326")
    before = gdf.copy()
    with pytest.warns(UserWarning):
        clean_events(gdf, "damage", CRS_GK, SRC)
    assert_geodataframe_equal(gdf, before)


# ------------------------------------------------------------------ errors
def test_missing_year_names_layer_source_and_feature() -> None:
    gdf = frame(id=["P1", "P2"], form=["挖损", "塌陷"], year=[2010, None])
    with pytest.raises(InputDataError) as info:
        clean_events(gdf, "damage", CRS_GK, SRC)
    text = str(info.value)
    assert "damage layer" in text and SRC in text
    assert "'P2' (row 2)" in text and "no year" in text
    assert "P1" not in text
    assert "fix:" in text


def test_year_out_of_range() -> None:
    with pytest.raises(InputDataError, match=r"row 1: year 1850 is outside 1900–2100"):
        clean_events(frame(form=["挖损"], year=[1850]), "damage", CRS_GK, SRC)
    with pytest.raises(InputDataError, match=r"year 2101"):
        clean_events(frame(form=["挖损"], year=[2101]), "plan", CRS_GK, SRC)


@pytest.mark.parametrize("year", ["2015.5", 2015.5, "twenty", True])
def test_year_not_whole(year) -> None:
    with pytest.raises(InputDataError, match=r"row 1: year .* is not a whole year"):
        clean_events(frame(form=["挖损"], year=[year]), "damage", CRS_GK, SRC)


def test_unknown_form_names_the_value_and_accepted_forms() -> None:
    gdf = frame(id=["A", "B"], form=["flood", "挖损"], year=[2010, 2011])
    with pytest.raises(InputDataError) as info:
        clean_events(gdf, "damage", CRS_GK, SRC)
    text = str(info.value)
    assert "unknown form 'flood'" in text and "'A' (row 1)" in text and SRC in text
    assert "excavation/挖损" in text


def test_missing_form_in_plan_layer() -> None:
    with pytest.raises(InputDataError, match=r"plan layer.*plan.gpkg.*row 2: no form"):
        clean_events(frame(form=["挖损", None], year=[2030, 2031]), "plan", CRS_GK, "plan.gpkg")


def test_missing_column_named() -> None:
    with pytest.raises(InputDataError, match=r"damage layer.*no column 'form'.*columns: id, year"):
        clean_events(frame(id=[1], year=[2010]), "damage", CRS_GK, SRC)
    with pytest.raises(InputDataError, match=r"no column 'year'"):
        clean_events(frame(form=["挖损"]), "damage", CRS_GK, SRC)


def test_every_problem_reported_at_once() -> None:
    gdf = frame(form=["flood", "挖损", None], year=[2010, 3000, 2010])
    with pytest.raises(InputDataError) as info:
        clean_events(gdf, "damage", CRS_GK, SRC)
    text = str(info.value)
    assert "row 1" in text and "row 2" in text and "row 3" in text


def test_unknown_layer() -> None:
    with pytest.raises(InputDataError, match="unknown event layer 'pits'"):
        clean_events(frame(form=["挖损"], year=[2010]), "pits", CRS_GK, SRC)


def test_no_crs_names_the_source() -> None:
    with pytest.raises(MissingCRSError, match=r"raw/damage/pits.gpkg has no coordinate"):
        clean_events(frame(crs=None, form=["挖损"], year=[2010]), "damage", CRS_GK, SRC)


# ------------------------------------------------------------------ geometry
def test_invalid_polygon_repaired_with_warning() -> None:
    bowtie = Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    gdf = frame(id=["bow", "ok"], form=["挖损", "塌陷"], year=[2010, 2011], geoms=[bowtie, sq(1)])
    with pytest.warns(UserWarning, match=r"'bow' \(row 1\).*Self-intersection") as record:
        out = clean_events(gdf, "damage", CRS_GK, SRC)
    assert SRC in str(record[0].message)
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].area == pytest.approx(50.0)
    assert not gdf.geometry.iloc[0].is_valid  # input untouched


def test_non_polygon_refused_naming_feature() -> None:
    gdf = frame(id=["pt", "line", "ok"], form=["挖损"] * 3, year=[2010] * 3,
                geoms=[Point(X0, Y0), LineString([(X0, Y0), (X0 + 1, Y0)]), sq(2)])
    with pytest.raises(InputDataError) as info:
        clean_events(gdf, "damage", CRS_GK, SRC)
    text = str(info.value)
    assert "'pt' (row 1): geometry is a Point" in text
    assert "'line' (row 2): geometry is a LineString" in text
    assert "'ok'" not in text


def test_empty_geometry_dropped_with_warning() -> None:
    gdf = frame(id=["gone", "none", "kept"], form=["挖损"] * 3, year=[2010] * 3,
                geoms=[Polygon(), None, sq(2)])
    with pytest.warns(UserWarning, match=r"empty geometry dropped: 'gone' \(row 1\); 'none'"):
        out = clean_events(gdf, "damage", CRS_GK, SRC)
    assert out["feature"].tolist() == ["kept"]
    assert out.index.tolist() == [0]


def test_other_crs_reprojected_with_warning() -> None:
    gdf = frame(id=["P1"], form=["挖损"], year=[2010]).to_crs("EPSG:4326")
    with pytest.warns(UserWarning, match=r"damage layer.*pits.gpkg is in EPSG:4326.*reprojected"):
        out = clean_events(gdf, "damage", CRS_GK, SRC)
    assert CRS.from_user_input(out.crs) == CRS.from_user_input(CRS_GK)
    assert out.geometry.iloc[0].symmetric_difference(sq(0)).area < 1.0


# ------------------------------------------------------------------ other layers
def test_reclamation_form_is_optional() -> None:
    out = clean_quietly(frame(year=[2015, 2016]), layer="reclamation")
    assert out["form"].tolist() == [0, 0]
    out = clean_quietly(frame(form=["压占", None], year=[2015, 2016]), layer="reclamation")
    assert out["form"].tolist() == [3, 0]
    with pytest.raises(InputDataError, match="unknown form 'trees'"):
        clean_events(frame(form=["trees"], year=[2015]), "reclamation", CRS_GK, SRC)


def test_reclamation_type_column_is_not_a_damage_form() -> None:
    out = clean_quietly(frame(type=["林地"], year=[2015]), layer="reclamation")
    assert out["form"].tolist() == [0]


def test_disturbance_keeps_its_type() -> None:
    out = clean_quietly(frame(type=["fire", None], year=[2005, 2006]), layer="disturbance")
    assert out["type"].tolist() == ["fire", ""]
    assert out["form"].tolist() == [0, 0]
    with pytest.raises(InputDataError, match="disturbance layer.*row 1: no year"):
        clean_events(frame(type=["road"], year=[np.nan]), "disturbance", CRS_GK, SRC)


def test_empty_layer_is_fine() -> None:
    gdf = gpd.GeoDataFrame({"form": [], "year": []}, geometry=[], crs=CRS_GK)
    out = clean_quietly(gdf)
    assert len(out) == 0 and "feature" in out.columns


# ------------------------------------------------------------------ read_vector
def test_read_vector_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "pits.gpkg"
    frame(id=["P1"], form=["挖损"], year=[2010]).to_file(path)
    gdf = read_vector(path)
    assert CRS.from_user_input(gdf.crs) == CRS.from_user_input(CRS_GK)
    out = clean_quietly(gdf, source=str(path))
    assert out["form"].tolist() == [1]


def test_read_vector_without_crs_names_file(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"  # a shapefile without its .prj
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided")
        gpd.GeoDataFrame({"a": [1]}, geometry=[sq(0)]).to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(MissingCRSError, match=r"nocrs.shp has no coordinate reference system"):
        read_vector(path)


def test_read_vector_errors(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError, match="missing.gpkg"):
        read_vector(tmp_path / "missing.gpkg")
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputDataError, match="bad.gpkg is not a readable vector file"):
        read_vector(bad)
