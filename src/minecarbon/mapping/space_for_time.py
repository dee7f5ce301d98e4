"""How far the change's size rests on space for time: the features' own change, checked.

With plots from one survey year, the change calibration (:mod:`minecarbon.mapping.calibration`)
takes the attenuation ``b`` from the differences *between* stands: it assumes the model responds
to a stand's growth over the years as it does to those differences. Nothing in the model can
test that. The features can: each spectral feature that tracks AGC across the plots (slope
``β_j`` of the feature on the plots' AGC, least squares) turns its own change over the years
into a change of AGC by the inverse of that slope — the classical calibration estimator
(Brown 1982, *Journal of the Royal Statistical Society B* 44: 287–321; Osborne 1991,
*International Statistical Review* 59: 309–336):

    Â_j = τ_j / β_j,      ρ_j = Â_j / A_map

with ``τ_j`` the least-squares trend (per year) of the feature's mean over the pixels that are
forest in every year, and ``A_map`` the trend of the maps' mean AGC over the same pixels. Where
the maps' change has the right size, ``ρ_j`` ≈ 1 for the features that track AGC. Their
precision-weighted mean ``ρ̄`` (weights ``t_j²``, the squared t-statistics of the plots'
slopes; features with ``|t_j|`` < 3 have no usable slope and are left out) is a second,
independent estimate of the change's scale, made over time where ``b`` was made across space.

Neither estimate is the truth: on the project's simulated sites ``b``'s maps kept 0.56–1.03 of
the true change of persistent forest and the features' scale 0.69–1.17. Their disagreement is
what the data say about the space-for-time error, a structural error of the model that no
sampling variance contains (model uncertainty as a variance component, Draper 1995,
*Journal of the Royal Statistical Society B* 57: 45–97). It is measured on the log scale,
since a scale is positive and its error multiplicative. ``(ln ρ̄)²`` holds the structural
variance plus the sampling variance of both estimates; the part beyond the sampling variance
is the structural variance (the moment estimator of DerSimonian & Laird 1986, as for the
between-unit and between-type variances elsewhere):

    σ² = max(0, (ln ρ̄)² − v_ρ − v_b),   v_ρ = (Σ w_j s_j / Σ w_j)² + (se_A / A_map)²

with ``s_j² = 1 / t_j² + (se_τj / τ_j)²`` the relative sampling variance of feature ``j``'s
estimate (its plots' slope and its trend; the features are strongly correlated, so their
errors are averaged, not pooled as independent), ``se_A`` the maps' trend's standard error,
and ``v_b`` the change calibration's own relative variance (``b``'s sampling and
between-type variance, which the totals carry already). :func:`minecarbon.assessment.
carbon_totals.scale_interval` makes the totals' intervals of ``σ``. Where the features say
the change goes the other way (``ρ̄ ≤ 0``) no scale can reconcile the two, and ``(ρ̄ − 1)²``
joins the change calibration's relative variance instead. Static features (terrain) cannot
change over time and are not asked.

No file access here; :mod:`minecarbon.pipeline.space_for_time_steps` reads the maps and stacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

#: A feature's slope on the plots' AGC must reach this |t| to turn its change into AGC.
MIN_T = 3.0


def plot_slopes(features: pd.DataFrame, agc_t_per_ha: npt.ArrayLike) -> pd.DataFrame:
    """Each feature's least-squares slope on the plots' AGC (feature units per t C/ha).

    Parameters
    ----------
    features
        One row per plot, one column per feature.
    agc_t_per_ha
        The plots' AGC, in the rows' order.

    Returns
    -------
    pandas.DataFrame
        Index the feature names; columns ``slope``, ``se``, ``t``, ``n`` (plots with a value;
        a feature with fewer than 3 or no spread in AGC gets NaN).

    """
    agc = np.asarray(agc_t_per_ha, dtype=np.float64)
    rows = {}
    for name in features.columns:
        x = pd.to_numeric(features[name], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(agc)
        slope = se = np.nan
        if ok.sum() >= 3 and np.ptp(agc[ok]) > 0:
            fit = stats.linregress(agc[ok], x[ok])
            slope, se = float(fit.slope), float(fit.stderr)
        t = slope / se if se and np.isfinite(se) and se > 0 else np.nan
        rows[str(name)] = {"slope": slope, "se": se, "t": t, "n": int(ok.sum())}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["slope", "se", "t", "n"])


def trend_per_year(years: Sequence[int], values: npt.ArrayLike) -> tuple[float, float]:
    """Least-squares slope of a yearly series and its standard error.

    NaN years are left out; NaN, NaN with fewer than 3 years.
    """
    t = np.asarray(years, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    fit = stats.linregress(t[ok], v[ok])
    return float(fit.slope), float(fit.stderr)


def structural_log_var(record: Mapping[str, Any], change_rel_var: float) -> float:
    """``σ²`` of the module's docstring from a :func:`change_scale` record (0 without ``ρ̄``).

    Parameters
    ----------
    record
        :func:`change_scale`'s result (``log_sd``, ``sampling_log_var``).
    change_rel_var
        ``v_b``: the change calibration's relative variance already carried.

    """
    log_sd = record.get("log_sd")
    if log_sd is None:
        return 0.0
    sampling = float(record.get("sampling_log_var") or 0.0)
    return max(0.0, float(log_sd) ** 2 - sampling - float(change_rel_var))


def change_scale(slopes: pd.DataFrame, feature_trends: Mapping[str, float], map_trend: float,
                 *, trend_ses: Mapping[str, float] | None = None, map_trend_se: float = 0.0,
                 min_t: float = MIN_T) -> dict[str, Any]:
    """The features' estimate of the maps' change scale, and its variance term.

    Parameters
    ----------
    slopes
        :func:`plot_slopes` of the features asked.
    feature_trends
        Feature → trend per year of its mean over the always-forest pixels (``τ_j``).
    map_trend
        Trend per year of the maps' mean AGC over the same pixels (t C/ha per year).
    trend_ses, map_trend_se
        Standard errors of those trends (0 where not given).
    min_t
        Features whose plots' slope has a smaller ``|t|`` are left out.

    Returns
    -------
    dict
        ``features`` (per feature: ``slope``, ``t``, ``trend_per_yr``, ``implied_t_ha_yr``,
        ``ratio``, ``used``), ``map_trend_t_ha_yr``, ``ratio`` (``ρ̄``, None when no feature
        qualifies or the maps' trend is 0), ``log_sd`` (``|ln ρ̄|``; None without ``ρ̄`` or
        when ``ρ̄ ≤ 0``), ``sampling_log_var`` (``v_ρ``), ``rel_var`` (``(ρ̄ − 1)²`` or None)
        and ``n_features`` used.

    """
    per: dict[str, dict[str, Any]] = {}
    ratios, weights, sds = [], [], []
    ses = trend_ses or {}
    usable_map = bool(np.isfinite(map_trend) and abs(map_trend) > 1e-9)
    for name, row in slopes.iterrows():
        tau = float(feature_trends.get(str(name), np.nan))
        slope, t = float(row["slope"]), float(row["t"])
        implied = tau / slope if np.isfinite(tau) and np.isfinite(slope) and slope else np.nan
        ratio = implied / map_trend if usable_map and np.isfinite(implied) else np.nan
        used = bool(np.isfinite(ratio) and np.isfinite(t) and abs(t) >= min_t)
        per[str(name)] = {"slope": _num(slope), "t": _num(t), "trend_per_yr": _num(tau),
                          "implied_t_ha_yr": _num(implied), "ratio": _num(ratio), "used": used}
        if used:
            ratios.append(ratio)
            weights.append(t * t)
            se_tau = float(ses.get(str(name), 0.0))
            sds.append(float(np.sqrt(1.0 / (t * t) + (se_tau / tau) ** 2)))
    out: dict[str, Any] = {"features": per, "map_trend_t_ha_yr": _num(map_trend),
                           "map_trend_se": _num(map_trend_se), "min_t": min_t,
                           "n_features": len(ratios), "ratio": None, "log_sd": None,
                           "sampling_log_var": None, "rel_var": None}
    if ratios:
        rho = float(np.average(ratios, weights=weights))
        sampling = (float(np.average(sds, weights=weights)) ** 2
                    + (map_trend_se / map_trend) ** 2)
        out.update(ratio=round(rho, 4), rel_var=round((rho - 1.0) ** 2, 6),
                   sampling_log_var=round(sampling, 6),
                   log_sd=round(abs(float(np.log(rho))), 6) if rho > 0 else None)
    return out


def _num(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None
