"""A land-cover series whose forest area agrees with its own reference samples.

A random forest trained with balanced class weights on samples drawn class by class assumes
equal class priors. Where two classes overlap in feature space (sparse forest, 疏林地, canopy
cover 0.10–0.20, against shrubland) the overlap is split as if both were equally common, so
the map's forest area is biased whenever they are not: on the small demo the series mapped
3 % less forest than there was, and the missing pixels are forest whose carbon the maps
then leave out; on the medium demo the bias goes the other way once the decision moves.

Every year's forest probability is multiplied by one weight ``w`` and renormalised (the
prior-shift adjustment of Saerens, Latinne & Decaestecker 2002, *Neural Computation* 14:
21–41), and the temporally consistent series (:mod:`minecarbon.classify.temporal`) is decoded
under it. The caller chooses ``w`` where a function of it crosses zero (:func:`balance_weight`,
bisection on ``log w``); the pipeline's is the map's forest area minus the area that the
held-out random samples estimate from the same decoded map's error matrix (the inverse
calibration of Grassia & Sundberg 1982), so that the published map's estimated omission and
commission of forest balance. Adjusting a classifier's decision to an area estimated from a
probability sample is the *quantification* setting of Forman (2008, *Data Mining and Knowledge
Discovery* 17: 164–206); the estimate follows Olofsson et al. (2014).

:func:`reweight` applies a weight to a probability cube, :func:`decode` decodes a sample of
pixels under it, :func:`forest_weight` finds the weight for a given forest share.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.classify._hmm_kernel import viterbi_block
from minecarbon.classify.temporal import SCALE, probabilities_to_uint8
from minecarbon.errors import InputDataError

FloatArray = npt.NDArray[np.float64]


def reweight(proba: FloatArray, forest_index: int, weight: float) -> FloatArray:
    """Class probabilities (…, class, …) with the forest class's multiplied by ``weight``.

    ``proba`` has the class on axis 1 (year, class, pixel…); rows are renormalised to sum to
    1 and NaN (no observation) stays NaN.
    """
    out = np.array(proba, dtype=np.float64, copy=True)
    index = [slice(None)] * out.ndim
    index[1] = slice(forest_index, forest_index + 1)
    out[tuple(index)] *= weight
    total = out.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out /= total
    return out


def _pack(proba: FloatArray) -> npt.NDArray[np.uint8]:
    """(year, class, pixel) probabilities → (pixel, year, class) uint8 for the Viterbi kernel."""
    packed = probabilities_to_uint8(xr.DataArray(proba, dims=("year", "class", "pixel")))
    return np.ascontiguousarray(np.moveaxis(packed.values, (0, 1, 2), (1, 2, 0)))


def decode(proba: FloatArray, forest_index: int, weight: float,
           free: npt.NDArray[np.bool_] | None, *, stay: float, mixing: float
           ) -> npt.NDArray[np.int64]:
    """The decoded class index of every pixel-year under ``weight`` (pixel, year); −1: none.

    ``proba`` (year, class, pixel), NaN where the pixel-year has no observation; ``free``
    (year, pixel) free transitions or None. The decoder is the one of
    :func:`minecarbon.classify.temporal.smooth_class_series` (without its fill limit).
    """
    packed = _pack(reweight(proba, forest_index, weight))
    n_t, _, n_px = proba.shape
    free_flat = (np.zeros((n_px, n_t), dtype=np.bool_) if free is None
                 else np.ascontiguousarray(np.asarray(free, dtype=np.bool_).T))
    path: npt.NDArray[np.int64] = np.asarray(viterbi_block(packed, free_flat, stay, mixing,
                                                           SCALE), dtype=np.int64)
    return path


def decoded_share(proba: FloatArray, forest_index: int, weight: float,
                  free: npt.NDArray[np.bool_] | None, *, stay: float, mixing: float) -> float:
    """Share of observed pixel-years that the decoded series maps as forest under ``weight``.

    ``proba`` (year, class, pixel), NaN where the pixel-year has no observation; ``free``
    (year, pixel) free transitions or None.
    """
    path = decode(proba, forest_index, weight, free, stay=stay, mixing=mixing)
    observed = np.isfinite(proba).all(axis=1).T
    n = int(observed.sum())
    return float(np.count_nonzero((path == forest_index) & observed)) / n if n else float("nan")


def balance_weight(excess: Callable[[float], float], *,
                   bounds: tuple[float, float] = (0.25, 4.0), tol: float = 0.001,
                   max_iter: int = 30) -> tuple[float, float, float]:
    """The weight where ``excess(w)`` (increasing in ``w``) crosses 0, by bisection on log w.

    Returns ``(weight, excess at 1, excess at the weight)``; the weight stops at a bound when
    the crossing lies beyond it, and at 1 when ``|excess(1)| ≤ tol``.
    """
    if not 0.0 < bounds[0] <= 1.0 <= bounds[1]:
        raise InputDataError(f"weight bounds {bounds}", fix="use bounds with low ≤ 1 ≤ high")
    start = excess(1.0)
    if not np.isfinite(start) or abs(start) <= tol:
        return 1.0, start, start
    down = start > 0  # too much forest: the weight goes below 1
    low, high = (np.log(bounds[0]), 0.0) if down else (0.0, np.log(bounds[1]))
    edge_w = float(np.exp(low if down else high))
    edge = excess(edge_w)
    if (down and edge >= 0) or (not down and edge <= 0):  # out of reach: stop at the bound
        return edge_w, start, edge
    best_w, best = 1.0, start
    for _ in range(max_iter):
        mid = 0.5 * (low + high)
        value = excess(float(np.exp(mid)))
        if abs(value) < abs(best):
            best_w, best = float(np.exp(mid)), value
        if abs(value) <= tol:
            break
        if value < 0:
            low = mid
        else:
            high = mid
    return best_w, start, best


def forest_weight(proba: npt.ArrayLike, forest_index: int, target_share: float, *,
                  free: npt.ArrayLike | None = None, stay: float = 0.95, mixing: float = 0.05,
                  bounds: tuple[float, float] = (0.25, 4.0), tol: float = 0.001,
                  max_iter: int = 30) -> tuple[float, float, float]:
    """The forest weight under which the decoded series maps ``target_share`` forest.

    Parameters
    ----------
    proba
        (year, class, pixel) class probabilities of a sample of pixels (subclasses merged), NaN
        where a pixel-year has no observation.
    forest_index
        Index of the forest class on the class axis.
    target_share
        Share of the observed pixel-years that should be forest (0–1).
    free
        (year, pixel) bool: changes that are free that year (documented disturbances).
    stay, mixing
        The temporal model's parameters (:func:`minecarbon.classify.temporal.smooth_class_series`).
    bounds
        Smallest and largest weight tried; the result is clipped to them.
    tol
        Stop when the decoded share is within ``tol`` of the target.
    max_iter
        Most bisection steps.

    Returns
    -------
    tuple
        ``(weight, share at weight 1, share at the weight)``.

    Raises
    ------
    InputDataError
        Bad shapes, index, target or bounds.

    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 3 or p.shape[1] < 2:
        raise InputDataError(f"class probabilities of shape {p.shape}",
                             fix="pass (year, class, pixel) with two classes or more")
    if not 0 <= forest_index < p.shape[1]:
        raise InputDataError(f"forest index {forest_index} for {p.shape[1]} classes",
                             fix="give the index of forest on the class axis")
    if not 0.0 <= target_share <= 1.0:
        raise InputDataError(f"target share {target_share}", fix="use a share in 0–1")
    f = None if free is None else np.asarray(free, dtype=np.bool_)
    if f is not None and f.shape != (p.shape[0], p.shape[2]):
        raise InputDataError(f"free transitions of shape {f.shape} for probabilities "
                             f"{p.shape}", fix="pass (year, pixel) free transitions")
    w, start, end = balance_weight(
        lambda w: decoded_share(p, forest_index, w, f, stay=stay, mixing=mixing) - target_share,
        bounds=bounds, tol=tol, max_iter=max_iter)
    return w, start + target_share, end + target_share
