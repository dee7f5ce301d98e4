"""Fitting height–diameter models: one form (:func:`fit_hd`), all four, and the best one.

Part of :mod:`minecarbon.allometry.height`. The log forms are fitted by OLS on logs, the
Weibull and Michaelis–Menten forms by bounded nonlinear least squares in metres from several
starting values; :func:`compare_hd` tabulates all four and :func:`best_hd` picks the one with
the smallest RSE in metres, as the module docstring of :mod:`minecarbon.allometry.height`
explains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from minecarbon.allometry._hd_model import (
    METHODS,
    PARAM_NAMES,
    HDMethod,
    HDModel,
    _dbh,
    _michaelis,
    _pair,
    _weibull,
)
from minecarbon.errors import InputDataError

FloatArray = NDArray[np.float64]


class _FitFailedError(Exception):
    """A form could not be fitted to these data (too few trees, singular, no convergence)."""


def _fit_log(method: HDMethod, dbh: FloatArray, height: FloatArray) -> tuple[FloatArray, float]:
    """OLS of ln H on powers of ln D; returns (coefficients, RSElog)."""
    degree = 1 if method == "log1" else 2
    n, p = dbh.size, degree + 1
    if n <= p:
        raise _FitFailedError(f"{method} needs more than {p} trees with a height, got {n}")
    log_d = np.log(dbh)
    design = np.column_stack([log_d**k for k in range(p)])
    coefficients, _, rank, _ = np.linalg.lstsq(design, np.log(height), rcond=None)
    if rank < p:
        raise _FitFailedError(f"{method}: too few distinct diameters to fit {p} parameters")
    residuals = np.log(height) - design @ coefficients
    rse_log = float(np.sqrt(residuals @ residuals / (n - p)))
    return np.asarray(coefficients, dtype=np.float64), rse_log


#: Upper bounds of the nonlinear fits, as multiples of the tallest tree (asymptote a or A), of
#: the largest D (scale b or B), and for the Weibull shape c. Far outside any plausible fit, they
#: keep a fit on data with no asymptote (where a, b → ∞) from running away; such a fit ends on a
#: bound as the best constrained least-squares fit.
_MAX_ASYMPTOTE_X_HEIGHT: Final = 10.0
_MAX_SCALE_X_DBH: Final = 100.0
_MAX_WEIBULL_SHAPE: Final = 20.0


def _least_squares(
    model: Callable[[FloatArray, FloatArray], FloatArray],
    starts: list[FloatArray],
    upper: FloatArray,
    dbh: FloatArray,
    height: FloatArray,
) -> FloatArray:
    """Nonlinear least squares in metres from each start, 0 < x ≤ upper; the best wins."""
    lower = np.full(upper.size, 1e-10)

    def residuals(x: FloatArray) -> FloatArray:
        return model(x, dbh) - height

    best: tuple[float, FloatArray] | None = None
    for start in starts:
        x0 = np.clip(start, 1e-6, upper * (1.0 - 1e-6))
        if not np.all(np.isfinite(residuals(x0))):
            continue
        result: Any = least_squares(
            residuals,
            x0,
            bounds=(lower, upper),
            method="trf",
            x_scale="jac",
            ftol=1e-14,
            xtol=1e-14,
            gtol=1e-14,
            max_nfev=2_000,
        )
        x = np.asarray(result.x, dtype=np.float64)
        if result.status <= 0 or not np.all(np.isfinite(x)):
            continue
        cost = float(result.cost)
        if np.isfinite(cost) and (best is None or cost < best[0]):
            best = (cost, x)
    if best is None:
        raise _FitFailedError("the nonlinear least-squares fit did not converge")
    return best[1]


def _linear_fit(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    """Intercept and slope of the OLS line of y on x."""
    design = np.column_stack([np.ones_like(x), x])
    (intercept, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(intercept), float(slope)


def _weibull_starts(dbh: FloatArray, height: FloatArray) -> list[FloatArray]:
    """Starting values: the linearised Weibull at asymptotes just above the tallest tree."""
    starts = []
    for factor in (1.05, 1.5):
        a0 = factor * float(height.max())
        z = np.log(-np.log1p(-height / a0))
        intercept, c0 = _linear_fit(np.log(dbh), z)
        if np.isfinite(c0) and c0 > 0:
            starts.append(np.array([a0, float(np.exp(-intercept / c0)), c0]))
    starts.append(np.array([float(height.max()), float(np.median(dbh)), 1.0]))
    return starts


def _michaelis_starts(dbh: FloatArray, height: FloatArray) -> list[FloatArray]:
    """Starting values: the Lineweaver–Burk line 1/H = 1/A + (B/A)(1/D), and a plain guess."""
    starts = []
    inv_a, b_over_a = _linear_fit(1.0 / dbh, 1.0 / height)
    if inv_a > 0 and b_over_a > 0:
        starts.append(np.array([1.0 / inv_a, b_over_a / inv_a]))
    starts.append(np.array([float(height.max()), float(np.median(dbh))]))
    return starts


def _fit(method: HDMethod, dbh_all: FloatArray, height_all: FloatArray) -> HDModel:
    """Fit ``method`` on the trees with a height; may raise :class:`_FitFailedError`."""
    measured = ~np.isnan(height_all)
    dbh, height = dbh_all[measured], height_all[measured]
    n, p = dbh.size, len(PARAM_NAMES[method])
    if n <= p:
        raise _FitFailedError(f"{method} needs more than {p} trees with a height, got {n}")
    rse_log: float | None = None
    if method in ("log1", "log2"):
        params, rse_log = _fit_log(method, dbh, height)
    else:
        max_a = _MAX_ASYMPTOTE_X_HEIGHT * float(height.max())
        max_b = _MAX_SCALE_X_DBH * float(dbh.max())
        if method == "weibull":
            upper = np.array([max_a, max_b, _MAX_WEIBULL_SHAPE])
            params = _least_squares(_weibull, _weibull_starts(dbh, height), upper, dbh, height)
        else:
            upper = np.array([max_a, max_b])
            params = _least_squares(_michaelis, _michaelis_starts(dbh, height), upper, dbh, height)
    provisional = HDModel(method, tuple(float(v) for v in params), float("nan"), rse_log, n)
    residuals = height - provisional.predict(dbh)
    rse = float(np.sqrt(residuals @ residuals / (n - p)))
    if not np.isfinite(rse):
        raise _FitFailedError(f"{method}: the fitted model predicts non-finite heights")
    bias = average_bias(provisional, dbh_all, height_all)
    return HDModel(method, provisional.params, rse, rse_log, n, bias)


def _method(method: str) -> HDMethod:
    if method not in METHODS:
        raise InputDataError(
            f"unknown height–diameter method {method!r}",
            fix=f"use one of {', '.join(METHODS)}",
        )
    return method


def _enough_heights(height: FloatArray, minimum: int, what: str) -> None:
    count = int((~np.isnan(height)).sum())
    if count < minimum:
        raise InputDataError(
            f"{what}: only {count} of {height.size} trees have a measured height; at least "
            f"{minimum} are needed",
            fix=f"measure the height of at least {minimum} trees spread over the diameter range",
        )


def fit_hd(dbh_cm: ArrayLike, height_m: ArrayLike, method: str) -> HDModel:
    """Fit one height–diameter model.

    Parameters
    ----------
    dbh_cm
        Diameter at breast height of every tree, cm (all present and > 0).
    height_m
        Height of every tree, m; NaN where not measured. The model is fitted on the trees with a
        height; :attr:`HDModel.average_bias` uses every tree's D.
    method
        One of :data:`METHODS` (``log1``, ``log2``, ``weibull``, ``michaelis``).

    Raises
    ------
    InputDataError
        On invalid D or H, an unknown method, too few trees with a height (*n* must exceed the
        number of parameters), or a fit that does not converge.

    """
    chosen = _method(method)
    dbh, height = _pair(dbh_cm, height_m)
    _enough_heights(height, len(PARAM_NAMES[chosen]) + 1, f"{chosen} height–diameter model")
    try:
        return _fit(chosen, dbh, height)
    except _FitFailedError as error:
        raise InputDataError(
            f"the {chosen} height–diameter model could not be fitted: {error}",
            fix="try another method (compare_hd lists them all) or check the heights",
        ) from None


def average_bias(model: HDModel, dbh_all: ArrayLike, height_observed: ArrayLike) -> float:
    """Relative bias of the model's mean height against the mean measured height.

    ``(mean(model.predict(dbh_all)) − mean(H_obs)) / mean(H_obs)``, where ``dbh_all`` is the D of
    every tree (including those without a measured height) and the mean of ``height_observed``
    ignores NaN (not measured). ``height_observed`` may be every tree's height with NaN gaps, or
    only the measured ones.
    """
    predicted = model.predict(_dbh(dbh_all, "dbh_all"))
    observed = np.asarray(height_observed, dtype=np.float64).reshape(-1)
    observed = observed[~np.isnan(observed)]
    if observed.size == 0:
        raise InputDataError(
            "height_observed: no measured height to compare with",
            fix="pass the measured heights",
        )
    mean_observed = float(observed.mean())
    return (float(predicted.mean()) - mean_observed) / mean_observed


def compare_hd(dbh_cm: ArrayLike, height_m: ArrayLike) -> pd.DataFrame:
    """Fit all four forms and tabulate them.

    Returns
    -------
    pandas.DataFrame
        One row per method in :data:`METHODS` order, columns ``method``, ``rse`` (m),
        ``rse_log`` (NaN for the nonlinear forms), ``average_bias``, ``n``, ``params`` (a tuple).
        A form that cannot be fitted (too few trees for its parameters, no convergence) has NaN
        statistics and empty ``params``.

    """
    dbh, height = _pair(dbh_cm, height_m)
    _enough_heights(height, 3, "height–diameter models")
    rows = []
    for model in _fit_all(dbh, height).values():
        rows.append(
            {
                "method": model.method,
                "rse": model.rse,
                "rse_log": np.nan if model.rse_log is None else model.rse_log,
                "average_bias": model.average_bias,
                "n": model.n,
                "params": model.params,
            }
        )
    return pd.DataFrame(rows, columns=["method", "rse", "rse_log", "average_bias", "n", "params"])


def _fit_all(dbh: FloatArray, height: FloatArray) -> dict[HDMethod, HDModel]:
    """Every form (a failed one as a placeholder with NaN statistics and no params)."""
    n = int((~np.isnan(height)).sum())
    models: dict[HDMethod, HDModel] = {}
    for method in METHODS:
        try:
            models[method] = _fit(method, dbh, height)
        except _FitFailedError:
            models[method] = HDModel(method, (), float("nan"), None, n)
    return models


def _best(dbh: FloatArray, height: FloatArray) -> HDModel:
    fitted = [m for m in _fit_all(dbh, height).values() if np.isfinite(m.rse)]
    if not fitted:
        raise _FitFailedError("no height–diameter form could be fitted")
    return min(fitted, key=lambda m: m.rse)  # min keeps the first of equals: METHODS order


def best_hd(dbh_cm: ArrayLike, height_m: ArrayLike) -> HDModel:
    """The form with the smallest RSE in metres (ties: the first in :data:`METHODS`).

    RSE rather than RSElog, because only RSE is defined for all four forms and it is measured on
    the same trees in the same unit for each; the ``n − p`` denominator penalises the extra
    parameter of ``log2`` and ``weibull``.

    Raises
    ------
    InputDataError
        On invalid D or H, fewer than 3 trees with a height, or when no form can be fitted.

    """
    dbh, height = _pair(dbh_cm, height_m)
    _enough_heights(height, 3, "height–diameter models")
    try:
        return _best(dbh, height)
    except _FitFailedError as error:
        raise InputDataError(
            f"{error} (on {int((~np.isnan(height)).sum())} trees with a height)",
            fix="measure more heights over a wider diameter range",
        ) from None
