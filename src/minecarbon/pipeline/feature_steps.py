"""Pipeline step of the features stage (F1–F8): composites, terrain, annual feature stacks.

Per project year: the growing-season scenes are read onto the grid, cloud-masked and
composited (median) into ``work/features/composite_<year>.tif`` (bands ``sr_<role>`` and
``clear_count``); the feature stack is built from it and written to
``products/features/features_<year>.tif`` (one band per feature, band descriptions = feature
names). Terrain comes from the DEM once (``products/features/terrain.tif``). The share of the
extent with a clear observation per year is reported in ``composite_quality.csv``, every
feature's group, units and description in ``feature_names.csv``, and the area-weighted
features of the field plots (survey year) in ``plot_features.csv``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from dask.base import compute

from minecarbon.errors import InputDataError, warn
from minecarbon.features.extract import extract_plot_features
from minecarbon.features.preprocess import (
    check_reflectance,
    clear_reflectance,
    composite,
    gap_fill,
)
from minecarbon.features.stack import feature_stack
from minecarbon.features.terrain import terrain_features
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid, read_stack, write_stack
from minecarbon.io.scenes import SceneFiles, find_scenes, read_scene
from minecarbon.io.tables import write_csv
from minecarbon.io.vector import read_vector
from minecarbon.pipeline.harmonise_steps import (
    TM_SENSORS,
    calibrate_tm,
    fitted_transforms,
    harmonise_target,
)
from minecarbon.pipeline.records import TABLE_SUFFIXES, read_plot_records
from minecarbon.pipeline.scope_steps import EXTENT_FILE, load_grid, year_of
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.scope.extent import extent_mask
from minecarbon.standard.harmonisation import transforms
from minecarbon.survey.plots import plot_squares

COMPOSITE = "work/features/composite_{year}.tif"
STACK = "products/features/features_{year}.tif"
TERRAIN = "products/features/terrain.tif"


def year_scenes(scenes: list[SceneFiles], year: int, months: list[int],
                sensor_choice: str) -> list[SceneFiles]:
    """The scenes of ``year`` in ``months`` (of one sensor unless ``sensor_choice`` is auto)."""
    chosen = [s for s in scenes if s.date.year == year and s.date.month in months]
    if sensor_choice != "auto":
        chosen = [s for s in chosen if s.sensor == sensor_choice]
    return chosen


def consistent_months(scenes: list[SceneFiles], years: range, months: list[int],
                      sensor_choice: str, share: float) -> list[int]:
    """The growing-season months to composite in every year, so that years are comparable.

    A median over June–September and one over July–August differ systematically (leaf-on
    fraction, sun angle), and a model trained in a year with more scenes would then be applied
    to composites of another make-up. The months kept are those of ``months`` that have a scene
    in at least ``share`` of the years that have any scene in ``months``; ``share`` 0 keeps them
    all. A year with none of the kept months falls back to all of its own months (see
    :func:`season_for_year`).
    """
    if share <= 0.0:
        return list(months)
    present: dict[int, set[int]] = {}
    for year in years:
        found = {s.date.month for s in year_scenes(scenes, year, months, sensor_choice)}
        if found:
            present[year] = found
    if not present:
        return list(months)
    kept = [m for m in months
            if sum(m in found for found in present.values()) >= share * len(present)]
    return kept or list(months)


def season_for_year(scenes: list[SceneFiles], year: int, kept: list[int], months: list[int],
                    sensor_choice: str) -> list[SceneFiles]:
    """The year's scenes in the kept months, or in all growing-season months if it has none."""
    return (year_scenes(scenes, year, kept, sensor_choice)
            or year_scenes(scenes, year, months, sensor_choice))


def _terrain(ctx: StepContext, grid: AnalysisGrid) -> xr.Dataset | None:
    cfg = ctx.config
    dems = ctx.input_paths("raw:dem")
    if not dems:
        return None
    dem = read_on_grid(dems[0], grid, resampling="bilinear", chunks=cfg.compute.chunk_px)
    terrain = terrain_features(dem.astype("float32"), window=cfg.features.terrain_window,
                               tpi_window=cfg.features.tpi_window)
    band_tags = {str(n): {k: str(v) for k, v in terrain[n].attrs.items()
                          if k in ("units", "long_name", "description")}
                 for n in terrain.data_vars}
    ctx.publish(TERRAIN, lambda tmp: write_stack(terrain, tmp, band_tags=band_tags),
                kind="product:terrain",
                inputs=[ctx.workspace.rel(p) for p in dems])
    return read_stack(ctx.workspace.path(TERRAIN), chunks=cfg.compute.chunk_px)


def _forest_mask(ctx: StepContext, grid: AnalysisGrid, year: int) -> xr.DataArray | None:
    """The year's forest pixels from an imported land-cover map (None when there is none)."""
    cfg = ctx.config
    for r in ctx.inputs:
        if r.kind == "raw:landcover":
            path = ctx.workspace.path(r.path)
            if year_of(path, r.time) == year:
                lc = read_on_grid(path, grid, chunks=cfg.compute.chunk_px)
                return lc.isin(cfg.scope.landcover_forest_codes)
    return None


def composite_year(ctx: StepContext, grid: AnalysisGrid, year: int,
                   scenes: list[SceneFiles], inside: xr.DataArray,
                   rel: str | None = None) -> dict[str, Any]:
    """Composite ``scenes`` into ``rel`` (default the year's growing-season composite).

    Returns the year's row of the quality table; ``bands_left_out`` lists the bands that not
    every scene has (Sentinel-2's red-edge bands beside Landsat), which the composite leaves
    out (:func:`warn_left_out` says so once for all years).
    """
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    clear = []
    target = harmonise_target(cfg)
    fitted = fitted_transforms(ctx.workspace) if target is not None else {}
    gaps = []
    for sf in scenes:
        raw = read_scene(sf, grid, chunks=chunk)
        refl = clear_reflectance(raw, what=f"scene {sf.scene_id}", harmonise_to=target,
                                 fitted=fitted)
        check_reflectance(refl, f"scene {sf.scene_id}")  # DN passed as reflectance
        clear.append(refl)
        if is_slc_off(sf) and "qa" in raw:
            gaps.append(((raw["qa"] & 1) == 1) & inside)  # C2 QA_PIXEL bit 0: fill
    left_out: list[str] = []
    comp, count = composite(clear, what=f"composite {year}", method=cfg.features.composite,
                            left_out=left_out)
    comp = comp.where(inside)
    out = xr.Dataset({f"sr_{r}": comp[r] for r in comp.data_vars})
    out["clear_count"] = count.where(inside).astype("float32")
    out = out.rio.write_crs(grid.crs)
    rel = rel or COMPOSITE.format(year=year)
    tags = {"YEAR": str(year), "SCENES": " ".join(s.scene_id for s in scenes),
            "METHOD": cfg.features.composite}
    ctx.publish(rel, lambda tmp: write_stack(out, tmp, tags=tags), kind="work:composite",
                time=str(year), inputs=[ctx.workspace.rel(p) for s in scenes
                                        for p in s.files])
    written = read_stack(ctx.workspace.path(rel), chunks=chunk)
    counts = written["clear_count"]
    any_gap = xr.concat(gaps, dim="scene").any("scene") if gaps else xr.zeros_like(inside)
    n_inside, n_clear, mean_count, n_gap, n_gap_clear, gap_shares = compute(  # type: ignore[no-untyped-call]
        inside.sum().data, (counts > 0).sum().data, counts.mean().data, any_gap.sum().data,
        (any_gap & (counts > 0)).sum().data, [g.sum().data for g in gaps])
    share = int(n_clear) / int(n_inside) if n_inside else 0.0
    sensors = Counter(s.sensor for s in scenes)
    harmonised = sorted(s for s in sensors if target is not None and s != target
                        and transforms(s, target) is not None)
    as_target = target is not None and all(transforms(s, target) is not None for s in sensors)
    return {"year": year, "sensor": target if as_target else sensors.most_common(1)[0][0],
            "sensors": ";".join(sorted(sensors)), "levels": ";".join(sorted({
                s.product_level for s in scenes})),
            "harmonised": ";".join(harmonised), "harmonised_to": target or "off",
            "tm_calibration": ("archive" if any(s in fitted for s in sensors) else "table")
            if any(s in TM_SENSORS for s in sensors) and target is not None else "",
            "scenes": len(scenes), "scene_ids": " ".join(s.scene_id for s in scenes),
            "clear_share": round(share, 4),
            "mean_clear_count": round(float(mean_count), 3),
            "slc_off_scenes": len(gaps),
            "slc_gap_share": round(float(np.mean(gap_shares)) / int(n_inside), 4)
            if gaps and n_inside else 0.0,
            "slc_gap_filled_share": round(int(n_gap_clear) / int(n_gap), 4) if n_gap else None,
            "bands_left_out": ";".join(sorted(set(left_out)))}


def warn_left_out(rows: dict[int, dict[str, Any]], what: str) -> None:
    """One warning for the composites (``what``) that left bands out, by band set and years."""
    years_by_set: dict[str, list[int]] = {}
    for year, row in sorted(rows.items()):
        if row.get("bands_left_out"):
            years_by_set.setdefault(row["bands_left_out"], []).append(year)
    for bands, years in years_by_set.items():
        span = (f"{years[0]}–{years[-1]}" if years == list(range(years[0], years[-1] + 1))
                else ", ".join(map(str, years)))
        warn(f"{what} of {span}: bands {bands.split(';')} are not in every scene of the year "
             "(a sensor without them imaged it too) and are left out; the features use the "
             "bands every scene has", stacklevel=3)


#: The scan-line corrector of Landsat 7 ETM+ failed on this day; every later scene has gaps.
SLC_FAILURE = date(2003, 5, 31)


def is_slc_off(scene: SceneFiles) -> bool:
    """Whether a scene is a Landsat 7 ETM+ scene with scan-line-corrector gaps (SLC-off)."""
    return scene.sensor == "landsat7" and scene.date >= SLC_FAILURE


def _features(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config
    fcfg = cfg.features
    grid = load_grid(ws.root)
    chunk = cfg.compute.chunk_px
    scenes = find_scenes(ctx.input_paths("raw:scene"))
    if not scenes:
        return
    extent = read_vector(ws.path(EXTENT_FILE)).geometry.union_all()
    inside = extent_mask(extent, grid, chunks=chunk)
    terrain = _terrain(ctx, grid)
    quality: dict[int, dict[str, Any]] = {}
    months = fcfg.growing_season_months
    years = range(cfg.project.first_year, cfg.project.last_year + 1)
    kept = consistent_months(scenes, years, months, fcfg.sensor, fcfg.season_consistency)
    calibrate_tm(ctx, grid, scenes)
    for year in years:  # pass 1: a composite per year
        chosen = season_for_year(scenes, year, kept, months, fcfg.sensor)
        if not chosen:
            warn(f"year {year}: no scene in months {months}", UserWarning,
                          stacklevel=2)
            quality[year] = {"year": year, "scenes": 0, "clear_share": 0.0}
            continue
        quality[year] = row = composite_year(ctx, grid, year, chosen, inside)
        row["months"] = " ".join(str(m) for m in sorted({s.date.month for s in chosen}))
        if not {s.date.month for s in chosen} & set(kept):
            warn(f"year {year}: no scene in the months kept for every year {kept}; its "
                 f"composite uses months {row['months']} and may differ from other years'",
                 stacklevel=2)
        if row["clear_share"] == 0.0:
            warn(f"year {year}: no clear pixel in scenes {row['scene_ids']}",
                          UserWarning, stacklevel=2)
        elif row["clear_share"] < fcfg.min_valid_share:
            warn(f"year {year}: only {row['clear_share']:.0%} of the extent has a "
                          f"clear observation in scenes {row['scene_ids']}", UserWarning,
                          stacklevel=2)
    warn_left_out(quality, "composites")
    composites = {y: _read_composite(ws.path(COMPOSITE.format(year=y)), chunk)
                  for y, row in quality.items() if row["clear_share"] > 0}
    names: dict[str, dict[str, str]] = {}
    stacks: dict[int, Path] = {}
    n_inside = int(inside.sum().compute())
    for year in years:  # pass 2: gap-filled composite → feature stack
        row = quality[year]
        nearby = [y for y in composites if abs(y - year) <= fcfg.gap_fill_years]
        if year not in composites and not nearby:
            warn(f"year {year}: no composite within {fcfg.gap_fill_years} years; "
                          "no feature stack", UserWarning, stacklevel=2)
            continue
        if year not in composites:
            row["sensor"] = quality[min(nearby, key=lambda y: abs(y - year))]["sensor"]
            row["levels"] = quality[min(nearby, key=lambda y: abs(y - year))]["levels"]
            composites_y = {**composites, year: _empty_like(composites[nearby[0]])}
        else:
            composites_y = composites
        comp, offset = gap_fill(composites_y, year, fcfg.gap_fill_years)
        filled = int(((offset != 0) & offset.notnull() & inside).sum().compute())
        row["filled_share"] = round(filled / n_inside, 4) if n_inside else 0.0
        row["valid_share"] = round(row["clear_share"] + row["filled_share"], 4)
        level = row["levels"] if fcfg.product_level == "auto" else fcfg.product_level
        stack, info = feature_stack(
            comp, row["sensor"], fcfg, terrain=terrain,
            forest_mask=_forest_mask(ctx, grid, year), product_level=str(level),
            check_scale=False)  # every scene was checked in pass 1
        row["notes"] = "; ".join(info.notes)
        row.update({f"di_{k}": round(v, 6) for k, v in info.disturbance_stats.items()})
        rel = STACK.format(year=year)
        band_tags = {n: {k: v for k, v in d.items() if v} for n, d in info.variables.items()}
        tags = {"YEAR": str(year), "SENSOR": str(row["sensor"])}
        ctx.publish(rel, _stack_writer(stack.rio.write_crs(grid.crs), tags, band_tags),
                    kind="product:features", time=str(year))
        stacks[year] = ws.path(rel)
        names.update(info.variables)
    table = pd.DataFrame([quality[y] for y in years])
    ctx.publish("products/features/composite_quality.csv", lambda tmp: write_csv(table, tmp),
                kind="product:composite_quality")
    listing = pd.DataFrame([{"feature": k, **v} for k, v in names.items()])
    ctx.publish("products/features/feature_names.csv", lambda tmp: write_csv(listing, tmp),
                kind="product:feature_names")
    _plot_features(ctx, grid, stacks)


def own_observation(ctx: StepContext, year: int, like: xr.DataArray) -> xr.DataArray:
    """True where the year's growing-season composite had a clear observation of its own.

    Elsewhere the year's feature stack was gap-filled from other years' composites (or the
    year has no composite at all), so its features are no observation of that year.
    """
    composite = ctx.workspace.path(COMPOSITE.format(year=year))
    if not composite.exists():
        return xr.zeros_like(like, dtype=bool)
    count = read_stack(composite, chunks=ctx.config.compute.chunk_px)["clear_count"]
    return (count > 0).fillna(False).assign_coords(y=like["y"], x=like["x"])


def _read_composite(path: Path, chunk: int) -> xr.Dataset:
    comp = read_stack(path, chunks=chunk).drop_vars("clear_count")
    return comp.rename({n: str(n).removeprefix("sr_") for n in comp.data_vars})


def _empty_like(comp: xr.Dataset) -> xr.Dataset:
    return xr.full_like(comp, np.nan)


def _stack_writer(stack: xr.Dataset, tags: dict[str, str],
                  band_tags: dict[str, dict[str, str]]) -> Callable[[Path], None]:
    return lambda tmp: write_stack(stack, tmp, tags=tags, band_tags=band_tags)


def _plot_features(ctx: StepContext, grid: AnalysisGrid, stacks: dict[int, Path]) -> None:
    """Area-weighted features of every plot, from the stack of its survey year.

    Plots wholly outside the grid, or with no valid pixel for any feature in their year's
    stack, are left out with a warning naming them; if no plot is left, the error names the
    plot files.
    """
    paths = ctx.input_paths("raw:plots")
    plots = read_plot_records(ctx.workspace, paths)
    if plots is None or not stacks:
        return
    files = ", ".join(p.name for p in paths if p.suffix.lower() in TABLE_SUFFIXES)
    squares = plot_squares(plots)
    years = np.array([d.year if d is not None else max(stacks) for d in squares["survey_date"]])
    frames = []
    for year in sorted(set(years.tolist())):
        if year not in stacks:
            missing = [str(p) for p in squares.loc[years == year, "plot_id"]]
            named = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more"
                                              if len(missing) > 5 else "")
            raise InputDataError(
                f"{len(missing)} plots of {files} ({named}) were surveyed in {year}, which has "
                "no feature stack: no growing-season scene of that year is imported",
                fix=f"import the scenes of {year} (`minecarbon import scene FOLDER`), or of all "
                "years at once")
        stack = read_stack(stacks[year], chunks=ctx.config.compute.chunk_px)
        table = extract_plot_features(stack, squares[years == year], grid, drop_invalid=True,
                                      allow_empty=True,
                                      what=f"plots of {files} surveyed in {year}")
        table.insert(1, "year", year)
        if not table.empty:
            frames.append(table)
    if not frames:
        raise InputDataError(
            f"none of the {len(squares)} plots of {files} lies on a valid pixel of its year's "
            "feature stack (all outside the analysis grid or its valid area)",
            fix="check the plot coordinates and their CRS column against the project CRS, and "
            "that the plots lie inside the scope extent")
    out = pd.concat(frames, ignore_index=True)
    ctx.publish("products/features/plot_features.csv", lambda tmp: write_csv(out, tmp),
                kind="product:plot_features")


FEATURES = Step(
    "features",
    _features,
    needs=("scope",),
    raw=("scene", "dem", "landcover", "plots"),
    makes=("work/features/composite_*.tif", "products/features/features_*.tif",
           "products/features/terrain.tif", "products/features/composite_quality.csv",
           "products/features/feature_names.csv", "products/features/plot_features.csv"),
    config=("project", "scope", "features", "compute"),
    description="growing-season composites, spectral/tasseled-cap/texture/terrain feature "
    "stacks per year, plot features (F1–F8)",
)
