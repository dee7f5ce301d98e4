"""Airborne LiDAR structure on the project grid (requirement F7), as model features."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from minecarbon.features.chm import (
    canopy_height_model,
    chm_grid_mean,
    chm_grid_sums,
)
from minecarbon.features.lidar import GROUND_CLASS, normalise_heights, structure_metrics
from minecarbon.grid import AnalysisGrid
from minecarbon.io.pointcloud import is_pointcloud, read_points
from minecarbon.io.raster import write_geotiff
from minecarbon.pipeline.scope_steps import load_grid
from minecarbon.pipeline.step import Step, StepContext


def _als(ctx: StepContext) -> None:
    ws = ctx.workspace
    grid = load_grid(ws.root)
    clouds = [p for p in ctx.input_paths("raw:als") if is_pointcloud(p)]
    if not clouds:
        return
    xyz, first = [], []
    chm_sums = np.zeros((grid.height, grid.width))
    chm_counts = np.zeros((grid.height, grid.width))
    for path in clouds:
        cloud = read_points(path, crop=grid.bounds, classification=True,
                            fields=("x", "y", "z", "return_number"),
                            expected_crs=ctx.config.project.crs, what=f"ALS tile {path.name}")
        heights = normalise_heights(cloud.xyz, cloud.classification)
        xyz.append(heights)
        returns = cloud.return_number
        first.append(np.ones(len(cloud.xyz), bool) if returns is None else returns == 1)
        if len(heights):
            sums, counts = chm_grid_sums(_tile_chm(heights, cloud.classification, grid), grid)
            chm_sums += sums
            chm_counts += counts
    metrics = structure_metrics(np.concatenate(xyz), grid, first_returns=np.concatenate(first))
    metrics["als_chm_mean_m"] = chm_grid_mean(chm_sums, chm_counts, grid)
    for name in metrics.data_vars:
        layer = metrics[name].astype("float32")
        ctx.publish(f"products/features/{name}.tif", _writer(layer), kind="product:als_metric")


def _tile_chm(heights: np.ndarray, classification: np.ndarray | None, grid: AnalysisGrid
              ) -> xr.DataArray:
    """The tile's canopy height model over its points' box, cells from its point density."""
    lo = np.floor(heights[:, :2].min(axis=0))
    hi = np.floor(heights[:, :2].max(axis=0)) + 1
    return canopy_height_model(heights, (lo[0], lo[1], hi[0], hi[1]),
                               classification=classification, ground_class=GROUND_CLASS,
                               crs=grid.crs)


def _writer(layer: xr.DataArray) -> Callable[[Path], None]:
    return lambda tmp: write_geotiff(layer, tmp)


ALS = Step(
    "als",
    _als,
    needs=("scope",),
    raw=("als",),
    makes=("products/features/als_*.tif",),
    config=("project",),
    description="ALS canopy height percentiles, mean, max, cover and canopy height model mean "
    "on the project grid (F7)",
)
