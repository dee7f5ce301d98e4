"""Areas from a reference sample whose labels err, corrected by a checked subsample.

An interpreter's labels are not the truth. Where one reference class is large and its
neighbour small (clear carbon increase against no clear change), a few per cent of the large
class mislabelled doubles the small one, and Olofsson et al.'s (2014) estimator, which takes
the reference as right, estimates the areas of the *interpreted* classes: its intervals miss
the true areas however many points there are. Good practice checks the reference: a random
subsample is interpreted again independently and the disagreements resolved by a senior
interpreter (Olofsson et al. 2014, §4.2.1 and §5.1.4; Stehman & Foody 2019, *Remote Sensing of
Environment* 231: 111199). The checked labels measure the first interpretation's errors.

The estimator is the two-phase (double-sampling) difference estimator (Cochran 1977,
*Sampling Techniques*, ch. 12; Särndal, Swensson & Wretman 1992, ch. 9): in map stratum ``h``
with ``n_h`` points, ``x̄_hk`` of them labelled ``k``, and a random subsample of ``n'_h`` points
with checked labels, the share of class ``k`` is

    ŷ_hk = x̄_hk + d̄_hk,     d_ik = 1[checked_i = k] − 1[label_i = k]  (mean over the subsample),

unbiased for the checked labels' share whatever the interpreter's errors are, with variance

    V_hk = S²_y,hk / n_h + (1 / n'_h − 1 / n_h) S²_d,hk,

``S²_y = ŷ(1 − ŷ) n_h / (n_h − 1)`` and ``S²_d`` the subsample's variance of ``d``. The
differences are rarely non-zero, so the correction costs little precision. A stratum with one
checked point takes the variance of ``d`` pooled over all checked points; a stratum with none
is not corrected (its shares are the labels') and is named in the result. The shares then go
through :func:`~minecarbon.assessment.area_estimation.estimate_areas_from_shares` (areas,
accuracies and their standard errors). With every point checked and no disagreement this is
Olofsson et al.'s estimator exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from minecarbon.assessment.area_estimation import (
    Z95,
    AreaEstimate,
    check_error_matrix,
    estimate_areas_from_shares,
)
from minecarbon.errors import InputDataError

__all__ = ["CheckedEstimate", "two_phase_areas"]


@dataclass(frozen=True)
class CheckedEstimate:
    """Areas corrected by the checked subsample, and what the check found.

    ``estimate``: the areas and accuracies (:class:`AreaEstimate`). ``checked``: points with a
    checked label; ``disagreements``: of them, those whose first label differs (their share
    estimates the interpreter's error rate); ``uncorrected``: map strata with points but no
    checked point (their shares are the first labels').
    """

    estimate: AreaEstimate
    checked: int
    disagreements: int
    uncorrected: list[object]


def _indicator(codes: npt.NDArray[np.int64], classes: Sequence[object]) -> npt.NDArray[np.float64]:
    return np.stack([codes == c for c in classes], axis=1).astype(np.float64)


def two_phase_areas(stratum: npt.ArrayLike, label: npt.ArrayLike, checked: npt.ArrayLike,
                    is_checked: npt.ArrayLike, mapped_area: npt.ArrayLike,
                    classes: Sequence[int], *, z: float = Z95) -> CheckedEstimate:
    """Class areas from interpreted reference points, corrected by a checked subsample.

    Parameters
    ----------
    stratum
        (n,) map class of every point (its stratum; a sample over the extent post-stratified
        by the map, as :func:`~minecarbon.assessment.area_estimation.estimate_areas` takes it).
    label
        (n,) the interpreted reference class.
    checked
        (n,) the checked reference class where ``is_checked`` (ignored elsewhere).
    is_checked
        (n,) bool: the point belongs to the checked random subsample.
    mapped_area
        (k,) mapped area of each class, in the order of ``classes``.
    classes
        The class codes.
    z
        Normal quantile of the confidence intervals.

    Returns
    -------
    CheckedEstimate

    Raises
    ------
    InputDataError
        Arrays of different lengths, a code outside ``classes``, no checked point, or a mapped
        class with fewer than two points.

    """
    h = np.asarray(stratum, dtype=np.int64)
    r = np.asarray(label, dtype=np.int64)
    c = np.asarray(checked, dtype=np.int64)
    sub = np.asarray(is_checked, dtype=bool)
    a_map = np.asarray(mapped_area, dtype=np.float64)
    codes = list(classes)
    if not (h.shape == r.shape == c.shape == sub.shape) or h.ndim != 1:
        raise InputDataError(f"reference points: {h.shape} strata, {r.shape} labels, "
                             f"{c.shape} checked labels, {sub.shape} check flags",
                             fix="give one value of each per point")
    for what, values in (("map class", h), ("label", r), ("checked label", c[sub])):
        bad = ~np.isin(values, codes)
        if bad.any():
            raise InputDataError(f"reference points: {what} {int(values[bad][0])} is not one "
                                 f"of the classes {codes}", fix="label points with the classes")
    if not sub.any():
        raise InputDataError("no reference point has a checked label",
                             fix="check a random subsample of the points, or estimate without "
                                 "a check (estimate_areas)")
    x = _indicator(r, codes)
    check_error_matrix(_indicator(h, codes).T @ x, a_map, codes)  # mapped classes sampled twice
    d = _indicator(c, codes) - x
    d[~sub] = 0.0
    pooled = d[sub].var(axis=0, ddof=1) if sub.sum() > 1 else np.zeros(len(codes))
    k = len(codes)
    share = np.zeros((k, k))
    var = np.zeros((k, k))
    n_h = np.zeros(k)
    uncorrected: list[object] = []
    for i, code in enumerate(codes):
        at = h == code
        n = int(at.sum())
        n_h[i] = n
        if n == 0:
            continue
        in_sub = at & sub
        m = int(in_sub.sum())
        y = x[at].mean(axis=0) + (d[in_sub].mean(axis=0) if m else 0.0)
        s2_y = np.clip(y, 0.0, 1.0) * (1.0 - np.clip(y, 0.0, 1.0)) * n / max(n - 1, 1)
        if m == 0:
            uncorrected.append(code)
            v = s2_y / n
        else:
            s2_d = d[in_sub].var(axis=0, ddof=1) if m > 1 else pooled
            v = s2_y / n + (1.0 / m - 1.0 / n) * s2_d
        share[i], var[i] = y, v
    estimate = estimate_areas_from_shares(share, var, a_map, codes, sampled=n_h > 0, z=z)
    disagree = int((sub & (r != c)).sum())
    return CheckedEstimate(estimate, int(sub.sum()), disagree, uncorrected)
