"""Large rasters are written as Cloud-Optimized GeoTIFFs; small ones stay plain GeoTIFFs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from rio_cogeo.cogeo import cog_validate

from minecarbon.grid import AnalysisGrid
from minecarbon.io import block_writer, raster
from minecarbon.io.raster import (
    BlockWriter,
    read_raster,
    read_stack,
    to_grid_dataarray,
    write_cubes,
    write_geotiff,
    write_stack,
)

# not multiples of the 512-px tile: partial tiles at the right and bottom edges
LARGE = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 1100, 530)
TALL = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 300, 512)
SMALL = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 300, 511)
NARROW = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 200, 100)


def _field(grid: AnalysisGrid, seed: int = 0) -> np.ndarray:
    """A smooth float32 field with noise and a NaN hole, like an AGC map."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:grid.height, 0:grid.width]
    values = (40 + 20 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
              + rng.normal(0, 2, grid.shape)).astype("float32")
    values[50:120, 200:400] = np.nan
    return values


def _classes(grid: AnalysisGrid, seed: int = 0) -> np.ndarray:
    """uint8 class codes 1–6 in patches, 0 (nodata) in a corner."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(1, 7, (grid.height // 16 + 1, grid.width // 16 + 1), dtype="uint8")
    codes = np.kron(coarse, np.ones((16, 16), "uint8"))[:grid.height, :grid.width]
    codes[:40, :60] = 0
    return np.ascontiguousarray(codes)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _assert_cog(path: Path) -> None:
    valid, errors, warnings = cog_validate(str(path), strict=True, quiet=True)
    assert (valid, errors, warnings) == (True, [], [])
    with rasterio.open(path) as src:
        assert src.nodata is not None
        assert src.overviews(1) == block_writer._overview_factors(src.width, src.height)
        assert src.overviews(1), "a COG of 512 px or more has overviews"
        assert set(src.block_shapes) == {(512, 512)}
        assert src.compression is not None and src.compression.name == "deflate"


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".mc-tmp-" in p.name]


def test_overview_levels_go_down_to_one_tile() -> None:
    assert block_writer._overview_factors(512, 512) == []
    assert block_writer._overview_factors(513, 10) == [2]
    assert block_writer._overview_factors(1100, 530) == [2, 4]
    assert block_writer._overview_factors(4000, 4000) == [2, 4, 8]
    assert raster.overview_resampling("float32") == "average"
    assert raster.overview_resampling("uint8") == "mode"
    assert raster.overview_resampling("int16") == "mode"


def test_large_float_raster_is_a_valid_cog(tmp_path: Path) -> None:
    values = _field(LARGE)
    da = to_grid_dataarray(values, LARGE, "agc_t_per_ha").chunk(256)
    path = tmp_path / "agc_2020.tif"
    write_geotiff(da, path)
    _assert_cog(path)
    with rasterio.open(path) as src:
        assert np.isnan(src.nodata)
        assert src.descriptions == ("agc_t_per_ha",)
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"  # GDAL's COG driver wrote it
        assert src.crs.to_epsg() == 4546
        assert tuple(src.transform)[:6] == LARGE.transform
        np.testing.assert_array_equal(src.read(1), values)  # NaN where NaN, else equal
    assert _tmp_files(tmp_path) == []
    back = read_raster(path, chunks=300)
    np.testing.assert_array_equal(back.values, values)


def test_float_overviews_average_and_skip_nodata(tmp_path: Path) -> None:
    values = _field(LARGE)
    path = tmp_path / "agc.tif"
    write_geotiff(to_grid_dataarray(values, LARGE, "agc"), path)
    with rasterio.open(path, overview_level=0) as ovr:
        half = ovr.read(1)
    block = values[:2 * half.shape[0], :2 * half.shape[1]].reshape(
        half.shape[0], 2, half.shape[1], 2)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning, match="Mean of empty"):
        expected = np.nanmean(block, axis=(1, 3))
    np.testing.assert_allclose(half, expected, rtol=1e-5)


def test_large_class_raster_is_a_cog_with_mode_overviews(tmp_path: Path) -> None:
    codes = _classes(LARGE)
    path = tmp_path / "units_l2_2020.tif"
    write_geotiff(to_grid_dataarray(codes, LARGE, "unit"), path, nodata=0)
    _assert_cog(path)
    with rasterio.open(path) as src:
        assert src.nodata == 0 and src.dtypes == ("uint8",)
        np.testing.assert_array_equal(src.read(1), codes)
    with rasterio.open(path, overview_level=1) as ovr:
        quarter = ovr.read(1)
    assert set(np.unique(quarter)) <= set(range(7))  # codes, never a mean of codes
    # 16-px patches: a 4 × 4 overview pixel lies in one patch and keeps its code
    np.testing.assert_array_equal(quarter[20:30, 20:30], codes[80:120:4, 80:120:4])


def test_callers_may_choose_the_overview_resampling(tmp_path: Path) -> None:
    codes = _classes(LARGE).astype("float32")
    path = tmp_path / "codes_as_float.tif"
    with BlockWriter(path, LARGE, "float32", ("code",), float("nan"),
                     resampling="nearest") as writer:
        writer.write(0, 0, codes)
    _assert_cog(path)
    with rasterio.open(path, overview_level=0) as ovr:
        assert set(np.unique(ovr.read(1))) <= set(range(7))


def test_large_stack_is_a_valid_band_interleaved_cog(tmp_path: Path) -> None:
    names = ["ndvi", "slope_deg", "tc_wetness"]
    data = {n: to_grid_dataarray(_field(LARGE, seed=i) / (i + 1), LARGE, n).chunk(400)
            for i, n in enumerate(names)}
    stack = xr.Dataset(data).rio.write_crs(LARGE.crs)
    band_tags = {"slope_deg": {"units": "degree", "long_name": "slope"},
                 "ndvi": {"units": "1"}}
    paths = [tmp_path / "a" / "features_2020.tif", tmp_path / "b" / "features_2020.tif"]
    for path in paths:
        write_stack(stack, path, tags={"YEAR": "2020", "SOURCE": "test"}, band_tags=band_tags)
    path = paths[0]
    _assert_cog(path)
    with rasterio.open(path) as src:
        assert src.descriptions == tuple(names)
        assert src.tags()["YEAR"] == "2020" and src.tags()["SOURCE"] == "test"
        assert src.tags(1) == {"units": "1"}
        assert src.tags(2) == {"units": "degree", "long_name": "slope"}
        assert src.tags(3) == {}
        assert src.tags(ns="IMAGE_STRUCTURE")["INTERLEAVE"] == "BAND"
        assert np.isnan(src.nodata)
    back = read_stack(path, chunks=512)
    assert list(back.data_vars) == names
    assert back["slope_deg"].attrs == {"units": "degree", "long_name": "slope"}
    for name in names:
        np.testing.assert_array_equal(back[name].values, stack[name].values)
    assert _md5(paths[0]) == _md5(paths[1])  # byte-identical: no timestamp, no path inside
    assert _tmp_files(paths[0].parent) == []


def test_same_data_give_the_same_bytes(tmp_path: Path) -> None:
    values = _field(LARGE)
    first, second = tmp_path / "one.tif", tmp_path / "two.tif"
    write_geotiff(to_grid_dataarray(values, LARGE, "agc").chunk(300), first)
    write_geotiff(to_grid_dataarray(values, LARGE, "agc").chunk(700), second)
    assert _md5(first) == _md5(second)
    codes = _classes(LARGE)
    write_geotiff(to_grid_dataarray(codes, LARGE, "c"), first, nodata=0)  # overwrites
    write_geotiff(to_grid_dataarray(codes, LARGE, "c"), second, nodata=0)
    assert _md5(first) == _md5(second)


def test_one_side_of_512_px_is_enough(tmp_path: Path) -> None:
    path = tmp_path / "tall.tif"
    write_geotiff(to_grid_dataarray(_field(TALL), TALL, "agc"), path)
    valid, errors, warnings = cog_validate(str(path), strict=True, quiet=True)
    assert (valid, errors, warnings) == (True, [], [])
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.overviews(1) == []  # 512 px fit one tile: no overview needed


@pytest.mark.parametrize(("grid", "blocks"), [(SMALL, (256, 256)), (NARROW, None)])
def test_small_rasters_stay_plain_geotiffs(tmp_path: Path, grid: AnalysisGrid,
                                           blocks: tuple[int, int] | None) -> None:
    values = _field(grid)
    path = tmp_path / "small.tif"
    write_geotiff(to_grid_dataarray(values, grid, "agc"), path)
    with rasterio.open(path) as src:
        assert src.overviews(1) == []
        assert "LAYOUT" not in src.tags(ns="IMAGE_STRUCTURE")
        assert np.isnan(src.nodata)
        if blocks is None:
            assert src.block_shapes[0][1] == grid.width  # striped
        else:
            assert src.block_shapes[0] == blocks
        np.testing.assert_array_equal(src.read(1), values)


def test_a_failed_conversion_leaves_no_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: BlockWriter, out: Path) -> None:
        out.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(BlockWriter, "_copy_as_cog", fail)
    with pytest.raises(OSError, match="disk full"):
        write_geotiff(to_grid_dataarray(_field(LARGE), LARGE, "agc"), tmp_path / "agc.tif")
    assert list(tmp_path.iterdir()) == []


def test_write_cubes_publishes_all_slices_or_none(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cube = xr.concat([to_grid_dataarray(_field(LARGE, s), LARGE, "agc") for s in range(3)],
                     dim="year").assign_coords(year=[2020, 2021, 2022])
    paths = {y: tmp_path / f"agc_{y}.tif" for y in (2020, 2021, 2022)}
    calls = []
    real = BlockWriter._copy_as_cog

    def fail_on_third(self: BlockWriter, out: Path) -> None:
        calls.append(out)
        if len(calls) == 3:
            raise OSError("disk full")
        real(self, out)

    monkeypatch.setattr(BlockWriter, "_copy_as_cog", fail_on_third)
    with pytest.raises(OSError, match="disk full"):
        write_cubes({"agc": cube.rio.write_crs(LARGE.crs)}, {"agc": paths})
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(BlockWriter, "_copy_as_cog", real)
    write_cubes({"agc": cube.rio.write_crs(LARGE.crs)}, {"agc": paths})
    for year, path in paths.items():
        _assert_cog(path)
        with rasterio.open(path) as src:
            assert np.isnan(src.nodata)  # float cubes get NaN as nodata when none is given
            np.testing.assert_array_equal(src.read(1), cube.sel(year=year).values)
