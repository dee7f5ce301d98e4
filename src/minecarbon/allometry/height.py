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

Layout. This module fills the gaps (:func:`fill_heights`); the forms, :class:`HDModel` and the
checks of D and H live in :mod:`._hd_model`, the fitting and choice of a form in
:mod:`._hd_fit`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.allometry._hd_fit import (
    _best,
    _FitFailedError,
    average_bias,
    best_hd,
    compare_hd,
    fit_hd,
)
from minecarbon.allometry._hd_model import METHODS, PARAM_NAMES, HDMethod, HDModel, _pair
from minecarbon.errors import InputDataError

__all__ = [
    "METHODS",
    "MIN_FILLED_HEIGHT_M",
    "PARAM_NAMES",
    "POOLED",
    "FilledHeights",
    "HDMethod",
    "HDModel",
    "average_bias",
    "best_hd",
    "compare_hd",
    "fill_heights",
    "fit_hd",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Breast height in m: a filled (predicted) height below it is raised to it.
MIN_FILLED_HEIGHT_M: Final = 1.3

#: Label prefix of the model fitted on all trees together (see :func:`fill_heights`).
POOLED: Final = "pooled"


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
