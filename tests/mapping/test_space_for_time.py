"""The features' own change against the maps': classical calibration of the change's scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from minecarbon.mapping.space_for_time import (
    MIN_T,
    change_scale,
    plot_slopes,
    pooled_scale,
    trend_per_year,
)
from minecarbon.mapping.unit_calibration import between_variance


def test_plot_slopes_by_hand() -> None:
    """Least squares by hand: AGC 10…50, feature 0.1 0.3 0.2 0.5 0.4 → slope 8/1000, residual
    sum of squares 0.036 on 3 degrees of freedom, se √(0.012/1000)."""
    agc = [10.0, 20.0, 30.0, 40.0, 50.0]
    table = pd.DataFrame({"ndvi": [0.1, 0.3, 0.2, 0.5, 0.4],
                          "flat": [0.2, 0.2, np.nan, 0.2, 0.2],
                          "short": [np.nan, np.nan, np.nan, 0.1, 0.2]})
    out = plot_slopes(table, agc)
    assert out.at["ndvi", "slope"] == pytest.approx(0.008, rel=1e-12)
    assert out.at["ndvi", "se"] == pytest.approx(np.sqrt(0.012 / 1000), rel=1e-12)
    assert out.at["ndvi", "t"] == pytest.approx(0.008 / np.sqrt(1.2e-5), rel=1e-12)
    assert out.at["ndvi", "n"] == 5
    assert out.at["flat", "slope"] == pytest.approx(0.0, abs=1e-15)  # no change: t undefined
    assert np.isnan(out.at["flat", "t"]) and out.at["flat", "n"] == 4
    assert np.isnan(out.at["short", "slope"]) and out.at["short", "n"] == 2


def test_plot_slopes_equal_numpy_polyfit_on_noisy_plots() -> None:
    rng = np.random.default_rng(3)
    agc = rng.uniform(5, 80, 60)
    table = pd.DataFrame({"a": 0.3 + 0.004 * agc + rng.normal(0, 0.05, 60),
                          "b": -0.1 - 0.002 * agc + rng.normal(0, 0.08, 60)})
    out = plot_slopes(table, agc)
    for name in table:
        coef, cov = np.polyfit(agc, table[name], 1, cov=True)
        assert out.at[name, "slope"] == pytest.approx(coef[0], rel=1e-10)
        assert out.at[name, "se"] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-8)


def test_trend_per_year_skips_missing_years() -> None:
    years = [2000, 2001, 2002, 2003, 2004]
    values = [1.0, np.nan, 3.5, 4.0, 5.5]
    coef, cov = np.polyfit([2000, 2002, 2003, 2004], [1.0, 3.5, 4.0, 5.5], 1, cov=True)
    slope, se = trend_per_year(years, values)
    assert slope == pytest.approx(coef[0], rel=1e-12)
    assert se == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-8)
    assert all(np.isnan(trend_per_year(years, [1.0, np.nan, np.nan, 2.0, np.nan])))


def test_change_scale_by_hand() -> None:
    """Feature 1: slope 0.002 per t C/ha, trend 0.0016 per year → 0.8 t C/ha/yr, twice the
    maps' 0.4 (ratio 2, weight 9² = 81); feature 2: −0.001, trend −0.0006 → 0.6 (ratio 1.5,
    weight 16); feature 3 (|t| = 1 < 3) is not asked. ρ̄ = (81·2 + 16·1.5) / 97."""
    slopes = pd.DataFrame({"slope": [0.002, -0.001, 0.5], "se": [0.002 / 9, 0.001 / 4, 0.5],
                           "t": [9.0, -4.0, 1.0], "n": [100, 100, 100]},
                          index=["ndmi", "ndwi", "glcm"])
    out = change_scale(slopes, {"ndmi": 0.0016, "ndwi": -0.0006, "glcm": 0.01}, 0.4,
                       trend_ses={"ndmi": 0.0004, "ndwi": 0.0}, map_trend_se=0.04)
    rho = (81 * 2 + 16 * 1.5) / 97
    assert out["ratio"] == pytest.approx(rho, abs=1e-4)
    assert out["rel_var"] == pytest.approx((rho - 1) ** 2, abs=1e-5)
    assert out["log_sd"] == pytest.approx(np.log(rho), abs=1e-5)
    # s_ndmi² = 1/81 + (0.0004/0.0016)², s_ndwi² = 1/16; averaged with the weights, squared;
    # plus the maps' trend's (0.04/0.4)²
    s_avg = (81 * np.sqrt(1 / 81 + 0.0625) + 16 * 0.25) / 97
    assert out["sampling_log_var"] == pytest.approx(s_avg ** 2 + 0.01, abs=1e-5)
    assert out["n_features"] == 2 and out["min_t"] == MIN_T
    assert out["features"]["ndmi"]["implied_t_ha_yr"] == pytest.approx(0.8)
    assert out["features"]["ndwi"]["ratio"] == pytest.approx(1.5)
    assert out["features"]["glcm"]["used"] is False
    assert out["features"]["glcm"]["ratio"] == pytest.approx(0.05)  # reported, not used


def test_change_scale_agrees_with_maps_whose_change_is_right() -> None:
    """Plots and pixels simulated from one linear relation per feature: where the maps keep the
    true trend, ρ̄ ≈ 1 and the variance term ≈ 0; where they keep half of it, ρ̄ ≈ 2."""
    rng = np.random.default_rng(11)
    agc = rng.uniform(10, 90, 150)
    beta = {"ndvi": 0.0015, "ndmi": 0.0022, "ndwi": -0.0014}
    table = pd.DataFrame({k: 0.2 + b * agc + rng.normal(0, 0.02, agc.size)
                          for k, b in beta.items()})
    years = np.arange(2000, 2025)
    true_mean = 30 + 0.75 * (years - 2000)
    trends = {k: trend_per_year(years, 0.2 + b * true_mean + rng.normal(0, 0.001, years.size))
              for k, b in beta.items()}
    slopes = plot_slopes(table, agc)
    taus = {k: v[0] for k, v in trends.items()}
    ses = {k: v[1] for k, v in trends.items()}
    truth = trend_per_year(years, true_mean)[0]
    right = change_scale(slopes, taus, truth, trend_ses=ses)
    half = change_scale(slopes, taus, 0.5 * truth, trend_ses=ses)
    assert right["n_features"] == 3
    assert right["ratio"] == pytest.approx(1.0, abs=0.05) and right["rel_var"] < 0.0025
    assert half["ratio"] == pytest.approx(2.0, abs=0.1) and half["rel_var"] > 0.8
    # the right maps' disagreement is within the sampling errors: no between-estimate variance
    assert pooled_scale(np.log(right["ratio"]), right["sampling_log_var"], 0.01)[
        "between_var"] == 0.0
    pooled = pooled_scale(np.log(half["ratio"]), half["sampling_log_var"], 0.01)
    assert pooled["between_var"] > 0.2 and np.exp(pooled["log_shift"]) > 1.3


def test_change_scale_without_a_usable_feature_or_map_trend() -> None:
    slopes = pd.DataFrame({"slope": [0.002], "se": [0.001], "t": [2.0], "n": [50]},
                          index=["ndvi"])
    weak = change_scale(slopes, {"ndvi": 0.001}, 0.4)
    assert weak["ratio"] is None and weak["rel_var"] is None and weak["n_features"] == 0
    strong = slopes.assign(t=[8.0])
    flat = change_scale(strong, {"ndvi": 0.001}, 0.0)
    assert flat["ratio"] is None and flat["features"]["ndvi"]["ratio"] is None
    missing = change_scale(strong, {}, 0.4)
    assert missing["ratio"] is None and missing["features"]["ndvi"]["trend_per_yr"] is None


def test_pooled_scale_by_hand() -> None:
    """ln ρ̄ = ln 2 = 0.6931 with v_ρ = 0.05, the maps' 0 with v_b = 0.03: τ² = (0.4805 −
    0.08) / 2 = 0.2002; weights 1/0.2302 and 1/0.2502; the pooled shift and its variance."""
    d = float(np.log(2.0))
    out = pooled_scale(d, 0.05, 0.03)
    tau2 = (d * d - 0.08) / 2
    w_m, w_f = 1 / (0.03 + tau2), 1 / (0.05 + tau2)
    assert out["between_var"] == pytest.approx(tau2, rel=1e-12)
    assert out["log_shift"] == pytest.approx(w_f * d / (w_m + w_f), rel=1e-12)
    assert out["log_var"] == pytest.approx(1 / (w_m + w_f), rel=1e-12)
    assert out["weight_features"] == pytest.approx(w_f / (w_m + w_f), rel=1e-12)
    assert out["interval_log_var"] == pytest.approx(0.03 + tau2, rel=1e-12)  # the maps' own
    assert out["interval_log_var"] > out["log_var"]
    assert 0.3 < out["log_shift"] < d / 2  # between the two, nearer the more precise maps
    # Cochran's Q on one degree of freedom
    assert out["q"] == pytest.approx(d * d / 0.08, rel=1e-12)
    assert out["p_value"] == pytest.approx(float(stats.chi2.sf(d * d / 0.08, 1)), rel=1e-12)
    assert out["p_value"] < 0.05 < pooled_scale(0.3, 0.05, 0.03)["p_value"]


@pytest.mark.parametrize("d, v_f, v_m", [(0.7077, 0.0477, 0.0082), (-0.265, 0.041, 0.0195),
                                         (-0.21, 0.069, 0.0093), (1.5, 0.3, 0.01)])
def test_pooled_scale_equals_the_dersimonian_laird_estimator(d: float, v_f: float,
                                                             v_m: float) -> None:
    """The project's DerSimonian–Laird estimator on the two estimates is the oracle."""
    tau2 = between_variance([0.0, d], [v_m, v_f])
    out = pooled_scale(d, v_f, v_m)
    assert out["between_var"] == pytest.approx(tau2, abs=1e-12)
    w = np.array([1 / (v_m + tau2), 1 / (v_f + tau2)])
    assert out["log_shift"] == pytest.approx(w[1] * d / w.sum(), rel=1e-12)
    assert out["log_var"] == pytest.approx(1 / w.sum(), rel=1e-12)


def test_pooled_scale_with_exact_estimates() -> None:
    assert pooled_scale(0.05, 0.01, 0.0)["log_shift"] == 0.0  # exact maps, agreement (τ² = 0)
    assert pooled_scale(0.0, 0.0, 0.0)["log_var"] == 0.0
    exact_features = pooled_scale(0.01, 0.0, 0.05)  # within the maps' error: τ² = 0
    assert exact_features["log_shift"] == 0.01 and exact_features["weight_features"] == 1.0


def test_change_scale_with_a_flat_feature() -> None:
    """A feature whose trend is exactly 0 says the change is 0 (ratio 0, used); its own
    precision is undefined and it is left out of the sampling variance, not a division by 0."""
    slopes = pd.DataFrame({"slope": [0.002, 0.001], "se": [0.0002, 0.0002], "t": [10.0, 5.0],
                           "n": [80, 80]}, index=["ndmi", "flat"])
    out = change_scale(slopes, {"ndmi": 0.0008, "flat": 0.0}, 0.4,
                       trend_ses={"ndmi": 0.0, "flat": 0.0001})
    assert out["features"]["flat"]["ratio"] == 0.0 and out["features"]["flat"]["used"]
    assert out["ratio"] == pytest.approx((100 * 1.0 + 25 * 0.0) / 125, abs=1e-4)
    assert out["sampling_log_var"] == pytest.approx(0.01, abs=1e-6)  # ndmi's 1/t² alone
