"""Airborne LiDAR structure on the project grid (requirement F7), as model features."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from minecarbon.features.lidar import normalise_heights, structure_metrics
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
    for path in clouds:
        cloud = read_points(path, crop=grid.bounds, classification=True,
                            fields=("x", "y", "z", "return_number"),
                            expected_crs=ctx.config.project.crs, what=f"ALS tile {path.name}")
        xyz.append(normalise_heights(cloud.xyz, cloud.classification))
        returns = cloud.return_number
        first.append(np.ones(len(cloud.xyz), bool) if returns is None else returns == 1)
    metrics = structure_metrics(np.concatenate(xyz), grid, first_returns=np.concatenate(first))
    for name in metrics.data_vars:
        layer = metrics[name].astype("float32")
        ctx.publish(f"products/features/{name}.tif", _writer(layer), kind="product:als_metric")


def _writer(layer: xr.DataArray) -> Callable[[Path], None]:
    return lambda tmp: write_geotiff(layer, tmp)


ALS = Step(
    "als",
    _als,
    needs=("scope",),
    raw=("als",),
    makes=("products/features/als_*.tif",),
    config=("project",),
    description="ALS canopy height percentiles, mean, max and cover on the project grid (F7)",
)
