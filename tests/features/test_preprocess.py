"""Preprocessing (F2): scene files → reflectance → cloud mask → growing-season composite."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import dask.array as dsa
import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.features.preprocess import (
    check_reflectance,
    clear_reflectance,
    cloud_mask,
    composite,
    scene_reflectance,
    season_scenes,
)
from minecarbon.grid import AnalysisGrid
from minecarbon.io.scenes import find_scenes, read_scene

CRS = "EPSG:32649"
X0, Y0 = 600_000.0, 4_100_000.0
GRID = AnalysisGrid(CRS, 30.0, X0, Y0, 8, 6)


def _write(path: Path, bands: list[np.ndarray], names: list[str], *, pixel: float = 30.0,
           tags: dict[str, str] | None = None, nodata: float | None = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = bands[0].shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=len(bands),
                       dtype=bands[0].dtype, crs=CRS, transform=from_origin(X0, Y0, pixel, pixel),
                       nodata=nodata) as dst:
        for i, (b, n) in enumerate(zip(bands, names, strict=True), start=1):
            dst.write(b, i)
            dst.set_band_description(i, n)
        if tags:
            dst.update_tags(**tags)
    return path


def _dn(reflectance: float, shape: tuple[int, int] = (6, 8)) -> np.ndarray:
    """Landsat C2 L2 DN of a reflectance (USGS: ρ = DN × 2.75e-5 − 0.2)."""
    return np.full(shape, round((reflectance + 0.2) / 2.75e-5), np.uint16)


# USGS Landsat 8-9 C2 L2 Science Product Guide, QA_PIXEL: 21824 = clear land (bits 6, 8, 10,
# 12, 14: clear, low-confidence cloud/shadow/snow/cirrus); 22280 = high-confidence cloud
# (bits 3, 8-9 ...); bit 4 = cloud shadow; 1 = fill.
CLEAR, CLOUD, FILL = 21824, 22280, 1
SHADOW = 21824 | (1 << 4)


def _landsat_scene(tmp: Path, stamp: str, red: float, qa: np.ndarray) -> Path:
    names = ["SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL"]
    values = [0.03, 0.06, red, 0.3, 0.15, 0.07]
    bands = [_dn(v) for v in values] + [qa.astype(np.uint16)]
    return _write(tmp / f"LC08_L2SP_125034_{stamp}_20200101_02_T1_SR.tif", bands, names)


def test_cloud_mask_reads_qa_pixel_bits() -> None:
    qa = xr.DataArray(np.array([[CLEAR, CLOUD, FILL, SHADOW, 21824 | 2]]), dims=("y", "x"))
    got = cloud_mask(qa, "landsat_c2_qa_pixel").values.tolist()
    assert got == [[False, True, True, True, True]]  # bit 1 = dilated cloud
    only_cloud = cloud_mask(qa, "landsat_c2_qa_pixel", masked=["cloud"]).values.tolist()
    assert only_cloud == [[False, True, False, False, False]]
    with pytest.raises(InputDataError, match="haze"):
        cloud_mask(qa, "landsat_c2_qa_pixel", masked=["haze"])


def test_cloud_mask_reads_scl_classes() -> None:
    scl = xr.DataArray(np.arange(12).reshape(1, 12), dims=("y", "x"))
    got = np.flatnonzero(cloud_mask(scl, "sentinel2_scl").values[0]).tolist()
    assert got == [0, 1, 3, 8, 9, 10, 11]


def test_landsat_multiband_scene_to_clear_reflectance(tmp_path: Path) -> None:
    qa = np.full((6, 8), CLEAR)
    qa[0, 0], qa[1, 1] = CLOUD, SHADOW
    path = _landsat_scene(tmp_path, "20200715", 0.05, qa)
    (scene,) = find_scenes([path])
    assert (scene.sensor, scene.date, scene.product_level) == ("landsat8", date(2020, 7, 15),
                                                               "sr")
    assert set(scene.bands) == {"B2", "B3", "B4", "B5", "B6", "B7"} and scene.qa is not None
    refl = clear_reflectance(read_scene(scene, GRID, chunks=4))
    assert set(refl.data_vars) == {"blue", "green", "red", "nir", "swir1", "swir2"}
    red = refl["red"].values
    assert np.isnan(red[0, 0]) and np.isnan(red[1, 1])
    assert red[2, 2] == pytest.approx(0.05, abs=2e-5)  # DN rounding: 2.75e-5


def test_per_band_landsat_files_group_into_one_scene(tmp_path: Path) -> None:
    stem = "LC09_L2SP_125034_20220801_20220803_02_T1"
    for band, value in (("SR_B4", 0.05), ("SR_B5", 0.3)):
        _write(tmp_path / f"{stem}_{band}.TIF", [_dn(value)], [""])
    _write(tmp_path / f"{stem}_QA_PIXEL.TIF", [np.full((6, 8), CLEAR, np.uint16)], [""],
           nodata=1)
    (scene,) = find_scenes(sorted(tmp_path.iterdir()))
    assert scene.sensor == "landsat9" and set(scene.bands) == {"B4", "B5"}
    refl = clear_reflectance(read_scene(scene, GRID))
    assert float(refl["nir"].mean()) == pytest.approx(0.3, abs=2e-5)


def test_sentinel2_safe_bands_at_10_and_20_m_with_baseline_offset(tmp_path: Path) -> None:
    safe = tmp_path / "S2A_MSIL2A_20220715T031541_N0400_R118_T49SFB_20220715T072511.SAFE"
    stem = "T49SFB_20220715T031541"
    red10 = np.full((18, 24), 2000, np.uint16)
    red10[:3, :3] = [[1000, 2000, 3000]] * 3  # a 30 m pixel averaging 2000
    _write(safe / f"{stem}_B04_10m.tif", [red10], [""], pixel=10.0)
    _write(safe / f"{stem}_B11_20m.tif", [np.full((9, 12), 2500, np.uint16)], [""], pixel=20.0)
    _write(safe / f"{stem}_SCL_20m.tif", [np.full((9, 12), 4, np.uint8)], [""], pixel=20.0)
    scenes = find_scenes(sorted(safe.iterdir()))
    scene = next(s for s in scenes if "B4" in s.bands)
    assert scene.sensor == "sentinel2" and scene.processing_baseline == 4.0
    raw = read_scene(scene, GRID)
    refl = clear_reflectance(raw)
    # ESA L2A from baseline 04.00: ρ = (DN − 1000) / 10 000
    assert refl["red"].values[0, 0] == pytest.approx(0.1, abs=1e-6)
    assert float(refl["swir1"].mean()) == pytest.approx(0.15, abs=1e-6)


def test_scene_without_sensor_or_date_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "myscene.tif", [_dn(0.1)], ["SR_B4"])
    with pytest.raises(InputDataError, match="myscene.tif"):
        find_scenes([path])


def _ds(values: np.ndarray, sensor: str = "landsat8", **bands: np.ndarray) -> xr.Dataset:
    coords = {"y": GRID.y_coords()[: values.shape[0]], "x": GRID.x_coords()[: values.shape[1]]}
    data = {"B4": xr.DataArray(values, dims=("y", "x"), coords=coords)}
    data.update({k: xr.DataArray(v, dims=("y", "x"), coords=coords) for k, v in bands.items()})
    return xr.Dataset(data, attrs={"sensor": sensor})


def test_bands_on_different_grids_are_refused_by_name() -> None:
    ds = _ds(np.full((2, 3), 8000.0))
    shifted = ds["B4"].assign_coords(x=ds["x"] + 15.0)
    # a Dataset would outer-join the two silently (NaN columns): bands come as a mapping
    with pytest.raises(GridMismatchError, match="band B5 of scene X"):
        scene_reflectance({"B4": ds["B4"], "B5": shifted}, what="scene X", sensor_id="landsat8")
    with pytest.raises(GridMismatchError, match="band B5"):
        scene_reflectance({"B4": ds["B4"], "B5": ds["B4"].isel(x=slice(0, 2))},
                          what="scene X", sensor_id="landsat8")
    ok = scene_reflectance({"B4": ds["B4"], "B5": ds["B4"]}, what="scene X",
                           sensor_id="landsat8")
    assert set(ok.data_vars) == {"red", "nir"}


def test_gaofen_dn_without_calibration_is_refused() -> None:
    with pytest.raises(InputDataError, match="calibration"):
        scene_reflectance(_ds(np.full((2, 2), 300.0), "gf1_wfv"), what="GF1 scene")
    refl = scene_reflectance(_ds(np.full((2, 2), 300.0), "gf1_wfv"), scale=1e-3, offset=0.0)
    assert float(refl["nir"].mean()) == pytest.approx(0.3)  # GF-1 WFV B4 = nir


def test_digital_numbers_as_reflectance_are_refused_naming_scene_and_band() -> None:
    ds = xr.Dataset({"nir": (("y", "x"), np.full((50, 50), 2800.0))})
    with pytest.raises(InputDataError, match=r"band nir of scene LC08_X .*digital numbers"):
        check_reflectance(ds, "scene LC08_X")
    odd = xr.Dataset({"red": (("y", "x"), np.where(np.eye(50) > 0, 3.0, 0.05))})
    with pytest.warns(UserWarning, match="band red of scene S.*outside"):
        check_reflectance(odd, "scene S")


def test_composite_median_ignores_clouds_and_counts_clear() -> None:
    a = np.array([[0.1, np.nan], [0.2, np.nan]])
    b = np.array([[np.nan, np.nan], [0.4, np.nan]])
    c = np.array([[0.3, np.nan], [0.9, np.nan]])
    scenes = [xr.Dataset({"red": (("y", "x"), v)}).chunk({"y": 1}) for v in (a, b, c)]
    comp, count = composite(scenes)
    assert comp["red"].chunks is not None  # lazy
    np.testing.assert_allclose(comp["red"].values, [[0.2, np.nan], [0.4, np.nan]])
    assert count.values.tolist() == [[2, 0], [3, 0]]
    mean, _ = composite(scenes, method="mean")
    np.testing.assert_allclose(mean["red"].values, [[0.2, np.nan], [0.5, np.nan]])


def test_composite_drops_bands_missing_from_a_scene_with_a_warning() -> None:
    one = xr.Dataset({"red": (("y", "x"), np.ones((2, 2))), "nir": (("y", "x"), np.ones((2, 2)))})
    two = xr.Dataset({"red": (("y", "x"), np.ones((2, 2)))})
    with pytest.warns(UserWarning, match="nir"):
        comp, _ = composite([one, two])
    assert list(comp.data_vars) == ["red"]
    with pytest.raises(InputDataError, match="no scene"):
        composite([])
    left_out: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # collected for the caller, not warned
        comp, _ = composite([one, two], left_out=left_out)
    assert left_out == ["nir"] and list(comp.data_vars) == ["red"]


def test_season_scenes() -> None:
    dates = [date(2020, 3, 1), date(2020, 7, 1), date(2021, 7, 1), date(2020, 9, 30)]
    assert season_scenes(dates, 2020, [6, 7, 8, 9]) == [1, 3]


def test_preprocessing_stays_lazy(tmp_path: Path) -> None:
    qa = np.full((6, 8), CLEAR)
    paths = [_landsat_scene(tmp_path, f"202007{d:02d}", 0.05 + d / 100, qa) for d in (1, 2, 3)]
    scenes = [clear_reflectance(read_scene(s, GRID, chunks=4)) for s in find_scenes(paths)]
    comp, count = composite(scenes)
    assert isinstance(comp["red"].data, dsa.Array) and isinstance(count.data, dsa.Array)
    assert float(comp["red"].mean()) == pytest.approx(0.07, abs=3e-5)


def test_gap_fill_takes_the_nearest_year_earlier_first() -> None:
    from minecarbon.features.preprocess import gap_fill

    def comp(values: list[float]) -> xr.Dataset:
        red = np.array([values])
        return xr.Dataset({"red": (("y", "x"), red), "nir": (("y", "x"), red * 10)})

    nan = np.nan
    composites = {
        2000: comp([0.1, 0.1, nan, nan, nan]),
        2001: comp([0.2, nan, nan, nan, nan]),
        2002: comp([0.3, 0.3, 0.3, nan, nan]),
        2003: comp([0.4, 0.4, 0.4, 0.4, nan]),
    }
    filled, offset = gap_fill(composites, 2001, 2)
    np.testing.assert_allclose(filled["red"].values, [[0.2, 0.1, 0.3, 0.4, nan]])
    np.testing.assert_allclose(filled["nir"].values, [[2.0, 1.0, 3.0, 4.0, nan]])
    np.testing.assert_allclose(offset.values, [[0, -1, 1, 2, nan]])
    same, none = gap_fill(composites, 2001, 0)
    np.testing.assert_allclose(same["red"].values, composites[2001]["red"].values)
    assert np.isnan(none.values[0, 1:]).all()


def test_scene_off_the_grid_is_reprojected_with_its_qa_band(tmp_path: Path) -> None:
    """Regression: a masked band and the unmasked QA band of one file in one dask graph.

    rioxarray names dask arrays by file and chunks only; opening a file masked and unmasked
    once each made the two share blocks ("cannot cast float32 to uint16").
    """
    qa = np.full((6, 8), CLEAR)
    qa[:, :2] = CLOUD
    path = _landsat_scene(tmp_path, "20200715", 0.05, qa)
    shifted = AnalysisGrid(CRS, 30.0, X0 + 15.0, Y0 - 15.0, 6, 4)
    (scene,) = find_scenes([path])
    refl = clear_reflectance(read_scene(scene, shifted, chunks=3))
    red = refl["red"].values
    assert np.isnan(red[:, 0]).all()
    assert np.nanmax(np.abs(red[:, 2:5] - 0.05)) < 1e-4
