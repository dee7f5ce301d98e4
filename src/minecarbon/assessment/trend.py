"""Trend of an annual series per pixel: Sen's slope and the Mann–Kendall test (A2, "Sen+MK").

:func:`sen_mk` takes a stack with a time dimension (``year`` by default) and returns, per pixel,
Sen's slope and intercept, the Mann–Kendall S, its tie-corrected variance, Z (continuity
corrected), the two-sided p-value, Kendall's tau-a and a five-level trend class
(:class:`TrendClass`, labels in Chinese and English in :data:`TREND_LABELS`).

The numbers are those of pymannkendall's ``original_test`` and ``sens_slope`` (the oracle of the
tests), with one generalisation: the slope's x is the *coordinate* of the time dimension (years),
so a missing year in the stack is a gap of two years, not one step. With consecutive annual
coordinates (or NaN years inside a consecutive stack) this is exactly pymannkendall's
slope per index step. See ``docs/trend.md`` for the formulas, sources and conventions.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.assessment._mk_kernel import NODATA, OUTPUTS, sen_mk_block
from minecarbon.errors import InputDataError

__all__ = ["NODATA", "TREND_LABELS", "TrendClass", "sen_mk"]

#: Fewest valid years for which the Mann–Kendall test is computed at all.
MIN_YEARS = 4


class TrendClass(IntEnum):
    """Trend class codes of :func:`sen_mk` (``trend_class``); :data:`NODATA` = −128."""

    SIGNIFICANT_DECREASE = -2
    SLIGHT_DECREASE = -1
    STABLE = 0
    SLIGHT_INCREASE = 1
    SIGNIFICANT_INCREASE = 2


#: Labels of the trend classes: code → (Chinese, English); the nodata code included.
TREND_LABELS: dict[int, tuple[str, str]] = {
    TrendClass.SIGNIFICANT_INCREASE: ("显著增加", "significant increase"),
    TrendClass.SLIGHT_INCREASE: ("轻微增加", "slight increase"),
    TrendClass.STABLE: ("稳定不变", "stable"),
    TrendClass.SLIGHT_DECREASE: ("轻微减少", "slight decrease"),
    TrendClass.SIGNIFICANT_DECREASE: ("显著减少", "significant decrease"),
    NODATA: ("无数据", "no data (too few valid years)"),
}

_LONG_NAMES = {
    "slope": "Sen's slope (median of pairwise slopes over the {dim} coordinate)",
    "intercept": "intercept of the Sen line at {dim} = {t0} (pymannkendall convention)",
    "s": "Mann-Kendall S",
    "var_s": "variance of S, tie-corrected",
    "z": "Mann-Kendall Z, continuity-corrected",
    "p": "two-sided p-value of Z",
    "tau": "Kendall's tau-a = S / (n(n-1)/2)",
}


def _time_coordinate(stack: xr.DataArray, dim: str) -> npt.NDArray[np.float64]:
    if dim not in stack.coords:
        return np.arange(stack.sizes[dim], dtype=np.float64)
    coord = stack[dim].values
    if coord.dtype.kind not in "iuf":
        raise InputDataError(
            f"the coordinate {dim!r} of the stack has dtype {coord.dtype}, not numeric years",
            fix=f"give {dim!r} integer years, e.g. stack.assign_coords({dim}=stack['{dim}']"
                ".dt.year) for dates")
    t = coord.astype(np.float64)
    if not np.all(np.isfinite(t)):
        raise InputDataError(f"the coordinate {dim!r} of the stack has missing values",
                             fix=f"label every layer of {dim!r} with its year")
    if np.unique(t).size != t.size:
        raise InputDataError(
            f"the coordinate {dim!r} of the stack repeats a value: {coord.tolist()}",
            fix=f"composite the layers to one per {dim} first")
    return t


def _validate(stack: Any, dim: str, alpha: float, min_count: int) -> None:
    if not isinstance(stack, xr.DataArray):
        raise InputDataError(f"sen_mk needs an xarray.DataArray stack, got {type(stack).__name__}",
                             fix="pass one variable, e.g. ds['agc']")
    if dim not in stack.dims:
        raise InputDataError(
            f"the stack has no dimension {dim!r} (its dimensions are {list(stack.dims)})",
            fix=f"pass dim= one of {list(stack.dims)} or rename the time dimension to {dim!r}")
    n_years = stack.sizes[dim]
    if n_years < MIN_YEARS:
        raise InputDataError(
            f"the stack has {n_years} layers along {dim!r}; the Mann-Kendall test needs at "
            f"least {MIN_YEARS}", fix=f"give at least {MIN_YEARS} years")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) \
            or min_count < MIN_YEARS:
        raise InputDataError(f"min_count = {min_count!r} is not an integer >= {MIN_YEARS}",
                             fix=f"pass min_count >= {MIN_YEARS}")
    if min_count > n_years:
        raise InputDataError(
            f"min_count = {min_count} exceeds the {n_years} layers along {dim!r}: every pixel "
            "would be no data", fix=f"pass min_count <= {n_years}")
    if not 0.0 < float(alpha) < 1.0:
        raise InputDataError(f"alpha = {alpha!r} is not a significance level in (0, 1)",
                             fix="pass e.g. alpha=0.05")


def _ufunc(values: npt.NDArray[Any], *, t: npt.NDArray[np.float64], min_count: int,
           alpha: float, parallel: bool) -> tuple[npt.NDArray[Any], ...]:
    """Kernel over an array with the time axis last; 7 float outputs and the class codes."""
    shape = values.shape[:-1]
    out, codes = sen_mk_block(values.reshape(-1, values.shape[-1]), t, min_count, alpha,
                              parallel=parallel)
    return (*(out[:, k].reshape(shape) for k in range(len(OUTPUTS))), codes.reshape(shape))


def sen_mk(stack: xr.DataArray, dim: str = "year", alpha: float = 0.05,
           min_count: int = 4) -> xr.Dataset:
    """Sen's slope and the Mann–Kendall trend test for every pixel of a stack.

    Parameters
    ----------
    stack
        Values per pixel and year, e.g. AGC density (t C/ha) with dims ``(year, y, x)``;
        numpy- or dask-backed. NaN (or ±inf) years are skipped per pixel. With a coordinate
        on ``dim`` it gives the x of the slope (numeric years, any order, no repeats); without
        one x is the position 0 … n−1.
    dim
        The time dimension.
    alpha
        Significance level: ``p < alpha`` is a significant trend (class ±2).
    min_count
        Fewest valid years for a result (at least 4); pixels with fewer get NaN and class
        :data:`NODATA` (−128).

    Returns
    -------
    xarray.Dataset
        On the stack's other dims and coordinates (the CRS coordinate ``spatial_ref`` kept):
        float64 ``slope`` (units of the stack per unit of ``dim``), ``intercept``, ``s``,
        ``var_s``, ``z``, ``p``, ``tau`` and int8 ``trend_class`` (:class:`TrendClass`).
        Lazy when the stack is dask-backed (``dim`` is rechunked to one chunk).

    Raises
    ------
    InputDataError
        If ``dim`` is not a dimension of the stack, the stack has fewer than 4 layers along
        it, its coordinate is not numeric or repeats a year, ``min_count`` < 4 or more than the
        layers, or ``alpha`` is not in (0, 1).

    Notes
    -----
    Per pixel, with the n valid years in time order (Mann 1945; Kendall 1975; Gilbert 1987;
    Sen 1968; as pymannkendall ``original_test`` and ``sens_slope``):
    S = Σ_{i<j} sign(v_j − v_i); Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 over groups of t
    tied values; Z = (S ∓ 1)/√Var(S) (0 when S = 0); p = 2[1 − Φ(|Z|)]; τ = S/[n(n−1)/2];
    slope = median of (v_j − v_i)/(x_j − x_i); intercept = median(v) − slope·median(x − x₀),
    x₀ the first coordinate of ``dim`` (so with consecutive years x − x₀ is pymannkendall's
    0-based index). The class is stable (0) when slope = 0, S = 0 or their signs differ,
    else ±1 by the sign of the slope, ±2 when also p < alpha.

    """
    _validate(stack, dim, alpha, min_count)
    t = _time_coordinate(stack, dim)
    if np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        stack = stack.isel({dim: order})
        t = t[order]
    data = stack
    is_dask = stack.chunks is not None
    if is_dask:
        data = stack.chunk({dim: -1})
    names = (*OUTPUTS, "trend_class")
    results = xr.apply_ufunc(
        _ufunc, data, input_core_dims=[[dim]], output_core_dims=[[] for _ in names],
        dask="parallelized", output_dtypes=[*(np.float64 for _ in OUTPUTS), np.int8],
        kwargs={"t": t, "min_count": int(min_count), "alpha": float(alpha),
                "parallel": not is_dask},
        keep_attrs=False,
    )
    t0 = stack[dim].values[0].item() if dim in stack.coords else 0
    units = stack.attrs.get("units")
    variables = {}
    for name, result in zip(names, results, strict=True):
        attrs: dict[str, Any]
        if name == "trend_class":
            attrs = {"long_name": "trend class (Sen's slope sign and Mann-Kendall p < alpha)",
                     "nodata": NODATA, "alpha": float(alpha),
                     "classes": "; ".join(f"{code}: {zh} / {en}"
                                          for code, (zh, en) in TREND_LABELS.items())}
        else:
            attrs = {"long_name": _LONG_NAMES[name].format(dim=dim, t0=t0)}
        if units is not None and name == "slope":
            attrs["units"] = f"{units} per {dim}"
        elif units is not None and name == "intercept":
            attrs["units"] = str(units)
        variables[name] = result.rename(name).assign_attrs(attrs)
    # apply_ufunc drops the attrs of coordinates too (the CRS WKT of ``spatial_ref``): put back
    # the stack's own coordinates
    kept = {name: stack.coords[name] for name in results[0].coords if name in stack.coords}
    variables = {name: var.assign_coords(kept) for name, var in variables.items()}
    return xr.Dataset(variables, attrs={
        "method": "Sen's slope + Mann-Kendall (original test, tie-corrected variance, "
                  "continuity-corrected Z, two-sided p)",
        "time_dim": dim, "x_origin": t0, "alpha": float(alpha), "min_count": int(min_count),
    })
