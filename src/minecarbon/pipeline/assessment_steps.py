"""Pipeline step of the assessment stage (A1–A5): change, trend, cumulative effect, zones, Gi*.

Reads the annual AGC maps (``products/agc/agc_<year>.tif``), the assessment units, the
forest-type maps and the climate series (``raw/climate``), and writes
``products/assessment/``:

* ``change_<y1>_<y2>.tif`` and ``change_degree_<y1>_<y2>.tif`` for every pair of
  ``assessment.change_pairs`` (default: first → last year, and the base period's last year →
  last year);
* ``sen_slope.tif``, ``mk_z.tif``, ``mk_p.tif``, ``trend_class.tif`` (Sen + Mann–Kendall over
  all years);
* ``cumulative_effect.tif`` and ``cumulative_grade.tif`` (five Jenks grades) when a climate
  series is present;
* ``gistar_z_<layer>.tif`` and ``gistar_bin_<layer>.tif`` for the last year's AGC, the main
  change and the cumulative effect;
* ``totals.csv``, ``change_totals.csv`` and ``area_estimates.csv``: carbon totals, changes and
  land-cover areas with 95 % intervals (:mod:`minecarbon.pipeline.totals_steps`);
* ``zonal_stats.csv`` per level-1 and level-2 unit (of the last year) and per polygon of
  ``raw/zones``; ``summary.json`` with the counts, breaks and settings the report quotes.

Forest carbon of a pixel that is not forest in a year is zero before its first and after its
last forest year, so that clearing by mining counts as a loss and planting as a gain; gaps
between forest years are skipped (:func:`forest_carbon_series`); pixels never forested stay NaN
and are left out everywhere.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.assessment.change import change
from minecarbon.assessment.cumulative import cumulative_effect
from minecarbon.assessment.grading import (
    EffectGrade,
    grade,
    grade_cumulative_effect,
    natural_breaks,
)
from minecarbon.assessment.hotspots import gi_star
from minecarbon.assessment.trend import TREND_LABELS, sen_mk
from minecarbon.assessment.zonal import zonal_stats
from minecarbon.errors import InputDataError, warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid, read_stack, write_geotiff, write_stack
from minecarbon.io.tables import read_table, write_csv
from minecarbon.io.vector import read_vector
from minecarbon.pipeline.model_steps import AGC
from minecarbon.pipeline.scope_steps import load_grid
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.pipeline.totals_steps import carbon_totals, warn_thin_units
from minecarbon.scope.events import clean_events
from minecarbon.scope.units import unit_names

OUT = "products/assessment/"
TREND_WORK = "work/assessment/sen_mk.tif"
FOREST_TYPE = "products/classification/forest_type_{year}.tif"


def base_period(ctx: StepContext, years: list[int]) -> list[int]:
    """``assessment.base_years``, else the years before the first mining damage."""
    cfg = ctx.config
    if cfg.assessment.base_years:
        return sorted(cfg.assessment.base_years)
    first: int | None = None
    for path in ctx.input_paths("raw:damage"):
        if path.suffix.lower() not in (".gpkg", ".shp", ".geojson", ".fgb"):
            continue
        events = clean_events(read_vector(path), "damage", cfg.project.crs, path.name)
        if len(events):
            year = int(events["year"].min())
            first = year if first is None else min(first, year)
    if first is None:
        raise InputDataError(
            "no base period: assessment.base_years is empty and there are no damage polygons "
            "whose earliest year would end it",
            fix="set assessment.base_years in minecarbon.toml (the years before mining)")
    base = [y for y in years if y < first]
    if not base:
        raise InputDataError(
            f"mining started in {first}, before the first monitored year {years[0]}: no base "
            "years", fix="set assessment.base_years, or monitor from before mining")
    return base


def forest_carbon_series(observed: xr.DataArray) -> xr.DataArray:
    """Annual forest carbon of every pixel that was forest in some year (year, y, x).

    The AGC maps are NaN outside forest. Years before a pixel's first forest year and after
    its last one hold 0 t C/ha (not yet afforested or reclaimed; cleared by mining), so that a
    loss or a gain counts in full. Non-forest years between two forest years stay NaN: a
    one-year gap in forest is more often a classification flicker (sparse forest against
    shrubland) than a clearing followed by regrowth, and the trend skips NaN years. Pixels never
    forested stay NaN in every year.
    """
    valid = observed.notnull()
    seen_before = valid.cumsum("year") > 0
    seen_after = valid.isel(year=slice(None, None, -1)).cumsum("year").isel(
        year=slice(None, None, -1)) > 0
    outside_span = ~(seen_before & seen_after)
    ever = valid.any("year")
    zero_or_gap = xr.zeros_like(observed).where(outside_span)  # 0 outside the span, NaN in it
    filled = observed.where(valid, zero_or_gap).where(ever)
    return filled.astype("float32").assign_attrs(observed.attrs)


def _agc_stack(ctx: StepContext, grid: AnalysisGrid, years: list[int]) -> xr.DataArray:
    chunk = ctx.config.compute.chunk_px
    layers = [read_on_grid(ctx.workspace.path(AGC.format(year=y)), grid, chunks=chunk)
              for y in years]
    stack = xr.concat(layers, dim=pd.Index(years, name="year")).chunk({"year": -1})
    return stack.rename("agc_t_per_ha").assign_attrs(units="t C/ha")


def _tif(da: xr.DataArray, grid: AnalysisGrid, nodata: float | None = None) -> Any:
    out = da.rio.write_crs(grid.crs)
    return lambda tmp: write_geotiff(out, tmp, nodata=nodata)


def _publish(ctx: StepContext, name: str, da: xr.DataArray, grid: AnalysisGrid, *,
             time: str | None = None, nodata: float | None = None) -> xr.DataArray:
    """Write ``da`` to ``products/assessment/<name>.tif`` and return it read back (lazily)."""
    rel = f"{OUT}{name}.tif"
    ctx.publish(rel, _tif(da, grid, nodata), kind=f"product:assessment_{name.split('_')[0]}",
                time=time)
    masked = nodata is None or np.isnan(nodata)
    return read_on_grid(ctx.workspace.path(rel), grid, chunks=ctx.config.compute.chunk_px,
                        masked=masked)


def _pairs(ctx: StepContext, years: list[int], base: list[int]) -> list[tuple[int, int]]:
    cfg = ctx.config.assessment
    pairs = [tuple(p) for p in cfg.change_pairs] or [(years[0], years[-1])]
    if not cfg.change_pairs and base and base[-1] not in (years[0], years[-1]):
        pairs.append((base[-1], years[-1]))
    missing = sorted({y for p in pairs for y in p} - set(years))
    if missing:
        raise InputDataError(f"assessment.change_pairs name years without AGC maps: {missing}",
                             fix=f"choose years among {years[0]}–{years[-1]}")
    return [(int(a), int(b)) for a, b in pairs]


def _assess(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config
    acfg = cfg.assessment
    chunk = cfg.compute.chunk_px
    grid = load_grid(ws.root)
    years = [y for y in range(cfg.project.first_year, cfg.project.last_year + 1)
             if ws.path(AGC.format(year=y)).exists()]
    if len(years) < 2:
        raise InputDataError(f"only {len(years)} annual AGC map(s) in products/agc",
                             fix="run the mapping step over at least two years")
    base = base_period(ctx, years)
    observed = _agc_stack(ctx, grid, years)
    stack = forest_carbon_series(observed)
    summary: dict[str, Any] = {"years": years, "base_years": base}
    layers: dict[str, xr.DataArray] = {
        f"agc_{years[-1]}": observed.sel(year=years[-1]).drop_vars("year")}

    # A1: change amount and degree
    summary["change"] = []
    for y1, y2 in _pairs(ctx, years, base):
        ds = change(stack, y1, y2)
        amount = _publish(ctx, f"change_{y1}_{y2}", ds["change"].astype("float32"), grid,
                          time=f"{y1}/{y2}")
        degree = _publish(ctx, f"change_degree_{y1}_{y2}",
                          ds["change_degree"].astype("float32"), grid, time=f"{y1}/{y2}")
        undefined = int((degree.isnull() & amount.notnull()).sum().compute())  # C(y1) = 0
        if undefined:
            warn(f"change degree {y1}→{y2} is undefined on {undefined} pixels that were not "
                 f"forest in {y1} (C({y1}) = 0); they are NaN in change_degree_{y1}_{y2}.tif",
                 stacklevel=2)
        summary["change"].append({"y1": y1, "y2": y2, "undefined_degree_pixels": undefined})
        layers[f"change_{y1}_{y2}"] = amount.assign_attrs(units="t C/ha")
        layers[f"change_degree_{y1}_{y2}"] = degree.assign_attrs(units="%")

    # A2: Sen's slope and Mann–Kendall
    if len(years) >= acfg.min_years_trend:
        trend = sen_mk(stack, dim="year", alpha=acfg.alpha, min_count=acfg.min_years_trend)
        ctx.publish(TREND_WORK, lambda tmp: write_stack(
            trend.astype("float32").rio.write_crs(grid.crs), tmp), kind="work:sen_mk")
        done = read_stack(ws.path(TREND_WORK), chunks=chunk)
        for name, var in (("sen_slope", "slope"), ("mk_z", "z"), ("mk_p", "p")):
            _publish(ctx, name, done[var], grid)
        classes = done["trend_class"].fillna(-128).astype("int8")
        cls = _publish(ctx, "trend_class", classes, grid, nodata=-128)
        counts = _class_counts(cls)
        summary["trend"] = {"alpha": acfg.alpha, "classes": [
            {"code": c, "zh": TREND_LABELS[c][0], "en": TREND_LABELS[c][1],
             "pixels": counts.get(c, 0), "area_ha": round(counts.get(c, 0)
                                                          * grid.pixel_area_ha, 2)}
            for c in sorted(TREND_LABELS) if c != -128]}
    else:
        warn(f"only {len(years)} years of AGC maps: fewer than assessment.min_years_trend = "
             f"{acfg.min_years_trend}; no Sen + Mann–Kendall trend", stacklevel=2)

    # A3: cumulative effect against the climate-only expectation
    effect = _cumulative(ctx, grid, stack, years, base, summary)
    if effect is not None:
        layers["cumulative_effect"] = effect.assign_attrs(units="t C/ha")

    # A5: Gi* hot spots
    main = f"change_{years[0]}_{years[-1]}"
    for name in (f"agc_{years[-1]}", main, "cumulative_effect"):
        if name in layers:
            hot = gi_star(layers[name], acfg.gistar_distance_m, fdr=acfg.gistar_fdr)
            _publish(ctx, f"gistar_z_{name}", hot["z"].astype("float32"), grid)
            bins = _publish(ctx, f"gistar_bin_{name}", hot["bin"].astype("int8"), grid,
                            nodata=-128)
            counts = _class_counts(bins)
            summary.setdefault("gistar", {})[name] = {
                "distance_m": acfg.gistar_distance_m, "fdr": acfg.gistar_fdr,
                "bins": {str(b): counts.get(b, 0) for b in range(-3, 4)}}

    # A4: zonal statistics
    table = _zonal(ctx, grid, layers, years[-1])
    ctx.publish(f"{OUT}zonal_stats.csv", lambda tmp: write_csv(table, tmp),
                kind="product:zonal_stats")
    # totals with 95 % intervals (issue 17)
    try:
        totals = carbon_totals(ctx, grid, years, _pairs(ctx, years, base),
                               summary.get("cumulative"))
    except InputDataError as error:  # the maps and the other assessments stand without them
        warn(f"no carbon totals with intervals: {error}", stacklevel=2)
        summary["totals"] = {"error": str(error)}
    else:
        warn_thin_units(totals.totals, acfg.totals_min_plots)
        for name, frame in (("totals", totals.totals), ("change_totals", totals.changes),
                            ("area_estimates", totals.areas)):
            ctx.publish(f"{OUT}{name}.csv", partial(_write_table, frame),
                        kind=f"product:{name}")
        summary["totals"] = totals.info
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    ctx.publish(f"{OUT}summary.json", lambda tmp: tmp.write_text(text, encoding="utf-8"),
                kind="product:assessment_summary")


def _write_table(frame: pd.DataFrame, tmp: Path) -> None:
    write_csv(frame, tmp)


def _class_counts(da: xr.DataArray) -> dict[int, int]:
    """Pixels per integer class code (a dask bincount over the chunks)."""
    import dask.array as dsa

    values = da.chunk().data.astype("float64")
    codes = dsa.where(dsa.isnan(values), -128, values).astype("int64") + 128
    counts = dsa.bincount(codes.ravel(), minlength=256).compute()
    return {int(c) - 128: int(n) for c, n in enumerate(counts) if n and c != 0}


def _cumulative(ctx: StepContext, grid: AnalysisGrid, stack: xr.DataArray, years: list[int],
                base: list[int], summary: dict[str, Any]) -> xr.DataArray | None:
    cfg = ctx.config
    acfg = cfg.assessment
    climate_files = [p for p in ctx.input_paths("raw:climate")
                     if p.suffix.lower() in (".csv", ".xlsx", ".xls")]
    if not climate_files:
        warn("no climate series (raw/climate): the cumulative effect (A3) is not assessed; "
             "import one with `minecarbon import climate FILE` (columns year, temperature_c, "
             "precipitation_mm)", stacklevel=2)
        return None
    climate = pd.concat([read_table(p) for p in climate_files], ignore_index=True)
    start, end = (tuple(acfg.period) if acfg.period else (base[-1], years[-1]))
    ftype_path = ctx.workspace.path(FOREST_TYPE.format(year=start))
    strata = (read_on_grid(ftype_path, grid, chunks=cfg.compute.chunk_px, masked=False)
              if ftype_path.exists() else None)
    result = cumulative_effect(stack, climate, base, (int(start), int(end)), strata=strata,
                               nan_as_zero=True)
    effect = _publish(ctx, "cumulative_effect", result["effect"].astype("float32"), grid,
                      time=f"{start}/{end}")
    breaks = natural_breaks(effect, acfg.jenks_classes)
    labels = ([g.en for g in EffectGrade] if acfg.jenks_classes == len(EffectGrade) else None)
    named = labels is not None  # five named grades: warns when "not obvious" misses 0
    graded = (grade_cumulative_effect(effect.rename("cumulative_effect"), breaks) if named
              else grade(effect, breaks)).astype("int8")
    _publish(ctx, "cumulative_grade", graded, grid, time=f"{start}/{end}", nodata=0)
    summary["cumulative"] = {
        "period": [int(start), int(end)], "base_years": base,
        "breaks_t_per_ha": [round(float(b), 4) for b in breaks.breaks],
        "method": breaks.method, "precision": breaks.precision,
        "counts": [int(c) for c in breaks.counts],
        "labels_zh": [g.zh for g in EffectGrade] if labels else None,
        "labels_en": labels, "climate_files": [p.name for p in climate_files],
        "middle_class_contains_zero": bool(
            len(breaks.breaks) == 6 and breaks.breaks[2] < 0.0 <= breaks.breaks[3])}
    return effect


def _zonal(ctx: StepContext, grid: AnalysisGrid, layers: dict[str, xr.DataArray],
           year: int) -> pd.DataFrame:
    ws = ctx.workspace
    chunk = ctx.config.compute.chunk_px
    frames = []
    for level in (1, 2):
        path = ws.path(f"products/units/units_l{level}_{year}.tif")
        if not path.exists():
            continue
        zones = read_on_grid(path, grid, chunks=chunk, masked=False)
        codes = _present_codes(zones)
        names = {c: unit_names(level, c) for c in codes}
        table = zonal_stats(layers, zones, names=names)
        table.insert(0, "zones", f"units_l{level}_{year}")
        frames.append(table)
    for path in ctx.input_paths("raw:zones"):
        if path.suffix.lower() not in (".gpkg", ".shp", ".geojson", ".fgb"):
            continue
        polygons: gpd.GeoDataFrame = read_vector(path)
        id_column = next((c for c in ("zone_id", "id", "name") if c in polygons.columns), None)
        table = zonal_stats(layers, polygons, id_column=id_column)
        table.insert(0, "zones", path.name)
        frames.append(table)
    if not frames:
        raise InputDataError(f"no assessment units for {year} (products/units)",
                             fix="run the units step")
    return pd.concat(frames, ignore_index=True)


def _present_codes(zones: xr.DataArray) -> list[int]:
    return [c for c in _class_counts(zones) if c > 0]


def read_summary(root: Path) -> dict[str, Any]:
    """The assessment summary written by the step (for the report)."""
    path = root / f"{OUT}summary.json"
    if not path.exists():
        raise InputDataError(f"{path} does not exist", fix="run the assessment step")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


ASSESSMENT = Step(
    "assessment",
    _assess,
    needs=("mapping", "units", "classify", "models", "plots"),
    raw=("climate", "damage", "zones", "plots", "reference"),
    makes=(f"{OUT}*.tif", f"{OUT}zonal_stats.csv", f"{OUT}totals.csv", f"{OUT}change_totals.csv",
           f"{OUT}area_estimates.csv", f"{OUT}summary.json", "work/assessment/*"),
    config=("project", "assessment", "compute", "allometry"),
    description="change and change degree, Sen + Mann–Kendall trend, cumulative effect with "
    "Jenks grades, zonal statistics per unit, Gi* hot spots (A1–A5)",
)
