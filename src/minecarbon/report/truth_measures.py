"""The measures of :mod:`minecarbon.report.truth_comparison` on in-memory series.

:func:`score_series` scores (year, y, x) arrays of true and mapped AGC against issue 14's
:data:`TARGETS`; :func:`unit_bias` gives each true level-1 unit's map bias every year. The
module docstring of :mod:`minecarbon.report.truth_comparison` defines the measures.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.assessment.trend import TREND_LABELS, sen_mk
from minecarbon.errors import InputDataError
from minecarbon.scope.units import unit_names
from minecarbon.types import AssessmentUnit

__all__ = ["MIN_UNIT_PIXELS", "TARGETS", "score_series", "unit_bias"]

Array = npt.NDArray[Any]

#: Issue 14's targets: name → (description, lower bound or None, upper bound or None).
TARGETS: dict[str, tuple[str, float | None, float | None]] = {
    "coverage_min": ("coverage of truth-forest pixels, worst year ≥ 0.95", 0.95, None),
    "site_total_worst_deviation_pct": (
        "site total mapped/truth within ±10 % every year (worst |ratio − 1|, %)", None, 10.0),
    "change_worst_diff_points": (
        "year-to-year change of the site total within ±3 points of the truth's (worst)",
        None, 3.0),
    "persistent_change_ratio": (
        "persistent forest: mean change first→last year, mapped/truth in 0.8–1.2", 0.8, 1.2),
    "sen_slope_ratio": ("always-forest pixels: mean Sen slope mapped/truth in 0.8–1.2",
                        0.8, 1.2),
    "sen_slope_r": ("always-forest pixels: Pearson r of the Sen slopes ≥ 0.6", 0.6, None),
    "trend_class_agreement": ("trend class equal to the truth's on ≥ 70 % of always-forest "
                              "pixels", 0.70, None),
    "rmse_worst_pct": ("RMSE ≤ 25 % of the truth mean every year (worst, %)", None, 25.0),
    "bias_worst_abs_pct": ("|bias| ≤ 5 % of the truth mean every year (worst, %)", None, 5.0),
}


def _float(value: Any) -> float:
    v = float(value)
    return v if math.isfinite(v) else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b != 0 and math.isfinite(a) and math.isfinite(b) else math.nan


def _pearson(a: Array, b: Array) -> float:
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.size < 2:
        return math.nan
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(np.dot(da, da)) * float(np.dot(db, db)))
    return float(np.dot(da, db)) / den if den > 0 else math.nan


def _mean(a: Array) -> float:
    return float(np.mean(a, dtype=np.float64)) if a.size else math.nan


def _nan_range(values: list[float]) -> tuple[float, float]:
    """Smallest and largest finite value; NaN, NaN when none is finite."""
    if not np.isfinite(values).any():
        return math.nan, math.nan
    return _float(np.nanmin(values)), _float(np.nanmax(values))


def _nanmax_abs(values: list[float]) -> tuple[float, int | None]:
    """Largest |value| (NaN counts as the worst) and its index."""
    if not values:
        return math.nan, None
    if any(math.isnan(v) for v in values):
        return math.nan, next(i for i, v in enumerate(values) if math.isnan(v))
    k = int(np.argmax(np.abs(values)))
    return abs(values[k]), k


def _trend_shares(codes: Array) -> dict[str, float]:
    n = codes.size
    return {TREND_LABELS[c][1]: (float(np.count_nonzero(codes == c)) / n if n else math.nan)
            for c in TREND_LABELS}


def _targets(summary: dict[str, float], worst_years: dict[str, int | None]
             ) -> dict[str, dict[str, Any]]:
    """Each target with its bounds, the measured value, the worst year (if per year), pass."""
    out: dict[str, dict[str, Any]] = {}
    for name, (text, low, high) in TARGETS.items():
        value = summary[name]
        ok = math.isfinite(value) and (low is None or value >= low) and (
            high is None or value <= high)
        out[name] = {"target": text, "min": low, "max": high, "value": value,
                     "year": worst_years.get(name), "pass": bool(ok)}
    return out


#: The per-year keys of :func:`_error_budget`, in the order they are reported.
BUDGET_KEYS = ("omitted_px", "omission_bias_pct", "mapped_bias_pct", "rmse_mapped_pct",
               "omission_mse_share")


def _error_budget(t: Array, err: Array, mapped: Array, truth_mean: float) -> dict[str, Any]:
    """One year's RMSE and bias split into the unmapped truth forest and the mapped rest.

    ``t`` and ``err`` (mapped − truth, an unmapped pixel read as 0 so its error is −t) are
    over the year's truth-forest pixels, ``mapped`` says which of them have a value. The bias
    is the sum of its two parts exactly (both divided by all truth-forest pixels):
    ``omission_bias_pct`` = −100 · Σ t(unmapped) / Σ t, the share of the truth's carbon left
    off the map, and ``mapped_bias_pct``, the mapped pixels' error. ``omission_mse_share`` is
    the unmapped pixels' share of the squared error; ``rmse_mapped_pct`` the RMSE of the
    mapped pixels alone, in % of the mean of all truth-forest pixels (what the RMSE would be
    if the classification missed nothing and the model did as it does).
    """
    n = t.size
    omitted = ~mapped
    if not n:
        return {"omitted_px": 0, **dict.fromkeys(BUDGET_KEYS[1:], math.nan)}
    sq = err * err
    return {
        "omitted_px": int(np.count_nonzero(omitted)),
        "omission_bias_pct": 100.0 * _ratio(float(np.sum(err[omitted])) / n, truth_mean),
        "mapped_bias_pct": 100.0 * _ratio(float(np.sum(err[mapped])) / n, truth_mean),
        "rmse_mapped_pct": 100.0 * _ratio(math.sqrt(_mean(sq[mapped])), truth_mean)
        if mapped.any() else math.nan,
        "omission_mse_share": _ratio(float(np.sum(sq[omitted])), float(np.sum(sq))),
    }


def _budget_summary(rows: list[dict[str, Any]], rmse_year: int | None,
                    bias_year: int | None) -> dict[str, Any]:
    """The error budget in the worst-RMSE and worst-bias years, and the mapped pixels' worst.

    ``rmse_mapped_worst_pct`` and ``mapped_bias_worst_abs_pct`` are what the RMSE and bias
    targets would read without the unmapped truth forest (no target of their own).
    """
    by_year = {r["year"]: r for r in rows}

    def at(year: int | None) -> dict[str, Any] | None:
        return None if year is None else {"year": year, **{k: by_year[year][k]
                                                           for k in BUDGET_KEYS}}
    rmse_m, k_rmse = _nanmax_abs([r["rmse_mapped_pct"] for r in rows])
    bias_m, k_bias = _nanmax_abs([r["mapped_bias_pct"] for r in rows])
    share_min, share_max = _nan_range([r["omission_mse_share"] for r in rows])
    return {
        "worst_rmse_year": at(rmse_year),
        "worst_bias_year": at(bias_year),
        "rmse_mapped_worst_pct": rmse_m,
        "rmse_mapped_worst_year": None if k_rmse is None else rows[k_rmse]["year"],
        "mapped_bias_worst_abs_pct": bias_m,
        "mapped_bias_worst_year": None if k_bias is None else rows[k_bias]["year"],
        "omission_mse_share_min": share_min,
        "omission_mse_share_max": share_max,
    }


def score_series(truth: Array, mapped: Array, years: list[int], pixel_area_ha: float,
                 *, extent: Array | None = None,
                 persistent_unit: Array | None = None,
                 units_l1: Array | None = None) -> dict[str, Any]:
    """Every measure of issue 14 from in-memory series.

    Parameters
    ----------
    truth
        True AGC, t C/ha, (year, y, x) or (year, pixel): finite exactly on the truth-forest
        pixels to be scored (inside the monitoring extent), NaN elsewhere.
    mapped
        Mapped AGC, t C/ha, same shape: finite where mapped, NaN where unmapped. Finite values
        outside ``extent`` are ignored.
    years
        The years of the first axis, ascending, at least 4 (Sen + Mann–Kendall).
    pixel_area_ha
        Area of one pixel.
    extent
        Spatial mask of the monitoring extent (the shape of one year); None: every pixel.
    persistent_unit
        Optional spatial mask of the true persistent-forest assessment unit (the guide's
        持续森林, level-1 code 1 in the last year): adds ``persistent_unit``, the first → last
        year means of ``persistent_forest`` over those of its pixels that are truth forest in
        both years (no target; it is the unit the zonal table and issue 14's table report).
    units_l1
        Optional true level-1 assessment unit of every pixel-year (the shape of ``truth``):
        adds ``unit_bias`` (:func:`unit_bias`; no target).

    Returns
    -------
    dict
        JSON-ready: ``years``, ``per_year`` (a row per year), ``coverage``, ``site_total``,
        ``change``, ``persistent_forest`` (truth forest every year), ``persistent_unit``
        (with ``persistent_unit`` only), ``unit_bias`` (with ``units_l1`` only),
        ``sen_slope``, ``rmse_bias``, ``error_budget`` (:func:`_budget_summary`; each row
        of ``per_year`` also has :func:`_error_budget`'s keys, ``commission_px`` and
        ``commission_mapped_t``, the mapped pixels of the extent outside truth forest and
        their carbon), ``forest_area``, ``targets`` (each with ``value`` and ``pass``) and
        ``all_pass``. Undefined values (e.g. a ratio to zero) are NaN.

    Raises
    ------
    InputDataError
        If the shapes differ, the years do not match the first axis or are fewer than 4.

    """
    if truth.shape != mapped.shape:
        raise InputDataError(f"truth {truth.shape} and mapped {mapped.shape} AGC differ in shape",
                             fix="read both on the same grid and years")
    if truth.shape[0] != len(years) or len(years) < 4:
        raise InputDataError(f"{len(years)} years for a series of {truth.shape[0]} layers",
                             fix="score at least 4 years, one layer per year")
    if extent is not None:
        mapped = np.where(extent[None], mapped, np.nan)
    forest = np.isfinite(truth)
    has_map = np.isfinite(mapped)
    mapped0 = np.where(has_map, mapped, 0.0).astype(np.float32)
    rows: list[dict[str, Any]] = []
    for i, year in enumerate(years):
        f = forest[i]
        n = int(np.count_nonzero(f))
        t, m = truth[i][f].astype(np.float64), mapped0[i][f].astype(np.float64)
        err = m - t
        truth_mean = _mean(t)
        rmse = math.sqrt(_mean(err * err)) if n else math.nan
        bias = _mean(err)
        mapped_total = float(np.sum(mapped[i][has_map[i]], dtype=np.float64)) * pixel_area_ha
        commission = has_map[i] & ~f
        truth_total = float(np.sum(t)) * pixel_area_ha
        rows.append({
            "year": int(year),
            "truth_forest_px": n,
            "coverage": _float(np.count_nonzero(f & has_map[i]) / n) if n else math.nan,
            "site_total_mapped_t": mapped_total,
            "site_total_truth_t": truth_total,
            "site_total_ratio": _ratio(mapped_total, truth_total),
            "truth_mean_t_ha": truth_mean,
            "rmse_t_ha": rmse,
            "rmse_pct": 100.0 * _ratio(rmse, truth_mean),
            "bias_t_ha": bias,
            "bias_pct": 100.0 * _ratio(bias, truth_mean),
            "r": _pearson(m, t),
            "forest_area_mapped_ha": float(np.count_nonzero(has_map[i])) * pixel_area_ha,
            "forest_area_truth_ha": float(n) * pixel_area_ha,
            **_error_budget(t, err, has_map[i][f], truth_mean),
            "commission_px": int(np.count_nonzero(commission)),
            "commission_mapped_t": float(np.sum(mapped[i][commission], dtype=np.float64))
            * pixel_area_ha,
        })
    for prev, row in pairwise(rows):
        mc = 100.0 * _ratio(row["site_total_mapped_t"] - prev["site_total_mapped_t"],
                            prev["site_total_mapped_t"])
        tc = 100.0 * _ratio(row["site_total_truth_t"] - prev["site_total_truth_t"],
                            prev["site_total_truth_t"])
        row.update(change_mapped_pct=mc, change_truth_pct=tc, change_diff_points=mc - tc)
    rows[0].update(change_mapped_pct=math.nan, change_truth_pct=math.nan,
                   change_diff_points=math.nan)

    coverage = [r["coverage"] for r in rows]
    worst_cov = int(np.argmin([c if math.isfinite(c) else -1.0 for c in coverage]))
    ratios = [r["site_total_ratio"] for r in rows]
    dev, worst_dev = _nanmax_abs([100.0 * (q - 1.0) for q in ratios])
    diff, worst_diff = _nanmax_abs([r["change_diff_points"] for r in rows[1:]])
    rmse_w, worst_rmse = _nanmax_abs([r["rmse_pct"] for r in rows])
    bias_w, worst_bias = _nanmax_abs([r["bias_pct"] for r in rows])

    always = np.asarray(forest.all(axis=0), bool)
    persistent = _first_last(truth, mapped0, always, years)
    unit = None if persistent_unit is None else _first_last(
        truth, mapped0, np.asarray(persistent_unit & forest[0] & forest[-1], bool), years)

    sen = _sen(truth[:, always], mapped0[:, always], years)
    summary = {
        "coverage_min": coverage[worst_cov],
        "site_total_worst_deviation_pct": dev,
        "change_worst_diff_points": diff,
        "persistent_change_ratio": persistent["ratio"],
        "sen_slope_ratio": sen["ratio"],
        "sen_slope_r": sen["r"],
        "trend_class_agreement": sen["class_agreement"],
        "rmse_worst_pct": rmse_w,
        "bias_worst_abs_pct": bias_w,
    }

    def year_at(k: int | None, offset: int = 0) -> int | None:
        return None if k is None else int(years[k + offset])

    targets = _targets(summary, {
        "coverage_min": int(years[worst_cov]),
        "site_total_worst_deviation_pct": year_at(worst_dev),
        "change_worst_diff_points": year_at(worst_diff, 1),
        "rmse_worst_pct": year_at(worst_rmse),
        "bias_worst_abs_pct": year_at(worst_bias),
    })

    ratio_min, ratio_max = _nan_range(ratios)
    return {
        "years": [int(y) for y in years],
        "pixel_area_ha": float(pixel_area_ha),
        "per_year": rows,
        "coverage": {"worst": coverage[worst_cov], "worst_year": int(years[worst_cov])},
        "site_total": {"ratio_min": ratio_min, "ratio_max": ratio_max,
                       "worst_deviation_pct": dev, "worst_year": year_at(worst_dev)},
        "change": {"worst_abs_diff_points": diff, "worst_year": year_at(worst_diff, 1)},
        "persistent_forest": persistent,
        **({} if unit is None else {"persistent_unit": unit}),
        **({} if units_l1 is None else {"unit_bias": unit_bias(truth, mapped0, units_l1,
                                                               years)}),
        "sen_slope": sen,
        "rmse_bias": {"rmse_worst_pct": rmse_w, "rmse_worst_year": year_at(worst_rmse),
                      "bias_worst_abs_pct": bias_w, "bias_worst_year": year_at(worst_bias)},
        "error_budget": _budget_summary(rows, year_at(worst_rmse), year_at(worst_bias)),
        "forest_area": {
            "mapped_ha": [r["forest_area_mapped_ha"] for r in rows],
            "truth_ha": [r["forest_area_truth_ha"] for r in rows],
        },
        "targets": targets,
        "all_pass": all(t["pass"] for t in targets.values()),
    }


#: A unit-year is scored with at least this many truth-forest pixels.
MIN_UNIT_PIXELS = 50


def unit_bias(truth: Array, mapped0: Array, units_l1: Array, years: list[int], *,
              min_pixels: int = MIN_UNIT_PIXELS) -> dict[str, Any]:
    """Each true level-1 unit's map bias, every year: what a unit's table would misstate.

    A unit-year's bias is ``(Σ mapped − Σ truth) / Σ truth`` in % over its truth-forest pixels
    (unmapped as 0), scored where it has ``min_pixels`` of them. Per unit: its
    pixel-years, the pixel-weighted mean absolute bias and the worst year's bias; ``all``:
    the pixel-weighted mean absolute bias over every scored unit-year.
    """
    codes = [int(u) for u in AssessmentUnit if int(u) > 0]
    size = max(codes) + 1
    n = np.zeros((len(years), size))
    true_t = np.zeros((len(years), size))
    mapped_t = np.zeros((len(years), size))
    for i in range(len(years)):  # sums per unit, one pass over each year
        f = np.isfinite(truth[i])
        u = units_l1[i][f].astype(np.int64)
        n[i] = np.bincount(u, minlength=size)[:size]
        true_t[i] = np.bincount(u, truth[i][f].astype(np.float64), minlength=size)[:size]
        mapped_t[i] = np.bincount(u, mapped0[i][f].astype(np.float64), minlength=size)[:size]
    scored = (n >= min_pixels) & (true_t > 0)
    bias = 100.0 * (mapped_t - true_t) / np.where(scored, true_t, 1.0)
    out: dict[str, Any] = {}
    for code in codes:
        at = np.flatnonzero(scored[:, code])
        if not at.size:
            continue
        b, w = bias[at, code], n[at, code]
        worst = int(at[np.argmax(np.abs(b))])
        out[str(code)] = {"name": unit_names(1, code)[1], "unit_years": int(at.size),
                          "pixel_years": int(w.sum()),
                          "mean_abs_bias_pct": float(np.average(np.abs(b), weights=w)),
                          "worst_bias_pct": float(bias[worst, code]),
                          "worst_year": int(years[worst])}
    weights, biases = n[:, codes][scored[:, codes]], bias[:, codes][scored[:, codes]]
    out["all"] = {"mean_abs_bias_pct": float(np.average(np.abs(biases), weights=weights))
                  if weights.size else math.nan}
    return out


def _first_last(truth: Array, mapped0: Array, mask: Array, years: list[int]) -> dict[str, Any]:
    """Mean AGC of the ``mask`` pixels in the first and last year, mapped and true."""
    t_first, t_last = truth[0][mask].astype(np.float64), truth[-1][mask].astype(np.float64)
    m_first = mapped0[0][mask].astype(np.float64)
    m_last = mapped0[-1][mask].astype(np.float64)
    m_change, t_change = _mean(m_last) - _mean(m_first), _mean(t_last) - _mean(t_first)
    return {
        "pixels": int(np.count_nonzero(mask)), "first_year": int(years[0]),
        "last_year": int(years[-1]),
        "mapped_mean_first_t_ha": _mean(m_first), "mapped_mean_last_t_ha": _mean(m_last),
        "truth_mean_first_t_ha": _mean(t_first), "truth_mean_last_t_ha": _mean(t_last),
        "mapped_mean_change_t_ha": m_change, "truth_mean_change_t_ha": t_change,
        "ratio": _ratio(m_change, t_change),
    }


def _sen(truth: Array, mapped0: Array, years: list[int]) -> dict[str, Any]:
    """Sen slopes and trend classes of the (year, pixel) series of always-forest pixels."""
    n = truth.shape[1]
    if n == 0:
        return {"pixels": 0, "mapped_mean_t_ha_per_year": math.nan,
                "truth_mean_t_ha_per_year": math.nan, "ratio": math.nan, "r": math.nan,
                "class_agreement": math.nan, "mapped_classes": _trend_shares(np.zeros(0)),
                "truth_classes": _trend_shares(np.zeros(0))}

    def run(values: Array) -> tuple[Array, Array]:
        da = xr.DataArray(values.astype(np.float64), dims=("year", "pixel"),
                          coords={"year": np.asarray(years, np.int64)})
        result = sen_mk(da)
        return (np.asarray(result["slope"].values, np.float64),
                np.asarray(result["trend_class"].values))

    t_slope, t_class = run(truth)
    m_slope, m_class = run(mapped0)
    t_mean, m_mean = _mean(t_slope), _mean(m_slope)
    return {
        "pixels": int(n),
        "mapped_mean_t_ha_per_year": m_mean,
        "truth_mean_t_ha_per_year": t_mean,
        "ratio": _ratio(m_mean, t_mean),
        "r": _pearson(m_slope, t_slope),
        "class_agreement": float(np.count_nonzero(m_class == t_class)) / n,
        "mapped_classes": _trend_shares(m_class),
        "truth_classes": _trend_shares(t_class),
    }

