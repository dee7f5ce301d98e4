"""Each assessment unit's map brought to its plots: shrunken post-stratified ratios (decision 44).

A model fitted on all plots is unbiased over the plots as a whole, not within every assessment
unit: stand age and history, which no spectral feature sees, set a unit's carbon. On the
simulated site the maps over-predict young reclaimed stands by a factor of about two and
under-predict old persistent forest by 2–9 % in the plots' year, and each unit's map sum is
off by as much, although the plots in the unit say so.

The plots in unit ``d`` give its ratio ``R̂_d = Σ y / Σ m`` (the ratio estimator, Cochran 1977
§6.2–6.4, with ``m`` the map's out-of-fold value at each plot) and its variance ``v_d``. A
unit with few plots gives a noisy ratio, so each is shrunk toward the ratio of all plots
``R̂``, by the weight the between-unit variance ``τ²`` (DerSimonian & Laird 1986) gives it::

    R̃_d = R̂ + w_d (R̂_d − R̂),    w_d = τ² / (τ² + v_d)

the composite (empirical Bayes) estimator of small-area estimation (Rao & Molina 2015,
*Small Area Estimation*, 2nd ed., §3.3 and §6.1: a direct estimate weighted against a synthetic
one by their variances). ``τ² = 0`` (the units' ratios differ no more than their noise) gives
every unit the pooled ratio; a unit whose plots clearly differ keeps nearly its own. A unit
with fewer than ``min_plots`` plots, or without plots, takes ``R̂``.

Every pixel of the maps is multiplied by the ratio of the unit it lies in that year, the
factor the carbon totals (:mod:`minecarbon.assessment.carbon_totals`) apply to a unit's map
sum (they also count the plots the map missed, which correct its omission; the maps do not).
In other years the ratio is taken to hold (how a unit's bias changes over time, no single
survey can tell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError


def ratio_estimate(observed: npt.ArrayLike, mapped: npt.ArrayLike) -> tuple[float, float]:
    """Ratio ``Σy / Σm`` and its variance (Cochran 1977, eq. 6.9, no finite-population term).

    Parameters
    ----------
    observed, mapped
        Plot AGC and the map's value at each plot (t C/ha), same length ≥ 2.

    Returns
    -------
    (ratio, variance)

    """
    y = np.asarray(observed, dtype=np.float64)
    m = np.asarray(mapped, dtype=np.float64)
    n = y.size
    if n < 2 or m.size != n or not (np.isfinite(y).all() and np.isfinite(m).all()):
        raise InputDataError(f"the ratio estimator needs ≥ 2 finite plot pairs, got {n}",
                             fix="check the plots' AGC and the map values at them")
    if m.sum() <= 0:
        raise InputDataError("the map is 0 at every plot: no ratio to the plots",
                             fix="check that the plots lie on mapped forest")
    ratio = float(y.sum() / m.sum())
    resid = y - ratio * m
    var = float((resid ** 2).sum() / (n * (n - 1) * m.mean() ** 2))
    return ratio, var


def between_variance(estimates: npt.ArrayLike, variances: npt.ArrayLike) -> float:
    """DerSimonian–Laird moment estimate of the between-group variance ``τ²`` (≥ 0).

    ``Q = Σ w_k (θ_k − θ̄_w)²`` with ``w_k = 1 / v_k``; ``τ² = max(0, (Q − (K − 1)) /
    (Σw − Σw² / Σw))`` (DerSimonian & Laird 1986, *Controlled Clinical Trials* 7: 177–188).
    Fewer than two groups give 0.
    """
    theta = np.asarray(estimates, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    keep = np.isfinite(theta) & np.isfinite(v) & (v > 0)
    theta, v = theta[keep], v[keep]
    if theta.size < 2:
        return 0.0
    w = 1.0 / v
    mean = float((w * theta).sum() / w.sum())
    q = float((w * (theta - mean) ** 2).sum())
    denom = float(w.sum() - (w ** 2).sum() / w.sum())
    return max(0.0, (q - (theta.size - 1)) / denom)


def own_ratios(plots: pd.DataFrame, min_plots: int
               ) -> tuple[dict[object, tuple[float, float, int]], float]:
    """Each unit's own ratio, its variance and plots, and the between-unit variance ``τ²``.

    ``plots`` has ``zone`` (unit key), ``observed`` and ``mapped``. A unit gets its own ratio
    with at least ``min_plots`` plots and a positive map sum; ``τ²`` is the DerSimonian–Laird
    estimate over those units (:func:`between_variance`).
    """
    own: dict[object, tuple[float, float, int]] = {}
    for zone, group in plots.groupby("zone", sort=True):
        if len(group) >= min_plots and group["mapped"].sum() > 0:
            r, v = ratio_estimate(group["observed"], group["mapped"])
            own[zone] = (r, v, len(group))
    tau2 = between_variance([o[0] for o in own.values()], [o[1] for o in own.values()])
    return own, tau2


@dataclass(frozen=True)
class UnitRatio:
    """One unit's ratio: as applied (shrunk), its own, the shrinkage weight and its plots."""

    ratio: float
    own_ratio: float | None
    weight: float
    n_plots: int


def shrunken_ratios(plots: pd.DataFrame, *, min_plots: int = 3
                    ) -> tuple[dict[int, UnitRatio], UnitRatio, float]:
    """The ratio of every unit with plots, shrunk toward all plots' (module docstring).

    Parameters
    ----------
    plots
        Columns ``zone`` (integer unit code), ``observed`` and ``mapped`` (t C/ha; ``mapped``
        out of fold, 0 where the map has no forest at the plot).
    min_plots
        Plots a unit needs for its own ratio.

    Returns
    -------
    (by unit, pooled, tau2)
        The units with plots, the pooled ratio (for units without plots) and ``τ²``.

    """
    missing = {"zone", "observed", "mapped"} - set(plots.columns)
    if missing:
        raise InputDataError(f"plot table without columns {sorted(missing)}",
                             fix="give each plot its unit, observed AGC and mapped AGC")
    pooled_r, _ = ratio_estimate(plots["observed"], plots["mapped"])
    own, tau2 = own_ratios(plots, min_plots)
    pooled = UnitRatio(pooled_r, None, 0.0, len(plots))
    out: dict[int, UnitRatio] = {}
    for zone, group in plots.groupby("zone", sort=True):
        if zone in own:
            r, v, n = own[zone]
            w = tau2 / (tau2 + v) if tau2 + v > 0 else 0.0
            out[int(zone)] = UnitRatio(pooled_r + w * (r - pooled_r), r, w, n)
        else:
            out[int(zone)] = UnitRatio(pooled_r, None, 0.0, len(group))
    return out, pooled, tau2


def apply_unit_ratios(agc: xr.DataArray, units: xr.DataArray, ratios: Mapping[int, float],
                      default: float) -> xr.DataArray:
    """``agc`` × the ratio of each pixel-year's unit (``default`` for a unit not listed).

    ``units`` holds integer codes 0–255 on the same (year, y, x) grid; lazy on dask input.
    """
    table = np.full(256, default, dtype=np.float32)
    for code, value in ratios.items():
        if not 0 <= int(code) <= 255:
            raise InputDataError(f"unit code {code} outside 0–255",
                                 fix="check the level-1 unit maps (products/units)")
        table[int(code)] = value
    codes = units.fillna(0).astype("uint8")
    factor: xr.DataArray = xr.apply_ufunc(lambda c: table[c], codes, dask="parallelized",
                                          output_dtypes=[np.float32])
    out: xr.DataArray = agc * factor
    return out
