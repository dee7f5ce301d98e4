"""Carbon totals and areas with 95 % intervals, for the assessment step (issue 17).

Writes three tables to ``products/assessment/``:

* ``totals.csv`` — every year and zone (``extent``, ``l1:<code>``, ``l2:<code>``): forest area
  and total AGC with their 95 % intervals, the map's own sums beside them, and the method;
* ``change_totals.csv`` — every change pair of the assessment and the trend period (the
  least-squares slope of the yearly totals): estimate, interval, and whether it differs from 0;
* ``area_estimates.csv`` — every land-cover class and year inside the extent: mapped and
  error-adjusted area with its interval, from the held-out reference samples.

The estimators are :mod:`minecarbon.assessment.carbon_totals` and
:func:`minecarbon.assessment.area_estimation.estimate_areas_by_reference`; this module gathers
their inputs from the workspace (map sums per zone, the plots with the map's out-of-fold value
at each, the attenuation slope's uncertainty) and writes the tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import dask.array as dsa
import numpy as np
import pandas as pd
from dask.base import compute

from minecarbon.allometry.error_model import ErrorModel
from minecarbon.allometry.systematic import TREE_COLUMNS, trees_systematic_rel_var
from minecarbon.assessment.area_estimation import Z95, estimate_areas_by_reference
from minecarbon.assessment.carbon_totals import estimate_totals
from minecarbon.assessment.trend_reference import (
    CATEGORY_NAMES,
    CHECKED_COLUMN,
    CODES,
    MIN_CHECKED,
    checked_labels,
    checked_method,
    checked_trend_areas,
    map_category,
    reference_labels,
    trend_areas,
)
from minecarbon.errors import InputDataError, warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.io.tables import read_table
from minecarbon.io.vector import read_vector
from minecarbon.mapping.calibration import SOURCE_REMEASURED
from minecarbon.pipeline.effect_reference_steps import cumulative_area_estimates
from minecarbon.pipeline.model_steps import AGC, AGC_RAW, CALIBRATION
from minecarbon.pipeline.plot_pairs import plot_pairs
from minecarbon.pipeline.space_for_time_steps import attenuation_variance, remeasured_variance
from minecarbon.pipeline.step import StepContext
from minecarbon.scope.units import unit_names
from minecarbon.types import LandCover

LANDCOVER = "products/classification/landcover_{year}.tif"
UNITS = "products/units/units_l{level}_{year}.tif"
TREND_CLASS = "products/assessment/trend_class.tif"
TREES_AGC = "products/plots/trees_agc.csv"


@dataclass
class Totals:
    """The three tables and what the report quotes about them."""

    totals: pd.DataFrame
    changes: pd.DataFrame
    areas: pd.DataFrame
    info: dict[str, Any]


def _bincount(codes: Any, weights: Any | None = None) -> Any:
    return dsa.bincount(codes.ravel(), weights=None if weights is None else weights.ravel(),
                        minlength=256)


def zone_sums(ctx: StepContext, grid: AnalysisGrid, years: list[int]) -> pd.DataFrame:
    """Map total (t C) and mapped forest pixels of the extent and every unit, every year."""
    chunk = ctx.config.compute.chunk_px
    ws = ctx.workspace
    rows = []
    for year in years:
        agc = read_on_grid(ws.path(AGC.format(year=year)), grid, chunks=chunk).data
        finite = dsa.isfinite(agc)
        values = dsa.where(finite, agc, 0.0).astype("float64")
        parts: dict[str, Any] = {"extent": (values.sum(), finite.sum())}
        for level in (1, 2):
            path = ws.path(UNITS.format(level=level, year=year))
            if path.exists():
                codes = read_on_grid(path, grid, chunks=chunk, masked=False).data
                codes = dsa.clip(codes, 0, 255).astype("int64")
                parts[f"l{level}"] = (_bincount(codes, values), _bincount(codes, finite),
                                      _bincount(codes))
        (done,) = compute(parts)  # type: ignore[no-untyped-call, unused-ignore]
        total, count = done.pop("extent")
        rows.append({"year": year, "zone": "extent", "map_t": float(total) * grid.pixel_area_ha,
                     "forest_px": int(count)})
        for key, (sums, counts, pixels) in done.items():
            for code in np.flatnonzero(pixels[1:]) + 1:
                rows.append({"year": year, "zone": f"{key}:{code}",
                             "map_t": float(sums[code]) * grid.pixel_area_ha,
                             "forest_px": int(counts[code])})
    return pd.DataFrame(rows)


def _plot_pairs(ctx: StepContext, grid: AnalysisGrid, year: int) -> pd.DataFrame:
    """:func:`~minecarbon.pipeline.plot_pairs.plot_pairs` on the year's published maps."""
    chunk = ctx.config.compute.chunk_px

    def layer(rel: str) -> Any:
        path = ctx.workspace.path(rel)
        return read_on_grid(path, grid, chunks=chunk) if path.exists() else None

    mapped = layer(AGC.format(year=year))
    if mapped is None:
        raise InputDataError(f"no AGC map of the plots' year {year} ({AGC.format(year=year)})",
                             fix="run the mapping step")
    return plot_pairs(ctx, grid, year, mapped, layer(AGC_RAW.format(year=year)),
                      unit_ratios=applied_unit_ratios(ctx))


def applied_unit_ratios(ctx: StepContext) -> tuple[dict[int, float], float] | None:
    """The level-1 units' ratios the mapping step multiplied the maps by (None: not applied)."""
    path = ctx.workspace.path(CALIBRATION)
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8")).get("unit_ratios") or {}
    if not record.get("applied"):
        return None
    return ({int(k): float(v["ratio"]) for k, v in record["units"].items()},
            float(record["pooled_ratio"]))


def space_for_time_terms(ctx: StepContext) -> tuple[float, float, dict[str, Any]]:
    """The space-for-time check's ``(σ, linear variance, record)`` for the totals.

    Where the mapping step pooled the maps' and the features' estimates of the change's log
    scale (:func:`~minecarbon.mapping.space_for_time.pooled_scale`), ``σ²`` is its
    ``interval_log_var`` (``v_b + τ²``): it holds ``b``'s own error too, which leaves
    ``v_c``; the change part of every estimate carries it log-normally (asymmetric
    intervals). Where the features say the change goes the other way (``ρ̄ ≤ 0``),
    ``(ρ̄ − 1)²`` joins ``v_c`` instead. ``(0, 0, {})`` without the check (``b`` from
    re-measured plots, no feature tracking AGC, no temporal fit).
    """
    path = ctx.workspace.path(CALIBRATION)
    if not path.exists():
        return 0.0, 0.0, {}
    record = json.loads(path.read_text(encoding="utf-8")).get("space_for_time") or {}
    if not record.get("applied"):
        return 0.0, 0.0, {}
    pooled = record.get("pooled")
    if pooled:
        return float(pooled["interval_log_var"]) ** 0.5, 0.0, record
    return 0.0, float(record.get("rel_var") or 0.0), record


def _remeasured_variance(ctx: StepContext) -> dict[str, Any] | None:
    """``b`` and its variance where the mapping step took ``b`` from re-measured plots."""
    path = ctx.workspace.path(CALIBRATION)
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("source") != SOURCE_REMEASURED or record.get("attenuation_se") is None:
        return None
    oof = read_table(ctx.workspace.path("products/models/oof_predictions.csv"))
    return remeasured_variance(oof, float(record["attenuation"]), float(record["attenuation_se"]),
                               record.get("attenuation_strata_excluded") or [])


def change_variance(ctx: StepContext) -> dict[str, Any]:
    """``v_c`` and the space-for-time scale error of the totals.

    ``v_c`` is the relative sampling variance of ``b`` plus its between-type variance: of the
    re-measured plots' slope where the mapping step took ``b`` from them
    (:func:`~minecarbon.pipeline.space_for_time_steps.remeasured_variance`), else of the
    out-of-fold slope
    (:func:`~minecarbon.pipeline.space_for_time_steps.attenuation_variance`); where the
    mapping step pooled the change's scale, its variance replaces ``v_c`` as a log-normal
    error (:func:`space_for_time_terms`).
    """
    info = _remeasured_variance(ctx) or attenuation_variance(
        read_table(ctx.workspace.path("products/models/oof_predictions.csv")))
    log_sd, linear, record = space_for_time_terms(ctx)
    own = 0.0 if record.get("pooled") else info["rel_var"]
    if linear > 0.0 or record.get("differ"):
        warn(f"the spectral features' own change over the years is {record['ratio']:.2f} × the "
             "AGC maps' change on the pixels forest in every year, more than both estimates' "
             "sampling errors explain (space for time, products/agc/calibration.json): "
             + (f"the maps' change was multiplied by the pooled {record['change_factor']:.2f}"
                if record.get("applied_to_maps") else "the maps' change was left as it is")
             + (f"; the carbon totals' intervals carry a factor of {np.exp(log_sd):.2f} on "
                "every change" if log_sd > 0 else
                "; the carbon totals' intervals carry the difference")
             + "; re-measuring at least 5 plots in a second year measures the change's size "
             "directly (mapping.change_calibration)", stacklevel=2)
    return {"attenuation": info["attenuation"], "attenuation_se": info["attenuation_se"],
            "between_type_var": info["between_type_var"],
            "space_for_time_ratio": record.get("ratio"),
            "change_factor": record.get("change_factor", 1.0) if record.get(
                "applied_to_maps") else 1.0,
            "change_scale_log_sd": log_sd, "change_rel_var": own + linear,
            "slopes": info["slopes"], "left_out": info["left_out"]}


def area_estimates(ctx: StepContext, grid: AnalysisGrid, years: list[int],
                   accuracy: dict[str, Any] | None) -> pd.DataFrame:
    """Mapped and error-adjusted land-cover areas (ha) inside the extent, every year."""
    chunk = ctx.config.compute.chunk_px
    rows = []
    lc_report = (accuracy or {}).get("landcover")
    if lc_report and "held_out" in lc_report.get("series", {}):
        lc_report = lc_report["series"]["held_out"]  # the published series' own error matrix
    elif lc_report and "probability_sample" in lc_report:
        lc_report = lc_report["probability_sample"]
    for year in years:
        path = ctx.workspace.path(LANDCOVER.format(year=year))
        if not path.exists():
            continue
        codes = dsa.clip(read_on_grid(path, grid, chunks=chunk, masked=False).data, 0, 255)
        (counts,) = compute(  # type: ignore[no-untyped-call, unused-ignore]
            _bincount(codes.astype("int64")))
        classes = [int(c) for c in lc_report["labels"]] if lc_report else \
            [int(c) for c in np.flatnonzero(counts[1:]) + 1]
        mapped = np.array([counts[c] for c in classes], dtype=float) * grid.pixel_area_ha
        if lc_report:
            est = estimate_areas_by_reference(np.asarray(lc_report["confusion"]), mapped,
                                              classes)
            method = "inverse calibration, held-out reference samples"
        else:
            est = pd.DataFrame({"class": classes, "mapped_area": mapped, "area": mapped,
                                "area_se": 0.0, "area_ci_low": mapped, "area_ci_high": mapped})
            method = "mapped (no reference samples)"
        for r in est.itertuples():
            label = LandCover(int(r[1]))  # type: ignore[call-arg]
            rows.append({"layer": "landcover", "year": year, "class": int(r[1]),
                         "class_zh": label.zh,
                         "class_en": label.en, "mapped_area_ha": round(r.mapped_area, 2),
                         "area_ha": round(r.area, 2), "area_se_ha": round(r.area_se, 2),
                         "area_ha_ci_low": round(r.area_ci_low, 2),
                         "area_ha_ci_high": round(r.area_ci_high, 2), "method": method})
    return pd.DataFrame(rows)


def trend_area_estimates(ctx: StepContext, grid: AnalysisGrid,
                         years: list[int]) -> pd.DataFrame:
    """Areas of clear carbon increase, no clear change and clear decrease, first → last year.

    From the trend map and the interpreted reference points of ``raw/reference``
    (:mod:`minecarbon.assessment.trend_reference`); empty without either. Where at least
    ``MIN_CHECKED`` points in the extent have a checked label (``trend_checked``), the
    interpreter's errors are corrected (two-phase difference estimator) and the method says so.
    """
    trend_path = ctx.workspace.path(TREND_CLASS)
    paths = [p for p in ctx.input_paths("raw:reference")
             if p.suffix.lower() in (".gpkg", ".shp", ".geojson", ".fgb")]
    if not trend_path.exists() or not paths:
        return pd.DataFrame()
    chunk = ctx.config.compute.chunk_px
    trend = read_on_grid(trend_path, grid, chunks=chunk, masked=False)
    lc_path = ctx.workspace.path(LANDCOVER.format(year=years[-1]))
    if not lc_path.exists():
        return pd.DataFrame()
    inside_extent = read_on_grid(lc_path, grid, chunks=chunk, masked=False).data > 0
    shifted = dsa.clip(trend.data.astype("int64"), -128, 127) + 128
    (counts,) = compute(  # type: ignore[no-untyped-call, unused-ignore]
        _bincount(shifted, inside_extent.astype("float64")))  # outside the extent: weight 0
    codes_map = map_category(np.arange(256) - 128)
    mapped = {c: float(counts[codes_map == c].sum()) * grid.pixel_area_ha for c in CODES}
    points = pd.concat([read_vector(p).to_crs(grid.crs) for p in paths], ignore_index=True)
    reference = reference_labels(points["trend"], ", ".join(p.name for p in paths))
    row, col, inside = grid.cells(points.geometry.x, points.geometry.y)
    at = np.full(len(points), np.nan)
    in_extent = np.zeros(len(points), dtype=bool)
    r_in, c_in = row[inside], col[inside]
    at[inside] = np.asarray(trend.data.vindex[r_in, c_in].compute(), dtype=float)
    in_extent[inside] = np.asarray(inside_extent.vindex[r_in, c_in].compute(), dtype=bool)
    at_points = np.where(in_extent, map_category(at), -128)
    names = ", ".join(p.name for p in paths)
    method = f"Olofsson et al. 2014, {int(in_extent.sum())} interpreted reference points"
    try:
        if CHECKED_COLUMN in points.columns:
            checked, present = checked_labels(points[CHECKED_COLUMN], names)
            n_checked = int((present & in_extent).sum())
            if n_checked >= MIN_CHECKED:
                check = checked_trend_areas(at_points, reference, checked, present & in_extent,
                                            mapped)
                est = check.estimate
                method += checked_method(check)
            else:
                warn(f"{names}: {n_checked} points in the extent have a {CHECKED_COLUMN} label, "
                     f"fewer than {MIN_CHECKED}; the interpreted labels are taken as right",
                     stacklevel=2)
                est = trend_areas(at_points, reference, mapped)
        else:
            est = trend_areas(at_points, reference, mapped)
    except InputDataError as error:  # e.g. a rare category with < 2 points: the rest stands
        warn(f"no error-adjusted areas of the trend categories from {names}: {error}",
             stacklevel=2)
        return pd.DataFrame()
    period = f"{years[0]}–{years[-1]}"
    return pd.DataFrame([{
        "layer": f"trend {period}", "year": years[-1], "class": int(r["class"]),
        "class_zh": CATEGORY_NAMES[int(r["class"])][0],
        "class_en": CATEGORY_NAMES[int(r["class"])][1],
        "mapped_area_ha": round(r["mapped_area"], 2), "area_ha": round(r["area"], 2),
        "area_se_ha": round(r["area_se"], 2), "area_ha_ci_low": round(r["area_ci_low"], 2),
        "area_ha_ci_high": round(r["area_ci_high"], 2),
        "method": method} for _, r in est.areas.iterrows()])


def _zone_names(zone: str) -> tuple[str, str]:
    if zone == "extent":
        return "监测范围", "monitoring extent"
    level, code = zone[1], int(zone.split(":")[1])
    return unit_names(int(level), code)


def _systematic_rel_var(ctx: StepContext, plots: pd.DataFrame) -> float:
    """``δ²``: the plots' relative variance from their models' shared errors.

    The biomass models' systematic errors and carbon fractions, weighted by each model's share
    of the paired plots' carbon (:func:`minecarbon.allometry.systematic.trees_systematic_rel_var`
    on ``trees_agc.csv``). A workspace whose tree table predates the ``model_sd_rel`` column
    falls back to the carbon fraction's error over the plots' mean carbon fraction alone.
    """
    errors = ErrorModel(**ctx.config.allometry.errors.model_dump())
    trees_path = ctx.workspace.path(TREES_AGC)
    if trees_path.exists() and "plot_id" in plots.columns:
        trees = read_table(trees_path)
        if set(TREE_COLUMNS) <= set(trees.columns):
            wanted = set(plots["plot_id"].astype(str))
            return trees_systematic_rel_var(trees[trees["plot_id"].astype(str).isin(wanted)],
                                            errors)
    cf = (plots["agc_t_per_ha"] / plots["agb_t_per_ha"]).replace([np.inf, -np.inf], np.nan) \
        if "agb_t_per_ha" in plots.columns else pd.Series(dtype=float)
    mean_cf = float(cf.dropna().mean()) if cf.notna().any() else 0.47  # IPCC default
    return float((errors.carbon_fraction_sd / mean_cf) ** 2)


def carbon_totals(ctx: StepContext, grid: AnalysisGrid, years: list[int],
                  pairs: list[tuple[int, int]],
                  cumulative: dict[str, Any] | None = None) -> Totals:
    """The totals, change and area tables of the workspace (see the module's docstring).

    ``cumulative`` is the assessment summary's record of the cumulative effect (period and
    grade breaks): with plots measured at both ends of its period, its grades' areas are
    estimated too (:mod:`minecarbon.pipeline.effect_reference_steps`).
    """
    ws = ctx.workspace
    acfg = ctx.config.assessment
    calib_path = ws.path(CALIBRATION)
    if not calib_path.exists():
        raise InputDataError(f"{calib_path} does not exist: no reference year for the totals",
                             fix="run the mapping step")
    calib = json.loads(calib_path.read_text(encoding="utf-8"))
    ref = int(calib.get("reference_year") or years[-1])
    if ref not in years:
        raise InputDataError(f"the plots' year {ref} has no AGC map; the totals need it",
                             fix="map the plots' survey year")
    accuracy_path = ws.path("products/classification/accuracy.json")
    accuracy = (json.loads(accuracy_path.read_text(encoding="utf-8"))
                if accuracy_path.exists() else None)
    areas = area_estimates(ctx, grid, years, accuracy)
    trend = trend_area_estimates(ctx, grid, years)
    if len(trend):
        areas = pd.concat([areas, trend], ignore_index=True)
    grades, grades_record = cumulative_area_estimates(ctx, grid, years, cumulative)
    if len(grades):
        areas = pd.concat([areas, grades], ignore_index=True)
    sums = zone_sums(ctx, grid, years)
    plots = _plot_pairs(ctx, grid, ref)
    change = change_variance(ctx)
    delta2 = _systematic_rel_var(ctx, plots)
    totals, changes = estimate_totals(
        sums, plots, years=years, reference_year=ref, pairs=pairs,
        change_rel_var=change["change_rel_var"], systematic_rel_var=delta2,
        pixel_area_ha=grid.pixel_area_ha, min_plots=acfg.totals_min_plots,
        scale_log_sd=change["change_scale_log_sd"])
    totals = _with_areas(totals.merge(sums[["year", "zone", "forest_px"]], on=["year", "zone"]),
                         areas, grid.pixel_area_ha, ref)
    names = {z: _zone_names(str(z)) for z in sums["zone"].unique()}
    for frame in (totals, changes):
        frame.insert(2 if frame is totals else 1, "zone_zh", frame["zone"].map(
            lambda z: names[z][0]))
        frame.insert(3 if frame is totals else 2, "zone_en", frame["zone"].map(
            lambda z: names[z][1]))
    changes.insert(3, "period", [f"{a}–{b}" for a, b in zip(changes["year_from"],
                                                            changes["year_to"], strict=True)])
    info = {"reference_year": ref, "n_plots": len(plots), "min_plots": acfg.totals_min_plots,
            "systematic_rel_sd": round(delta2 ** 0.5, 4),
            "cumulative_reference": grades_record,
            **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in change.items()}}
    return Totals(totals.round(2), changes.round(2), areas, info)


def _with_areas(totals: pd.DataFrame, areas: pd.DataFrame, pixel_area_ha: float,
                ref: int) -> pd.DataFrame:
    """Mapped forest area and its error-adjusted estimate (the extent's forest-area ratio)."""
    forest = (areas[(areas["layer"] == "landcover")
                    & (areas["class"] == int(LandCover.FOREST))].set_index("year")
              if len(areas) else pd.DataFrame(columns=["mapped_area_ha", "area_ha",
                                                       "area_se_ha"]))
    mapped = totals.pop("forest_px").astype(float) * pixel_area_ha
    factor = pd.Series(1.0, index=totals.index)
    rel = pd.Series(0.0, index=totals.index)
    known = totals["year"].isin(forest.index)
    if known.any():
        f = forest.loc[totals.loc[known, "year"]]
        factor[known] = (f["area_ha"] / f["mapped_area_ha"].where(f["mapped_area_ha"] > 0)
                         ).fillna(1.0).to_numpy()
        rel[known] = (f["area_se_ha"] / f["area_ha"].where(f["area_ha"] > 0)).fillna(0.0
                                                                                 ).to_numpy()
    area = mapped * factor
    out = totals.copy()
    out.insert(2, "mapped_area_ha", mapped)
    out.insert(3, "area_ha", area)
    out.insert(4, "area_ha_ci_low", (area * (1 - Z95 * rel)).clip(lower=0.0))
    out.insert(5, "area_ha_ci_high", area * (1 + Z95 * rel))
    out["method"] = np.where(out["year"] == ref, f"plots' year {ref}",
                             f"model-based from the plots' year {ref}") + "; " + out.pop(
        "calibration")
    return out


def warn_thin_units(totals: pd.DataFrame, min_plots: int) -> None:
    """Warn once about the units whose totals lean on the pooled ratio."""
    thin = sorted(set(totals.loc[totals["n_plots"] < min_plots, "zone"]) - {"extent"})
    if thin:
        warn(f"units {', '.join(thin)} have fewer than assessment.totals_min_plots = "
             f"{min_plots} plots: their totals use the pooled ratio of all plots, widened by "
             "the between-unit variance", stacklevel=3)
