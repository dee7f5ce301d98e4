"""Multi-band feature stacks: written block by block, read back lazily by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_stack, to_grid_dataarray, write_stack

GRID = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 37, 23)


def _stack() -> xr.Dataset:
    rng = np.random.default_rng(1)
    a = to_grid_dataarray(rng.random(GRID.shape), GRID, "ndvi").chunk(10)
    b = to_grid_dataarray(rng.random(GRID.shape) * 30, GRID, "slope_deg").chunk(10)
    b = b.where(b > 3)
    return xr.Dataset({"ndvi": a, "slope_deg": b}).rio.write_crs(GRID.crs)


def test_roundtrip_names_values_tags(tmp_path: Path) -> None:
    stack = _stack()
    path = tmp_path / "features_2020.tif"
    write_stack(stack, path, tags={"YEAR": "2020"},
                band_tags={"slope_deg": {"units": "degree"}})
    back = read_stack(path, chunks=16)
    assert list(back.data_vars) == ["ndvi", "slope_deg"]
    assert back["ndvi"].chunks is not None
    for name in stack.data_vars:
        np.testing.assert_allclose(back[name].values, stack[name].values.astype("float32"))
    np.testing.assert_allclose(back["x"].values, GRID.x_coords())
    with rasterio.open(path) as src:
        assert src.tags()["YEAR"] == "2020" and src.tags(2)["units"] == "degree"
        assert src.dtypes == ("float32", "float32")


def test_failure_leaves_no_file(tmp_path: Path) -> None:
    stack = _stack()
    bad = stack["ndvi"].copy(data=stack["ndvi"].data.map_blocks(_boom, dtype=float))
    path = tmp_path / "f.tif"
    with pytest.raises(RuntimeError):
        write_stack(stack.assign(bad=bad), path)
    assert list(tmp_path.iterdir()) == []


def _boom(block: np.ndarray) -> np.ndarray:
    raise RuntimeError("block failed")


def test_unnamed_bands_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    with rasterio.open(path, "w", driver="GTiff", height=2, width=2, count=2, dtype="float32",
                       crs="EPSG:4546", transform=rasterio.transform.from_origin(0, 0, 1, 1)) as d:
        d.write(np.zeros((2, 2, 2), "float32"))
    with pytest.raises(InputDataError, match="band descriptions"):
        read_stack(path)
