"""Block-wise prediction of a fitted estimator over a feature stack (C1, C3, M6).

Each (y, x) block of the stack becomes a table of pixels × features; only the pixels where every
feature is finite (and the mask, if given, is true) go to the estimator, in batches of bounded
size; the others get ``fill``. On dask input the result is lazy, one task per block; coordinates
(the ``spatial_ref`` CRS coordinate included) are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from minecarbon.errors import GridMismatchError, InputDataError

Method = Literal["predict", "predict_proba"]

#: Pixels per call of the estimator: bounds the memory of a prediction within a block.
BATCH_PIXELS = 262_144


def model_features(estimator: Any, features: Sequence[str] | None) -> tuple[list[str], bool]:
    """The feature names in the order the estimator expects, and whether it wants a DataFrame.

    ``features_`` (minecarbon's classifiers) or ``feature_names_in_`` (a scikit-learn
    estimator fitted on a DataFrame) fix the order; ``features`` may then list the same names in
    any order. Otherwise ``features`` is required and taken in its own order.
    """
    own = getattr(estimator, "features_", None)
    seen = getattr(estimator, "feature_names_in_", None)
    expected = own if own is not None else seen
    if expected is None:
        if features is None:
            raise InputDataError(
                f"{type(estimator).__name__} does not record its feature names",
                fix="pass features=[...] in the order the estimator was fitted with")
        return [str(f) for f in features], False
    names = [str(f) for f in expected]
    if features is not None and set(map(str, features)) != set(names):
        raise InputDataError(
            f"features {sorted(map(str, features))} differ from those the estimator was fitted "
            f"with {sorted(names)}", fix="pass the estimator's features (or features=None)")
    return names, own is None


def _feature_array(stack: xr.Dataset, features: list[str]) -> xr.DataArray:
    missing = [f for f in features if f not in stack.data_vars]
    if missing:
        raise InputDataError(
            f"the feature stack lacks the model's features {missing} "
            f"(it has {sorted(map(str, stack.data_vars))})",
            fix="build the stack with the same feature settings as the training samples")
    for name in features:
        if set(stack[name].dims) != {"y", "x"}:
            raise InputDataError(f"feature {name!r} has dims {stack[name].dims}, not (y, x)",
                                 fix="select one time step or band of it first")
    array = stack[features].to_dataarray("feature").transpose("y", "x", "feature")
    if array.chunks is not None:
        array = array.chunk({"feature": -1})
    return array


def align_mask(mask: xr.DataArray, like: xr.DataArray) -> xr.DataArray:
    if set(mask.dims) != {"y", "x"} or mask.sizes["y"] != like.sizes["y"] or \
            mask.sizes["x"] != like.sizes["x"]:
        raise GridMismatchError(
            f"the mask {dict(mask.sizes)} is not on the grid of the stack {dict(like.sizes)}",
            fix="resample the mask onto the stack's grid")
    for dim in ("y", "x"):
        if dim in mask.coords and dim in like.coords and not np.allclose(
                mask[dim].values, like[dim].values, rtol=0.0, atol=1e-6):
            raise GridMismatchError(f"the mask has other {dim} coordinates than the stack",
                                    fix="resample the mask onto the stack's grid")
    out = mask.transpose("y", "x").astype(bool).drop_vars(
        [c for c in mask.coords if c not in ("y", "x")])
    out = out.assign_coords(y=like["y"], x=like["x"]) if "y" in like.coords else out
    if like.chunks is not None:
        out = out.chunk({"y": like.chunks[0], "x": like.chunks[1]})
    return out


def _predict_block(
    values: npt.NDArray[Any],
    mask: npt.NDArray[np.bool_] | None,
    *,
    estimator: Any,
    method: Method,
    columns: list[str] | None,
    dtype: np.dtype[Any],
    fill: float,
    n_out: int,
    batch: int,
) -> npt.NDArray[Any]:
    shape = values.shape[:-1]
    flat = values.reshape(-1, values.shape[-1])
    valid = np.isfinite(flat).all(axis=1)
    if mask is not None:
        valid &= np.broadcast_to(mask, shape).reshape(-1)
    extra = (n_out,) if method == "predict_proba" else ()
    out = np.full((flat.shape[0], *extra), fill, dtype=dtype)
    rows = np.flatnonzero(valid)
    predict = getattr(estimator, method)
    for start in range(0, rows.size, batch):
        take = rows[start:start + batch]
        table: Any = flat[take] if columns is None else pd.DataFrame(flat[take], columns=columns)
        out[take] = predict(table)
    return out.reshape(*shape, *extra)


def predict_blocks(
    estimator: Any,
    stack: xr.Dataset,
    features: Sequence[str] | None = None,
    *,
    dtype: npt.DTypeLike = np.float32,
    fill: float = np.nan,
    method: Method = "predict",
    mask: xr.DataArray | None = None,
    batch: int = BATCH_PIXELS,
) -> xr.DataArray:
    """Apply a fitted estimator to every pixel of a feature stack, block by block.

    Parameters
    ----------
    estimator
        A fitted scikit-learn style estimator (classifier or regressor).
    stack
        Feature stack: variables with dims (y, x), numpy- or dask-backed.
    features
        Feature names in the estimator's order; default the estimator's ``features_`` or
        ``feature_names_in_`` (then ``features`` may only reorder the same names).
    dtype, fill
        Output dtype and the value of pixels not predicted (a feature not finite, or outside
        ``mask``): e.g. ``uint8`` and 0 for class codes, ``float32`` and NaN for regression.
    method
        ``"predict"`` → dims (y, x); ``"predict_proba"`` → dims (class, y, x), the ``class``
        coordinate holding ``estimator.classes_``.
    mask
        Boolean (y, x) on the stack's grid; pixels where it is false are not predicted.
    batch
        Pixels per estimator call (bounds memory within a block).

    Returns
    -------
    xarray.DataArray
        Lazy on dask input (one task per (y, x) chunk), with the stack's coordinates.

    Raises
    ------
    InputDataError
        If a feature is missing from the stack or is not (y, x).
    GridMismatchError
        If the mask is not on the stack's grid.

    """
    if method not in ("predict", "predict_proba"):
        raise InputDataError(f"method {method!r} is neither 'predict' nor 'predict_proba'",
                             fix="use method='predict' or method='predict_proba'")
    names, wants_frame = model_features(estimator, features)
    values = _feature_array(stack, names)
    out_dtype = np.dtype(dtype)
    kwargs: dict[str, Any] = {
        "estimator": estimator, "method": method, "columns": names if wants_frame else None,
        "dtype": out_dtype, "fill": fill, "batch": max(1, int(batch)), "n_out": 0,
    }
    core: list[list[str]] = [[]]
    sizes: dict[str, int] = {}
    if method == "predict_proba":
        classes = np.asarray(estimator.classes_)
        kwargs["n_out"] = len(classes)
        core, sizes = [["class"]], {"class": len(classes)}
    inputs: list[xr.DataArray] = [values]
    if mask is not None:
        inputs.append(align_mask(mask, values))

    def block(v: npt.NDArray[Any], m: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[Any]:
        return _predict_block(v, m, **kwargs)

    result: xr.DataArray = xr.apply_ufunc(
        block, *inputs,
        input_core_dims=[["feature"]] + [[] for _ in inputs[1:]],
        output_core_dims=core,
        dask="parallelized",
        output_dtypes=[out_dtype],
        dask_gufunc_kwargs={"output_sizes": sizes} if sizes else None,
    )
    if method == "predict_proba":
        result = result.assign_coords({"class": classes}).transpose("class", "y", "x")
    return result
