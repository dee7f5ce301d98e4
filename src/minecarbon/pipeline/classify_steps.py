"""Pipeline step of the classification stage (C1, C2, C4): land cover and leaf habit per year.

Training samples (``raw/samples``: points with ``sample_id, year, landcover, leaf_habit``) take
their feature values from the feature stack of their year. A random forest is fitted on 70 % of
the land-cover samples (stratified), its accuracy measured on the other 30 % only, then it is
refitted on all samples and applied to every year's stack →
``products/classification/landcover_<year>.tif``. Within forest, the leaf-off (March)
composite gives evergreen or deciduous by the RVI (NIR/Red) threshold combined with fully
constrained unmixing; the threshold and the endmember spectra come from 70 % of the forest
samples, and the accuracy from the other 30 % → ``leaf_habit_<year>.tif``. Both accuracies go
to ``products/classification/accuracy.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.classify.accuracy import accuracy_report
from minecarbon.classify.landcover import forest_mask, predict_map, train_test_accuracy
from minecarbon.classify.leaf_habit import (
    classify_leaf_habit,
    endmembers_from_samples,
    rvi_threshold_from_samples,
)
from minecarbon.errors import InputDataError, warn
from minecarbon.features.extract import sample_points
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid, read_stack, write_geotiff
from minecarbon.io.scenes import find_scenes
from minecarbon.io.vector import read_vector
from minecarbon.pipeline.feature_steps import STACK, composite_year, year_scenes
from minecarbon.pipeline.scope_steps import load_grid
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.scope.extent import extent_mask
from minecarbon.types import LandCover, LeafHabit

LANDCOVER = "products/classification/landcover_{year}.tif"
LEAF_HABIT = "products/classification/leaf_habit_{year}.tif"
LEAF_OFF = "work/features/leafoff_{year}.tif"
LEAF_OFF_MONTHS = [3]
HELD_OUT = 0.3


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


def _sample_features(samples: pd.DataFrame, stacks: dict[int, Path], grid: AnalysisGrid,
                     chunk: int) -> pd.DataFrame:
    """Each sample with the feature values of its year's stack."""
    frames = []
    for year, part in samples.groupby("year"):
        if int(year) not in stacks:
            warn(f"{len(part)} training samples of {year} are left out: no feature stack for "
                 f"{year}", stacklevel=2)
            continue
        stack = read_stack(stacks[int(year)], chunks=chunk)
        values = sample_points(stack, part, grid)
        frames.append(part.drop(columns="geometry").merge(values, on="sample_id"))
    if not frames:
        raise InputDataError("no training sample falls in a year with a feature stack",
                             fix="give samples of years that have growing-season scenes")
    return pd.concat(frames, ignore_index=True)


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
    table = _sample_features(samples, stacks, grid, chunk)
    features = [str(n) for n in read_stack(next(iter(stacks.values()))).data_vars]
    model, report = train_test_accuracy(
        table, "landcover", features, test_fraction=HELD_OUT, seed=cfg.classify.seed,
        refit=True, n_estimators=cfg.classify.n_estimators, on_missing="drop")
    accuracy: dict[str, Any] = {"landcover": {**report.to_dict(), "held_out_share": HELD_OUT,
                                              "n_samples": len(table)}}
    extent = read_vector(ws.path("products/units/extent.gpkg")).geometry.union_all()
    inside = extent_mask(extent, grid, chunks=chunk)
    for year, path in stacks.items():
        stack = read_stack(path, chunks=chunk)
        lc = predict_map(model, stack, mask=inside).rio.write_crs(grid.crs)
        ctx.publish(LANDCOVER.format(year=year), _tif(lc, 0), kind="product:landcover",
                    time=str(year))
    habit = _leaf_habit(ctx, grid, samples, inside, list(stacks))
    if habit is not None:
        accuracy["leaf_habit"] = habit
    text = json.dumps(accuracy, indent=1, ensure_ascii=False)
    ctx.publish("products/classification/accuracy.json",
                lambda tmp: tmp.write_text(text, encoding="utf-8"), kind="product:accuracy")


def _tif(da: xr.DataArray, nodata: float) -> Any:
    return lambda tmp: write_geotiff(da, tmp, nodata=nodata)


def _leaf_habit(ctx: StepContext, grid: AnalysisGrid, samples: pd.DataFrame,
                inside: xr.DataArray, years: list[int]) -> dict[str, Any] | None:
    """Leaf-off composites, the RVI threshold and endmembers from samples, habit maps."""
    ws = ctx.workspace
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    scenes = find_scenes(ctx.input_paths("raw:scene"))
    leaf_off: dict[int, Path] = {}
    for year in years:
        chosen = year_scenes(scenes, year, LEAF_OFF_MONTHS, cfg.features.sensor)
        if chosen:
            rel = LEAF_OFF.format(year=year)
            composite_year(ctx, grid, year, chosen, inside, rel=rel)
            leaf_off[year] = ws.path(rel)
    if "leaf_habit" not in samples.columns or not leaf_off:
        warn("no leaf-off (March) scenes or no leaf-habit labels: leaf habit not classified",
             stacklevel=2)
        return None
    forest_samples = samples[(samples["landcover"] == int(LandCover.FOREST))
                             & samples["leaf_habit"].isin([1, 2])]
    background = samples[samples["landcover"].isin([int(LandCover.GRASSLAND),
                                                   int(LandCover.CROPLAND)])]
    values = _sample_features(pd.concat([forest_samples, background]), leaf_off, grid, chunk)
    values["rvi"] = values["sr_nir"] / values["sr_red"]
    rng = np.random.default_rng(cfg.classify.seed)
    is_forest = values["landcover"] == int(LandCover.FOREST)
    test = is_forest & (rng.random(len(values)) < HELD_OUT)
    train = values[~test]
    train_forest = train[train["landcover"] == int(LandCover.FOREST)]
    threshold = rvi_threshold_from_samples(train_forest["rvi"], train_forest["leaf_habit"])
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
        habit = classify_leaf_habit(off, forest_mask(lc), threshold=threshold,
                                    endmembers=endmembers, check_scale=False)
        habit = habit.astype("uint8").rio.write_crs(grid.crs)
        ctx.publish(LEAF_HABIT.format(year=year), _tif(habit, 0), kind="product:leaf_habit",
                    time=str(year))
        part = values[test & (values["year"] == year)]
        if len(part):
            written = read_on_grid(ws.path(LEAF_HABIT.format(year=year)), grid, masked=False)
            held.append(part.assign(mapped=sample_points(
                xr.Dataset({"mapped": written}), samples.set_index("sample_id").loc[
                    part["sample_id"]].reset_index(), grid)["mapped"].to_numpy()))
    result: dict[str, Any] = {"rvi_threshold": float(threshold), "endmembers": endmembers,
                              "held_out_share": HELD_OUT}
    if held:
        check = pd.concat(held, ignore_index=True)
        check = check[check["mapped"] > 0]
        report = accuracy_report(check["leaf_habit"].astype(int), check["mapped"].astype(int),
                                 labels=[1, 2], names=["evergreen", "deciduous"])
        result.update(report.to_dict())
    return result


CLASSIFY = Step(
    "classify",
    _classify,
    needs=("features",),
    raw=("samples", "scene"),
    makes=("products/classification/landcover_*.tif", "products/classification/leaf_habit_*.tif",
           "products/classification/accuracy.json", "work/features/leafoff_*.tif"),
    config=("project", "scope", "features", "classify", "compute"),
    description="land cover (random forest) and leaf habit (RVI + unmixing) per year, with "
    "held-out accuracy (C1, C2, C4)",
)
