"""The mapping step's last check: the features' own change against the maps' change.

With ``b`` from one survey year (space for time), the finished maps' trend over the pixels
that are forest in every year is compared with what each spectral feature the models read
says about it (:mod:`minecarbon.mapping.space_for_time`): the feature's trend over the same
pixels turned into AGC by the plots' slope of the feature on AGC. The result goes into
``calibration.json`` → ``space_for_time``; the totals add its ``rel_var`` to the change
calibration's error (docs/carbon-totals.md) and the report states the ratio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import raster_bands, read_on_grid, read_stack
from minecarbon.mapping.calibration import SOURCE_ONE_SURVEY
from minecarbon.mapping.space_for_time import (
    MIN_T,
    change_scale,
    plot_slopes,
    trend_per_year,
)
from minecarbon.pipeline.classify_steps import LANDCOVER
from minecarbon.pipeline.feature_steps import STACK
from minecarbon.pipeline.step import StepContext
from minecarbon.types import LandCover

#: Feature groups that do not change over the years (a terrain slope cannot show growth).
STATIC_GROUPS = ("terrain",)


def _dynamic_features(ctx: StepContext, years: list[int], inputs: list[str]) -> list[str]:
    """The model's inputs that every year's stack has and that can change over time."""
    info = raster_bands(ctx.workspace.path(STACK.format(year=years[-1])))
    groups = {name: tags.get("group") for name, tags in zip(info.descriptions, info.band_tags,
                                                            strict=True)}
    return [f for f in inputs if f in groups and groups[f] not in STATIC_GROUPS]


def _yearly_means(ctx: StepContext, grid: AnalysisGrid, agc_paths: dict[int, Path],
                  features: list[str]) -> tuple[pd.DataFrame, int]:
    """Per year, the mean AGC and the mean of each feature over the always-forest pixels.

    Always-forest: mapped forest with an AGC value in every year. Lazy throughout, one dask
    pass per year over the stacks (the mask itself is one pass over the land-cover series).
    """
    chunk = ctx.config.compute.chunk_px
    years = sorted(agc_paths)
    index = pd.Index(years, name="year")
    agc = xr.concat([read_on_grid(agc_paths[y], grid, chunks=chunk) for y in years], dim=index)
    forest = xr.concat([read_on_grid(ctx.workspace.path(LANDCOVER.format(year=y)), grid,
                                     chunks=chunk, masked=False) == int(LandCover.FOREST)
                        for y in years], dim=index)
    always = (forest & agc.notnull()).all("year").compute()
    count = int(always.sum())
    rows = []
    for y in years:
        stack = read_stack(ctx.workspace.path(STACK.format(year=y)), chunks=chunk)
        layers = {f: stack[f].assign_coords(y=always["y"], x=always["x"]) for f in features
                  if f in stack.data_vars}
        layers["agc"] = agc.sel(year=y, drop=True)
        means = xr.Dataset(layers).where(always).mean(("y", "x")).compute()
        rows.append({"year": y, **{k: float(v) for k, v in means.data_vars.items()}})
    return pd.DataFrame(rows).set_index("year"), count


def check_space_for_time(ctx: StepContext, grid: AnalysisGrid, agc_paths: dict[int, Path],
                         inputs: list[str], plots: pd.DataFrame, oof: pd.DataFrame,
                         calibration: dict[str, Any]) -> dict[str, Any]:
    """The ``space_for_time`` record of ``calibration.json``.

    Parameters
    ----------
    ctx, grid
        The step's context and the analysis grid.
    agc_paths
        Year → the finished (staged) AGC map.
    inputs
        The features the AGC models read.
    plots, oof
        ``plot_features.csv`` and the out-of-fold rows whose plots gave ``b``.
    calibration
        The mapping step's record so far (``reference_year``, ``source``).

    Returns
    -------
    dict
        ``applied`` and, when applied, :func:`~minecarbon.mapping.space_for_time.change_scale`'s
        result with the pixel count; else ``reason``.

    """
    if calibration.get("source") != SOURCE_ONE_SURVEY:
        return {"applied": False, "reason": "b does not come from one survey year's plots"}
    years = sorted(agc_paths)
    if len(years) < 3:
        return {"applied": False, "reason": "fewer than 3 years mapped"}
    features = _dynamic_features(ctx, years, inputs)
    ref = int(calibration["reference_year"])
    rows = oof[oof["year"].astype(int) == ref][["plot_id", "observed"]]
    table = rows.merge(plots[plots["year"].astype(int) == ref], on="plot_id", how="inner")
    if not features or len(table) < 3:
        return {"applied": False, "reason": "no spectral feature, or fewer than 3 plots"}
    slopes = plot_slopes(table[features], table["observed"])
    asked = [f for f in features if abs(float(slopes.at[f, "t"])) >= MIN_T]
    if not asked:
        return {"applied": False,
                "reason": f"no feature's slope on the plots' AGC reaches |t| ≥ {MIN_T:g}"}
    means, pixels = _yearly_means(ctx, grid, agc_paths, asked)
    if pixels == 0:
        return {"applied": False, "reason": "no pixel is forest in every year"}
    trends = {f: trend_per_year(years, means[f].to_numpy()) for f in asked}
    map_trend, map_se = trend_per_year(years, means["agc"].to_numpy())
    result = change_scale(slopes.loc[asked], {f: v[0] for f, v in trends.items()}, map_trend,
                          trend_ses={f: v[1] for f, v in trends.items()}, map_trend_se=map_se)
    result["features"].update({f: {"t": round(float(slopes.at[f, "t"]), 3), "used": False}
                               for f in features if f not in asked})
    return {"applied": result["ratio"] is not None, "pixels": pixels,
            "plots": len(table), "reference_year": ref,
            "mean_agc_t_ha": {str(y): round(float(v), 3)
                              for y, v in means["agc"].items() if np.isfinite(v)},
            **result}
