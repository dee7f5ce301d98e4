"""The mapping step's last stage: the maps' change against the features' own change.

With ``b`` from one survey year (space for time), the finished maps' trend over the pixels
that are forest in every year is compared with what each spectral feature the models read
says about it (:mod:`minecarbon.mapping.space_for_time`): the feature's trend over the same
pixels turned into AGC by the plots' slope of the feature on AGC. The two estimates of the
change's log scale — the maps' (0, with ``b``'s relative variance) and the features'
(``ln ρ̄``) — are compared (Cochran's Q) and pooled as random effects
(:func:`~minecarbon.mapping.space_for_time.pooled_scale`); where the two differ beyond their
sampling errors, every forest span's change from its anchor year is multiplied by the pooled
factor (:func:`~minecarbon.mapping.calibration.scale_change`). The record goes into
``calibration.json`` → ``space_for_time``; the totals carry ``v_b + τ²`` as a log-normal error
of the change (docs/carbon-totals.md) and the report states the check and what it did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from dask.base import compute

from minecarbon.assessment.carbon_totals import between_variance, slope_se
from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.files import temporary_sibling
from minecarbon.io.raster import raster_bands, read_on_grid, read_stack, write_cubes
from minecarbon.mapping.calibration import (
    ATTENUATION_RANGE,
    SOURCE_ONE_SURVEY,
    remeasured_changes,
    scale_change,
    slope_through_origin,
)
from minecarbon.mapping.space_for_time import (
    MIN_T,
    change_scale,
    plot_slopes,
    pooled_scale,
    trend_per_year,
)
from minecarbon.pipeline.classify_steps import LANDCOVER
from minecarbon.pipeline.feature_steps import STACK
from minecarbon.pipeline.step import StepContext
from minecarbon.pipeline.synthetic_change_steps import informative_plots
from minecarbon.types import LandCover

#: Feature groups that do not change over the years (a terrain slope cannot show growth).
STATIC_GROUPS = ("terrain",)


def attenuation_variance(oof: pd.DataFrame) -> dict[str, Any]:
    """``b`` of the out-of-fold slope, its standard error and its relative variance ``v_b``.

    ``v_b = (se / b)² + τ² / b²``: the slope's sampling variance plus the between-type
    variance ``τ²`` of the per-type slopes (DerSimonian–Laird over the forest types with their
    own model and at least 3 plots; a type whose slope is outside the credible attenuations,
    where the model has no skill, is left out).
    """
    b, se = slope_se(oof["observed"], oof["predicted"])
    low, high = ATTENUATION_RANGE
    strata = {}
    own = oof[oof["source"] == "own"] if "source" in oof.columns else oof
    for label, group in own.groupby("stratum"):
        if len(group) >= 3:
            strata[str(label)] = slope_se(group["observed"], group["predicted"])
    return _with_type_spread(min(max(b, low), high), se, strata)


def _with_type_spread(b: float, se: float,
                      strata: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """``b``, ``se`` and ``v_b = (se / b)² + τ² / b²`` with the per-types' spread.

    ``τ²`` is the DerSimonian–Laird variance of the per-type slopes ``strata`` (slope, se)
    within the credible attenuations.
    """
    low, high = ATTENUATION_RANGE
    credible = {k: v for k, v in strata.items() if low <= v[0] <= high}
    tau2 = between_variance([v[0] for v in credible.values()],
                            [v[1] ** 2 for v in credible.values()])
    return {"attenuation": b, "attenuation_se": se, "between_type_var": tau2,
            "rel_var": (se / b) ** 2 + tau2 / b ** 2,
            "slopes": {k: round(v[0], 4) for k, v in strata.items()},
            "left_out": sorted(set(strata) - set(credible))}


def remeasured_variance(oof: pd.DataFrame, b: float, se: float,
                        excluded: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """``v_b`` of a ``b`` measured on re-measured plots.

    Its sampling variance plus the between-type variance of the per-type slopes of the same
    pairs: ``v_b = (se / b)² + τ² / b²``, ``τ²`` DerSimonian–Laird over the forest types (the
    stratum of a plot's last measurement) with at least 3 pairs and a credible slope, as
    :func:`attenuation_variance` does for one survey: one ``b`` is applied to every type, so
    how much the types' own compressions differ is part of the maps' change error
    (decision 49). ``excluded`` are the types the mapping step left out of ``b``.
    """
    strata: dict[str, tuple[float, float]] = {}
    if {"site", "year", "stratum"} <= set(oof.columns):
        last = oof.sort_values("year").groupby("site", sort=True).tail(1)
        types = dict(zip(last["site"], last["stratum"].astype(str), strict=True))
        pairs = remeasured_changes(oof)
        pairs["stratum"] = pairs["site"].map(types)
        for label, group in pairs[~pairs["stratum"].isin(excluded)].groupby("stratum"):
            try:
                strata[str(label)] = slope_through_origin(
                    group["observed_change"], group["predicted_change"], min_pairs=3)
            except InputDataError:
                continue  # too few pairs of the type, or none changed
    return _with_type_spread(b, se, strata)


def _dynamic_features(ctx: StepContext, years: list[int], inputs: list[str]) -> list[str]:
    """The model's inputs that every year's stack has and that can change over time."""
    info = raster_bands(ctx.workspace.path(STACK.format(year=years[-1])))
    groups = {name: tags.get("group") for name, tags in zip(info.descriptions, info.band_tags,
                                                            strict=True)}
    return [f for f in inputs if f in groups and groups[f] not in STATIC_GROUPS]


def _cubes(ctx: StepContext, grid: AnalysisGrid, agc_paths: dict[int, Path]
           ) -> tuple[xr.DataArray, xr.DataArray]:
    """The (year, y, x) AGC maps and the land-cover forest mask of their years, lazily."""
    chunk = ctx.config.compute.chunk_px
    years = sorted(agc_paths)
    index = pd.Index(years, name="year")
    agc = xr.concat([read_on_grid(agc_paths[y], grid, chunks=chunk) for y in years], dim=index)
    forest = xr.concat([read_on_grid(ctx.workspace.path(LANDCOVER.format(year=y)), grid,
                                     chunks=chunk, masked=False) == int(LandCover.FOREST)
                        for y in years], dim=index)
    return agc, forest.assign_coords(y=agc["y"], x=agc["x"])


def _yearly_means(ctx: StepContext, grid: AnalysisGrid, agc_paths: dict[int, Path],
                  features: list[str]) -> tuple[pd.DataFrame, int]:
    """Per year, the mean AGC and the mean of each feature over the always-forest pixels.

    Always-forest: mapped forest with an AGC value in every year. Lazy throughout: one pass
    over the land-cover series for the mask, then one over every year's stack and map.
    """
    chunk = ctx.config.compute.chunk_px
    years = sorted(agc_paths)
    agc, forest = _cubes(ctx, grid, agc_paths)
    always = (forest & agc.notnull()).all("year").compute()
    lazy = []
    for y in years:
        stack = read_stack(ctx.workspace.path(STACK.format(year=y)), chunks=chunk)
        layers = {f: stack[f].assign_coords(y=always["y"], x=always["x"]) for f in features
                  if f in stack.data_vars}
        layers["agc"] = agc.sel(year=y, drop=True)
        lazy.append(xr.Dataset(layers).where(always).mean(("y", "x")))
    means = compute(*lazy)  # type: ignore[no-untyped-call, unused-ignore]
    rows = [{"year": y, **{k: float(v) for k, v in m.data_vars.items()}}
            for y, m in zip(years, means, strict=True)]
    return pd.DataFrame(rows).set_index("year"), int(always.sum())


def check_space_for_time(ctx: StepContext, grid: AnalysisGrid, agc_paths: dict[int, Path],
                         inputs: list[str], plots: pd.DataFrame, oof: pd.DataFrame,
                         calibration: dict[str, Any], maps_var: float) -> dict[str, Any]:
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
    maps_var
        ``v_b``, the relative variance of the maps' change scale
        (:func:`attenuation_variance` of all forest plots, as the totals take it).

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
    record: dict[str, Any] = {
        "applied": result["ratio"] is not None, "pixels": pixels, "plots": len(table),
        "reference_year": ref, "mean_agc_t_ha": {str(y): round(float(v), 3)
                                                 for y, v in means["agc"].items()
                                                 if np.isfinite(v)}, **result}
    if result["ratio"] is not None and result["ratio"] > 0:
        pooled = pooled_scale(float(np.log(result["ratio"])),
                              float(result["sampling_log_var"]), maps_var)
        record["maps_log_var"] = round(maps_var, 6)
        record["pooled"] = {k: round(v, 6) for k, v in pooled.items()}
        record["change_factor"] = round(float(np.exp(pooled["log_shift"])), 6)
    return record


def rescale_maps(ctx: StepContext, grid: AnalysisGrid, staged: dict[int, Path],
                 reference_year: int, factor: float) -> dict[int, Path]:
    """The staged maps with every forest span's change from its anchor year times ``factor``.

    Read once, rescaled lazily (:func:`~minecarbon.mapping.calibration.scale_change`), written
    to new staged files; the old ones are removed. Returns the new paths.
    """
    agc, forest = _cubes(ctx, grid, staged)
    out = scale_change(agc.chunk({"year": -1}), forest.chunk({"year": -1}), reference_year,
                       factor)
    new = {y: temporary_sibling(p) for y, p in staged.items()}
    write_cubes({"agc": out.astype("float32").rio.write_crs(grid.crs).rename("agc_t_per_ha")},
                {"agc": new}, nodata={"agc": float("nan")})
    for path in staged.values():
        path.unlink(missing_ok=True)
    return new


def space_for_time_stage(ctx: StepContext, grid: AnalysisGrid, staged: dict[int, Path],
                         inputs: list[str], plots: pd.DataFrame, oof: pd.DataFrame,
                         calibration: dict[str, Any]) -> tuple[dict[int, Path], dict[str, Any]]:
    """The mapping step's stage: check, pool, and rescale the staged maps' change.

    The maps are rescaled only where the two estimates differ (Cochran's Q test at
    ``mapping.space_for_time_alpha``) and ``mapping.space_for_time_pooling`` is on.

    ``oof`` holds every forest plot's out-of-fold row: the informative types' plots give the
    cross-section (as they gave ``b``), all of them ``v_b`` (as the totals take it). Returns
    the staged maps (new paths where rescaled) and the ``space_for_time`` record.
    """
    check = check_space_for_time(ctx, grid, staged, inputs, plots,
                                 informative_plots(ctx, oof)[0], calibration,
                                 attenuation_variance(oof)["rel_var"])
    cfg = ctx.config.mapping
    factor = float(check.get("change_factor", 1.0))
    differ = float((check.get("pooled") or {}).get("p_value", 1.0)) < cfg.space_for_time_alpha
    check["differ"] = differ
    if cfg.space_for_time_pooling and differ and factor != 1.0:
        staged = rescale_maps(ctx, grid, staged, int(calibration["reference_year"]), factor)
        check["applied_to_maps"] = True
    return staged, check
