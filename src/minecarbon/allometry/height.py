"""Height–diameter (H–D) models (树高–胸径模型): fit, compare, choose, and fill missing heights.

Requirement P5: a tree whose height was not measured gets a height predicted from an H–D model
fitted on the trees of the same inventory that do have one, and is flagged.

Units: D (``dbh_cm``) in cm, H (``height_m``) in m.

Model forms (``method``; parameters in this order in :attr:`HDModel.params`):

=============  =========================================  ==============  ==========================
method         model                                      params          fitted by
=============  =========================================  ==============  ==========================
``log1``       ln H = a + b · ln D                        (a, b)          OLS on logs
``log2``       ln H = a + b · ln D + c · (ln D)²          (a, b, c)       OLS on logs
``weibull``    H = a · (1 − exp(−(D / b)^c))              (a, b, c)       nonlinear LS in metres
``michaelis``  H = A · D / (B + D)                        (A, B)          nonlinear LS in metres
=============  =========================================  ==============  ==========================

Conventions (those of the R package BIOMASS's ``modelHD``, checked against its published
Nouragues known answer, see ``tests/allometry/test_height.py``):

* A log model predicts ``exp(a + b ln D [+ c (ln D)²] + RSElog² / 2)``: the Baskerville (1972)
  correction for the bias of back-transforming a mean on logs.
* ``rse`` = sqrt(Σ (H_obs − H_pred)² / (n − p)) in metres over the *n* trees with a measured
  height, *p* the number of parameters; for the log models H_pred is the Baskerville-corrected
  prediction. ``rse_log`` is the same on logs (log models only, else ``None``).
* ``average_bias`` = (mean of H_pred over *all* trees with a D, including those without a measured
  H, − mean of H_obs) / mean of H_obs.
* :func:`best_hd` picks the method with the smallest ``rse``. All four ``rse`` are in metres on
  the same trees (the log models' after back-transformation), so they are comparable; the
  ``n − p`` denominator charges the three-parameter forms for their extra parameter.

Missing values: a NaN height means "not measured". A NaN, zero or negative D, and a zero,
negative or infinite H, raise :class:`~minecarbon.errors.InputDataError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from minecarbon.errors import InputDataError

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

HDMethod = Literal["log1", "log2", "weibull", "michaelis"]

#: The H–D model forms, in the order :func:`compare_hd` lists them (and breaks ties).
METHODS: Final[tuple[HDMethod, ...]] = get_args(HDMethod)

#: Parameter names of each form, in the order of :attr:`HDModel.params`.
PARAM_NAMES: Final[dict[HDMethod, tuple[str, ...]]] = {
    "log1": ("a", "b"),
    "log2": ("a", "b", "c"),
    "weibull": ("a", "b", "c"),
    "michaelis": ("A", "B"),
}

#: Breast height in m: a filled (predicted) height below it is raised to it.
MIN_FILLED_HEIGHT_M: Final = 1.3

#: Label prefix of the model fitted on all trees together (see :func:`fill_heights`).
POOLED: Final = "pooled"


class _FitFailedError(Exception):
    """A form could not be fitted to these data (too few trees, singular, no convergence)."""


# --------------------------------------------------------------------------- input checks


def _dbh(values: ArrayLike, name: str = "dbh_cm") -> FloatArray:
    """D as a 1-d float array; every value must be finite and > 0 (NaN is an error)."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        n_nan = int(np.isnan(array).sum())
        n_bad = int(bad.sum())
        first = int(np.flatnonzero(bad.reshape(-1))[0])
        raise InputDataError(
            f"{name}: {n_bad} of {array.size} diameter(s) are missing, zero, negative or infinite "
            f"({n_nan} missing; first at index {first}: {array.reshape(-1)[first]!r})",
            fix=f"correct those trees or remove them; every {name} must be a number > 0 (cm)",
        )
    return array


def _height(values: ArrayLike, size: int, name: str = "height_m") -> FloatArray:
    """H as a 1-d float array of ``size``; NaN (not measured) passes, ≤ 0 or infinite raise."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1 or array.size != size:
        raise InputDataError(
            f"{name} has shape {array.shape} but there are {size} diameters",
            fix="pass one height per tree (NaN where it was not measured)",
        )
    bad = ~np.isnan(array) & ~(np.isfinite(array) & (array > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{name}: {int(bad.sum())} of {size} height(s) are zero, negative or infinite "
            f"(first at index {first}: {array[first]!r})",
            fix="correct those heights, or set them to NaN (not measured) to have them filled",
        )
    return array


def _pair(dbh_cm: ArrayLike, height_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    dbh = _dbh(dbh_cm)
    if dbh.ndim != 1:
        raise InputDataError(
            f"dbh_cm has shape {dbh.shape}; one diameter per tree is expected",
            fix="pass a 1-d sequence of diameters",
        )
    return dbh, _height(height_m, dbh.size)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class HDModel:
    """A fitted height–diameter model.

    Attributes
    ----------
    method
        One of :data:`METHODS`.
    params
        The fitted parameters, named by :data:`PARAM_NAMES` (e.g. ``(a, b)`` for ``log1``).
    rse
        Residual standard error in m on the trees with a measured height (see the module notes).
    rse_log
        Residual standard error on logs (log models only; ``None`` otherwise).
    n
        Number of trees the model was fitted on (those with both D and H).
    average_bias
        Relative bias of the mean predicted height over all trees given to :func:`fit_hd`
        against the mean measured height (see :func:`average_bias`).

    """

    method: HDMethod
    params: tuple[float, ...]
    rse: float
    rse_log: float | None
    n: int
    average_bias: float = float("nan")

    @property
    def n_params(self) -> int:
        """Number of parameters *p* of the form."""
        return len(PARAM_NAMES[self.method])

    @property
    def named_params(self) -> dict[str, float]:
        """The parameters keyed by name."""
        return dict(zip(PARAM_NAMES[self.method], self.params, strict=True))

    def predict(self, dbh_cm: ArrayLike) -> FloatArray:
        """Predicted height in m for each D in cm (same shape as ``dbh_cm``).

        Log models include the Baskerville correction ``exp(RSElog² / 2)``.

        Raises
        ------
        InputDataError
            If a D is missing, zero, negative or infinite.

        """
        dbh = _dbh(dbh_cm)
        shape = np.shape(dbh_cm)
        return _PREDICT[self.method](self.params, self.rse_log or 0.0, dbh).reshape(shape)


def _predict_log(params: tuple[float, ...], rse_log: float, dbh: FloatArray) -> FloatArray:
    log_d = np.log(dbh)
    log_h = np.zeros_like(log_d)
    for power, coefficient in enumerate(params):
        log_h = log_h + coefficient * log_d**power
    return np.asarray(np.exp(log_h + rse_log**2 / 2.0), dtype=np.float64)


def _weibull(params: tuple[float, ...] | FloatArray, dbh: FloatArray) -> FloatArray:
    a, b, c = params
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(a * -np.expm1(-((dbh / b) ** c)), dtype=np.float64)


def _michaelis(params: tuple[float, ...] | FloatArray, dbh: FloatArray) -> FloatArray:
    big_a, big_b = params
    return np.asarray(big_a * dbh / (big_b + dbh), dtype=np.float64)


_PREDICT: Final[dict[HDMethod, Callable[[tuple[float, ...], float, FloatArray], FloatArray]]] = {
    "log1": _predict_log,
    "log2": _predict_log,
    "weibull": lambda p, _s, d: _weibull(p, d),
    "michaelis": lambda p, _s, d: _michaelis(p, d),
}


# --------------------------------------------------------------------------- fitting


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


# --------------------------------------------------------------------------- filling gaps


@dataclass(frozen=True)
class FilledHeights:
    """Heights with the gaps filled from height–diameter models (see :func:`fill_heights`).

    Attributes
    ----------
    height_m
        Every tree's height in m: measured where measured, else predicted.
    filled
        True where the height was predicted (the P5 flag).
    clipped
        True where a predicted height fell below breast height (1.3 m) and was raised to it.
    model
        Per tree, the label of the model that filled it — ``"<group>:<method>"`` or
        ``"pooled:<method>"`` — and ``""`` where the height was measured.
    models
        The model fitted for each group with enough heights, keyed by group label.
    pooled
        The model fitted on all trees with a height, when some group needed it; else ``None``.

    """

    height_m: FloatArray
    filled: BoolArray
    clipped: BoolArray
    model: NDArray[np.object_]
    models: dict[str, HDModel] = field(default_factory=dict)
    pooled: HDModel | None = None


def _groups(groups: ArrayLike | None, size: int) -> NDArray[np.object_]:
    if groups is None:
        return np.full(size, "", dtype=object)
    labels = np.asarray(groups, dtype=object).reshape(-1)
    if labels.size != size:
        raise InputDataError(
            f"groups has {labels.size} labels but there are {size} trees",
            fix="pass one group label (e.g. species key) per tree",
        )
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in labels])
    if missing.any():
        raise InputDataError(
            f"groups: {int(missing.sum())} of {size} trees have no group label "
            f"(first at index {int(np.flatnonzero(missing)[0])})",
            fix="give every tree a group label (e.g. 'unknown' for unidentified trees)",
        )
    return np.array([str(v) for v in labels], dtype=object)


def fill_heights(
    dbh_cm: ArrayLike,
    height_m: ArrayLike,
    groups: ArrayLike | None,
    *,
    min_trees: int = 10,
) -> FilledHeights:
    """Fill missing heights (NaN) from height–diameter models; never change a measured height.

    For each group (e.g. species key) with at least ``min_trees`` trees that have a measured
    height, the best form (:func:`best_hd`) is fitted on that group and fills its gaps. A group
    with fewer gets the pooled model: the best form fitted on the measured trees of *all* groups.
    ``groups=None`` fills every gap from the pooled model. Predicted heights below breast height
    (1.3 m) are raised to 1.3 m and flagged in :attr:`FilledHeights.clipped`. A model is fitted
    for every group with enough heights (so it can be reported), the pooled one only when
    needed. The result is deterministic.

    Raises
    ------
    InputDataError
        On invalid D or H, mismatched lengths, or when heights are missing and fewer than
        ``min_trees`` trees in all have a measured height.

    """
    if isinstance(min_trees, bool) or not isinstance(min_trees, int) or min_trees < 3:
        raise InputDataError(
            f"min_trees must be an integer ≥ 3, got {min_trees!r}",
            fix="give at least 3 (a two-parameter form needs more trees than parameters)",
        )
    dbh, height = _pair(dbh_cm, height_m)
    labels = _groups(groups, dbh.size)
    missing = np.isnan(height)
    measured = ~missing
    n_measured = int(measured.sum())
    if missing.any() and n_measured < min_trees:
        raise InputDataError(
            f"height_m: {n_measured} of {dbh.size} trees have a measured height "
            f"({int(missing.sum())} without); a height–diameter model needs heights measured on "
            f"at least {min_trees} trees (min_trees)",
            fix=f"measure the height of at least {min_trees} trees spread over the diameter "
            "range, or give every tree's height",
        )

    models: dict[str, HDModel] = {}
    for group in [] if groups is None else sorted(set(labels.tolist())):
        in_group = labels == group
        if int((in_group & measured).sum()) >= min_trees:
            with contextlib.suppress(_FitFailedError):  # else the pooled model fills it
                models[group] = _best(dbh[in_group], height[in_group])

    out = height.copy()
    source = np.full(dbh.size, "", dtype=object)
    pooled: HDModel | None = None
    for group in sorted(set(labels[missing].tolist())):
        gaps = missing & (labels == group)
        if group in models:
            model, label = models[group], f"{group}:{models[group].method}"
        else:
            if pooled is None:
                try:
                    pooled = _best(dbh, height)
                except _FitFailedError as error:
                    raise InputDataError(
                        f"height_m: {error} on the {n_measured} trees with a measured height",
                        fix="measure more heights over a wider diameter range",
                    ) from None
            model, label = pooled, f"{POOLED}:{pooled.method}"
        out[gaps] = model.predict(dbh[gaps])
        source[gaps] = label

    clipped = missing & (out < MIN_FILLED_HEIGHT_M)
    out[clipped] = MIN_FILLED_HEIGHT_M
    return FilledHeights(
        height_m=out,
        filled=missing.copy(),
        clipped=clipped,
        model=source,
        models=models,
        pooled=pooled,
    )
