"""Per-pixel AGC from a fitted stratified model, block by block (requirements M6, M7).

:func:`predict_agc` maps AGC (t C/ha, float32) from a year's feature stack: every pixel is
predicted with the model of its forest type (the classified map), with the pooled model for
forest of a type that has no model of its own; NaN outside forest and where a feature the
model reads is NaN. :func:`agc_intervals` gives the split-conformal bounds of a mapped AGC.

How a block is predicted (and why it is faster than a DataFrame per block):

* Only the features the fitted models read are read: each stratum's pipeline starts with a
  feature selector (correlation, random-forest importance, PCA or none), so of the ≈ 40 stack
  bands a model of 10 selected features reads 10 (:func:`model_inputs`); the rest of the stack
  is never read from disk.
* Each model predicts on a numpy array of its own columns, with the selector step replaced by
  column indexing (the pipeline after the selector sees exactly what it saw before: the
  selector's output is those columns, in that order, of the same dtype); forest-type codes are
  compared as integers, not turned into an object array of labels.
* Blocks run in parallel on dask's threads, so each model predicts with one thread (a copy of
  any step with ``n_jobs`` ≠ 1 gets ``n_jobs = 1``), avoiding oversubscription.

The values are those of :meth:`~minecarbon.modeling.stratified.StratifiedModel.predict` on
the same pixels, clipped at 0 (AGC is not negative); the tests check this on every model kind.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from sklearn.feature_selection import SelectorMixin
from sklearn.pipeline import Pipeline

from minecarbon.errors import InputDataError, warn
from minecarbon.modeling.intervals import interval_halfwidths
from minecarbon.modeling.selection import PCASelector
from minecarbon.modeling.stratified import POOLED, StratifiedModel
from minecarbon.types import ForestType

FloatArray = npt.NDArray[np.float64]

#: Forest-type code of the classified map → the stratum label of the plots.
FOREST_TYPE_LABELS: dict[int, str] = {int(t): t.name.lower() for t in ForestType}


@dataclass(frozen=True)
class _Route:
    """How one fitted pipeline predicts from the bands: which columns, and the function."""

    columns: tuple[int, ...]
    predict: Callable[[npt.NDArray[Any]], FloatArray]


def _one_thread(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` itself, or a deep copy whose steps with ``n_jobs`` use one thread."""
    params = pipeline.get_params(deep=True)
    keys = [k for k, v in params.items() if k.endswith("n_jobs") and v not in (None, 1)]
    if not keys:
        return pipeline
    single: Pipeline = copy.deepcopy(pipeline)
    single.set_params(**dict.fromkeys(keys, 1))
    return single


def _route(pipeline: Pipeline, features: list[str]) -> tuple[list[str], Callable[..., Any]]:
    """The input features a fitted ``select → …`` pipeline reads, and a predictor on them."""
    select = pipeline.steps[0][1] if pipeline.steps[0][0] == "select" else None
    if select is not None and len(pipeline) > 1:
        rest = _one_thread(pipeline[1:])
        names = [str(f) for f in getattr(select, "feature_names_in_", features)]
        if isinstance(select, SelectorMixin):
            used = [f for f, keep in zip(names, select.get_support(), strict=True) if keep]
            return used, rest.predict
        if isinstance(select, PCASelector):
            used = [f for f, keep in zip(names, select.support_, strict=True) if keep]

            def via_pca(x: npt.NDArray[Any]) -> Any:
                scores = select.pca_.transform(select.scaler_.transform(x.astype(np.float64)))
                return rest.predict(scores)

            return used, via_pca
    whole = _one_thread(pipeline)  # an unknown first step: give it every feature, by name
    return features, lambda x: whole.predict(pd.DataFrame(x, columns=features))


def model_inputs(model: StratifiedModel) -> list[str]:
    """The features the fitted models read, in :attr:`StratifiedModel.features` order.

    The union over the pooled model and the strata's own models of the inputs their feature
    selectors keep: the bands of a stack :func:`predict_agc` reads.
    """
    used: set[str] = set()
    for fit in [model.pooled, *model.strata.values()]:
        if fit.pipeline is not None:
            used.update(_route(fit.pipeline, list(model.features))[0])
    return [f for f in model.features if f in used]


def _plan(model: StratifiedModel, bands: list[str], labels: Mapping[int, str]) -> dict[str, Any]:
    """Routes (one per distinct fitted pipeline), and each map code's route."""
    routes: list[_Route] = []
    seen: dict[int, int] = {}

    def route_of(label: Any) -> int:
        pipe = model.model_for(label).pipeline
        if pipe is None:  # a fallback fit without a pipeline: the pooled model
            pipe = model.pooled.pipeline
        assert pipe is not None
        if id(pipe) not in seen:
            used, predict = _route(pipe, list(model.features))
            seen[id(pipe)] = len(routes)
            routes.append(_Route(tuple(bands.index(f) for f in used), predict))
        return seen[id(pipe)]

    return {
        "routes": routes,
        "pooled": route_of(POOLED),
        "codes": {code: route_of(label) for code, label in labels.items()},
        "unseen": {code: label for code, label in labels.items() if label not in model.strata},
    }


def _block(ftype: npt.NDArray[Any], inside: npt.NDArray[Any], *bands: npt.NDArray[Any],
           plan: dict[str, Any]) -> npt.NDArray[np.float32]:
    """AGC of one block: each pixel's route, NaN outside forest or with a NaN band."""
    out = np.full(ftype.shape, np.nan, dtype=np.float32)
    ok = np.asarray(inside, dtype=bool).ravel().copy()
    for band in bands:
        ok &= np.isfinite(band.ravel())
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    codes = ftype.ravel()[idx]
    which = np.full(idx.size, plan["pooled"], dtype=np.intp)
    for code, index in plan["codes"].items():
        which[codes == code] = index
    unseen = [label for code, label in plan["unseen"].items() if (codes == code).any()]
    if unseen:
        warn(f"strata with no plots use the pooled model: {', '.join(unseen)}",
             UserWarning, stacklevel=2)
    flat = out.reshape(-1)
    for r in np.unique(which):
        rows = idx[which == r]
        route: _Route = plan["routes"][r]
        x = np.stack([bands[c].ravel()[rows] for c in route.columns], axis=1)
        flat[rows] = np.clip(route.predict(x), 0.0, None)
    return out


def predict_agc(
    model: StratifiedModel,
    stack: xr.Dataset,
    forest_type: xr.DataArray,
    forest: xr.DataArray,
    *,
    labels: Mapping[int, str] | None = None,
) -> xr.DataArray:
    """AGC (t C/ha, float32) with each pixel's forest-type model; NaN outside forest.

    Lazy on dask input (one task per block); the blocks are those of the stack's bands.

    Parameters
    ----------
    model
        A fitted :class:`~minecarbon.modeling.stratified.StratifiedModel` (strata labelled
        as the plots' forest types, e.g. ``"coniferous"``).
    stack
        The year's feature stack (variables on dims ``y, x``), e.g. from
        :func:`minecarbon.io.raster.read_stack`; only :func:`model_inputs` are read.
    forest_type
        Forest-type codes per pixel (:class:`~minecarbon.types.ForestType`); a code without
        a label, or a label without a model of its own, uses the pooled model (labels with no
        plots at all are named in a warning).
    forest
        True where the pixel is forest; elsewhere the AGC is NaN.
    labels
        Code → stratum label (default :data:`FOREST_TYPE_LABELS`).

    Returns
    -------
    xarray.DataArray
        ``agc_t_per_ha`` on the grid of the inputs, attribute ``units = "t C/ha"``; NaN
        outside forest and where a band the model reads is NaN; never negative.

    Raises
    ------
    InputDataError
        The stack lacks features the model reads.

    """
    bands = model_inputs(model)
    missing = [f for f in bands if f not in stack]
    if missing:
        raise InputDataError(f"the feature stack lacks model features {missing}",
                             fix="re-run the features step with the configuration the models "
                             "were fitted with")
    plan = _plan(model, bands, FOREST_TYPE_LABELS if labels is None else labels)
    agc: xr.DataArray = xr.apply_ufunc(
        _block, forest_type, forest, *(stack[f] for f in bands), kwargs={"plan": plan},
        dask="parallelized", output_dtypes=[np.float32])
    return agc.rename("agc_t_per_ha").assign_attrs(units="t C/ha")


def agc_intervals(
    model: StratifiedModel,
    agc: xr.DataArray,
    forest_type: xr.DataArray,
    level: float,
    *,
    labels: Mapping[int, str] | None = None,
) -> dict[str, xr.DataArray]:
    """Split-conformal bounds of a mapped AGC: each forest type's half-width (M7).

    The half-width of a pixel is that of its forest type's model
    (:func:`~minecarbon.modeling.intervals.interval_halfwidths`, from the out-of-fold
    residuals; the pooled model's for other codes); the lower bound is clipped at 0.

    Returns
    -------
    dict
        ``"lower"`` and ``"upper"`` (float32, t C/ha, NaN where ``agc`` is NaN), with the
        level and method as attributes.

    """
    widths = interval_halfwidths(model, level)
    half = xr.zeros_like(agc) + widths[POOLED]
    for code, label in (FOREST_TYPE_LABELS if labels is None else labels).items():
        if label in widths:
            half = half.where(forest_type != code, widths[label])
    lower = (agc - half).clip(min=0.0).where(agc.notnull())
    upper = (agc + half).where(agc.notnull())
    attrs = {"units": "t C/ha", "interval_level": str(level),
             "method": "split-conformal, out-of-fold residuals per forest type"}
    return {"lower": lower.astype("float32").assign_attrs(attrs),
            "upper": upper.astype("float32").assign_attrs(attrs)}
