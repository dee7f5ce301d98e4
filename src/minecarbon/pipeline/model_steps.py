"""Pipeline steps of the modelling and mapping stages (M1–M7).

``models``: the plots' area-weighted features (``products/features/plot_features.csv``) and
their AGC (``products/plots/plot_agc.csv``) go into a nested cross-validation of every model
kind per forest type, with a pooled model for forest types with too few plots →
``products/models/cv_results.csv``, ``selected_features.csv``, ``model_card.json`` and the
fitted model in ``work/models/agc_model.joblib``.

``mapping``: every year's feature stack is predicted with the model of each pixel's forest type
(the classified map), block by block (:func:`minecarbon.mapping.predict_agc`) →
``work/agc/agc_raw_<year>.tif``; each pixel's series is fitted per forest span as a
piecewise-linear trajectory, its change from the plots' year rescaled by 1/b and each forest
type's mean out-of-fold residual added; the established stands of types whose models see no
AGC borrow the other forest's relative change, and every pixel-year takes its level-1 unit's
plot ratio (docs/time-series.md) → ``products/agc/agc_<year>.tif``
(t C/ha, NaN outside forest), ``agc_quality_<year>.tif``, ``calibration.json`` (with the
space-for-time check of the maps' change against the features' own, decision 47; stable
forest's change taken as its stand's, decision 56), optionally the conformal bounds, and the
totals per assessment unit and year → ``agc_totals.csv``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError, warn
from minecarbon.io.files import temporary_sibling
from minecarbon.io.models import load_model, save_model, sidecar_path
from minecarbon.io.raster import read_on_grid, read_stack, write_cubes, write_geotiff
from minecarbon.io.tables import read_table, write_csv
from minecarbon.mapping import (
    FOREST_TYPE_LABELS,
    agc_intervals,
    model_inputs,
    predict_agc,
    unit_totals,
)
from minecarbon.mapping.calibration import (
    SOURCE_ONE_SURVEY,
    SOURCE_REMEASURED,
    attenuation_from_plots,
    calibrate_change,
    remeasured_attenuation,
    remeasured_changes,
    residual_offsets,
)
from minecarbon.mapping.trajectory import fit_trajectories
from minecarbon.modeling.persistence import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    check_loaded,
    model_payload,
)
from minecarbon.modeling.stratified import StratifiedModel, fit_stratified
from minecarbon.pipeline.change_smoothing_steps import change_smoothing_stage
from minecarbon.pipeline.classify_steps import FOREST_TYPE, LANDCOVER
from minecarbon.pipeline.feature_steps import STACK, own_observation
from minecarbon.pipeline.landcover_series import WINDOW_GROUPS, free_transitions
from minecarbon.pipeline.offset_steps import mapped_at_plots
from minecarbon.pipeline.records import read_plot_records
from minecarbon.pipeline.scope_steps import load_grid
from minecarbon.pipeline.space_for_time_steps import space_for_time_stage
from minecarbon.pipeline.step import Step, StepContext, moved_from
from minecarbon.pipeline.synthetic_change_steps import (
    borrow_uninformative,
    forest_types,
    informative_plots,
)
from minecarbon.pipeline.unit_ratio_steps import calibrate_units
from minecarbon.types import LandCover

MODEL_FILE = "work/models/agc_model.joblib"
AGC = "products/agc/agc_{year}.tif"
AGC_INTERVAL = "products/agc/agc_{year}_{side}.tif"
AGC_QUALITY = "products/agc/agc_quality_{year}.tif"
AGC_RAW = "work/agc/agc_raw_{year}.tif"
CALIBRATION = "products/agc/calibration.json"


def load_agc_model(path: Path, features: list[str] | None = None) -> StratifiedModel:
    """The AGC model the models step saved, checked (see :func:`check_loaded`)."""
    stored = load_model(path, fmt=MODEL_FORMAT)
    return check_loaded(stored.model, stored.header, stored.card, features=features,
                        name=path.name)


def _plot_table(ctx: StepContext) -> pd.DataFrame:
    ws = ctx.workspace
    features = read_table(ws.path("products/features/plot_features.csv"))
    plots = read_table(ws.path("products/plots/plot_agc.csv"))
    keep = ["plot_id", "agc_t_per_ha", "forest_type"]
    missing = [c for c in keep if c not in plots.columns]
    if missing:
        raise InputDataError(f"products/plots/plot_agc.csv has no columns {missing}",
                             fix="re-run the plots step")
    table = features.merge(plots[keep], on="plot_id", how="inner")
    if table.empty:
        raise InputDataError("no plot has both features and an AGC",
                             fix="check that the plots lie in years with feature stacks")
    table["stratum"] = table["forest_type"].fillna("").astype(str).str.strip().str.lower()
    table["site"] = _sites(ctx, table["plot_id"])
    return table


def _sites(ctx: StepContext, plot_ids: pd.Series) -> pd.Series:
    """A key per plot location (the pixel of its centre): plots re-measured share one."""
    records = read_plot_records(ctx.workspace, ctx.input_paths("raw:plots"))
    if records is None:
        return plot_ids.astype(str)
    side = ctx.config.scope.pixel_size_m
    keys = {str(r.plot_id): f"{int(r.x // side)}_{int(r.y // side)}"
            for r in records.itertuples()}
    return plot_ids.astype(str).map(keys).fillna(plot_ids.astype(str))


def oof_predictions(model: StratifiedModel, table: pd.DataFrame) -> pd.DataFrame:
    """Each plot's out-of-fold prediction by the model its stratum uses (never the refit).

    Own-model strata take their own nested CV's predictions, the others the pooled model's at
    their plots; columns ``plot_id, year, site, stratum, model, source, observed, predicted``
    (t C/ha; ``site`` is the plot's location key, shared by the measurements of a re-measured
    plot).
    """
    pooled = model.pooled.cv[model.pooled.kind]
    pooled_at = pd.Series(pooled.predicted, index=pooled.index)
    rows = []
    for label, fit in model.strata.items():
        if fit.source == "own" and fit.kind in fit.cv:
            cv = fit.cv[fit.kind]
            predicted = pd.Series(cv.predicted, index=cv.index)
        else:
            predicted = pooled_at[table.loc[pooled_at.index, model.strata_column] == label]
        for index, value in predicted.items():
            rows.append({"plot_id": table.at[index, "plot_id"],
                         "year": int(table.at[index, "year"]),
                         "site": str(table.at[index, "site"]), "stratum": str(label),
                         "model": fit.kind.value, "source": fit.source,
                         "observed": float(table.at[index, model.target]),
                         "predicted": round(float(value), 4)})
    return pd.DataFrame(rows, columns=["plot_id", "year", "site", "stratum", "model", "source",
                                       "observed", "predicted"])


def _models(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config.modeling
    table = _plot_table(ctx)
    forest = table[table["stratum"] != ""]
    if len(forest) < table.shape[0]:
        warn(f"{table.shape[0] - len(forest)} plots without a forest type are left out of the "
             "AGC models (non-forest plots)", stacklevel=2)
    features = common_features(ctx, [c for c in table.columns if c not in {
        "plot_id", "year", "agc_t_per_ha", "forest_type", "stratum", "valid_fraction", "site"}])
    remeasured = bool(forest["site"].duplicated().any())
    params: dict[str, Any] = {}
    if cfg.selection_method in ("correlation", "rf_importance"):
        params["k"] = cfg.n_features
    if cfg.selection_method == "correlation":
        params["max_collinearity"] = cfg.max_collinearity
    model = fit_stratified(
        forest, "agc_t_per_ha", "stratum", features, kinds=[str(k) for k in cfg.models],
        selector_method=cfg.selection_method, selector_params=params,
        k_folds=cfg.k_folds, inner_folds=cfg.inner_folds,
        min_plots=cfg.min_plots_per_stratum, seed=cfg.seed, n_jobs=cfg.n_jobs,
        groups_column="site" if remeasured else None)
    cv, selected = model.cv_results, model.selected_features
    card = model.model_card_json()
    ctx.publish("products/models/cv_results.csv", lambda tmp: write_csv(cv, tmp),
                kind="product:cv_results")
    ctx.publish("products/models/selected_features.csv", lambda tmp: write_csv(selected, tmp),
                kind="product:selected_features")
    ctx.publish("products/models/model_card.json",
                lambda tmp: tmp.write_text(card, encoding="utf-8"), kind="product:model_card")
    oof = oof_predictions(model, forest)
    ctx.publish("products/models/oof_predictions.csv", lambda tmp: write_csv(oof, tmp),
                kind="product:oof_predictions")
    staging = ws.path("work/models/staging") / Path(MODEL_FILE).name
    shutil.rmtree(staging.parent, ignore_errors=True)
    fmt, header, model_card = model_payload(model)
    save_model(model, staging, fmt=fmt, header=header, card=model_card,  # with its JSON
               format_version=MODEL_FORMAT_VERSION)  # sidecar; then both catalogued
    ctx.publish(MODEL_FILE, lambda tmp: os.replace(staging, tmp), kind="work:agc_model")
    side = sidecar_path(Path(MODEL_FILE)).as_posix()
    ctx.publish(side, lambda tmp: os.replace(sidecar_path(staging), tmp),
                kind="work:agc_model_card")
    shutil.rmtree(staging.parent, ignore_errors=True)


def common_features(ctx: StepContext, candidates: list[str]) -> list[str]:
    """The candidates that every year's feature stack has (issue 16).

    A year whose sensor lacks a band (GF WFV has no SWIR) has no feature of that band; a model
    reading it could not map that year. Such features are left out of the models, and a
    warning names them and the years without them.
    """
    from minecarbon.io.raster import raster_bands

    stacks = sorted(ctx.workspace.path("products/features").glob("features_*.tif"))
    if not stacks:
        return candidates
    lacking: dict[str, list[str]] = {}
    for path in stacks:
        have = set(raster_bands(path).descriptions)
        for name in candidates:
            if name not in have:
                lacking.setdefault(name, []).append(path.stem.removeprefix("features_"))
    if lacking:
        years = sorted({y for ys in lacking.values() for y in ys})
        warn(f"features {', '.join(sorted(lacking))} are missing from the stacks of years "
             f"{', '.join(years)} (a sensor without those bands): the AGC models use only the "
             "features every year has", stacklevel=2)
    return [c for c in candidates if c not in lacking]


def _window_medians(table: pd.DataFrame, stack: Any, bands: list[str]) -> dict[str, float]:
    """The plots' median of each moving-window feature (texture, terrain) the model reads."""
    return {b: float(pd.to_numeric(table[b], errors="coerce").median()) for b in bands
            if b in table.columns and stack[b].attrs.get("group") in WINDOW_GROUPS}


def _reference_year(table: pd.DataFrame) -> int:
    """The plots' survey year (the most common one when plots come from several)."""
    return int(table["year"].mode().max())


def _attenuation(ctx: StepContext, oof: pd.DataFrame) -> dict[str, Any]:
    """``b`` of :mod:`minecarbon.mapping.calibration` as ``mapping.change_calibration`` says.

    From the plots' observed and predicted changes where at least 5 plots were measured in
    two years (a direct measure of how the maps compress change), else from the slope of the
    out-of-fold predictions on the observed AGC.
    """
    choice = ctx.config.mapping.change_calibration
    if choice == "none":
        return {"attenuation": 1.0, "source": "none"}
    if not isinstance(choice, str):
        return {"attenuation": float(choice), "source": "configured"}
    changes = remeasured_changes(oof) if {"site", "year"} <= set(oof.columns) else None
    if changes is not None and len(changes) >= 5:
        b, se = remeasured_attenuation(changes["observed_change"],
                                       changes["predicted_change"])
        return {"attenuation": b, "attenuation_se": se, "source": SOURCE_REMEASURED,
                "n_plots": len(changes)}
    b = attenuation_from_plots(oof["observed"], oof["predicted"])
    return {"attenuation": b, "source": SOURCE_ONE_SURVEY, "n_plots": len(oof)}


def _offsets(ctx: StepContext, grid: Any, years: list[int], like: xr.DataArray,
             residuals: pd.DataFrame) -> tuple[dict[str, float], xr.DataArray]:
    """The residual offsets (:func:`residual_offsets`) and each pixel-year's by forest type.

    ``residuals`` has ``stratum``, ``observed`` and ``predicted`` per plot.
    """
    offsets = residual_offsets(residuals["stratum"], residuals["observed"],
                               residuals["predicted"],
                               min_plots=ctx.config.modeling.min_plots_per_stratum // 2 or 1)
    types = forest_types(ctx, grid, years, like)
    out = xr.full_like(like, offsets[""], dtype="float32")
    for code, label in FOREST_TYPE_LABELS.items():
        if label in offsets:
            out = out.where(types != code, offsets[label])
    if like.chunks is not None:
        out = out.chunk(dict(zip(like.dims, like.chunks, strict=True)))
    return offsets, out


def _raw_year(ctx: StepContext, grid: Any, model: StratifiedModel, year: int,
              plots: pd.DataFrame) -> Path | None:
    """The model's AGC of one year where the pixel has its own observation → work/."""
    ws = ctx.workspace
    chunk = ctx.config.compute.chunk_px
    stack_path = ws.path(STACK.format(year=year))
    ftype_path = ws.path(FOREST_TYPE.format(year=year))
    if not stack_path.exists() or not ftype_path.exists():
        warn(f"year {year}: no feature stack or forest-type map; no AGC map", stacklevel=3)
        return None
    stack = read_stack(stack_path, chunks=chunk)  # only the bands the model reads
    bands = model_inputs(model)
    medians = _window_medians(plots, stack, bands)
    spectral = [b for b in bands if b not in medians]
    if medians and spectral:  # window features are empty at the edges of the grid and extent
        seen = stack[spectral[0]].notnull()
        stack = stack.assign({b: stack[b].where(stack[b].notnull() | ~seen, v)
                              for b, v in medians.items()})
    ftype = read_on_grid(ftype_path, grid, chunks=chunk, masked=False)
    lc = read_on_grid(ws.path(LANDCOVER.format(year=year)), grid, chunks=chunk, masked=False)
    agc = predict_agc(model, stack, ftype, lc == int(LandCover.FOREST))
    agc = agc.where(own_observation(ctx, year, agc))  # gap-filled features: not observed
    rel = AGC_RAW.format(year=year)
    data = agc.astype("float32").rio.write_crs(grid.crs)
    ctx.publish(rel, lambda tmp: write_geotiff(data, tmp), kind="work:agc_raw",
                time=str(year))
    return ws.path(rel)


def _mapping(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    grid = load_grid(ws.root)
    model = load_agc_model(ws.path(MODEL_FILE))
    plots = read_table(ws.path("products/features/plot_features.csv"))
    oof = read_table(ws.path("products/models/oof_predictions.csv"))
    raw = {y: p for y in range(cfg.project.first_year, cfg.project.last_year + 1)
           if (p := _raw_year(ctx, grid, model, y, plots)) is not None}
    if not raw:
        no_types = [y for y in range(cfg.project.first_year, cfg.project.last_year + 1)
                    if not ws.path(FOREST_TYPE.format(year=y)).exists()]
        raise InputDataError(
            "no annual AGC map can be made: no year has both a feature stack and a forest-type "
            "map" + (f" (no forest-type map in {len(no_types)} years: the classify step maps "
                     "forest types from training samples)" if no_types else ""),
            fix="import training samples with leaf habit and species (`minecarbon import "
                "samples FILE`) and the scenes of the monitoring years (`minecarbon import "
                "scene FOLDER`), then run again")
    years = sorted(raw)
    index = pd.Index(years, name="year")
    values = xr.concat([read_on_grid(raw[y], grid, chunks=chunk) for y in years], dim=index)
    forest = xr.concat([read_on_grid(ws.path(LANDCOVER.format(year=y)), grid, chunks=chunk,
                                     masked=False) == int(LandCover.FOREST) for y in years],
                       dim=index)
    values = values.chunk({"year": -1})
    forest = forest.chunk({"year": -1})
    if cfg.mapping.temporal_fit:
        free = free_transitions(ctx, grid, years, chunk)
        fit = fit_trajectories(values, forest, free, max_segments=cfg.mapping.max_segments,
                               penalty_factor=cfg.mapping.segment_penalty)["fitted"]
        informative, excluded = informative_plots(ctx, oof)
        calibration = {"reference_year": _reference_year(plots),
                       **_attenuation(ctx, informative)}
        if excluded:
            calibration["attenuation_strata_excluded"] = excluded
        agc = calibrate_change(fit, forest, calibration["reference_year"],
                               calibration["attenuation"])
    else:
        agc = values.where(forest)
        calibration = {"attenuation": 1.0, "source": "no temporal fit"}
    if cfg.mapping.bias_correction:
        residuals = oof[["stratum", "observed", "predicted"]]
        basis = "plots' stand type, out-of-fold predictions"
        if cfg.mapping.temporal_fit and cfg.mapping.offset_strata == "map":
            ref = calibration["reference_year"]
            pairs = mapped_at_plots(ctx, grid, values, forest, free, calibration,
                                    read_on_grid(raw[ref], grid, chunks=chunk)
                                    if ref in raw else None)
            pairs = pairs[pairs["on_map"]]
            if len(pairs):
                residuals = pd.DataFrame({"stratum": pairs["map_stratum"].astype(str),
                                          "observed": pairs["observed"],
                                          "predicted": pairs["mapped"]})
                basis = "map's forest type at the plots, the map's out-of-fold value"
            else:
                warn(f"mapping: no plot of {ref} lies on mapped forest; the residual offsets "
                     "come from the plots' own stand types", stacklevel=2)
        offsets, by_pixel = _offsets(ctx, grid, years, agc, residuals)
        agc = (agc + by_pixel).clip(min=0.0).where(agc.notnull())
        calibration["residual_offsets_t_per_ha"] = {k or "(all plots)": round(v, 4)
                                                    for k, v in offsets.items()}
        calibration["residual_offsets_basis"] = basis
        calibration["residual_offset_plots"] = {
            str(k): int(v) for k, v in residuals["stratum"].value_counts().sort_index().items()}
    quality = (forest & values.isnull()).astype("uint8") + forest.astype("uint8")
    quality = quality.where(agc.notnull(), 0).astype("uint8")
    final = {y: ws.path(AGC.format(year=y)) for y in years}
    staged = {"agc": {y: temporary_sibling(p) for y, p in final.items()},
              "quality": {y: temporary_sibling(ws.path(AGC_QUALITY.format(year=y)))
                          for y in years}}
    write_cubes({"agc": agc.astype("float32").rio.write_crs(grid.crs).rename("agc_t_per_ha"),
                 "quality": quality.rio.write_crs(grid.crs).rename("agc_quality")},
                {"agc": staged["agc"], "quality": staged["quality"]},
                nodata={"agc": float("nan"), "quality": 0})  # quality 0: no AGC (outside forest)
    staged = _finish_maps(ctx, grid, staged, oof, raw, calibration, _reference_year(plots))
    if cfg.mapping.temporal_fit:
        staged["agc"], calibration["space_for_time"] = space_for_time_stage(
            ctx, grid, staged["agc"], model_inputs(model), plots, oof, calibration)
        staged["agc"], calibration["change_smoothing"] = change_smoothing_stage(
            ctx, grid, staged["agc"], int(calibration["reference_year"]), staged["quality"])
    text = json.dumps({"temporal_fit": cfg.mapping.temporal_fit, **calibration}, indent=1,
                      ensure_ascii=False)
    ctx.publish(CALIBRATION, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                kind="product:agc_calibration")
    totals: list[pd.DataFrame] = []
    for year in years:
        rel = AGC.format(year=year)
        ctx.publish(rel, moved_from(staged["agc"][year]), kind="product:agc", time=str(year))
        ctx.publish(AGC_QUALITY.format(year=year), moved_from(staged["quality"][year]),
                    kind="product:agc_quality", time=str(year))
        if cfg.mapping.prediction_intervals:
            ftype = read_on_grid(ws.path(FOREST_TYPE.format(year=year)), grid, chunks=chunk,
                                 masked=False)
            written = read_on_grid(ws.path(rel), grid, chunks=chunk)
            bounds = agc_intervals(model, written, ftype, cfg.mapping.interval_level)
            for side, band in bounds.items():
                ctx.publish(AGC_INTERVAL.format(year=year, side=side),
                            lambda tmp, b=band: write_geotiff(b, tmp),  # type: ignore[misc]
                            kind=f"product:agc_{side}", time=str(year))
        totals.append(_totals(ws.root, ws.path(rel), grid, year, chunk))
    table = pd.concat(totals, ignore_index=True)
    ctx.publish("products/agc/agc_totals.csv", lambda tmp: write_csv(table, tmp),
                kind="product:agc_totals")



def _finish_maps(ctx: StepContext, grid: Any, staged: dict[str, dict[int, Path]],
                 oof: pd.DataFrame, raw: dict[int, Path], calibration: dict[str, Any],
                 reference_year: int) -> dict[str, dict[int, Path]]:
    """The stages that need the written maps: borrowed change (decision 45), unit ratios (44).

    The staged maps are read back once, both applied lazily, and written once to new staged
    files (the quality layers too where change was borrowed); the records go into
    ``calibration``. Returns the staged paths to publish.
    """
    cfg = ctx.config.mapping
    borrow = cfg.temporal_fit and cfg.synthetic_change
    if not (borrow or cfg.unit_calibration):
        return staged
    chunk = ctx.config.compute.chunk_px
    years = sorted(staged["agc"])
    index = pd.Index(years, name="year")
    agc = xr.concat([read_on_grid(staged["agc"][y], grid, chunks=chunk) for y in years],
                    dim=index).chunk({"year": -1})
    borrowed = None
    if borrow:
        agc, borrowed, calibration["synthetic_change"] = borrow_uninformative(
            ctx, grid, agc, oof, reference_year)
    changed = borrowed is not None
    if cfg.unit_calibration:
        # the borrowed change keeps each span's level in the reference year, so that year's
        # staged map is already final: the plots' ratios need not wait for the borrowing
        mapped = (read_on_grid(staged["agc"][reference_year], grid, chunks=chunk)
                  if reference_year in staged["agc"] else None)
        agc, calibration["unit_ratios"] = calibrate_units(ctx, grid, agc, mapped, raw,
                                                          reference_year)
        changed = changed or calibration["unit_ratios"]["applied"]
    if not changed:
        return staged
    cubes = {"agc": agc.astype("float32").rio.write_crs(grid.crs).rename("agc_t_per_ha")}
    if borrowed is not None:  # 3: the level observed, the change borrowed
        quality = xr.concat([read_on_grid(staged["quality"][y], grid, chunks=chunk,
                                          masked=False) for y in years], dim=index)
        quality = quality.chunk({"year": -1}).where(~borrowed, 3).astype("uint8")
        cubes["quality"] = quality.rio.write_crs(grid.crs).rename("agc_quality")
    new = {k: {y: temporary_sibling(p) for y, p in staged[k].items()} for k in cubes}
    write_cubes(cubes, new, nodata={"agc": float("nan"), "quality": 0})
    for kind in cubes:
        for path in staged[kind].values():
            path.unlink(missing_ok=True)
    return {**staged, **new}


def _totals(root: Path, agc_path: Path, grid: Any, year: int, chunk: int) -> pd.DataFrame:
    """Total AGC (t C), forest area and mean density per level-2 unit of the year."""
    agc = read_on_grid(agc_path, grid, chunks=chunk)
    unit_path = root / f"products/units/units_l2_{year}.tif"
    units = (read_on_grid(unit_path, grid, chunks=chunk, masked=False)
             if unit_path.exists() else None)
    return unit_totals(agc, units, pixel_area_ha=grid.pixel_area_ha, year=year)


MODELS = Step(
    "models",
    _models,
    needs=("plots", "features"),
    raw=("plots",),
    makes=("products/models/cv_results.csv", "products/models/selected_features.csv",
           "products/models/oof_predictions.csv",
           "products/models/model_card.json", "work/models/*"),
    config=("modeling",),
    description="AGC models per forest type: feature selection, SVR/RF/GBDT/XGBoost, nested "
    "k-fold CV, best model per stratum with a pooled fallback (M1–M5)",
)

MAPPING = Step(
    "mapping",
    _mapping,
    needs=("models", "classify", "units"),
    raw=("damage", "reclamation", "plots"),
    makes=("products/agc/agc_*.tif", "products/agc/agc_totals.csv", CALIBRATION, "work/agc/*"),
    config=("project", "mapping", "compute"),
    description="annual AGC maps (t C/ha) with each forest type's model; totals per unit and "
    "year (M6)",
)
