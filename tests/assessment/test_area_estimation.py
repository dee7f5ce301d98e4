"""Error-adjusted class areas (Olofsson et al. 2014): a hand-computed case and a simulation
that draws many stratified reference samples from a known population."""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.assessment.area_estimation import Z95, estimate_areas
from minecarbon.errors import InputDataError


def test_two_classes_by_hand() -> None:
    """W = (0.1, 0.9); 50 samples in map class 0 (45 right), 100 in class 1 (90 right).

    p = [[0.1·45/50, 0.1·5/50], [0.9·10/100, 0.9·90/100]] = [[0.09, 0.01], [0.09, 0.81]];
    class areas 1000 × (0.18, 0.82); SE of p_.0 = sqrt(0.1²·0.9·0.1/49 + 0.9²·0.1·0.9/99).
    """
    est = estimate_areas([[45, 5], [10, 90]], [100.0, 900.0], classes=["forest", "other"])
    a = est.areas.set_index("class")
    np.testing.assert_allclose(est.proportions.values, [[0.09, 0.01], [0.09, 0.81]])
    np.testing.assert_allclose(a["area"], [180.0, 820.0])
    se = 1000 * np.sqrt(0.01 * 0.9 * 0.1 / 49 + 0.81 * 0.1 * 0.9 / 99)
    np.testing.assert_allclose(a["area_se"], [se, se])  # two classes: the same SE
    np.testing.assert_allclose(a.loc["forest", "area_ci_low"], 180.0 - Z95 * se)
    np.testing.assert_allclose(a["users_accuracy"], [0.9, 0.9])
    np.testing.assert_allclose(a["users_se"], [np.sqrt(0.09 / 49), np.sqrt(0.09 / 99)])
    np.testing.assert_allclose(a["producers_accuracy"], [0.5, 0.81 / 0.82])
    assert est.overall_accuracy == pytest.approx(0.9)
    assert est.overall_se == pytest.approx(np.sqrt(0.01 * 0.09 / 49 + 0.81 * 0.09 / 99))
    # producer's accuracy of class 0, eq. 7 of Olofsson et al. with N as areas:
    # N̂_.0 = 100·0.9 + 900·0.1 = 180; V = (100²·0.5²·0.09/49 + 0.5²·900²·0.09/99) / 180²
    v = (100**2 * 0.25 * 0.09 / 49 + 0.25 * 900**2 * 0.09 / 99) / 180**2
    assert a.loc["forest", "producers_se"] == pytest.approx(np.sqrt(v))


def test_a_perfect_map_gives_its_own_areas_with_zero_error() -> None:
    est = estimate_areas(np.diag([30, 40, 50]), [10.0, 20.0, 70.0])
    np.testing.assert_allclose(est.areas["area"], [10.0, 20.0, 70.0])
    np.testing.assert_allclose(est.areas["area_se"], 0.0)
    assert est.overall_accuracy == pytest.approx(1.0)


def test_intervals_cover_the_true_areas_over_many_samples() -> None:
    """A 3-class population with a map that omits and commits; 400 stratified samples of
    60 per map class: the estimates are unbiased and the 95 % intervals cover the truth in
    92–98 % of the draws, while the mapped areas are off."""
    rng = np.random.default_rng(7)
    truth = rng.choice(3, 30_000, p=[0.15, 0.25, 0.60])
    confuse = np.array([[0.80, 0.15, 0.05], [0.10, 0.80, 0.10], [0.03, 0.07, 0.90]])
    mapped = np.array([rng.choice(3, p=confuse[t]) for t in truth])
    true_area = np.bincount(truth, minlength=3).astype(float)
    map_area = np.bincount(mapped, minlength=3).astype(float)
    assert abs(map_area[0] - true_area[0]) > 0.05 * true_area[0]  # the map alone is biased
    strata = [np.flatnonzero(mapped == i) for i in range(3)]
    hits = np.zeros(3)
    estimates = []
    draws = 400
    for _ in range(draws):
        counts = np.zeros((3, 3))
        for i, pixels in enumerate(strata):
            pick = rng.choice(pixels, 60, replace=False)
            counts[i] = np.bincount(truth[pick], minlength=3)
        a = estimate_areas(counts, map_area).areas
        estimates.append(a["area"].to_numpy())
        hits += ((a["area_ci_low"] <= true_area) & (true_area <= a["area_ci_high"])).to_numpy()
    coverage = hits / draws
    assert ((coverage >= 0.92) & (coverage <= 0.98)).all(), coverage
    print(f"measured coverage of the 95 % intervals: {coverage}")
    np.testing.assert_allclose(np.mean(estimates, axis=0), true_area, rtol=0.02)


def test_bad_inputs_are_refused_with_the_fix() -> None:
    with pytest.raises(InputDataError, match="do not match"):
        estimate_areas([[1, 2], [3, 4]], [1.0, 2.0, 3.0])
    with pytest.raises(InputDataError, match="fewer than 2 reference samples"):
        estimate_areas([[1, 0], [3, 4]], [1.0, 2.0])
    with pytest.raises(InputDataError, match="≥ 0"):
        estimate_areas([[-1, 2], [3, 4]], [1.0, 2.0])
