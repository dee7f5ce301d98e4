"""Pipeline steps of the modelling and mapping stages (M1–M7).

``models``: the plots' area-weighted features (``products/features/plot_features.csv``) and
their AGC (``products/plots/plot_agc.csv``) go into a nested cross-validation of every model
kind per forest type, with a pooled model for forest types with too few plots →
``products/models/cv_results.csv``, ``selected_features.csv``, ``model_card.json`` and the
fitted model in ``work/models/agc_model.joblib``.

``mapping``: every year's feature stack is predicted with the model of each pixel's forest type
(the classified map), block by block → ``products/agc/agc_<year>.tif`` (t C/ha, NaN outside
forest), and the totals per assessment unit and year → ``products/agc/agc_totals.csv``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError, warn
from minecarbon.io.raster import read_on_grid, read_stack, write_geotiff
from minecarbon.io.tables import read_table, write_csv
from minecarbon.modeling.intervals import interval_halfwidths
from minecarbon.modeling.persistence import load_model, save_model, sidecar_path
from minecarbon.modeling.stratified import POOLED, StratifiedModel, fit_stratified
from minecarbon.pipeline.classify_steps import FOREST_TYPE, LANDCOVER
from minecarbon.pipeline.feature_steps import STACK
from minecarbon.pipeline.scope_steps import load_grid
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.types import ForestType, LandCover

MODEL_FILE = "work/models/agc_model.joblib"
AGC = "products/agc/agc_{year}.tif"
AGC_INTERVAL = "products/agc/agc_{year}_{side}.tif"
STRATUM = {int(t): t.name.lower() for t in ForestType}  # map code → plot label


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
    return table


def _models(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config.modeling
    table = _plot_table(ctx)
    forest = table[table["stratum"] != ""]
    if len(forest) < table.shape[0]:
        warn(f"{table.shape[0] - len(forest)} plots without a forest type are left out of the "
             "AGC models (non-forest plots)", stacklevel=2)
    features = [c for c in table.columns if c not in {
        "plot_id", "year", "agc_t_per_ha", "forest_type", "stratum", "valid_fraction"}]
    params: dict[str, Any] = {}
    if cfg.selection_method in ("correlation", "rf_importance"):
        params["k"] = cfg.n_features
    if cfg.selection_method == "correlation":
        params["max_collinearity"] = cfg.max_collinearity
    model = fit_stratified(
        forest, "agc_t_per_ha", "stratum", features, kinds=[str(k) for k in cfg.models],
        selector_method=cfg.selection_method, selector_params=params,
        k_folds=cfg.k_folds, inner_folds=cfg.inner_folds,
        min_plots=cfg.min_plots_per_stratum, seed=cfg.seed, n_jobs=cfg.n_jobs)
    cv, selected = model.cv_results, model.selected_features
    card = model.model_card_json()
    ctx.publish("products/models/cv_results.csv", lambda tmp: write_csv(cv, tmp),
                kind="product:cv_results")
    ctx.publish("products/models/selected_features.csv", lambda tmp: write_csv(selected, tmp),
                kind="product:selected_features")
    ctx.publish("products/models/model_card.json",
                lambda tmp: tmp.write_text(card, encoding="utf-8"), kind="product:model_card")
    staging = ws.path("work/models/staging") / Path(MODEL_FILE).name
    shutil.rmtree(staging.parent, ignore_errors=True)
    save_model(model, staging)  # the model and its JSON sidecar, then both catalogued
    ctx.publish(MODEL_FILE, lambda tmp: os.replace(staging, tmp), kind="work:agc_model")
    side = sidecar_path(Path(MODEL_FILE)).as_posix()
    ctx.publish(side, lambda tmp: os.replace(sidecar_path(staging), tmp),
                kind="work:agc_model_card")
    shutil.rmtree(staging.parent, ignore_errors=True)


def _agc_map(model: StratifiedModel, stack: xr.Dataset, forest_type: xr.DataArray,
             forest: xr.DataArray) -> xr.DataArray:
    """AGC (t C/ha, float32) with each pixel's forest-type model; NaN outside forest."""
    features = list(model.features)
    missing = [f for f in features if f not in stack]
    if missing:
        raise InputDataError(f"the feature stack lacks model features {missing}",
                             fix="re-run the features step with the configuration the models "
                             "were fitted with")
    values = xr.concat([stack[f] for f in features], dim="feature").transpose("y", "x", "feature")
    values = values.chunk({"feature": -1})

    def block(v: np.ndarray, ftype: np.ndarray, inside: np.ndarray) -> np.ndarray:
        out = np.full(v.shape[:2], np.nan, np.float32)
        flat = v.reshape(-1, v.shape[-1])
        ok = inside.ravel() & np.isfinite(flat).all(axis=1)
        if ok.any():
            strata = np.array([STRATUM.get(int(c), POOLED) for c in ftype.ravel()[ok]],
                              dtype=object)  # forest of no known type: the pooled model
            frame = pd.DataFrame(flat[ok], columns=features)
            out.ravel()[ok] = np.clip(model.predict(frame, strata), 0.0, None)
        return out

    agc: xr.DataArray = xr.apply_ufunc(block, values, forest_type, forest,
                                       input_core_dims=[["feature"], [], []],
                                       dask="parallelized", output_dtypes=[np.float32])
    return agc.rename("agc_t_per_ha").assign_attrs(units="t C/ha")


def _mapping(ctx: StepContext) -> None:
    ws = ctx.workspace
    cfg = ctx.config
    chunk = cfg.compute.chunk_px
    grid = load_grid(ws.root)
    model = load_model(ws.path(MODEL_FILE))
    totals: list[pd.DataFrame] = []
    for year in range(cfg.project.first_year, cfg.project.last_year + 1):
        stack_path = ws.path(STACK.format(year=year))
        ftype_path = ws.path(FOREST_TYPE.format(year=year))
        if not stack_path.exists() or not ftype_path.exists():
            warn(f"year {year}: no feature stack or forest-type map; no AGC map", stacklevel=2)
            continue
        stack = read_stack(stack_path, chunks=chunk)
        ftype = read_on_grid(ftype_path, grid, chunks=chunk, masked=False)
        lc = read_on_grid(ws.path(LANDCOVER.format(year=year)), grid, chunks=chunk,
                          masked=False)
        agc = _agc_map(model, stack, ftype, lc == int(LandCover.FOREST))
        agc = agc.rio.write_crs(grid.crs)
        rel = AGC.format(year=year)
        ctx.publish(rel, lambda tmp, a=agc: write_geotiff(a, tmp),  # type: ignore[misc]
                    kind="product:agc", time=str(year))
        if cfg.mapping.prediction_intervals:
            written = read_on_grid(ws.path(rel), grid, chunks=chunk)
            for side, band in _interval(model, written, ftype, cfg.mapping.interval_level):
                ctx.publish(AGC_INTERVAL.format(year=year, side=side),
                            lambda tmp, b=band: write_geotiff(b, tmp),  # type: ignore[misc]
                            kind=f"product:agc_{side}", time=str(year))
        totals.append(_totals(ws.root, ws.path(rel), grid, year, chunk))
    if totals:
        table = pd.concat(totals, ignore_index=True)
        ctx.publish("products/agc/agc_totals.csv", lambda tmp: write_csv(table, tmp),
                    kind="product:agc_totals")


def _interval(model: StratifiedModel, agc: xr.DataArray, forest_type: xr.DataArray,
              level: float) -> list[tuple[str, xr.DataArray]]:
    """Split-conformal bounds: each forest type's half-width from its out-of-fold residuals."""
    widths = interval_halfwidths(model, level)
    half = xr.zeros_like(agc) + widths[POOLED]
    for code, label in STRATUM.items():
        if label in widths:
            half = half.where(forest_type != code, widths[label])
    lower = (agc - half).clip(min=0.0).where(agc.notnull())
    upper = (agc + half).where(agc.notnull())
    attrs = {"units": "t C/ha", "interval_level": str(level),
             "method": "split-conformal, out-of-fold residuals per forest type"}
    return [("lower", lower.astype("float32").assign_attrs(attrs)),
            ("upper", upper.astype("float32").assign_attrs(attrs))]


def _totals(root: Path, agc_path: Path, grid: Any, year: int, chunk: int) -> pd.DataFrame:
    """Total AGC (t C), forest area and mean density per level-2 unit of the year.

    Sums per unit code with dask's bincount, block by block (unit codes are uint8).
    """
    import dask.array as dsa
    from dask.base import compute

    agc = read_on_grid(agc_path, grid, chunks=chunk).data
    unit_path = root / f"products/units/units_l2_{year}.tif"
    units = (read_on_grid(unit_path, grid, chunks=chunk, masked=False).data.astype("int64")
             if unit_path.exists() else dsa.zeros(agc.shape, dtype="int64", chunks=agc.chunks))
    ok = dsa.isfinite(agc)
    codes = dsa.where(ok, units, 0).ravel()
    weights = dsa.where(ok, agc, 0.0).astype("float64").ravel()
    count, total = compute(  # type: ignore[no-untyped-call]
        dsa.bincount(codes, weights=ok.ravel().astype("float64"), minlength=256),
        dsa.bincount(codes, weights=weights, minlength=256))
    present = np.flatnonzero(count > 0)
    area = grid.pixel_area_ha
    return pd.DataFrame({
        "year": year, "unit_l2": present,
        "agc_t_per_ha": np.round(total[present] / count[present], 3),
        "area_ha": np.round(count[present] * area, 4),
        "agc_t": np.round(total[present] * area, 3),
    })


MODELS = Step(
    "models",
    _models,
    needs=("plots", "features"),
    makes=("products/models/cv_results.csv", "products/models/selected_features.csv",
           "products/models/model_card.json", "work/models/*"),
    config=("modeling",),
    description="AGC models per forest type: feature selection, SVR/RF/GBDT/XGBoost, nested "
    "k-fold CV, best model per stratum with a pooled fallback (M1–M5)",
)

MAPPING = Step(
    "mapping",
    _mapping,
    needs=("models", "classify", "units"),
    makes=("products/agc/agc_*.tif", "products/agc/agc_totals.csv"),
    config=("project", "mapping", "compute"),
    description="annual AGC maps (t C/ha) with each forest type's model; totals per unit and "
    "year (M6)",
)
