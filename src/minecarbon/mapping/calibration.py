"""Undoing the compression of change: predictions regress toward the plots' mean.

A model fitted on plots of one survey year estimates E[AGC | features]. Where the features
explain only part of the variance, its predictions are shrunk toward the plots' mean: a pixel
that truly gains ΔAGC gains only about ``b · ΔAGC`` in the maps, ``b`` being the slope of the
predictions on the truth (the attenuation; ``b ≈ R²`` for a least-squares fit). Every trend,
change and cumulative effect computed from such maps is too small by the factor ``b``
(Powell et al. 2010, *Remote Sensing of Environment* 114: 1053–1068, who compare model forms
for biomass trajectories and show the variance lost by regression-type estimators).

The remedy here keeps each pixel's level where the model is best informed — the year of the
plots (the reference year) — and rescales the pixel's fitted temporal deviations from it by
``1 / b`` (the classical inverse-calibration estimator applied to change only):

    AGC_t = F_ref + (F_t − F_ref) / b

with ``F`` the pixel's fitted trajectory (:func:`minecarbon.mapping.trajectory.fit_trajectories`,
which first removes the year-to-year noise that the rescaling would otherwise amplify). Within a
forest span that does not contain the reference year, the span's year nearest to it is the
reference. ``b`` is estimated from the plots' out-of-fold predictions against their observed
AGC (:func:`attenuation_from_plots`); plots measured twice give it directly from their observed
and predicted changes (:func:`remeasured_attenuation`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from numba import njit, prange

from minecarbon.errors import InputDataError, warn

#: ``source`` of a b from one survey year's plots (across stands, not over time), and of a b
#: from plots measured twice (observed change), as ``calibration.json`` records them.
SOURCE_ONE_SURVEY = "out-of-fold predictions of the plots"
SOURCE_REMEASURED = "re-measured plots"
#: Attenuations are kept within these bounds (a slope outside them is not a credible shrinkage).
ATTENUATION_RANGE = (0.2, 1.0)


def _bounded(slope: float, what: str) -> float:
    low, high = ATTENUATION_RANGE
    if not np.isfinite(slope):
        raise InputDataError(f"{what}: the attenuation slope is not finite",
                             fix="check the plots' observed and predicted AGC")
    if slope < low or slope > high:
        warn(f"{what}: attenuation slope {slope:.3f} outside {low}–{high}; clipped")
    return float(np.clip(slope, low, high))


def attenuation_from_plots(observed: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Slope of the out-of-fold predictions on the observed plot AGC (least squares).

    Parameters
    ----------
    observed, predicted
        Plot AGC (t C/ha) and its out-of-fold prediction (never the training fit, which would
        understate the shrinkage).

    Returns
    -------
    float
        ``b`` within :data:`ATTENUATION_RANGE`.

    Raises
    ------
    InputDataError
        Fewer than 5 plots, or observed values without spread.

    """
    obs = np.asarray(observed, dtype=float)
    pred = np.asarray(predicted, dtype=float)
    ok = np.isfinite(obs) & np.isfinite(pred)
    if ok.sum() < 5 or np.ptp(obs[ok]) == 0.0:
        raise InputDataError(f"{int(ok.sum())} plots with observed and predicted AGC, or no "
                             "spread among them", fix="give at least 5 plots of varied AGC")
    slope = np.polyfit(obs[ok], pred[ok], 1)[0]
    return _bounded(float(slope), "out-of-fold predictions of the plots")


def remeasured_attenuation(observed_change: npt.ArrayLike,
                           predicted_change: npt.ArrayLike) -> tuple[float, float]:
    """``(b, se)`` from plots measured in two years: the slope of predicted on observed change.

    Least squares through the origin (no change predicted for no change observed),
    ``b = Σ o p / Σ o²``, with ``se = sqrt(Σ (p − b o)² / ((n − 1) Σ o²))``. The ratio of the
    mean changes, ``Σ p / Σ o`` (Cochran 1977 §6.3), was tried (decision 49) and not adopted:
    plots whose losses the model does not see at all (subsidence: about −4 t C/ha observed,
    0 predicted) shrink ``Σ o`` and so raise ``b``, and on the simulated site it left less of
    persistent forest's growth (0.74 and 0.84 of the truth, against 0.77 and 0.90 with the
    slope); the slope weights each plot by its change, and those small losses weigh little.

    Raises
    ------
    InputDataError
        Fewer than 5 re-measured plots or no observed change.

    """
    b, se = slope_through_origin(observed_change, predicted_change)
    return _bounded(b, "re-measured plots"), se


def slope_through_origin(observed_change: npt.ArrayLike, predicted_change: npt.ArrayLike, *,
                         min_pairs: int = 5) -> tuple[float, float]:
    """``(Σ o p / Σ o², sqrt(Σ (p − b o)² / ((n − 1) Σ o²)))`` over the finite pairs, unclipped.

    Raises
    ------
    InputDataError
        Fewer than ``min_pairs`` finite pairs, or no observed change.

    """
    obs = np.asarray(observed_change, dtype=float)
    pred = np.asarray(predicted_change, dtype=float)
    ok = np.isfinite(obs) & np.isfinite(pred)
    o, p = obs[ok], pred[ok]
    n = int(ok.sum())
    denominator = float((o * o).sum())
    if n < min_pairs or denominator == 0.0:
        raise InputDataError(f"{n} re-measured plots, or no observed change",
                             fix=f"give at least {min_pairs} plots measured in two years")
    b = float((o * p).sum() / denominator)
    return b, float(np.sqrt(((p - b * o) ** 2).sum() / (n - 1) / denominator))


def attenuation_from_remeasurements(observed_change: npt.ArrayLike,
                                    predicted_change: npt.ArrayLike) -> float:
    """``b`` of :func:`remeasured_attenuation` alone."""
    return remeasured_attenuation(observed_change, predicted_change)[0]


def residual_offsets(strata: npt.ArrayLike, observed: npt.ArrayLike, predicted: npt.ArrayLike,
                     *, min_plots: int = 10) -> dict[str, float]:
    """Mean out-of-fold residual (observed − predicted, t C/ha) of each stratum's plots.

    The difference (model-assisted) estimator of a population mean is the mean of the model's
    predictions plus the mean of its residuals at the sample plots (Särndal, Swensson &
    Wretman 1992, ch. 6; McRoberts et al. 2013, *Remote Sensing of Environment* 128: 268–275):
    the residual mean estimates the model's bias over the population the plots represent
    (a support-vector regression, for instance, fits a median-like centre and under-predicts a
    right-skewed AGC). Added to every pixel of its stratum, it removes that bias from the maps
    and their totals. A stratum with fewer than ``min_plots`` plots takes the mean over all
    plots (key ``""``, always present).

    Raises
    ------
    InputDataError
        Arrays of different lengths, or no finite pair.

    """
    labels = np.asarray(strata).astype(str)
    obs = np.asarray(observed, dtype=float)
    pred = np.asarray(predicted, dtype=float)
    if not labels.shape == obs.shape == pred.shape:
        raise InputDataError(f"{labels.size} strata, {obs.size} observed and {pred.size} "
                             "predicted values", fix="give one of each per plot")
    ok = np.isfinite(obs) & np.isfinite(pred)
    if not ok.any():
        raise InputDataError("no plot with an observed and a predicted AGC",
                             fix="check products/models/oof_predictions.csv")
    residual = obs[ok] - pred[ok]
    labels = labels[ok]
    pooled = float(residual.mean())
    out = {"": pooled}
    for label in np.unique(labels):
        part = residual[labels == label]
        out[str(label)] = float(part.mean()) if part.size >= min_plots else pooled
    return out


def remeasured_changes(oof: pd.DataFrame) -> pd.DataFrame:
    """Observed and predicted AGC change of every plot site measured in two years or more.

    Parameters
    ----------
    oof
        One row per plot measurement with ``site`` (the location key shared by the
        measurements of one plot), ``year``, ``observed`` and ``predicted`` (out-of-fold, t C/ha).

    Returns
    -------
    pandas.DataFrame
        ``site, first_year, last_year, observed_change, predicted_change`` between the first and
        the last measurement of each re-measured site (empty when there is none).

    """
    rows = []
    for site, part in oof.sort_values("year").groupby("site", sort=True):
        if part["year"].nunique() < 2:
            continue
        first, last = part.iloc[0], part.iloc[-1]
        rows.append({"site": site, "first_year": int(first["year"]),
                     "last_year": int(last["year"]),
                     "observed_change": float(last["observed"] - first["observed"]),
                     "predicted_change": float(last["predicted"] - first["predicted"])})
    return pd.DataFrame(rows, columns=["site", "first_year", "last_year", "observed_change",
                                       "predicted_change"])


@njit(cache=True, nogil=True, parallel=True)
def _calibrate(fitted, forest, ref, scale):  # type: ignore[no-untyped-def]
    n_px, n_t = fitted.shape
    out = np.full((n_px, n_t), np.nan, dtype=np.float32)
    for i in prange(n_px):
        t = 0
        while t < n_t:
            if not forest[i, t]:
                t += 1
                continue
            end = t
            while end < n_t and forest[i, end]:
                end += 1
            anchor = min(max(ref, t), end - 1)  # the span's year nearest the reference year
            level = fitted[i, anchor]
            for k in range(t, end):
                value = fitted[i, k]
                if np.isfinite(value) and np.isfinite(level):
                    out[i, k] = max(level + (value - level) * scale, 0.0)
                elif np.isfinite(value):
                    out[i, k] = value
            t = end
    return out


def _block(fitted: npt.NDArray[np.floating], forest: npt.NDArray[np.bool_], *, ref: int,
           scale: float) -> npt.NDArray[np.float32]:
    shape = fitted.shape
    flat = np.ascontiguousarray(fitted.reshape(-1, shape[-1]), dtype=np.float64)
    mask = np.ascontiguousarray(forest.reshape(-1, shape[-1]), dtype=np.bool_)
    return np.asarray(_calibrate(flat, mask, ref, scale)).reshape(shape)


def calibrate_change(fitted: xr.DataArray, forest: xr.DataArray, reference_year: int,
                     attenuation: float, *, dim: str = "year") -> xr.DataArray:
    """Each pixel's fitted trajectory with its change from the reference year divided by ``b``.

    Parameters
    ----------
    fitted
        (``dim``, y, x) fitted AGC trajectories (t C/ha), NaN outside forest.
    forest
        (``dim``, y, x) bool: forest spans (a span without the reference year takes its year
        nearest to it as the anchor).
    reference_year
        The plots' survey year (the model's own year).
    attenuation
        ``b`` (0 < b ≤ 1), e.g. from :func:`attenuation_from_plots`; 1 leaves the input as is.
    dim
        The time dimension.

    Returns
    -------
    xarray.DataArray
        (``dim``, y, x) float32 t C/ha, never negative, NaN where ``fitted`` is NaN.

    Raises
    ------
    InputDataError
        Bad attenuation or dims.

    """
    if not 0.0 < attenuation <= 1.0:
        raise InputDataError(f"attenuation {attenuation}", fix="give a slope in (0, 1]")
    out = scale_change(fitted, forest, reference_year, 1.0 / attenuation, dim=dim)
    return out.assign_attrs(attenuation=attenuation, reference_year=reference_year)


def scale_change(agc: xr.DataArray, forest: xr.DataArray, reference_year: int, factor: float,
                 *, dim: str = "year") -> xr.DataArray:
    """Each forest span's change from its anchor year multiplied by ``factor`` (> 0).

    The anchor is the reference year, or the span's year nearest to it, as in
    :func:`calibrate_change`; the anchor year's values are kept, so is every level the plots
    fixed there. Used to move finished maps' change by the space-for-time check's pooled scale
    (:mod:`minecarbon.mapping.space_for_time`).

    Parameters
    ----------
    agc, forest
        (``dim``, y, x) AGC (t C/ha, NaN outside forest) and the forest spans.
    reference_year
        The plots' year.
    factor
        The change's multiplier.
    dim
        The time dimension.

    Returns
    -------
    xarray.DataArray
        (``dim``, y, x) float32 t C/ha, never negative, NaN where ``agc`` is NaN.

    """
    if not (np.isfinite(factor) and factor > 0.0):
        raise InputDataError(f"change factor {factor}", fix="give a positive, finite factor")
    if agc.dims != forest.dims or dim not in agc.dims:
        raise InputDataError(f"agc {agc.dims} and forest {forest.dims}",
                             fix=f"pass both as ({dim}, y, x) on one grid")
    years = [int(y) for y in agc[dim].values]
    ref = int(np.argmin([abs(y - reference_year) for y in years]))
    if agc.chunks is not None:
        agc = agc.chunk({dim: -1})
        blocks = agc.chunks
        assert blocks is not None
        forest = forest.chunk(dict(zip(agc.dims, blocks, strict=True)))
    out: xr.DataArray = xr.apply_ufunc(
        _block, agc, forest, input_core_dims=[[dim], [dim]], output_core_dims=[[dim]],
        dask="parallelized", output_dtypes=[np.float32], kwargs={"ref": ref, "scale": factor})
    return out.transpose(*agc.dims).rename("agc_t_per_ha").assign_attrs(units="t C/ha")
