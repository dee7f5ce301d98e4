"""Pipeline step of the classification stage (C1, C2, C4): land cover and leaf habit per year.

Training samples (``raw/samples``: points with ``sample_id, year, landcover``, and in forest
``leaf_habit``, ``species`` and optionally ``cover``) take their feature values from the feature
stack of their year. Land cover: random forests (with and without the leaf-off composite and
the window features; 70 % of the samples to fit, 30 % held out by place for the accuracy
and never trained on, ``classify.test_fraction``, decision 43) give every year's class
probabilities, which a
per-pixel hidden Markov model decodes into a consistent series
(:mod:`minecarbon.pipeline.landcover_series`, docs/time-series.md) →
``products/classification/landcover_<year>.tif`` and ``landcover_quality_<year>.tif``. Within
forest, the leaf-off (March) composite gives evergreen or deciduous by the RVI (NIR/Red)
threshold combined with fully constrained unmixing; the threshold and the endmember spectra
come from 70 % of the forest samples, and the accuracy from the other 30 % →
``leaf_habit_<year>.tif``. Species from phenology and summer features, forest type from their
shares (one per forest span) → ``species_<year>.tif``, ``forest_type_<year>.tif``. The
accuracies go to ``products/classification/accuracy.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.classify.accuracy import accuracy_report
from minecarbon.classify.holdout import LOCATION, random_holdout
from minecarbon.classify.landcover import forest_mask
from minecarbon.classify.leaf_habit import (
    classify_leaf_habit,
    endmembers_from_samples,
    rvi_threshold_from_samples,
)
from minecarbon.classify.phenology import phenology_metrics
from minecarbon.classify.species import SpeciesClassifier, forest_type_map
from minecarbon.classify.species_context import contextual_species_map
from minecarbon.classify.temporal import span_mode
from minecarbon.errors import InputDataError, warn
from minecarbon.features.extract import sample_points
from minecarbon.features.preprocess import clear_reflectance
from minecarbon.grid import AnalysisGrid
from minecarbon.io.files import temporary_sibling
from minecarbon.io.raster import read_on_grid, read_stack, write_cubes, write_geotiff, write_stack
from minecarbon.io.scenes import SceneFiles, find_scenes, read_scene
from minecarbon.io.vector import read_vector
from minecarbon.pipeline.feature_steps import (
    STACK,
    composite_year,
    own_observation,
    warn_left_out,
    year_scenes,
)
from minecarbon.pipeline.forest_area import held_out_pixels, series_confusion
from minecarbon.pipeline.harmonise_steps import fitted_transforms, harmonise_target
from minecarbon.pipeline.landcover_series import (
    PROBA,
    QUALITY,
    consistent_series,
    context_features,
    free_transitions,
    sparse_forest,
    train_landcover_models,
    with_context,
    write_probabilities,
    year_probabilities,
)
from minecarbon.pipeline.scope_steps import EXTENT_FILE, load_grid
from minecarbon.pipeline.scope_steps import LANDCOVER as LANDCOVER  # re-exported
from minecarbon.pipeline.step import Step, StepContext, moved_from
from minecarbon.scope.extent import extent_mask
from minecarbon.standard.species import by_key
from minecarbon.types import ForestType, LandCover, LeafHabit

LEAF_HABIT = "products/classification/leaf_habit_{year}.tif"
LEAF_OFF = "work/features/leafoff_{year}.tif"
PHENOLOGY = "work/features/phenology_{year}.tif"
SPECIES = "products/classification/species_{year}.tif"
FOREST_TYPE = "products/classification/forest_type_{year}.tif"
LEAF_OFF_MONTHS = [3]


def _samples(ctx: StepContext) -> pd.DataFrame | None:
    paths = ctx.input_paths("raw:samples")
    if not paths:
        return None
    frames = [read_vector(p) for p in paths]
    samples = pd.concat(frames, ignore_index=True)
    for column in ("sample_id", "year", "landcover"):
        if column not in samples.columns:
            raise InputDataError(f"the training samples have no {column!r} column",
                                 fix="give every sample an id, a year and a land-cover code")
    return samples


def _sample_features(samples: pd.DataFrame, stacks: dict[int, xr.Dataset],
                     grid: AnalysisGrid) -> pd.DataFrame:
    """Each sample with the feature values of its year's stack."""
    frames = []
    for year, part in samples.groupby("year"):
        if int(year) not in stacks:
            warn(f"{len(part)} training samples of {year} are left out: no feature stack for "
                 f"{year}", stacklevel=2)
            continue
        values = sample_points(stacks[int(year)], part, grid, location_column=LOCATION)
        frames.append(part.drop(columns="geometry").merge(values, on="sample_id"))
    if not frames:
        raise InputDataError("no training sample falls in a year with a feature stack",
                             fix="give samples of years that have growing-season scenes")
    return pd.concat(frames, ignore_index=True)


def _leaf_off_composites(ctx: StepContext, grid: AnalysisGrid, inside: xr.DataArray,
                         years: list[int], scenes: list[SceneFiles]) -> dict[int, Path]:
    """The leaf-off (March) composite of every year that has a March scene."""
    cfg = ctx.config
    leaf_off: dict[int, Path] = {}
    rows: dict[int, dict[str, Any]] = {}
    for year in years:
        chosen = year_scenes(scenes, year, LEAF_OFF_MONTHS, cfg.features.sensor)
        if chosen:
            rel = LEAF_OFF.format(year=year)
            rows[year] = composite_year(ctx, grid, year, chosen, inside, rel=rel)
            leaf_off[year] = ctx.workspace.path(rel)
    warn_left_out(rows, "leaf-off composites")
    return leaf_off


def _with_leaf_off(stack: Path, leaf_off: Path | None, chunk: int) -> xr.Dataset:
    """The year's feature stack plus the leaf-off reflectance and NDVI (``leafoff_*``)."""
    features = read_stack(stack, chunks=chunk)
    if leaf_off is None:
        return features
    off = read_stack(leaf_off, chunks=chunk).drop_vars("clear_count")
    extra = {f"leafoff_{n}": off[n] for n in off.data_vars}
    extra["leafoff_ndvi"] = (off["sr_nir"] - off["sr_red"]) / (off["sr_nir"] + off["sr_red"])
    return features.assign(extra)


def _classify(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    grid = load_grid(ws.root)
    samples = _samples(ctx)
    years = range(cfg.project.first_year, cfg.project.last_year + 1)
    stacks = {y: ws.path(STACK.format(year=y)) for y in years
              if ws.path(STACK.format(year=y)).exists()}
    if samples is None or not stacks:
        warn("no training samples (raw/samples) or no feature stacks: land cover and leaf habit "
             "are not classified; the imported land-cover maps stay in use", stacklevel=2)
        return
    extent = read_vector(ws.path(EXTENT_FILE)).geometry.union_all()
    inside = extent_mask(extent, grid, chunks=chunk)
    scenes = find_scenes(ctx.input_paths("raw:scene"))
    leaf_off = _leaf_off_composites(ctx, grid, inside, list(stacks), scenes)
    use_off = cfg.classify.leaf_off_features and bool(leaf_off)
    off_names = _leaf_off_names(leaf_off, chunk) if use_off else []

    context = context_features(ctx, grid, stacks, chunk)

    cache: dict[int, xr.Dataset] = {}

    def inputs(year: int) -> xr.Dataset:
        if year in cache:
            return cache[year]
        features = _with_leaf_off(stacks[year], leaf_off.get(year) if use_off else None, chunk)
        features = with_context(features, context, year)
        missing = {n: xr.full_like(features[base[0]], np.nan) for n in off_names
                   if n not in features}
        cache[year] = features.assign(missing) if missing else features
        return cache[year]

    first_stack = read_stack(stacks[next(iter(stacks))], chunks=chunk)
    base = [str(n) for n in first_stack.data_vars] + [f"ctx_{n}" for n in context]
    groups = {str(n): str(v.attrs.get("group", "")) for n, v in first_stack.data_vars.items()}
    table = _sample_features(samples, {y: inputs(y) for y in stacks}, grid)
    models, lc_report, held_out = train_landcover_models(table, base, off_names, groups,
                                                         cfg.classify)
    accuracy: dict[str, Any] = {"landcover": {**lc_report, "n_samples": len(table)}}
    probability_files: dict[int, Path] = {}
    for year in stacks:
        features = inputs(year)
        observed = own_observation(ctx, year, features[base[0]])
        proba = year_probabilities(models, features, observed, inside)
        probability_files[year] = write_probabilities(ctx, year, proba, grid)
    free = free_transitions(ctx, grid, sorted(stacks), chunk)
    final = {y: ws.path(LANDCOVER.format(year=y)) for y in stacks}
    held = held_out_pixels(held_out, grid, sorted(probability_files))
    maps, quality, series_info = consistent_series(ctx, grid, probability_files, chunk, free,
                                                   final, held)
    checked = series_confusion(held, maps, sorted(probability_files), grid, chunk)
    if checked is not None:  # the published series against the same held-out samples
        series_info["held_out"] = checked
    accuracy["landcover"]["series"] = series_info
    for year in sorted(stacks):
        ctx.publish(LANDCOVER.format(year=year), moved_from(maps[year]), kind="product:landcover",
                    time=str(year))
        ctx.publish(QUALITY.format(year=year), moved_from(quality[year]),
                    kind="product:landcover_quality", time=str(year))
    habit = _leaf_habit(ctx, grid, samples, leaf_off)
    if habit is not None:
        accuracy["leaf_habit"] = habit
        species = _species(ctx, grid, samples, stacks, scenes)
        if species is not None:
            accuracy["species"] = species
    text = json.dumps(accuracy, indent=1, ensure_ascii=False)
    ctx.publish("products/classification/accuracy.json",
                lambda tmp: tmp.write_text(text, encoding="utf-8"), kind="product:accuracy")


def _leaf_off_names(leaf_off: dict[int, Path], chunk: int) -> list[str]:
    """The ``leafoff_*`` feature names that :func:`_with_leaf_off` adds."""
    off = read_stack(next(iter(leaf_off.values())), chunks=chunk).drop_vars("clear_count")
    return [f"leafoff_{n}" for n in off.data_vars] + ["leafoff_ndvi"]



def _tif(da: xr.DataArray, nodata: float) -> Any:
    return lambda tmp: write_geotiff(da, tmp, nodata=nodata)


def _leaf_habit(ctx: StepContext, grid: AnalysisGrid, samples: pd.DataFrame,
                leaf_off: dict[int, Path]) -> dict[str, Any] | None:
    """The RVI threshold and endmembers from samples, habit maps from leaf-off composites."""
    ws = ctx.workspace
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    if "leaf_habit" not in samples.columns or not leaf_off:
        warn("no leaf-off (March) scenes or no leaf-habit labels: leaf habit not classified",
             stacklevel=2)
        return None
    forest_samples = samples[(samples["landcover"] == int(LandCover.FOREST))
                             & samples["leaf_habit"].isin([1, 2])]
    background = samples[samples["landcover"].isin([int(LandCover.GRASSLAND),
                                                   int(LandCover.CROPLAND)])]
    values = _sample_features(pd.concat([forest_samples, background]),
                              {y: read_stack(p, chunks=chunk) for y, p in leaf_off.items()}, grid)
    values["rvi"] = values["sr_nir"] / values["sr_red"]
    is_forest = values["landcover"] == int(LandCover.FOREST)
    held_out = cfg.classify.test_fraction
    test = is_forest & random_holdout(len(values), held_out, cfg.classify.seed,
                                      values[LOCATION].to_numpy())
    train = values[~test]
    train_forest = train[train["landcover"] == int(LandCover.FOREST)]
    choice = cfg.classify.rvi_threshold
    threshold: float | str = (
        rvi_threshold_from_samples(train_forest["rvi"], train_forest["leaf_habit"])
        if choice == "samples" else choice)
    labels = np.where(train["landcover"] == int(LandCover.FOREST),
                      np.where(train["leaf_habit"] == int(LeafHabit.EVERGREEN), "evergreen",
                               "deciduous"), "background")
    bands = [c for c in train.columns if c.startswith("sr_")]
    endmembers = endmembers_from_samples(train[bands], labels)
    held: list[pd.DataFrame] = []
    for year, path in leaf_off.items():
        lc = read_on_grid(ws.path(LANDCOVER.format(year=year)), grid, chunks=chunk,
                          masked=False)
        off = read_stack(path, chunks=chunk).drop_vars("clear_count")
        habit = classify_leaf_habit(
            off, forest_mask(lc), threshold=threshold,  # type: ignore[arg-type]
            endmembers=endmembers, check_scale=False,
            evergreen_min_fraction=cfg.classify.evergreen_min_fraction)
        habit = habit.astype("uint8").rio.write_crs(grid.crs)
        ctx.publish(LEAF_HABIT.format(year=year), _tif(habit, 0), kind="product:leaf_habit",
                    time=str(year))
        part = values[test & (values["year"] == year)]
        if len(part):
            written = read_on_grid(ws.path(LEAF_HABIT.format(year=year)), grid, masked=False)
            points = samples[samples["sample_id"].isin(part["sample_id"])]
            mapped = sample_points(written.to_dataset(name="mapped"), points, grid)
            held.append(part.merge(mapped, on="sample_id"))
    result: dict[str, Any] = {"rvi_threshold": threshold, "endmembers": endmembers,
                              "held_out_share": held_out}
    if held:
        check = pd.concat(held, ignore_index=True)
        check = check[check["mapped"] > 0]
        report = accuracy_report(check["leaf_habit"].astype(int), check["mapped"].astype(int),
                                 labels=[1, 2], names=["evergreen", "deciduous"])
        result.update(report.to_dict())
    return result


def _ndvi_series(ctx: StepContext, grid: AnalysisGrid, year: int,
                 all_scenes: list[SceneFiles]) -> xr.DataArray | None:
    """NDVI of every clear observation of ``year`` as (time, y, x), lazily."""
    chunk = ctx.config.compute.chunk_px
    scenes = [s for s in all_scenes if s.date.year == year]
    if len(scenes) < 6:
        return None
    layers = []
    target = harmonise_target(ctx.config)
    fitted = fitted_transforms(ctx.workspace) if target is not None else {}
    for sf in scenes:
        refl = clear_reflectance(read_scene(sf, grid, chunks=chunk), what=f"scene {sf.scene_id}",
                                 harmonise_to=target, fitted=fitted)
        layers.append((refl["nir"] - refl["red"]) / (refl["nir"] + refl["red"]))
    times = pd.DatetimeIndex([np.datetime64(s.date.isoformat()) for s in scenes], name="time")
    return xr.concat(layers, dim=times).chunk({"time": -1}).rename("ndvi")


def _species(ctx: StepContext, grid: AnalysisGrid, samples: pd.DataFrame,
             stacks: dict[int, Path], scenes: list[SceneFiles]) -> dict[str, Any] | None:
    """Species from phenology (phenology years), then forest type, for every year."""
    ws = ctx.workspace
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    if "species" not in samples.columns:
        return None
    pheno: dict[int, Path] = {}
    for year in sorted(stacks):
        series = _ndvi_series(ctx, grid, year, scenes)
        if series is None:
            continue
        metrics = phenology_metrics(series).drop_vars("n_valid").rio.write_crs(grid.crs)
        rel = PHENOLOGY.format(year=year)
        ctx.publish(rel, lambda tmp, m=metrics: write_stack(m, tmp),  # type: ignore[misc]
                    kind="work:phenology", time=str(year))
        pheno[year] = ws.path(rel)
    labelled = samples[(samples["species"].fillna("") != "")
                       & samples["year"].isin(list(pheno))]
    if not pheno or labelled.empty:
        warn("no phenology year (≥ 6 scenes in a year) or no species samples: species and "
             "forest type are not mapped", stacklevel=2)
        return None
    summer = ["ndvi", "evi", "ndmi_gao", "gndvi", "tc_greenness", "tc_wetness", "sr_nir",
              "sr_swir1", "glcm_nir_mean", "elevation_m"]
    frames = []
    for year, part in labelled.groupby("year"):
        both = _features_for_species(pheno[int(year)], stacks[int(year)], summer, chunk)
        values = sample_points(both, part, grid, location_column=LOCATION)
        frames.append(part.drop(columns="geometry").merge(values, on="sample_id"))
    table = pd.concat(frames, ignore_index=True)
    features = [c for c in table.columns if c in set(both.data_vars)]
    test = random_holdout(len(table), cfg.classify.test_fraction, cfg.classify.seed,
                          table[LOCATION].to_numpy())
    train = table[~test]
    window = cfg.classify.species_window

    def species_map(fitted: SpeciesClassifier, year: int) -> xr.DataArray:
        habit = read_on_grid(ws.path(LEAF_HABIT.format(year=year)), grid, chunks=chunk,
                             masked=False)
        both = _features_for_species(pheno[year], stacks[year], summer, chunk)
        return contextual_species_map(fitted, both[features], habit, window=window)

    model = SpeciesClassifier(n_estimators=cfg.classify.n_estimators,
                              random_state=cfg.classify.seed)
    model.fit(train[features], train["species"], train["leaf_habit"])
    # accuracy of the map itself (with its window) at the held-out samples, never trained on
    held_parts = []
    for year, part in table[test].groupby("year"):
        points = labelled[labelled["sample_id"].isin(part["sample_id"])]
        habit_map = read_on_grid(ws.path(LEAF_HABIT.format(year=int(year))), grid,
                                 chunks=chunk, masked=False)
        species_here = species_map(model, int(year))
        maps_here = xr.Dataset({"mapped": species_here, "mapped_habit": habit_map.assign_coords(
            y=species_here["y"], x=species_here["x"])})
        mapped = sample_points(maps_here, points, grid)
        held_parts.append(part.merge(mapped, on="sample_id"))
    held = pd.concat(held_parts, ignore_index=True)
    held = held[held["mapped"] > 0]  # the leaf-habit map left the sample outside forest
    codes = np.array([by_key(k).code for k in held["species"]])
    predicted = held["mapped"].to_numpy().astype(int)
    report = accuracy_report(codes, predicted, labels=sorted(set(codes) | set(predicted)))
    right_habit = (held["mapped_habit"] == held["leaf_habit"]).to_numpy()
    given_habit = float((codes[right_habit] == predicted[right_habit]).mean()) \
        if right_habit.any() else float("nan")
    model.fit(table[features], table["species"], table["leaf_habit"])  # all samples
    maps: dict[int, Path] = {}
    for year in sorted(pheno):
        sp = species_map(model, year).rio.write_crs(grid.crs)
        ctx.publish(SPECIES.format(year=year), _tif(sp, 0), kind="product:species",
                    time=str(year))
        maps[year] = ws.path(SPECIES.format(year=year))
    types: list[xr.DataArray] = []
    forest: list[xr.DataArray] = []
    for year in sorted(stacks):
        nearest = min(maps, key=lambda y: (abs(y - year), y))
        species = read_on_grid(maps[nearest], grid, chunks=chunk, masked=False)
        lc = read_on_grid(ws.path(LANDCOVER.format(year=year)), grid, chunks=chunk,
                          masked=False)
        if year not in maps:  # the nearest phenology year's species, within this year's forest
            species = species.where(lc == int(LandCover.FOREST), 0).astype("uint8")
            ctx.publish(SPECIES.format(year=year), _tif(species.rio.write_crs(grid.crs), 0),
                        kind="product:species", time=str(year))
        ftype = forest_type_map(species, None, forest_min_cover=cfg.classify.forest_min_cover,
                                sparse_min_cover=cfg.classify.sparse_min_cover,
                                dominant_share=cfg.classify.dominant_share,
                                window=cfg.classify.type_window).astype("uint8")
        proba = ws.path(PROBA.format(year=year))
        sparse = sparse_forest(proba, chunk) if proba.exists() else None
        if sparse is not None:  # the land-cover forests' sparse subclass: 稀疏林
            sparse = sparse.assign_coords(y=ftype["y"], x=ftype["x"])
            ftype = ftype.where(~(sparse & (ftype > 0)), int(ForestType.SPARSE))
        types.append(ftype.astype("uint8"))
        forest.append(lc == int(LandCover.FOREST))
    _publish_forest_types(ctx, grid, sorted(stacks), types, forest)
    return {**report.to_dict(), "held_out_share": cfg.classify.test_fraction,
            "window_px": window, "held_out_outside_forest": int(test.sum()) - len(held),
            "overall_accuracy_given_leaf_habit": round(given_habit, 4),
            "n_given_leaf_habit": int(right_habit.sum()),
            "phenology_years": sorted(pheno),
            "features": features}


def _publish_forest_types(ctx: StepContext, grid: AnalysisGrid, years: list[int],
                          types: list[xr.DataArray], forest: list[xr.DataArray]) -> None:
    """Forest types, one per forest span of the land-cover series (:func:`span_mode`)."""
    index = pd.Index(years, name="year")
    cube = xr.concat(types, dim=index)
    inside = xr.concat([f.assign_coords(y=cube["y"], x=cube["x"]) for f in forest], dim=index)
    if ctx.config.classify.temporal_consistency:
        cube = span_mode(cube, inside)
    final = {y: ctx.workspace.path(FOREST_TYPE.format(year=y)) for y in years}
    staged = {y: temporary_sibling(p) for y, p in final.items()}
    write_cubes({"forest_type": cube.rio.write_crs(grid.crs).rename("forest_type")},
                {"forest_type": staged}, nodata=0)
    for year in years:
        ctx.publish(FOREST_TYPE.format(year=year), moved_from(staged[year]),
                    kind="product:forest_type", time=str(year))


def _features_for_species(pheno: Path, stack: Path, summer: list[str],
                          chunk: int) -> xr.Dataset:
    metrics = read_stack(pheno, chunks=chunk)
    summer_stack = read_stack(stack, chunks=chunk)
    chosen = [n for n in summer if n in summer_stack]
    return xr.merge([metrics, summer_stack[chosen]], join="exact", compat="override")


CLASSIFY = Step(
    "classify",
    _classify,
    needs=("features",),  # and the scope's extent
    raw=("samples", "scene", "damage", "reclamation"),
    ignores=("products/features/plot_features.csv",),  # changes with every plot import
    makes=("products/classification/landcover_*.tif", "work/classification/*",
           "products/classification/leaf_habit_*.tif",
           "products/classification/species_*.tif", "products/classification/forest_type_*.tif",
           "products/classification/accuracy.json", "work/features/leafoff_*.tif",
           "work/features/phenology_*.tif"),
    config=("project", "scope", "features", "classify", "compute"),
    description="land cover (random forest), leaf habit (RVI + unmixing), species (phenology + "
    "random forest) and forest type per year, with held-out accuracy (C1–C4)",
)
