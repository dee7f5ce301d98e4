"""Sample-based, error-adjusted areas of map classes (issue 17, point 2).

A class's area counted on a map carries the map's errors: omission and commission do not
cancel. Olofsson et al. (2014, Remote Sensing of Environment 148: 42–57, "Good practices for
estimating area and assessing accuracy of land change") estimate the area of every class from
a reference sample stratified by the map classes (Card 1982; Stehman 2013), with its standard
error, beside the accuracies of the map. With map class (stratum) ``i``, reference class
``j``, ``A`` the total area, ``W_i = A_i / A`` the mapped share of class ``i``, ``n_ij`` the
sample counts and ``n_i`` their row sums:

- estimated area proportions ``p_ij = W_i n_ij / n_i`` (their eq. 4);
- area of class ``j``: ``Â_j = A Σ_i p_ij`` (eq. 9), standard error
  ``A sqrt(Σ_i W_i² (n_ij/n_i)(1 − n_ij/n_i) / (n_i − 1))`` (eq. 10);
- overall accuracy ``Σ_j p_jj`` with variance ``Σ_i W_i² U_i (1 − U_i) / (n_i − 1)`` (eq. 5);
- user's accuracy ``U_i = p_ii / p_i.`` with variance ``U_i (1 − U_i) / (n_i − 1)`` (eq. 6);
- producer's accuracy ``P_j = p_jj / p_.j`` with the variance of their eq. 7.

Confidence intervals are ``estimate ± z × SE`` (z = 1.96 for 95 %), as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.errors import InputDataError

#: Normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class AreaEstimate:
    """Error-adjusted areas and accuracies of one map against its reference sample.

    ``areas``: one row per class — ``class``, ``mapped_area``, ``area``, ``area_se``,
    ``area_ci_low``, ``area_ci_high``, ``users_accuracy``, ``users_se``,
    ``producers_accuracy``, ``producers_se`` (areas in the units of the mapped areas given).
    ``proportions``: the estimated error matrix in area proportions (rows map, columns
    reference). ``overall_accuracy`` and ``overall_se``.
    """

    areas: pd.DataFrame
    proportions: pd.DataFrame
    overall_accuracy: float
    overall_se: float


def check_error_matrix(counts: npt.NDArray[np.float64], mapped: npt.NDArray[np.float64],
                       classes: Sequence[object]) -> None:
    """Refuse an error matrix that does not fit the classes or leaves a mapped class unsampled.

    ``counts`` is (k, k), rows the map class; ``mapped`` the k mapped areas. Every class with a
    mapped area needs at least two reference samples (its user's accuracy has a variance).
    """
    k = len(classes)
    if counts.shape != (k, k) or mapped.shape != (k,):
        raise InputDataError(
            f"error matrix {counts.shape} and mapped areas {mapped.shape} do not match "
            f"{k} classes", fix="give a square matrix (rows map, columns reference) and one "
            "mapped area per class, in the same class order")
    if (counts < 0).any() or (mapped < 0).any() or not np.isfinite(counts).all():
        raise InputDataError("sample counts and mapped areas must be finite and ≥ 0",
                             fix="check the error matrix and the mapped areas")
    rows = counts.sum(axis=1)
    short = [str(c) for c, n, a in zip(classes, rows, mapped, strict=True) if a > 0 and n < 2]
    if short:
        raise InputDataError(
            f"map classes {short} have a mapped area but fewer than 2 reference samples",
            fix="sample every mapped class at least twice (Olofsson et al. 2014 suggest 50–100 "
                "per class), or merge the class")


def estimate_areas(counts: npt.ArrayLike, mapped_area: npt.ArrayLike,
                   classes: Sequence[object] | None = None, z: float = Z95) -> AreaEstimate:
    """Stratified estimator of class areas and map accuracies (Olofsson et al. 2014).

    Parameters
    ----------
    counts
        (k, k) reference-sample counts, rows the map class (the stratum the sample was drawn
        from), columns the reference class.
    mapped_area
        (k,) mapped area of each class (ha, pixels, …), the strata sizes.
    classes
        Class labels in the order of the rows; default 0 … k − 1.
    z
        Normal quantile of the confidence intervals (1.96: 95 %).

    Returns
    -------
    AreaEstimate

    """
    n = np.asarray(counts, dtype=np.float64)
    a_map = np.asarray(mapped_area, dtype=np.float64)
    labels = list(classes) if classes is not None else list(range(len(a_map)))
    check_error_matrix(n, a_map, labels)
    n_i = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_i[:, None] > 0, n / n_i[:, None], 0.0)  # n_ij / n_i
        denom = np.where(n_i > 1, n_i - 1, np.inf)[:, None]
        variance = share * (1 - share) / denom
    return estimate_areas_from_shares(share, variance, a_map, labels, sampled=n_i > 0, z=z)


def estimate_areas_from_shares(share: npt.ArrayLike, share_var: npt.ArrayLike,
                               mapped_area: npt.ArrayLike, classes: Sequence[object], *,
                               sampled: npt.ArrayLike | None = None,
                               z: float = Z95) -> AreaEstimate:
    """Olofsson et al.'s (2014) areas and accuracies from estimated reference shares.

    The estimator of :func:`estimate_areas` written for any estimate of the shares
    ``ŷ_ij`` of reference class ``j`` in map stratum ``i`` (there ``n_ij / n_i``) with its
    variance ``V_ij`` (there ``ŷ_ij (1 − ŷ_ij) / (n_i − 1)``): the area proportions
    ``p_ij = W_i ŷ_ij``, ``V(Â_j) = A² Σ_i W_i² V_ij``, the user's accuracy ``ŷ_ii`` with
    variance ``V_ii``, the overall accuracy's ``Σ_i W_i² V_ii`` and the producer's accuracy's
    eq. 7 with ``N_i.² V_ij`` in place of ``N_i.² n_ij (n_i − n_ij) / (n_i² (n_i − 1))``. Used
    with the shares corrected for the interpreter's errors
    (:func:`minecarbon.assessment.reference_check.two_phase_areas`).

    Parameters
    ----------
    share, share_var
        (k, k) shares (rows the map stratum, columns the reference class) and their
        variances.
    mapped_area
        (k,) mapped area of each class, the strata sizes.
    classes
        Class labels in the order of the rows.
    sampled
        (k,) whether a stratum has reference points (its user's accuracy is NaN if not);
        default every stratum.
    z
        Normal quantile of the confidence intervals.

    Returns
    -------
    AreaEstimate

    """
    share = np.asarray(share, dtype=np.float64)
    var = np.asarray(share_var, dtype=np.float64)
    a_map = np.asarray(mapped_area, dtype=np.float64)
    labels = list(classes)
    has = np.ones(len(a_map), bool) if sampled is None else np.asarray(sampled, bool)
    total = float(a_map.sum())
    if total <= 0:
        raise InputDataError("the mapped areas sum to 0", fix="give the area of each map class")
    w = a_map / total
    with np.errstate(invalid="ignore", divide="ignore"):
        p = w[:, None] * share
        p_col = p.sum(axis=0)
        var_col = (w[:, None] ** 2 * var).sum(axis=0)
        users = np.diag(share).copy()
        users_var = np.diag(var).copy()
        producers = np.where(p_col > 0, np.diag(p) / p_col, np.nan)
        # eq. 7, with N as areas: N_i. = mapped area, N̂_.j = Σ_i N_i. ŷ_ij
        n_col = (a_map[:, None] * share).sum(axis=0)
        off = a_map[:, None] ** 2 * var
        np.fill_diagonal(off, 0.0)
        producers_var = (a_map ** 2 * (1 - producers) ** 2 * users_var
                         + producers ** 2 * off.sum(axis=0)) / n_col ** 2
    overall = float(np.trace(p))
    overall_se = float(np.sqrt((w ** 2 * users_var).sum()))
    area = total * p_col
    area_se = total * np.sqrt(var_col)
    areas = pd.DataFrame({
        "class": labels, "mapped_area": a_map, "area": area, "area_se": area_se,
        "area_ci_low": area - z * area_se, "area_ci_high": area + z * area_se,
        "users_accuracy": np.where(has, users, np.nan),
        "users_se": np.where(has, np.sqrt(users_var), np.nan),
        "producers_accuracy": producers, "producers_se": np.sqrt(producers_var)})
    proportions = pd.DataFrame(p, index=pd.Index(labels, name="map"),
                               columns=pd.Index(labels, name="reference"))
    return AreaEstimate(areas, proportions, overall, overall_se)


def estimate_areas_by_reference(counts: npt.ArrayLike, mapped_area: npt.ArrayLike,
                                classes: Sequence[object] | None = None,
                                z: float = Z95) -> pd.DataFrame:
    """Class areas from a sample stratified by the *reference* class (inverse calibration).

    Training and check samples are usually collected class by class (so many points of forest,
    so many of cropland): the sample is stratified by the reference class, not by the map
    class, and the column shares ``P_ij = n_ij / n_.j`` estimate the probability that a pixel
    of true class ``j`` is mapped as ``i``. The mapped areas satisfy ``a = P A`` in
    expectation, so ``Â = P⁻¹ a`` (the classical, or inverse, calibration estimator of
    misclassified proportions: Grassia & Sundberg 1982, *Biometrics* 38: 1037–1046;
    Czaplewski & Catts 1992, *Remote Sensing of Environment* 39: 29–43). Each column of ``P``
    is a multinomial share of ``n_.j`` samples; the delta method gives
    ``Cov(Â) = P⁻¹ [Σ_j Â_j² (diag(p_j) − p_j p_jᵀ) / n_.j] P⁻ᵀ``. The map's own areas are
    taken as known (a census).

    Parameters
    ----------
    counts
        (k, k) counts, rows the map class, columns the reference class; every class with a
        mapped area needs at least two reference samples.
    mapped_area
        (k,) mapped area of each class.
    classes, z
        As :func:`estimate_areas`.

    Returns
    -------
    pandas.DataFrame
        ``class, mapped_area, area, area_se, area_ci_low, area_ci_high`` (areas in the units
        of ``mapped_area``; an estimate can fall below 0 where a class is rare and often
        confused, and is then reported as it is, with its interval).

    """
    n = np.asarray(counts, dtype=np.float64)
    a_map = np.asarray(mapped_area, dtype=np.float64)
    labels = list(classes) if classes is not None else list(range(len(a_map)))
    check_error_matrix(n, a_map, labels)
    n_col = n.sum(axis=0)
    short = [str(c) for c, k in zip(labels, n_col, strict=True) if k < 2]
    if short:
        raise InputDataError(
            f"reference classes {short} have fewer than 2 samples: their mapping "
            "probabilities are unknown", fix="collect reference samples of every class, or "
            "drop the class from the map's legend")
    p = n / n_col[None, :]
    try:
        inv = np.linalg.inv(p)
    except np.linalg.LinAlgError as exc:
        raise InputDataError("the error matrix's column shares are singular: two classes are "
                             "mapped identically", fix="merge the two classes") from exc
    area = inv @ a_map
    middle = sum(area[j] ** 2 * (np.diag(p[:, j]) - np.outer(p[:, j], p[:, j])) / n_col[j]
                 for j in range(len(labels)))
    se = np.sqrt(np.clip(np.diag(inv @ middle @ inv.T), 0.0, None))
    return pd.DataFrame({"class": labels, "mapped_area": a_map, "area": area, "area_se": se,
                         "area_ci_low": area - z * se, "area_ci_high": area + z * se})
