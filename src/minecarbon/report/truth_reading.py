"""Reading a demo workspace's truth and maps for :mod:`minecarbon.report.truth_comparison`.

The simulator's spec (``truth/site.json``), the monitoring extent rebuilt from it, and the
(year, y, x) series of true and mapped AGC and true level-1 units on the truth's grid. Only the
truth comparison (and the tests that check it) reads ``truth/``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from minecarbon.demo.spec import Sensor, SiteSpec, Size
from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid, read_raster

__all__ = ["grid_of", "monitoring_extent", "read_layer", "recorded_site_spec",
           "truth_and_maps"]

Array = npt.NDArray[Any]


def recorded_site_spec(root: Path) -> SiteSpec | None:
    """The spec of the simulated site delivered into ``root`` (``truth/site.json``), if any.

    Parameters
    ----------
    root
        A workspace folder.

    Returns
    -------
    SiteSpec or None
        None when the workspace holds no simulated site (or its record has no spec).

    """
    path = root / "truth" / "site.json"
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8")).get("spec")
    except (OSError, ValueError, AttributeError) as error:
        raise InputDataError(f"{path} is not the simulator's site record ({error})",
                             fix="re-run `minecarbon demo` into a fresh workspace") from None
    if not isinstance(record, dict):
        return None
    values = dict(record)
    try:
        values["size"] = Size(values["size"])
        for key in ("phenology_years", "monthly", "remeasure_years"):
            if key in values:
                values[key] = tuple(values[key])
        if "sensor" in values:
            values["sensor"] = Sensor(values["sensor"]).value
        return SiteSpec(**values)
    except (KeyError, TypeError, ValueError) as error:
        raise InputDataError(f"{path} records a spec this version cannot read ({error})",
                             fix="re-run `minecarbon demo` into a fresh workspace") from None


def grid_of(path: Path) -> AnalysisGrid:
    """The analysis grid of a north-up raster of square pixels (the truth's own grid)."""
    da = read_raster(path, chunks=None)
    t = da.rio.transform()
    if not (math.isclose(t.a, -t.e) and t.b == 0 and t.d == 0):
        raise InputDataError(f"{path} is not on a north-up grid of square pixels",
                             fix="score a workspace written by `minecarbon demo`")
    return AnalysisGrid(str(da.rio.crs), float(t.a), float(t.c), float(t.f),
                        int(da.sizes["x"]), int(da.sizes["y"]))


def monitoring_extent(root: Path, grid: AnalysisGrid) -> tuple[Array, str]:
    """The monitoring extent as a (y, x) bool mask on ``grid`` and where it came from."""
    spec = recorded_site_spec(root)
    if spec is None:
        return np.ones(grid.shape, bool), "whole grid (no truth/site.json)"
    import shapely

    from minecarbon.demo.mine import mine_layout

    # as minecarbon.demo.history.events_at: pixel centres inside boundary.buffer(buffer_m)
    extent = mine_layout(spec).boundary.geometry.iloc[0].buffer(spec.buffer_m)
    x, y = np.meshgrid(grid.x_coords(), grid.y_coords())
    return np.asarray(shapely.contains_xy(extent, x, y), bool), "simulated mine (truth/site.json)"


def read_layer(path: Path, grid: AnalysisGrid, *, masked: bool = True) -> Array:
    """One band on ``grid`` as a NumPy array (nodata → NaN unless ``masked=False``)."""
    return np.asarray(read_on_grid(path, grid, masked=masked).values)


def truth_and_maps(root: Path, years: list[int]
                   ) -> tuple[Array, Array, AnalysisGrid, Array, str, Array]:
    """Truth and mapped AGC, (year, y, x) float32, NaN outside truth forest / unmapped.

    Both are restricted to the monitoring extent; the truth also to ``units_l1 > 0``. Also
    the extent, a (y, x) mask, and the true level-1 units, (year, y, x) uint8, 0 outside
    the extent.
    """
    truth_dir, agc_dir = root / "truth", root / "products" / "agc"
    missing = [p for y in years for p in (truth_dir / f"agc_{y}.tif",
                                          truth_dir / f"units_l1_{y}.tif") if not p.exists()]
    if missing:
        raise PathNotFoundError(
            f"{root} has no simulator truth {missing[0].relative_to(root)} "
            f"({len(missing)} truth files missing)",
            fix="score a workspace made by `minecarbon demo` (truth/ is written only there)")
    grid = grid_of(truth_dir / f"agc_{years[0]}.tif")
    inside, source = monitoring_extent(root, grid)
    shape = (len(years), *grid.shape)
    truth = np.full(shape, np.nan, np.float32)
    mapped = np.full(shape, np.nan, np.float32)
    units = np.zeros(shape, np.uint8)
    for i, year in enumerate(years):
        t = read_layer(truth_dir / f"agc_{year}.tif", grid)
        l1 = read_layer(truth_dir / f"units_l1_{year}.tif", grid, masked=False)
        units[i] = np.where(inside, l1, 0)
        keep = np.isfinite(t) & (l1 > 0) & inside
        truth[i] = np.where(keep, t, np.nan)
        product = agc_dir / f"agc_{year}.tif"
        if product.exists():
            m = read_layer(product, grid)
            mapped[i] = np.where(inside & np.isfinite(m), m, np.nan)
    return truth, mapped, grid, inside, source, units
