"""Accuracy metrics (the guide's appendix D) and nested cross-validation (requirement M4).

Metrics, with ``y`` the observed plot AGC, ``ŷ`` the prediction, ``ȳ`` the mean of ``y`` and
``n`` the number of plots (formulas as in Willmott & Matsuura 2005, Clim. Res. 30: 79–82, and
the guide's appendix D, which lists R², RMSE, MAE and relative error):

* ``r2`` — coefficient of determination ``R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²`` (NaN when all ``y``
  are equal). Out of sample it can be negative: the model predicts worse than the mean.
* ``rmse`` — root mean squared error ``√(Σ(ŷ − y)² / n)``, in t C/ha.
* ``mae`` — mean absolute error ``Σ|ŷ − y| / n``, in t C/ha.
* ``rrmse_pct`` — relative RMSE ``RMSE / ȳ × 100 %``.
* ``mean_relative_error_pct`` — mean relative error ``Σ(|ŷ − y| / y) / n × 100 %`` over the
  plots with ``y > 0`` (a plot without carbon has no relative error; NaN if there is none).
* ``bias`` — mean error ``Σ(ŷ − y) / n`` (positive: the model over-predicts).

The guide's "relative error" (相对误差) is reported both ways, since the two definitions are in
use: ``rrmse_pct`` is the headline one (defined whenever ``ȳ > 0``, and it weights plots by
their errors in t C/ha like RMSE); ``mean_relative_error_pct`` is the mean of plot-wise relative
errors, which small-AGC plots dominate.

Nested cross-validation (:func:`nested_cv`): the plots are split into ``k_folds`` outer folds
(shuffled, seeded). For each outer fold a grid search with ``inner_folds``-fold CV is run on the
other folds only, over a pipeline *selector → regressor*, so the features and the
hyper-parameters are chosen without the test plots; the chosen pipeline, refit on those
training plots, predicts the test fold. Every plot is thus predicted once by a model that never
saw it (Varma & Simon 2006, BMC Bioinformatics 7: 91; Cawley & Talbot 2010, JMLR 11: 2079).

Before any of that, :func:`screen_plot_table` applies the bad-input rules to the plot table
(docs/models.md, "Bad input"): a feature missing at more than ``max_missing_share`` of the plots
is dropped; then every plot with a missing feature or AGC is dropped; then every feature that
is constant over the remaining plots. Each drop is warned about by name.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from joblib import Memory
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.pipeline import Pipeline

from minecarbon.errors import InputDataError, warn
from minecarbon.modeling.estimators import ParamGrid, make_estimator
from minecarbon.modeling.selection import check_finite_features, selected_feature_scores
from minecarbon.types import ModelKind

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: How many plots or features a warning names before "… and N more".
MAX_NAMED = 10

METRICS: tuple[str, ...] = (
    "r2", "rmse", "mae", "rrmse_pct", "mean_relative_error_pct", "bias",
)


def _pair(observed: Any, predicted: Any) -> tuple[FloatArray, FloatArray]:
    y = np.asarray(observed, dtype=np.float64).ravel()
    p = np.asarray(predicted, dtype=np.float64).ravel()
    if y.shape != p.shape or y.size == 0:
        raise InputDataError(
            f"{y.size} observed and {p.size} predicted values", fix="give one prediction per plot"
        )
    return y, p


def r2(observed: Any, predicted: Any) -> float:
    """Coefficient of determination ``1 − Σ(y − ŷ)² / Σ(y − ȳ)²`` (NaN for constant ``y``)."""
    y, p = _pair(observed, predicted)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return math.nan if ss_tot == 0 else 1.0 - float(np.sum((y - p) ** 2)) / ss_tot


def rmse(observed: Any, predicted: Any) -> float:
    """Root mean squared error ``√(Σ(ŷ − y)² / n)``."""
    y, p = _pair(observed, predicted)
    return float(np.sqrt(np.mean((p - y) ** 2)))


def mae(observed: Any, predicted: Any) -> float:
    """Mean absolute error ``Σ|ŷ − y| / n``."""
    y, p = _pair(observed, predicted)
    return float(np.mean(np.abs(p - y)))


def bias(observed: Any, predicted: Any) -> float:
    """Mean error ``Σ(ŷ − y) / n`` (positive when the model over-predicts)."""
    y, p = _pair(observed, predicted)
    return float(np.mean(p - y))


def rrmse_pct(observed: Any, predicted: Any) -> float:
    """Relative RMSE ``RMSE / ȳ × 100`` in percent (NaN when ``ȳ ≤ 0``)."""
    y, p = _pair(observed, predicted)
    mean = float(y.mean())
    return math.nan if mean <= 0 else rmse(y, p) / mean * 100.0


def mean_relative_error_pct(observed: Any, predicted: Any) -> float:
    """Mean relative error ``Σ(|ŷ − y| / y) / n × 100`` over plots with ``y > 0``, in percent."""
    y, p = _pair(observed, predicted)
    pos = y > 0
    if not pos.any():
        return math.nan
    return float(np.mean(np.abs(p[pos] - y[pos]) / y[pos]) * 100.0)


_METRIC_FUNCTIONS: dict[str, Callable[[Any, Any], float]] = {
    "r2": r2,
    "rmse": rmse,
    "mae": mae,
    "rrmse_pct": rrmse_pct,
    "mean_relative_error_pct": mean_relative_error_pct,
    "bias": bias,
}


def regression_metrics(observed: Any, predicted: Any) -> dict[str, float]:
    """All six metrics of :data:`METRICS` as a dict."""
    return {name: f(observed, predicted) for name, f in _METRIC_FUNCTIONS.items()}


def short_params(params: dict[str, Any]) -> dict[str, Any]:
    """Grid keys without their pipeline prefixes (``model__regressor__C`` → ``C``)."""
    return {key.rsplit("__", 1)[-1]: value for key, value in params.items()}


@dataclass
class CVResult:
    """The outcome of :func:`nested_cv` for one model kind.

    Attributes
    ----------
    kind
        The model kind.
    index
        Row labels of the plots (the index of ``X``).
    observed, predicted
        Observed AGC and the out-of-fold prediction of every plot.
    fold
        Outer fold (0-based) in which each plot was a test plot.
    folds
        One row per outer fold: ``fold``, the metrics, ``n_train``, ``n_test``, ``params``
        (JSON of the chosen hyper-parameters).
    best_params
        Chosen grid point per outer fold (full pipeline keys).
    selected_features
        Per outer fold, a DataFrame ``feature, rank, score`` of the selector's output.

    """

    kind: ModelKind
    index: pd.Index
    observed: FloatArray
    predicted: FloatArray
    fold: IntArray
    folds: pd.DataFrame
    best_params: list[dict[str, Any]] = field(default_factory=list)
    selected_features: list[pd.DataFrame] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        """Metrics of the pooled out-of-fold predictions (all plots at once)."""
        return regression_metrics(self.observed, self.predicted)

    @property
    def residuals(self) -> FloatArray:
        """Out-of-fold residuals ``y − ŷ``."""
        out: FloatArray = self.observed - self.predicted
        return out


def build_pipeline(
    kind: ModelKind | str, selector: BaseEstimator, *, seed: int = 0, memory: Any = None
) -> tuple[Pipeline, ParamGrid]:
    """``Pipeline([("select", selector), …regressor steps])`` and the regressor's grid."""
    estimator, grid = make_estimator(kind, seed)
    steps = [("select", clone(selector)), *estimator.steps]
    return Pipeline(steps, memory=memory), grid


def grid_search(
    pipeline: Pipeline, grid: ParamGrid, *, inner_folds: int, seed: int, n_jobs: int = 1,
    grouped: bool = False,
) -> GridSearchCV:
    """The unfitted inner grid search (RMSE, shuffled seeded folds; errors raise)."""
    cv = (GroupKFold(inner_folds, shuffle=True, random_state=seed) if grouped
          else KFold(inner_folds, shuffle=True, random_state=seed))
    return GridSearchCV(
        pipeline, grid, cv=cv, scoring="neg_root_mean_squared_error", n_jobs=n_jobs,
        error_score="raise", refit=True,
    )


def _check_sizes(n: int, k_folds: int, inner_folds: int, what: str) -> None:
    n_train = n - math.ceil(n / k_folds)
    if k_folds < 2 or inner_folds < 2 or n < k_folds or n_train < 2 * inner_folds:
        raise InputDataError(
            f"{what}: {n} plots are too few for {k_folds} outer × {inner_folds} inner folds",
            fix="add plots, use fewer folds, or let the stratum fall back to the pooled model",
        )


def nested_cv(
    X: Any,  # noqa: N803
    y: Any,
    kind: ModelKind | str,
    selector: BaseEstimator,
    *,
    k_folds: int = 5,
    inner_folds: int = 3,
    seed: int = 0,
    groups: Sequence[Any] | npt.NDArray[Any] | None = None,
    n_jobs: int = 1,
    what: str = "plots",
    cache_dir: str | None = None,
) -> CVResult:
    """Nested k-fold cross-validation of *selector → regressor* with an inner grid search.

    Parameters
    ----------
    X
        Plot features, a DataFrame (one column per feature, plots as rows) or a 2-D array.
    y
        Observed AGC per plot (t C/ha).
    kind
        Regressor kind (:class:`~minecarbon.types.ModelKind`).
    selector
        An unfitted feature selector (:mod:`minecarbon.modeling.selection`); it is cloned and
        refit in every fit.
    k_folds, inner_folds
        Outer and inner folds.
    seed
        Shuffles the outer folds (``KFold(random_state=seed)``) and the inner ones
        (``seed + 1 + fold``), and seeds the regressors.
    groups
        Optional group label per plot (e.g. a cluster of neighbouring plots): the folds are
        then ``GroupKFold`` splits, so a group is never on both sides of a split.
    n_jobs
        Parallel grid-search fits (joblib processes).
    what
        How messages name the plot set (e.g. ``"stratum 'coniferous'"``).
    cache_dir
        Folder where fitted selectors are cached (joblib ``Memory``), so that a selector is
        fitted once per training set rather than once per grid point; share it between the
        kinds fitted on the same plots. Default: a temporary folder removed at the end.

    Returns
    -------
    CVResult

    Raises
    ------
    InputDataError
        A non-finite feature (named with its row), a length mismatch, or too few plots.

    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(
        np.asarray(X, dtype=np.float64),
        columns=[f"x{i}" for i in range(np.shape(X)[1])],
    )
    check_finite_features(frame, what)
    target = np.asarray(y, dtype=np.float64).ravel()
    if target.size != len(frame) or not np.isfinite(target).all():
        raise InputDataError(
            f"{what}: the target has {target.size} values ({int((~np.isfinite(target)).sum())} "
            f"not finite) for {len(frame)} plots", fix="give one finite AGC per plot",
        )
    _check_sizes(len(frame), k_folds, inner_folds, what)
    kind = ModelKind(kind)
    group_arr = None if groups is None else np.asarray(groups)
    outer = (KFold(k_folds, shuffle=True, random_state=seed) if group_arr is None
             else GroupKFold(k_folds, shuffle=True, random_state=seed))
    predicted = np.full(target.size, np.nan)
    fold_of = np.full(target.size, -1, dtype=np.intp)
    rows, params, selected = [], [], []
    with ExitStack() as stack:
        cache = cache_dir or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="minecarbon-cv-")
        )
        pipe, grid = build_pipeline(kind, selector, seed=seed, memory=Memory(cache, verbose=0))
        for i, (train, test) in enumerate(outer.split(frame, target, group_arr)):
            search = grid_search(pipe, grid, inner_folds=inner_folds, seed=seed + 1 + i,
                                 n_jobs=n_jobs, grouped=group_arr is not None)
            fit_groups = None if group_arr is None else group_arr[train]
            search.fit(frame.iloc[train], target[train], groups=fit_groups)
            best = search.best_estimator_
            best.set_params(memory=None)
            predicted[test] = best.predict(frame.iloc[test])
            fold_of[test] = i
            rows.append({"fold": i, **regression_metrics(target[test], predicted[test]),
                         "n_train": len(train), "n_test": len(test),
                         "params": json.dumps(short_params(search.best_params_), sort_keys=True)})
            params.append(dict(search.best_params_))
            selected.append(selected_feature_scores(best.named_steps["select"]))
    return CVResult(kind, frame.index, target, predicted, fold_of, pd.DataFrame(rows),
                    params, selected)


# --------------------------------------------------------------------------- bad input
@dataclass(frozen=True)
class Screening:
    """The usable part of a plot table (:func:`screen_plot_table`).

    Attributes
    ----------
    rows
        Mask of the plots kept (in the table's row order).
    features
        Features kept, in the order given.
    plots_dropped
        Plot id → the features (or the target) missing there, for each dropped plot.
    features_missing
        Feature → share of the plots where it is missing, for each feature dropped as mostly
        missing.
    features_constant
        Feature → its single value, for each feature dropped as constant.

    """

    rows: BoolArray
    features: list[str]
    plots_dropped: dict[str, list[str]]
    features_missing: dict[str, float]
    features_constant: dict[str, float]


def _named(items: Sequence[str], sep: str = ", ") -> str:
    shown = sep.join(items[:MAX_NAMED])
    return shown + (f" … and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def screen_plot_table(
    table: pd.DataFrame,
    target: str,
    features: Sequence[str],
    *,
    plot_ids: Sequence[Any] | None = None,
    max_missing_share: float = 0.5,
    what: str = "the plot table",
) -> Screening:
    """Drop mostly-missing features, then plots with a missing value, then constant features.

    The rules, in this order (docs/models.md, "Bad input"):

    1. a feature missing (NaN or infinite) at more than ``max_missing_share`` of the plots is
       dropped: dropping the plots instead would lose most of them;
    2. a plot with a missing feature (of those left) or a missing target is dropped;
    3. a feature with a single value over the plots left (zero variance) is dropped: it cannot
       explain AGC, and correlation-based selection and scaling divide by its spread.

    Each step warns naming the features or plots it drops (and, for plots, what was missing).

    Parameters
    ----------
    table
        One row per plot, with ``target`` and the ``features`` (non-numeric text counts as
        missing).
    target
        The AGC column.
    features
        Candidate feature columns.
    plot_ids
        Plot names for messages (default: the table index).
    max_missing_share
        Largest share of plots (0–1) at which a feature may be missing and still be kept.
    what
        How messages name the table.

    Returns
    -------
    Screening

    Raises
    ------
    InputDataError
        If ``max_missing_share`` is outside 0–1, no plot is left, or no feature is left.

    """
    if not 0.0 <= max_missing_share <= 1.0:
        raise InputDataError(f"max_missing_share = {max_missing_share} is outside 0–1",
                             fix="use e.g. 0.5")
    names = [str(f) for f in features]
    ids = [str(i) for i in (table.index if plot_ids is None else plot_ids)]
    values = table[names].apply(pd.to_numeric, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan).reshape(len(table), len(names))
    y = pd.to_numeric(table[target], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    share = bad.mean(axis=0) if len(table) else np.zeros(len(names))
    mostly = share > max_missing_share
    missing = {names[j]: float(share[j]) for j in np.flatnonzero(mostly)}
    if missing:
        counts = bad.sum(axis=0)
        listed = [f"{names[j]} ({int(counts[j])} of {len(table)} plots)"
                  for j in np.flatnonzero(mostly)]
        warn(f"{what}: features missing at more than {max_missing_share:.0%} of the plots are "
             f"dropped: {_named(listed)}", UserWarning, stacklevel=2)
    bad_rows = bad[:, ~mostly].any(axis=1) | ~np.isfinite(y)
    kept_names = np.asarray(names, dtype=object)[~mostly]
    dropped: dict[str, list[str]] = {}
    for i in np.flatnonzero(bad_rows):
        dropped[ids[i]] = [*kept_names[bad[i, ~mostly]].tolist(),
                           *([target] if not np.isfinite(y[i]) else [])]
    if dropped:
        lines = [f"{pid} ({', '.join(cols)})" for pid, cols in dropped.items()]
        warn(f"{what}: {len(lines)} plots dropped for missing values: {_named(lines, '; ')}",
             UserWarning, stacklevel=2)
    rows = ~bad_rows
    if not rows.any():
        raise InputDataError(
            f"{what}: none of its {len(table)} plots has all of {target!r} and the features",
            fix="check the plot features (plot_features.csv) and the plot AGC; a plot outside "
            "the feature stacks has no features")
    kept = values[rows]
    constant: dict[str, float] = {}
    for j in np.flatnonzero(~mostly):
        if np.ptp(kept[:, j]) == 0:
            constant[names[j]] = float(kept[0, j])
    if constant:
        listed = [f"{f} (= {v:g})" for f, v in constant.items()]
        warn(f"{what}: constant features (one value at all {int(rows.sum())} plots) dropped: "
             f"{_named(listed)}", UserWarning, stacklevel=2)
    left = [f for f in names if f not in missing and f not in constant]
    if not left:
        raise InputDataError(
            f"{what}: no usable feature is left of {_named(names)} (mostly missing: "
            f"{_named(list(missing)) or 'none'}; constant: {_named(list(constant)) or 'none'})",
            fix="check the feature stacks at the plots; plots must differ in their features")
    return Screening(rows, left, dropped, missing, constant)
