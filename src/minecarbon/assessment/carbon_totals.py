"""Carbon totals of assessment units with 95 % intervals, every year and every change (issue 17).

A unit's total summed from map pixels carries the map's errors, which do not cancel: a model
fitted on plots is unbiased for the plots' population as a whole but not for every unit (it
over-predicts sparse reclaimed stands and under-predicts old persistent forest), and the annual
maps' changes rest on the attenuation slope ``b`` (:mod:`minecarbon.mapping.calibration`).
The estimators here follow the hybrid inference of Ståhl et al. (2016, *Forest Ecosystems*
3: 5) and McRoberts et al. (2013): design-based use of the plots where they are, a model for
the rest, every source of error carried as a covariance between years.

**Reference year** (the plots' survey year ``r``), unit ``d`` with map total ``M_dr`` (t C,
non-forest pixels 0). The plots in the unit give the *ratio estimator* (GREG with the ratio
model ``y = R m``; Särndal, Swensson & Wretman 1992, §7.3; Cochran 1977, §6.2–6.4)::

    R̂_d = Σ y_s / Σ m_s,      v(R̂_d) = Σ (y_s − R̂_d m_s)² / (n_d (n_d − 1) m̄_d²)   (eq. 6.9)

with ``y_s`` the plot's AGC and ``m_s`` the map's value at it (out of fold). A unit with fewer
than ``min_plots`` plots takes the pooled ratio of all plots, whose variance is widened by the
between-unit variance ``τ²`` of the units' own ratios (DerSimonian & Laird 1986 moment
estimator): a synthetic estimate honest about units differing.

**Other years** ``t`` (model-based): ``T̂_dt = R̂_d M_dt``. The maps' change from the reference
year, ``M_dt − M_dr``, was scaled by ``1 / b``; its relative error ``ε_c`` has variance
``v_c = (se_b / b)² + τ_b²`` (the slope's sampling variance and the between-forest-type
variance of ``b``). With ``δ`` the plots' systematic relative error (the biomass models' own
errors and carbon fractions, shared by every plot of a model:
:mod:`minecarbon.allometry.systematic`) and ``σ²`` the plots' residual variance per pixel
(t C/ha)², the covariance of the totals of years ``t`` and ``u`` is::

    C_tu = (v(R̂_d) + R̂_d² δ²) M_dt M_du + R̂_d² v_c (M_dt − M_dr)(M_du − M_dr)
           + [t = u] N_dt σ² a²

(``N_dt`` forest pixels of area ``a`` ha, residuals independent between pixels). Any linear
combination ``w`` of the years' totals — a change ``T_u − T_t``, the least-squares slope over
the trend period — then has variance ``wᵀ C w``: the level's error largely cancels in a change,
the change calibration's does not. Intervals are ``estimate ± t SE`` (Student's ``t`` on the
degrees of freedom of the unit's ratio: few plots, wide intervals); a change *differs from
zero* when its interval excludes 0. A unit needs ``min_plots`` plots (default 5) for its own
ratio.

**The change's scale** (space for time, :mod:`minecarbon.mapping.space_for_time`). Where the
mapping step compared the maps' change with the spectral features' own, the scale ``s`` of
the change part ``D = R̂_d (M_dt − M_dr)`` of every estimate is uncertain log-normally:
``ln s ~ N(0, σ²)``, ``σ²`` the maps' own log-scale variance plus the between-estimate
variance of the check (``v_b + τ²``; then ``v_c`` is 0, since ``σ²`` holds ``b``'s error).
A scale is positive and its error multiplicative, so the interval is asymmetric and keeps
the change's sign. For a combination
``w`` with change part ``D_w = R̂_d wᵀ(M_d − M_dr)``, the range of ``(s − 1) D_w`` over
``s ∈ [e^{−zσ}, e^{zσ}]`` is combined with ``t · SE`` side by side in quadrature::

    low = est − √((t SE)² + (lo D_w)²),   high = est + √((t SE)² + (hi D_w)²)

(``lo``, ``hi`` the magnitudes of ``(e^{∓zσ} − 1)`` on the side each lowers or raises ``D_w``;
the root-sum-square of independent half-widths of IPCC 2006, vol. 1, ch. 3, eq. 3.1, per
side). The reported standard error adds ``(σ D_w)²`` to ``SE²`` (delta method).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from minecarbon.errors import InputDataError

# the estimators live with the maps (minecarbon.mapping.unit_calibration); re-exported here
from minecarbon.mapping.unit_calibration import between_variance as between_variance
from minecarbon.mapping.unit_calibration import own_ratios
from minecarbon.mapping.unit_calibration import ratio_estimate as ratio_estimate


def slope_se(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[float, float]:
    """Least-squares slope of ``y`` on ``x`` and its standard error (as scipy's linregress)."""
    xv = np.asarray(x, dtype=np.float64)
    yv = np.asarray(y, dtype=np.float64)
    n = xv.size
    if n < 3:
        raise InputDataError(f"a slope's error needs ≥ 3 points, got {n}",
                             fix="give more plots")
    dx = xv - xv.mean()
    sxx = float((dx ** 2).sum())
    if sxx <= 0:
        raise InputDataError("all x values are equal: no slope", fix="check the plots' AGC")
    slope = float((dx * (yv - yv.mean())).sum() / sxx)
    resid = yv - yv.mean() - slope * dx
    return slope, float(np.sqrt((resid ** 2).sum() / (n - 2) / sxx))


@dataclass(frozen=True)
class Calibration:
    """The plots' correction of one unit: ratio, its variance, plots used and how."""

    ratio: float
    ratio_var: float
    n_plots: int
    method: str
    dof: int = 10 ** 6  # degrees of freedom of the ratio's variance (for Student's t)


def unit_calibrations(plots: pd.DataFrame, min_plots: int = 5) -> dict[object, Calibration]:
    """Ratio of every unit with plots, own or pooled (see the module's docstring).

    Parameters
    ----------
    plots
        Columns ``zone`` (unit key), ``observed`` and ``mapped`` (t C/ha).
    min_plots
        Units with at least this many plots (and a positive map sum) get their own ratio.

    Returns
    -------
    dict
        Unit key → :class:`Calibration`; key ``None`` holds the pooled one (for units without
        plots).

    """
    pooled_r, pooled_v = ratio_estimate(plots["observed"], plots["mapped"])
    ratios, tau2 = own_ratios(plots, min_plots)
    own = {zone: Calibration(r, v, n, "the unit's plots, ratio estimator (GREG)", n - 1)
           for zone, (r, v, n) in ratios.items()}
    synthetic = "synthetic: all plots' ratio, widened by the between-unit variance"
    dof = len(plots) - 1
    out: dict[object, Calibration] = {
        None: Calibration(pooled_r, pooled_v + tau2, 0, synthetic, dof)}
    for zone, group in plots.groupby("zone", sort=True):
        out[zone] = own.get(zone, Calibration(pooled_r, pooled_v + tau2, len(group), synthetic,
                                              dof))
    return out


def totals_covariance(mapped_t: npt.ArrayLike, forest_px: npt.ArrayLike, ref_index: int,
                      calibration: Calibration, *, change_rel_var: float,
                      systematic_rel_var: float, residual_var: float,
                      pixel_area_ha: float) -> tuple[npt.NDArray[np.float64],
                                                     npt.NDArray[np.float64]]:
    """Estimated totals of one unit over the years and their covariance matrix.

    Parameters
    ----------
    mapped_t
        Map total of the unit in each year (t C).
    forest_px
        Mapped forest pixels of the unit in each year.
    ref_index
        Index of the reference (plot) year in ``mapped_t``.
    calibration
        The unit's :class:`Calibration`.
    change_rel_var
        ``v_c``, relative variance of the maps' change calibration.
    systematic_rel_var
        ``δ²``, relative variance shared by all plots (biomass models and carbon fractions).
    residual_var
        ``σ²``, residual variance of a pixel (t C/ha)².
    pixel_area_ha
        ``a``.

    Returns
    -------
    (totals, covariance)

    """
    m = np.asarray(mapped_t, dtype=np.float64)
    n = np.asarray(forest_px, dtype=np.float64)
    r = calibration.ratio
    dm = m - m[ref_index]
    cov = ((calibration.ratio_var + r ** 2 * systematic_rel_var) * np.outer(m, m)
           + r ** 2 * change_rel_var * np.outer(dm, dm)
           + np.diag(n * residual_var * pixel_area_ha ** 2))
    return r * m, cov


def contrast(totals: npt.ArrayLike, cov: npt.ArrayLike,
             weights: npt.ArrayLike) -> tuple[float, float]:
    """Estimate ``wᵀT`` and its standard error ``sqrt(wᵀ C w)``."""
    w = np.asarray(weights, dtype=np.float64)
    c = np.asarray(cov, dtype=np.float64)
    var = float(w @ c @ w)
    return float(w @ np.asarray(totals, dtype=np.float64)), float(np.sqrt(max(var, 0.0)))


def slope_weights(years: Sequence[int]) -> npt.NDArray[np.float64]:
    """Weights ``w`` with ``wᵀT`` the least-squares slope of ``T`` on the year."""
    t = np.asarray(years, dtype=np.float64)
    dt: npt.NDArray[np.float64] = (t - t.mean()) / float(((t - t.mean()) ** 2).sum())
    return dt


def scale_interval(value: float, sd: float, change_part: float, z: float,
                   scale_log_sd: float) -> tuple[float, float, float]:
    """``(low, high, se)`` of an estimate whose change part has a log-normal scale error.

    Parameters
    ----------
    value, sd
        The estimate and its standard error from the covariance (every other error source).
    change_part
        ``D_w``: the part of the estimate that the change's scale multiplies.
    z
        The interval's quantile (Student's ``t`` of the unit's ratio).
    scale_log_sd
        ``σ``; 0 gives the symmetric ``value ± z sd``.

    """
    if scale_log_sd <= 0.0 or change_part == 0.0:
        return value - z * sd, value + z * sd, sd
    down = (np.exp(-z * scale_log_sd) - 1.0) * change_part
    up = (np.exp(z * scale_log_sd) - 1.0) * change_part
    lo, hi = -min(down, up), max(down, up)
    base = z * sd
    return (value - float(np.hypot(base, lo)), value + float(np.hypot(base, hi)),
            float(np.hypot(sd, scale_log_sd * change_part)))


def _pair_weights(n: int, i: int, j: int) -> npt.NDArray[np.float64]:
    w = np.zeros(n)
    w[j], w[i] = 1.0, -1.0
    return w


def estimate_totals(sums: pd.DataFrame, plots: pd.DataFrame, *, years: Sequence[int],
                    reference_year: int, pairs: Sequence[tuple[int, int]],
                    change_rel_var: float, systematic_rel_var: float, pixel_area_ha: float,
                    min_plots: int = 5, level: float = 0.95, scale_log_sd: float = 0.0
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Totals of every zone and year and of every change, with intervals.

    Parameters
    ----------
    sums
        One row per zone and year in which the zone has pixels: ``year``, ``zone``
        (``extent`` or ``l<level>:<code>``), ``map_t`` (the map's total, t C) and
        ``forest_px`` (mapped forest pixels).
    plots
        The reference year's plots: ``observed`` and ``mapped`` (t C/ha), ``unit_l1`` and
        ``unit_l2`` (codes).
    years, reference_year, pairs
        The mapped years, the plots' year, the change pairs ``(y1, y2)``.
    change_rel_var, systematic_rel_var
        ``v_c`` and ``δ²`` of the module's docstring.
    pixel_area_ha
        Area of a pixel.
    min_plots
        Plots a unit needs for its own ratio.
    level
        Confidence level of the intervals: ``estimate ± t SE`` with Student's ``t`` on the
        ratio's ``n − 1`` degrees of freedom (a unit's own plots, or all plots), as for any
        ratio estimated from few plots (Cochran 1977, §2.15).
    scale_log_sd
        ``σ`` of the change's scale (the module's docstring); 0: no such term.

    Returns
    -------
    (totals, changes)
        ``totals``: ``year, zone, mapped_agc_t, agc_t, agc_se_t, agc_t_ci_low, agc_t_ci_high,
        n_plots, calibration`` (a total's lower bound is not below 0). ``changes``:
        ``zone, kind`` (``change`` or ``trend_t_per_yr``), ``year_from, year_to, mapped_t,
        estimate_t, se_t, ci_low_t, ci_high_t, differs_from_zero``.

    """
    years = list(years)
    index = {y: i for i, y in enumerate(years)}
    if reference_year not in index:
        raise InputDataError(f"the reference year {reference_year} is not among the years",
                             fix="map the plots' survey year")
    obs, mapped = plots["observed"].to_numpy(float), plots["mapped"].to_numpy(float)
    extent_r, extent_v = ratio_estimate(obs, mapped)
    residual_var = float(np.var(obs - extent_r * mapped, ddof=1))
    by_level = {level: unit_calibrations(pd.DataFrame({
        "zone": [f"l{level}:{int(c)}" for c in plots[f"unit_l{level}"]],
        "observed": obs, "mapped": mapped}), min_plots) for level in (1, 2)}
    rows, change_rows = [], []
    for zone, group in sums.groupby("zone", sort=False):
        present = group.set_index("year")[["map_t", "forest_px"]].reindex(years)
        exists = present["map_t"].notna().to_numpy()
        present = present.fillna(0.0)
        if zone == "extent":
            cal = Calibration(extent_r, extent_v, len(plots), "all plots, ratio estimator (GREG)",
                              len(plots) - 1)
        else:
            table = by_level[int(str(zone)[1])]
            pooled = table[None]
            cal = table.get(zone) or Calibration(pooled.ratio, pooled.ratio_var, 0, pooled.method,
                                                  pooled.dof)
        est, cov = totals_covariance(present["map_t"].to_numpy(), present["forest_px"].to_numpy(),
                                     index[reference_year], cal, change_rel_var=change_rel_var,
                                     systematic_rel_var=systematic_rel_var,
                                     residual_var=residual_var, pixel_area_ha=pixel_area_ha)
        cov = cov * np.outer(exists, exists)  # a zone without pixels in a year holds exactly 0
        est = np.where(exists, est, 0.0)
        z = float(stats.t.ppf(0.5 + level / 2, cal.dof))
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        scaled = cal.ratio * (present["map_t"].to_numpy() - present["map_t"].iloc[
            index[reference_year]])  # D: the part of each year's total the change's scale moves
        scaled = np.where(exists, scaled, 0.0)
        for year in years:
            i = index[year]
            if not exists[i]:
                continue
            low, high, sd = scale_interval(float(est[i]), float(se[i]), float(scaled[i]), z,
                                           scale_log_sd)
            rows.append({"year": year, "zone": zone,
                         "mapped_agc_t": float(present["map_t"].iloc[i]),
                         "agc_t": float(est[i]), "agc_se_t": sd,
                         "agc_t_ci_low": max(low, 0.0),
                         "agc_t_ci_high": high, "n_plots": cal.n_plots,
                         "calibration": cal.method})
        contrasts = [("change", a, b, _pair_weights(len(years), index[a], index[b]))
                     for a, b in pairs]
        if len(years) >= 2:
            contrasts.append(("trend_t_per_yr", years[0], years[-1], slope_weights(years)))
        map_t = present["map_t"].to_numpy()
        for kind, a, b, w in contrasts:
            value, sd = contrast(est, cov, w)
            low, high, sd = scale_interval(value, sd, float(w @ scaled), z, scale_log_sd)
            change_rows.append({"zone": zone, "kind": kind, "year_from": a, "year_to": b,
                                "mapped_t": float(w @ map_t), "estimate_t": value, "se_t": sd,
                                "ci_low_t": low, "ci_high_t": high,
                                "differs_from_zero": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows), pd.DataFrame(change_rows)
