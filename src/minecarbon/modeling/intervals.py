"""Per-pixel prediction intervals from cross-validation residuals (requirement M7).

Method: conformal prediction with the out-of-fold residuals of the nested cross-validation
(split conformal, Lei et al. 2018, "Distribution-free predictive inference for regression",
JASA 113: 1094–1111; Vovk et al. 2005). For a stratum whose chosen model has out-of-fold
residuals ``r_1 … r_n`` and a nominal level ``1 − α``, the half-width is

    q = the ⌈(n + 1)(1 − α)⌉-th smallest |r_i|

(infinite when that rank exceeds ``n``, i.e. with fewer than ``(1 − α)/α`` plots), and the
interval of a pixel with prediction ``ŷ`` is ``[ŷ − q, ŷ + q]``, its lower end clipped at
``clip_min`` (0: AGC is not negative; clipping never lowers coverage).

Why not quantiles of the trees' predictions: they describe the spread of the forest's mean
estimate, not of a new plot's AGC, and cover far less than their nominal level; quantile
regression forests (Meinshausen 2006) are the proper tree-based method but exist for one model
kind only. The conformal interval works for all four kinds.

Assumptions and limits, stated in docs/models.md:

* Plots and pixels are exchangeable (drawn from the same distribution): coverage is
  *marginal* — over pixels like the plots — not per pixel. The width is constant within a
  stratum, so where errors grow with AGC, high-AGC pixels are under-covered and low-AGC
  pixels over-covered.
* The residuals come from the fold models while the map is made by the model refit on all
  plots. This is the "CV" interval of Barber et al. (2021, Ann. Statist. 49: 486–507), without
  the finite-sample guarantee of split conformal; the refit model, trained on more plots, is
  usually at least as accurate as the fold models, so the intervals are, if anything, slightly
  conservative. Coverage is checked empirically in the tests.
* A stratum on the pooled model, and a label without plots, use the pooled model's residuals
  (all plots).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.errors import InputDataError, warn
from minecarbon.modeling.stratified import POOLED, StratifiedModel

FloatArray = npt.NDArray[np.float64]


class IntervalPrediction(NamedTuple):
    """Predictions with their conformal interval (t C/ha)."""

    predicted: FloatArray
    lower: FloatArray
    upper: FloatArray


def _rank(n: int, level: float) -> int:
    """⌈(n + 1)·level⌉, immune to products like 10 · 0.9 = 9.000000000000002."""
    return math.ceil(round((n + 1) * level, 9))


def conformal_halfwidth(residuals: Any, level: float = 0.9) -> float:
    """Half-width ``q``: the ⌈(n + 1)·level⌉-th smallest absolute residual.

    Parameters
    ----------
    residuals
        Out-of-fold residuals (NaN ignored).
    level
        Nominal coverage ``1 − α`` in (0, 1).

    Returns
    -------
    float
        The half-width, or ``inf`` when there are too few residuals for the level (a warning
        says how many are needed).

    """
    if not 0.0 < level < 1.0:
        raise InputDataError(
            f"interval level {level} is not in (0, 1)", fix="give e.g. 0.9 for 90 % intervals"
        )
    r = np.sort(np.abs(np.asarray(residuals, dtype=np.float64).ravel()))
    r = r[np.isfinite(r)]
    n = r.size
    rank = _rank(n, level)
    if rank > n:
        needed = next(m for m in range(1, 10**7) if _rank(m, level) <= m)
        warn(
            f"{n} residuals are too few for a {level:.0%} conformal interval (need ≥ {needed}); "
            "the interval is unbounded",
            UserWarning,
            stacklevel=2,
        )
        return math.inf
    return float(r[rank - 1])


def interval_halfwidths(model: StratifiedModel, level: float = 0.9) -> dict[Any, float]:
    """Half-width per stratum label, and for the pooled model under ``POOLED``."""
    pooled = conformal_halfwidth(model.pooled.residuals, level)
    out: dict[Any, float] = {POOLED: pooled}
    for label, fit in model.strata.items():
        out[label] = conformal_halfwidth(fit.residuals, level) if fit.source == "own" else pooled
    return out


def predict_interval(
    model: StratifiedModel,
    X: Any,  # noqa: N803
    strata: Any,
    *,
    level: float = 0.9,
    clip_min: float | None = 0.0,
) -> IntervalPrediction:
    """Predict AGC with a conformal prediction interval per row.

    Parameters
    ----------
    model
        A fitted :class:`~minecarbon.modeling.stratified.StratifiedModel`.
    X, strata
        As for :meth:`StratifiedModel.predict`.
    level
        Nominal coverage (config ``mapping.interval_level``).
    clip_min
        Lower bound of the interval (``None``: no clipping).

    Returns
    -------
    IntervalPrediction
        ``predicted``, ``lower``, ``upper``; NaN where the prediction is NaN.

    """
    predicted = model.predict(X, strata)
    widths = interval_halfwidths(model, level)
    labels = np.asarray(strata, dtype=object)
    if labels.ndim == 0:
        labels = np.full(predicted.size, labels.item(), dtype=object)
    half = np.full(predicted.size, widths[POOLED])
    for label in pd.unique(labels[~pd.isna(pd.Series(labels)).to_numpy()]):
        fit = model.strata.get(label)
        if fit is not None:
            half[labels == label] = widths[label]
    lower = predicted - half
    if clip_min is not None:
        lower = np.maximum(lower, clip_min)
    return IntervalPrediction(predicted, lower, predicted + half)
