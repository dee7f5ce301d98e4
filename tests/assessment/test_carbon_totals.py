"""Carbon totals with intervals (issue 17): hand-computed cases and coverage by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from minecarbon.assessment.area_estimation import estimate_areas_by_reference
from minecarbon.assessment.carbon_totals import (
    Calibration,
    between_variance,
    contrast,
    estimate_totals,
    ratio_estimate,
    scale_interval,
    slope_se,
    slope_weights,
    totals_covariance,
    unit_calibrations,
)
from minecarbon.errors import InputDataError


def test_ratio_estimate_by_hand() -> None:
    # Cochran (1977) eq. 6.9: v(R) = Σ(y − R x)² / (n (n − 1) x̄²)
    r, v = ratio_estimate([2.0, 4.0, 6.0], [1.0, 2.0, 4.0])
    assert r == pytest.approx(12 / 7)
    resid = np.array([2 - 12 / 7, 4 - 24 / 7, 6 - 48 / 7])
    assert (resid ** 2).sum() == pytest.approx(8 / 7)  # 0.0816 + 0.3265 + 0.7347
    assert v == pytest.approx((8 / 7) / (3 * 2 * (7 / 3) ** 2))
    assert v == pytest.approx(0.0349854, rel=1e-5)


def test_ratio_estimate_rejects_a_map_without_forest_at_the_plots() -> None:
    with pytest.raises(InputDataError, match="map is 0"):
        ratio_estimate([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(InputDataError, match="≥ 2"):
        ratio_estimate([1.0], [1.0])


def test_slope_se_equals_scipy_linregress() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 100, 57)
    y = 0.5 * x + rng.normal(0, 8, 57)
    slope, se = slope_se(x, y)
    ref = stats.linregress(x, y)
    assert slope == pytest.approx(ref.slope, rel=1e-12)
    assert se == pytest.approx(ref.stderr, rel=1e-12)


def test_between_variance_by_hand() -> None:
    # DerSimonian & Laird: w = 100, 100; mean 0.5; Q = 2; Σw − Σw²/Σw = 100 → τ² = 0.01
    assert between_variance([0.6, 0.4], [0.01, 0.01]) == pytest.approx(0.01)
    # Q below its expectation: τ² = 0
    assert between_variance([0.50, 0.51], [0.01, 0.01]) == 0.0
    assert between_variance([0.5], [0.01]) == 0.0


def test_unit_calibrations_own_and_pooled() -> None:
    rng = np.random.default_rng(0)
    plots = pd.DataFrame({"zone": ["a"] * 20 + ["b"] * 20 + ["c"] * 3,
                          "mapped": rng.uniform(10, 60, 43)})
    plots["observed"] = plots["mapped"] * np.where(plots["zone"] == "a", 1.3, 0.8)
    plots["observed"] *= rng.normal(1, 0.05, 43)
    cal = unit_calibrations(plots, min_plots=10)
    assert cal["a"].ratio == pytest.approx(1.3, abs=0.05)
    assert cal["b"].ratio == pytest.approx(0.8, abs=0.05)
    pooled_r, pooled_v = ratio_estimate(plots["observed"], plots["mapped"])
    assert cal["c"].ratio == pytest.approx(pooled_r)
    # units a and b differ far beyond their sampling error: c's variance carries that
    assert cal["c"].ratio_var > pooled_v + 0.05
    assert cal["c"].n_plots == 3 and "synthetic" in cal["c"].method


def test_totals_covariance_by_hand() -> None:
    cal = Calibration(ratio=1.1, ratio_var=0.004, n_plots=30, method="x")
    m = np.array([800.0, 900.0, 1000.0])
    n = np.array([100.0, 100.0, 110.0])
    est, cov = totals_covariance(m, n, 2, cal, change_rel_var=0.04, systematic_rel_var=0.0004,
                                 residual_var=100.0, pixel_area_ha=0.09)
    assert est == pytest.approx([880.0, 990.0, 1100.0])
    level = 0.004 + 1.21 * 0.0004
    # the reference year: no change term
    assert cov[2, 2] == pytest.approx(level * 1e6 + 110 * 100 * 0.09 ** 2)
    # the first year: the change from the reference year (−200) with its calibration error
    assert cov[0, 0] == pytest.approx(level * 800 ** 2 + 1.21 * 0.04 * 200 ** 2
                                      + 100 * 100 * 0.09 ** 2)
    assert cov[0, 1] == pytest.approx(level * 800 * 900 + 1.21 * 0.04 * 200 * 100)
    # change 0 → 2: the level's error shrinks to that of 200 t, the calibration's stays
    value, se = contrast(est, cov, [-1.0, 0.0, 1.0])
    assert value == pytest.approx(220.0)
    expected = (level * 200 ** 2 + 1.21 * 0.04 * 200 ** 2
                + (100 + 110) * 100 * 0.09 ** 2)
    assert se == pytest.approx(np.sqrt(expected))


def test_slope_weights_give_the_least_squares_slope() -> None:
    years = [2000, 2001, 2003, 2010]
    values = np.array([5.0, 7.0, 6.0, 12.0])
    assert slope_weights(years) @ values == pytest.approx(stats.linregress(years, values).slope)


def _population(rng: np.random.Generator, n_px: int = 20_000) -> dict[str, np.ndarray]:
    """Pixels of two units: truth of two years, a biased map with compressed change."""
    unit = np.where(np.arange(n_px) < n_px * 0.6, 1, 2)
    truth_ref = rng.gamma(4.0, 12.0, n_px)
    truth_old = truth_ref * rng.uniform(0.5, 0.8, n_px)
    bias = np.where(unit == 1, 0.85, 1.15)  # the map's level is off, differently per unit
    noise = rng.normal(0, 0.35, n_px)
    map_ref = np.clip(bias * (0.5 * truth_ref + 0.5 * truth_ref.mean()) * np.exp(noise
                                                                                   - 0.06), 0, None)
    return {"unit": unit, "truth_ref": truth_ref, "truth_old": truth_old, "map_ref": map_ref}


def test_reference_year_totals_cover_the_truth_in_95_percent() -> None:
    """Design-based part: SRS plots, the unit ratio estimator's 95 % interval (simulated)."""
    rng = np.random.default_rng(11)
    pop = _population(rng)
    a = 0.09
    truth = {f"l1:{u}": pop["truth_ref"][pop["unit"] == u].sum() * a for u in (1, 2)}
    sums = pd.DataFrame([{"year": 2024, "zone": f"l1:{u}",
                          "map_t": pop["map_ref"][pop["unit"] == u].sum() * a,
                          "forest_px": int((pop["unit"] == u).sum())} for u in (1, 2)])
    hits, compared = 0, 0
    for _ in range(400):
        idx = rng.choice(pop["unit"].size, 120, replace=False)
        plots = pd.DataFrame({"observed": pop["truth_ref"][idx] * rng.normal(1, 0.05, 120),
                              "mapped": pop["map_ref"][idx], "unit_l1": pop["unit"][idx],
                              "unit_l2": pop["unit"][idx] * 10})
        totals, _ = estimate_totals(sums, plots, years=[2024], reference_year=2024, pairs=[],
                                    change_rel_var=0.0, systematic_rel_var=0.0,
                                    pixel_area_ha=a)
        for row in totals.itertuples():
            compared += 1
            hits += row.agc_t_ci_low <= truth[row.zone] <= row.agc_t_ci_high
    coverage = hits / compared
    print(f"reference-year coverage {coverage:.3f} over {compared} unit-samples")
    assert compared == 800
    assert 0.92 <= coverage <= 0.975


def test_change_intervals_cover_when_the_calibration_error_is_as_stated() -> None:
    """Model-based part: a map whose change is off by ε_c ~ N(0, v_c) is covered ~95 %."""
    rng = np.random.default_rng(5)
    pop = _population(rng)
    a, v_c = 0.09, 0.15 ** 2
    true_change = (pop["truth_ref"] - pop["truth_old"]).sum() * a
    hits, compared = 0, 0
    for _ in range(400):
        eps = rng.normal(0, np.sqrt(v_c))
        map_old = pop["map_ref"] - (pop["map_ref"] / pop["map_ref"].mean()) * (
            pop["truth_ref"] - pop["truth_old"]).mean() * (1 + eps) / 1.0
        idx = rng.choice(pop["unit"].size, 150, replace=False)
        plots = pd.DataFrame({"observed": pop["truth_ref"][idx], "mapped": pop["map_ref"][idx],
                              "unit_l1": 1, "unit_l2": 10})
        sums = pd.DataFrame([{"year": y, "zone": "extent", "map_t": m.sum() * a,
                              "forest_px": m.size}
                             for y, m in ((2000, map_old), (2024, pop["map_ref"]))])
        _, changes = estimate_totals(sums, plots, years=[2000, 2024], reference_year=2024,
                                     pairs=[(2000, 2024)], change_rel_var=v_c,
                                     systematic_rel_var=0.0, pixel_area_ha=a)
        row = changes[changes["kind"] == "change"].iloc[0]
        compared += 1
        hits += row["ci_low_t"] <= true_change <= row["ci_high_t"]
    coverage = hits / compared
    print(f"change coverage {coverage:.3f} over {compared} samples")
    assert 0.92 <= coverage <= 0.98


def test_scale_interval_by_hand() -> None:
    """Estimate 1000 ± t·50 with a change part of 200 scaled by e^{±zσ}, σ = ln 2, z = 2:
    the scale moves the change part by 200·(1/4 − 1) = −150 down and 200·(4 − 1) = +600 up;
    each side is combined with z·SE = 100 in quadrature; the SE adds (σ·200)²."""
    low, high, se = scale_interval(1000.0, 50.0, 200.0, 2.0, np.log(2.0))
    assert low == pytest.approx(1000.0 - np.hypot(100.0, 150.0))
    assert high == pytest.approx(1000.0 + np.hypot(100.0, 600.0))
    assert se == pytest.approx(np.hypot(50.0, np.log(2.0) * 200.0))
    # a negative change part (a loss): the scale widens it downward, never past a sign flip
    low, high, _ = scale_interval(-300.0, 10.0, -300.0, 2.0, np.log(2.0))
    assert low == pytest.approx(-300.0 - np.hypot(20.0, 900.0))
    assert high == pytest.approx(-300.0 + np.hypot(20.0, 225.0))
    assert high < 0
    # no scale error, or nothing to scale: the symmetric interval
    assert scale_interval(5.0, 1.0, 3.0, 1.96, 0.0) == pytest.approx((3.04, 6.96, 1.0))
    assert scale_interval(5.0, 1.0, 0.0, 1.96, 0.5) == pytest.approx((3.04, 6.96, 1.0))


def test_change_intervals_cover_a_log_normal_scale_error() -> None:
    """Maps whose change from the reference year is off by a log-normal factor (σ = 0.5): the
    change and early-year intervals with ``scale_log_sd = σ`` cover the truth near 95 %, and
    without it far less often."""
    rng = np.random.default_rng(23)
    a, sigma = 0.09, 0.5
    truth_ref = rng.gamma(6.0, 8.0, 4000)
    truth_old = truth_ref * 0.6
    covered = {"with": [], "without": []}
    for _ in range(300):
        scale = np.exp(sigma * rng.standard_normal())  # the maps' change is `scale` × too small
        map_ref = truth_ref * (1 + 0.25 * rng.standard_normal(truth_ref.size))
        map_old = map_ref - (truth_ref - truth_old) / scale
        idx = rng.choice(truth_ref.size, 150, replace=False)
        plots = pd.DataFrame({"observed": truth_ref[idx], "mapped": map_ref[idx],
                              "unit_l1": 1, "unit_l2": 10})
        sums = pd.DataFrame([{"year": y, "zone": "extent", "map_t": m.sum() * a,
                              "forest_px": m.size}
                             for y, m in ((2000, map_old), (2024, map_ref))])
        true_change = (truth_ref - truth_old).sum() * a
        for key, sd in (("with", sigma), ("without", 0.0)):
            _, changes = estimate_totals(sums, plots, years=[2000, 2024], reference_year=2024,
                                         pairs=[(2000, 2024)], change_rel_var=0.0,
                                         systematic_rel_var=0.0, pixel_area_ha=a,
                                         scale_log_sd=sd)
            row = changes[changes["kind"] == "change"].iloc[0]
            covered[key].append(row["ci_low_t"] <= true_change <= row["ci_high_t"])
            if key == "with":
                assert row["ci_low_t"] > 0  # the scale never turns a gain into a loss
    rate = {k: float(np.mean(v)) for k, v in covered.items()}
    print(f"coverage with the scale term {rate['with']:.3f}, without {rate['without']:.3f}")
    assert len(covered["with"]) == 300
    assert 0.92 <= rate["with"] <= 0.98
    assert rate["without"] < 0.5


def test_a_zone_without_pixels_in_a_year_has_no_row_and_a_change_from_zero() -> None:
    plots = pd.DataFrame({"observed": [30.0, 50.0, 40.0], "mapped": [28.0, 45.0, 41.0],
                          "unit_l1": [4, 4, 4], "unit_l2": [43, 43, 43]})
    sums = pd.DataFrame([{"year": 2024, "zone": "l1:4", "map_t": 500.0, "forest_px": 150}])
    totals, changes = estimate_totals(sums, plots, years=[2000, 2024], reference_year=2024,
                                      pairs=[(2000, 2024)], change_rel_var=0.04,
                                      systematic_rel_var=0.0, pixel_area_ha=0.09, min_plots=3)
    assert totals["year"].tolist() == [2024]
    change = changes[changes["kind"] == "change"].iloc[0]
    assert change["estimate_t"] == pytest.approx(totals["agc_t"].iloc[0])
    assert change["se_t"] == pytest.approx(totals["agc_se_t"].iloc[0])
    assert change["differs_from_zero"]


def test_areas_by_reference_by_hand() -> None:
    # P = [[0.9, 0.2], [0.1, 0.8]] (columns: reference forest, reference other)
    counts = np.array([[90, 20], [10, 80]])
    est = estimate_areas_by_reference(counts, [560.0, 440.0], ["forest", "other"])
    # a = P A → A = P⁻¹ a: 0.9 F + 0.2 O = 560, 0.1 F + 0.8 O = 440 → F = 400·… solve by hand
    f = (560 * 0.8 - 0.2 * 440) / (0.9 * 0.8 - 0.2 * 0.1)
    o = (0.9 * 440 - 0.1 * 560) / (0.9 * 0.8 - 0.2 * 0.1)
    assert est["area"].tolist() == pytest.approx([f, o])
    assert f == pytest.approx(514.2857, rel=1e-6)
    # delta method: Var(F̂) = Σ_j A_j² p_j(1 − p_j)/n_j × (∂F/∂p)² with P⁻¹'s first row
    inv = np.linalg.inv(np.array([[0.9, 0.2], [0.1, 0.8]]))
    g = inv[0, 0] - inv[0, 1]  # a shift dp in column j moves row 0 by +dp, row 1 by −dp
    var_f = g ** 2 * (f ** 2 * 0.9 * 0.1 / 100 + o ** 2 * 0.2 * 0.8 / 100)
    assert est["area_se"].iloc[0] == pytest.approx(np.sqrt(var_f))


def test_areas_by_reference_cover_the_true_areas() -> None:
    rng = np.random.default_rng(2)
    true = np.array([600.0, 300.0, 100.0])
    p = np.array([[0.92, 0.10, 0.05], [0.06, 0.85, 0.10], [0.02, 0.05, 0.85]])
    mapped = p @ true  # the map's areas (a census of the map)
    hits, compared = 0, 0
    for _ in range(500):
        counts = np.column_stack([rng.multinomial(150, p[:, j]) for j in range(3)])
        est = estimate_areas_by_reference(counts, mapped)
        inside = (est["area_ci_low"] <= true) & (true <= est["area_ci_high"])
        hits += int(inside.sum())
        compared += 3
    coverage = hits / compared
    print(f"area coverage {coverage:.3f} over {compared} class-samples")
    assert compared == 1500
    assert 0.92 <= coverage <= 0.975


def test_areas_by_reference_needs_every_reference_class() -> None:
    with pytest.raises(InputDataError, match="fewer than 2 samples"):
        estimate_areas_by_reference([[5, 0], [3, 1]], [10.0, 5.0])
