"""Zonal statistics (A4): hand-made known answers, pandas and exactextract as oracles."""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource

from minecarbon.assessment import zonal
from minecarbon.assessment.zonal import COLUMNS, zonal_stats
from minecarbon.errors import GridMismatchError, InputDataError, MissingCRSError
from tests.conftest import shared_path

CRS = "EPSG:4546"
EE_OPS = ["count", "sum", "mean", "min", "max", "variance", "stdev"]


def raster(values: np.ndarray, *, pixel: float = 10.0, x0: float = 0.0, y_top: float | None = None,
           units: str = "t C/ha", crs: str | None = CRS) -> xr.DataArray:
    ny, nx = values.shape
    top = ny * pixel if y_top is None else y_top
    out = xr.DataArray(values, dims=("y", "x"), attrs={"units": units}, coords={
        "y": top - (np.arange(ny) + 0.5) * pixel, "x": x0 + (np.arange(nx) + 0.5) * pixel})
    return out.rio.write_crs(crs) if crs else out


# ------------------------------------------------------------------------ raster zones
def test_known_answer_raster_zones() -> None:
    """Hand computation; variance is the population variance Σ(x − x̄)²/n (numpy ddof=0)."""
    agc = raster(np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, np.nan]]))
    zones = raster(np.array([[1, 1, 2, 2], [1, 1, 2, 2], [0, 3, 3, 3]]), units="")
    names = {1: ("持续森林", "persistent forest")}
    table = zonal_stats({"agc": agc}, zones, names=names)
    assert list(table.columns) == list(COLUMNS)
    assert table["zone_id"].tolist() == [1, 2, 3]  # 0 = outside is not reported
    z1, z2, z3 = (table.iloc[i] for i in range(3))
    assert (z1.zone_name_zh, z1.zone_name_en) == ("持续森林", "persistent forest")
    assert pd.isna(z2.zone_name_zh) and pd.isna(z2.zone_name_en)
    assert (z1["count"], z1["mean"], z1["min"], z1["max"]) == (4, 3.5, 1.0, 6.0)
    assert z1["variance"] == pytest.approx(4.25)  # (2.5² + 1.5² + 1.5² + 2.5²) / 4
    assert z1["std"] == pytest.approx(np.sqrt(4.25))
    assert z1["area_ha"] == pytest.approx(0.04)  # 4 cells of 10 m × 10 m = 0.01 ha
    assert z1["total"] == pytest.approx(14 * 0.01)  # Σx × 0.01 ha, t C
    assert z2["mean"] == 5.5 and z2["variance"] == pytest.approx(4.25)
    assert (z3["count"], z3["mean"], z3["min"], z3["max"]) == (2, 10.5, 10.0, 11.0)  # NaN left out
    assert z3["variance"] == pytest.approx(0.25) and z3["area_ha"] == pytest.approx(0.02)


def test_total_only_for_density_layers_and_empty_zone() -> None:
    degree = raster(np.array([[10.0, np.nan], [30.0, np.nan]]), units="%")
    agc = raster(np.array([[1.0, np.nan], [3.0, np.nan]]))
    zones = raster(np.array([[1, 2], [1, 2]]), units="")
    table = zonal_stats(xr.Dataset({"degree": degree, "agc": agc}), zones)
    assert table["layer"].tolist() == ["degree", "agc", "degree", "agc"]
    assert table["units"].tolist() == ["%", "t C/ha", "%", "t C/ha"]
    assert np.isnan(table["total"].iloc[0]) and table["total"].iloc[1] == pytest.approx(0.04)
    empty = table[table.zone_id == 2]  # zone 2 has cells but no valid value
    assert (empty["count"] == 0).all() and empty["mean"].isna().all()
    assert empty["variance"].isna().all() and (empty["area_ha"] == 0).all()


def random_case(seed: int = 1, ny: int = 53, nx: int = 47) -> tuple[dict, xr.DataArray]:
    rng = np.random.default_rng(seed)
    codes = np.array([0, 10, 21, 22, 31, 33, 41, 50])
    zones = raster(rng.choice(codes, size=(ny, nx)).astype("uint8"), pixel=30.0, units="")
    agc = rng.gamma(4.0, 10.0, (ny, nx))
    agc[rng.random((ny, nx)) < 0.2] = np.nan
    change = rng.normal(0.0, 5.0, (ny, nx)).astype("float32")
    change[rng.random((ny, nx)) < 0.1] = np.nan
    layers = {"agc_2020": raster(agc, pixel=30.0),
              "change_2000_2020": raster(change, pixel=30.0, units="t C/ha")}
    return layers, zones


def test_raster_zones_match_pandas_groupby() -> None:
    layers, zones = random_case()
    table = zonal_stats(layers, zones).set_index(["zone_id", "layer"])
    for name, layer in layers.items():
        frame = pd.DataFrame({"zone": zones.values.ravel(),
                              "v": layer.values.ravel().astype("float64")})
        frame = frame[frame.zone != 0].dropna()
        oracle = frame.groupby("zone")["v"].agg(
            ["count", "mean", "min", "max", lambda s: s.var(ddof=0), "sum"])
        oracle.columns = ["count", "mean", "min", "max", "variance", "sum"]
        ours = table.xs(name, level="layer")
        assert ours.index.tolist() == oracle.index.tolist()
        assert (ours["count"] == oracle["count"]).all()
        for col in ("mean", "min", "max", "variance"):
            np.testing.assert_allclose(ours[col], oracle[col], rtol=1e-10)
        np.testing.assert_allclose(ours["std"], np.sqrt(oracle["variance"]), rtol=1e-10)
        np.testing.assert_allclose(ours["total"], oracle["sum"] * 0.09, rtol=1e-10)
        np.testing.assert_allclose(ours["area_ha"], oracle["count"] * 0.09, rtol=1e-12)


def refuse_whole_array(*args: object, **kwargs: object) -> None:
    raise AssertionError("a whole dask array was computed into memory")


@pytest.mark.parametrize("chunks", [(7, 11), (53, 5), (20, 47)])
@pytest.mark.parametrize("lazy_zones", [False, True])
def test_dask_equals_numpy_and_stays_lazy(chunks: tuple[int, int], lazy_zones: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    layers, zones = random_case(seed=2)
    expected = zonal_stats(layers, zones)
    lazy = {k: v.chunk({"y": chunks[0], "x": chunks[1]}) for k, v in layers.items()}
    lazy_z = zones.chunk({"y": 13, "x": 9}) if lazy_zones else zones

    monkeypatch.setattr(da.Array, "__array__", refuse_whole_array)
    got = zonal_stats(lazy, lazy_z)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_numpy_input_is_reduced_in_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    layers, zones = random_case(seed=6)
    polys = hand_polygons().assign(geometry=lambda g: g.scale(4.0, 4.0, origin=(0, 0)))
    expected = [zonal_stats(layers, zones), zonal_stats(layers, polys, id_column="pid")]
    monkeypatch.setattr(zonal, "_TILE", 5)
    got = [zonal_stats(layers, zones), zonal_stats(layers, polys, id_column="pid")]
    for a, b in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_no_catastrophic_cancellation() -> None:
    """Values 1e4 ± 1e-4: Σx² − (Σx)²/n loses every digit; the block merge must not."""
    rng = np.random.default_rng(3)
    values = 1e4 + rng.normal(0.0, 1e-4, (64, 64))
    zones = raster(np.ones((64, 64), dtype="int32"), units="")
    exact = np.var(values)  # numpy's two-pass algorithm
    naive = np.mean(values**2) - np.mean(values) ** 2
    assert abs(naive - exact) > 1e-2 * exact  # the naive formula really fails on these data
    for layer in (raster(values), raster(values).chunk(9)):
        row = zonal_stats({"agc": layer}, zones).iloc[0]
        assert row["variance"] == pytest.approx(exact, rel=1e-6)
        assert row["mean"] == pytest.approx(np.mean(values), rel=1e-12)


def test_south_up_and_transposed_inputs_give_the_same_table() -> None:
    layers, zones = random_case(seed=4, ny=12, nx=9)
    expected = zonal_stats(layers, zones)
    flipped = {k: v.isel(y=slice(None, None, -1)).T for k, v in layers.items()}
    got = zonal_stats(flipped, zones.isel(x=slice(None, None, -1)))
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


# ------------------------------------------------------------------------ polygon zones
def ee_oracle(values: np.ndarray, extent: tuple[float, ...],
              polys: gpd.GeoDataFrame) -> pd.DataFrame:
    source = NumPyRasterSource(values, *extent, nodata=np.nan)
    return exact_extract(source, polys, EE_OPS, output="pandas")


def assert_matches_exactextract(table: pd.DataFrame, oracle: pd.DataFrame,
                                pixel_area_ha: float) -> None:
    pairs = {"count": "count", "mean": "mean", "min": "min", "max": "max",
             "variance": "variance", "std": "stdev"}
    for ours, theirs in pairs.items():
        np.testing.assert_allclose(table[ours], oracle[theirs], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(table["total"], oracle["sum"] * pixel_area_ha, rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(table["area_ha"], oracle["count"] * pixel_area_ha, rtol=1e-6)


def test_known_answer_polygon_coverage() -> None:
    """exactextract's definitions: count = Σ coverage, mean = Σcx/Σc, var = Σc(x − x̄)²/Σc."""
    agc = raster(np.array([[1.0, 2.0], [3.0, 4.0]]))  # 10 m pixels, extent (0, 0, 20, 20)
    polys = gpd.GeoDataFrame({"plot": ["p1"]}, geometry=[shapely.box(5, 10, 20, 20)], crs=CRS)
    row = zonal_stats({"agc": agc}, polys, id_column="plot").iloc[0]
    assert row["zone_id"] == "p1"
    assert row["count"] == pytest.approx(1.5)  # half of cell 1 + all of cell 2
    assert row["mean"] == pytest.approx(2.5 / 1.5)
    assert row["variance"] == pytest.approx(2 / 9)  # (0.5·(4/9) + 1·(1/9)) / 1.5
    assert (row["min"], row["max"]) == (1.0, 2.0)
    assert row["area_ha"] == pytest.approx(0.015) and row["total"] == pytest.approx(0.025)


def hand_polygons() -> gpd.GeoDataFrame:
    shapes = [shapely.box(12.5, 7.0, 181.3, 96.2),
              shapely.Point(250, 120).buffer(61.7),
              shapely.Polygon([(30, 150), (300, 190), (140, 260), (31, 255)]),
              shapely.MultiPolygon([shapely.box(200, 10, 233, 44),
                                    shapely.box(260, 200, 470, 300)]),
              shapely.box(100, 100, 220, 170)]  # overlaps two others
    return gpd.GeoDataFrame({"pid": [5, 7, 9, 11, 13]}, geometry=shapes, crs=CRS)


@pytest.mark.parametrize("chunk", [None, 6, 13])
def test_hand_polygons_match_exactextract(chunk: int | None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(60.0, 15.0, (30, 40))
    values[rng.random(values.shape) < 0.15] = np.nan
    agc = raster(values)  # extent (0, 0, 400, 300), the last polygon sticks out to x = 470
    counts = rng.integers(0, 9, values.shape).astype("int16")  # an integer layer, no NaN
    stumps = raster(counts, units="stems/ha")
    layers = {"agc": agc, "stumps": stumps}
    if chunk is not None:
        layers = {k: v.chunk(chunk) for k, v in layers.items()}
    polys = hand_polygons()
    monkeypatch.setattr(da.Array, "__array__", refuse_whole_array)  # stays block-wise
    table = zonal_stats(layers, polys, id_column="pid")
    assert table["zone_id"].tolist() == [5, 5, 7, 7, 9, 9, 11, 11, 13, 13]
    for name, array in (("agc", values), ("stumps", counts.astype("float64"))):
        ours = table[table.layer == name].reset_index(drop=True)
        assert_matches_exactextract(ours, ee_oracle(array, (0, 0, 400, 300), polys), 0.01)


def columbus() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(shared_path("libpysal_columbus", "columbus.shp"))
    return gdf.set_crs(CRS, allow_override=True)  # no CRS in the file: a fake projected one


@pytest.mark.parametrize("chunk", [None, 17])
def test_columbus_polygons_match_exactextract(chunk: int | None) -> None:
    """libpysal's 49 Columbus neighbourhoods on a synthetic 0.05-unit raster over their bounds."""
    polys = columbus()
    x0, y0, x1, y1 = polys.total_bounds
    pixel = 0.05
    nx, ny = int(np.ceil((x1 - x0) / pixel)) + 2, int(np.ceil((y1 - y0) / pixel)) + 2
    left, top = x0 - pixel, y1 + pixel
    yy, xx = np.mgrid[0:ny, 0:nx]
    values = 40 + 10 * np.sin(xx / 9.0) * np.cos(yy / 7.0) + (xx % 5)
    values[(xx * 7 + yy * 3) % 23 == 0] = np.nan
    agc = raster(values, pixel=pixel, x0=left, y_top=top)
    layer = agc if chunk is None else agc.chunk(chunk)
    table = zonal_stats({"agc": layer}, polys, id_column="POLYID")
    assert table["zone_id"].tolist() == polys["POLYID"].tolist()
    oracle = ee_oracle(values, (left, top - ny * pixel, left + nx * pixel, top), polys)
    assert_matches_exactextract(table, oracle, pixel * pixel / 1e4)


def test_polygons_are_reprojected_to_the_layers_crs() -> None:
    agc = raster(np.arange(1200.0).reshape(30, 40), x0=500_000.0, y_top=4_100_000.0)
    polys = gpd.GeoDataFrame({"pid": [1]}, geometry=[shapely.box(500_050, 4_099_800, 500_333,
                                                                    4_099_977)], crs=CRS)
    expected = zonal_stats({"agc": agc}, polys, id_column="pid")
    got = zonal_stats({"agc": agc}, polys.to_crs("EPSG:4490"), id_column="pid")
    np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-6)
    np.testing.assert_allclose(got["count"], expected["count"], rtol=1e-6)


def test_polygon_partly_outside_warns_and_reports_zero() -> None:
    agc = raster(np.ones((4, 4)))
    polys = gpd.GeoDataFrame({"pid": ["in", "out"]}, crs=CRS,
                             geometry=[shapely.box(0, 0, 15, 15), shapely.box(100, 100, 120, 120)])
    with pytest.warns(UserWarning, match=r"do not overlap.*'out'"):
        table = zonal_stats({"agc": agc}, polys, id_column="pid")
    assert table["count"].tolist() == [pytest.approx(2.25), 0.0]
    assert np.isnan(table["mean"].iloc[1])


# ------------------------------------------------------------------------ bad input
def test_all_zero_zone_raster_is_refused() -> None:
    zones = raster(np.zeros((3, 3), dtype="uint8"), units="").rename("units_l2_2020")
    with pytest.raises(InputDataError, match="units_l2_2020.*no zone") as err:
        zonal_stats({"agc": raster(np.ones((3, 3)))}, zones)
    assert err.value.fix


def test_polygons_without_overlap_are_refused() -> None:
    polys = gpd.GeoDataFrame({"pid": [1]}, geometry=[shapely.box(1e5, 1e5, 2e5, 2e5)], crs=CRS)
    with pytest.raises(InputDataError, match="overlaps the layers' grid"):
        zonal_stats({"agc": raster(np.ones((3, 3)))}, polys, id_column="pid")


def test_layers_on_different_grids_name_both() -> None:
    a = raster(np.ones((3, 3)))
    with pytest.raises(GridMismatchError, match="'shifted'.*'agc'"):
        zonal_stats({"agc": a, "shifted": raster(np.ones((3, 3)), x0=5.0)}, a > 0)
    with pytest.raises(GridMismatchError, match="'small'.*'agc'"):
        zonal_stats({"agc": a, "small": raster(np.ones((2, 3)))}, a > 0)
    with pytest.raises(GridMismatchError, match="'other_crs'"):
        zonal_stats({"agc": a, "other_crs": a.rio.write_crs("EPSG:4547")}, a > 0)
    zones = raster(np.ones((3, 4), dtype="uint8"), units="").rename("units_l1")
    with pytest.raises(GridMismatchError, match="units_l1.*'agc'"):
        zonal_stats({"agc": a}, zones)


def test_malformed_inputs_are_refused() -> None:
    a = raster(np.ones((3, 3)))
    with pytest.raises(InputDataError, match="'stack'.*dims"):
        zonal_stats({"stack": a.expand_dims(year=[2020])}, a > 0)
    with pytest.raises(InputDataError, match="non-integer"):
        zonal_stats({"agc": a}, a * 0.5)
    polys = gpd.GeoDataFrame({"pid": [1, 1]}, geometry=[shapely.box(0, 0, 9, 9)] * 2, crs=CRS)
    with pytest.raises(InputDataError, match="repeat the id 1"):
        zonal_stats({"agc": a}, polys, id_column="pid")
    with pytest.raises(InputDataError, match="no column 'name'"):
        zonal_stats({"agc": a}, polys, id_column="name")
    with pytest.raises(MissingCRSError, match="zone polygons"):
        zonal_stats({"agc": a}, polys.set_crs(None, allow_override=True).iloc[:1])
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (9, 9)])], crs=CRS)
    with pytest.raises(InputDataError, match="LineString"):
        zonal_stats({"agc": a}, lines)
