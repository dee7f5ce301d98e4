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
the true change of persistent forest and the features' scale 0.69–1.17. They are two
estimates of one quantity, the change's log scale: the maps' own (0, with ``b``'s relative
variance ``v_b``) and the features' (``ln ρ̄``, with ``v_ρ``, the sampling variance of their
slopes and trends and of the maps' trend). Each may carry a structural error that no sampling
variance contains (model uncertainty as a variance component, Draper 1995, *Journal of the
Royal Statistical Society B* 57: 45–97). :func:`pooled_scale` pools them as random effects:
the between-estimate variance ``τ²`` by DerSimonian & Laird's moment estimator, each estimate
weighted by ``1 / (v + τ²)``. The maps' change is multiplied by the pooled factor only where
the two differ beyond their sampling errors (Cochran's Q test, ``mapping.space_for_time_alpha``
= 0.05): where they do not, the maps' own estimate stands (test, then pool). The totals carry
``v_b + τ²`` as the change's log-scale error either way
(:func:`minecarbon.assessment.carbon_totals.scale_interval`): with two estimates ``τ²`` is
too poorly known to credit the pooling with more precision than the maps' own. A scale is
positive and its error multiplicative, hence the log. Where the features say the change
goes the other way (``ρ̄ ≤ 0``) no scale can reconcile the two; the maps stay as they are and
``(ρ̄ − 1)²`` joins the change calibration's relative variance instead. With

    v_ρ = (Σ w_j s_j / Σ w_j)² + (se_A / A_map)²,   s_j² = 1 / t_j² + (se_τj / τ_j)²

(the features are strongly correlated, so their errors are averaged, not pooled as
independent; ``se_A`` is the maps' trend's standard error). Static features (terrain) cannot
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
            se_tau = float(ses.get(str(name), 0.0))  # a flat feature (τ = 0): no precision
            sds.append(float(np.sqrt(1.0 / (t * t) + (se_tau / tau) ** 2)) if tau else np.inf)
    out: dict[str, Any] = {"features": per, "map_trend_t_ha_yr": _num(map_trend),
                           "map_trend_se": _num(map_trend_se), "min_t": min_t,
                           "n_features": len(ratios), "ratio": None, "log_sd": None,
                           "sampling_log_var": None, "rel_var": None}
    if ratios:
        rho = float(np.average(ratios, weights=weights))
        finite = [(s, w) for s, w in zip(sds, weights, strict=True) if np.isfinite(s)]
        spread = (float(np.average([s for s, _ in finite], weights=[w for _, w in finite]))
                  if finite else np.inf)
        sampling = spread ** 2 + (map_trend_se / map_trend) ** 2
        out.update(ratio=round(rho, 4), rel_var=round((rho - 1.0) ** 2, 6),
                   sampling_log_var=round(sampling, 6),
                   log_sd=round(abs(float(np.log(rho))), 6) if rho > 0 else None)
    return out


def pooled_scale(log_ratio: float, features_var: float, maps_var: float) -> dict[str, float]:
    """Random-effects pooling of the two estimates of the change's log scale.

    The maps' own estimate is 0 (their change as it is) with variance ``maps_var`` (``v_b``);
    the features' is ``ln ρ̄`` with ``features_var`` (``v_ρ``). Each carries the structural
    (between-estimator) variance ``τ²`` besides its own; with two estimates the
    DerSimonian–Laird moment estimator is ``τ² = max(0, ((ln ρ̄)² − v_ρ − v_b) / 2)``, the
    pooled estimate weights each by ``1 / (v + τ²)``, and its variance is ``1 / Σ w``
    (DerSimonian & Laird 1986, *Controlled Clinical Trials* 7: 177–188; Borenstein et al.
    2009, *Introduction to Meta-Analysis*, ch. 12).

    With two estimates ``τ²`` is poorly determined and the moment estimator tends to
    understate it (IntHout, Ioannidis & Borm 2014, *BMC Medical Research Methodology* 14:
    25), so the pooled estimate is not credited with more precision than the maps' own under
    the random-effects model: the error the totals carry is ``interval_log_var = v_b + τ²``,
    never below ``1 / Σ w``.

    Cochran's ``Q = (ln ρ̄)² / (v_ρ + v_b)`` tests whether the two differ beyond their
    sampling errors (χ² with 1 degree of freedom; Cochran 1954, *Biometrics* 10: 101–129):
    ``p_value`` is its upper tail.

    Returns
    -------
    dict
        ``q``, ``p_value``, ``between_var`` (``τ²``), ``log_shift`` (the pooled log scale: the
        maps' change is multiplied by its exponential), ``log_var`` (its variance
        ``1 / Σ w``), ``interval_log_var`` (the variance the totals carry) and
        ``weight_features``.

    """
    total = features_var + maps_var
    q = log_ratio ** 2 / total if total > 0 else float("inf") if log_ratio else 0.0
    test = {"q": q, "p_value": float(stats.chi2.sf(q, 1))}
    return {**test, **_pool(log_ratio, features_var, maps_var)}


def _pool(log_ratio: float, features_var: float, maps_var: float) -> dict[str, float]:
    tau2 = max(0.0, (log_ratio ** 2 - features_var - maps_var) / 2.0)
    own_m, own_f = maps_var + tau2, features_var + tau2
    if own_m <= 0.0:  # the maps' scale is known exactly: nothing to pool
        return {"between_var": tau2, "log_shift": 0.0, "log_var": 0.0,
                "interval_log_var": 0.0, "weight_features": 0.0}
    if own_f <= 0.0:
        return {"between_var": tau2, "log_shift": log_ratio, "log_var": 0.0,
                "interval_log_var": own_m, "weight_features": 1.0}
    w_m, w_f = 1.0 / own_m, 1.0 / own_f
    return {"between_var": tau2, "log_shift": w_f * log_ratio / (w_m + w_f),
            "log_var": 1.0 / (w_m + w_f), "interval_log_var": own_m,
            "weight_features": w_f / (w_m + w_f)}


def _num(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None
