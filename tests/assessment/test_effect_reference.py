"""Cumulative-effect grade areas from re-measured plots: the reference effect and the
stratified difference estimator (Stehman 2014; Särndal et al. 1992 §6.3)."""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.assessment.area_estimation import Z95
from minecarbon.assessment.effect_reference import difference_areas, reference_effects
from minecarbon.errors import InputDataError


def test_reference_effect_replaces_the_maps_gain_by_the_plots() -> None:
    # E_map = A_map − I; the plot's E_ref = A_obs − I = E_map + (A_obs − A_map)
    got = reference_effects([-5.0, 2.0, np.nan], [10.0, 4.0, 1.0], [8.0, 6.0, 1.0])
    np.testing.assert_allclose(got[:2], [-3.0, 0.0])
    assert np.isnan(got[2])
    with pytest.raises(InputDataError, match="shape"):
        reference_effects([1.0], [1.0, 2.0], [1.0])


def test_difference_estimator_by_hand() -> None:
    # stratum A (N = 100): (map, ref) = (1,1) (1,2) (2,2) (2,2); B (N = 50): (1,1) (2,1)
    # class 1: d_A = 0, −1, 0, 0 (mean −0.25, s² 0.25); d_B = 0, 1 (mean 0.5, s² 0.5)
    #   pixels 80 + 100(−0.25) + 50(0.5) = 80; V = 100²(0.96)(0.25)/4 + 50²(0.96)(0.5)/2 = 1200
    # class 2: the mirror image: 70 + 25 − 25 = 70, the same variance
    out = difference_areas(["A"] * 4 + ["B"] * 2, [1, 1, 2, 2, 1, 2], [1, 2, 2, 2, 1, 1],
                           {"A": 100, "B": 50}, {1: 80, 2: 70}, [1, 2], 0.09)
    table = out.table.set_index("class")
    assert table.loc[1, "area_ha"] == pytest.approx(80 * 0.09)
    assert table.loc[2, "area_ha"] == pytest.approx(70 * 0.09)
    assert table.loc[1, "area_se_ha"] == pytest.approx(np.sqrt(1200) * 0.09)
    assert table.loc[2, "area_se_ha"] == pytest.approx(np.sqrt(1200) * 0.09)
    assert table.loc[1, "area_ha_ci_high"] == pytest.approx(7.2 + Z95 * np.sqrt(1200) * 0.09)
    assert table.loc[1, "mapped_area_ha"] == pytest.approx(7.2)
    assert out.n_plots == 6 and out.n_strata_sampled == 2 and out.unsampled_share == 0.0


def test_stehmans_2014_numerical_example() -> None:
    # Stehman 2014 (IJRS 35: 4923–4939), the numerical example: 4 strata of 40 000, 30 000,
    # 20 000 and 10 000 pixels, 10 points each, reference classes A–D (as the mapac R package
    # documents it for aa_stratified). With no map term (every point "mapped" as a class not
    # estimated, M_k = 0) the difference estimator is Stehman's estimator of the reference
    # classes' area: proportions A 0.35, B 0.34, C 0.20, D 0.11; SE(A) = √0.0067667 = 0.0823.
    reference = list("AAAAACBABC" "ABBBBBAABB" "CCCCCDDBBA" "DDDDDDDCCB")
    strata = [h for h in (1, 2, 3, 4) for _ in range(10)]
    code = {"A": 1, "B": 2, "C": 3, "D": 4}
    out = difference_areas(strata, [0] * 40, [code[r] for r in reference],
                           {1: 40_000, 2: 30_000, 3: 20_000, 4: 10_000},
                           dict.fromkeys(range(1, 5), 0), [1, 2, 3, 4], 1.0).table
    share = (out.set_index("class")["area_ha"] / 100_000).to_dict()
    assert share == pytest.approx({1: 0.35, 2: 0.34, 3: 0.20, 4: 0.11}, abs=1e-12)
    se_a = float(out.set_index("class").at[1, "area_se_ha"]) / 100_000
    # 0.4²(10/9 · 0.24)/10 + 0.3²(10/9 · 0.21)/10 + 0.2²(10/9 · 0.09)/10, × (1 − n_h/N_h)
    assert se_a == pytest.approx(np.sqrt(0.0067667), rel=1e-3)


def test_one_plot_strata_take_the_pooled_variance_and_unsampled_strata_are_counted() -> None:
    # A as above (s² of class 1 = 0.25, the only stratum with 2+ plots); C has one plot
    out = difference_areas(["A"] * 4 + ["C"], [1, 1, 2, 2, 2], [1, 2, 2, 2, 1],
                           {"A": 100, "C": 20, "D": 30}, {1: 80, 2: 70}, [1], 1.0)
    row = out.table.iloc[0]
    # 80 + 100(−0.25) + 20(1) = 75; V = 600 + 20²(1 − 1/20)(0.25)/1 = 600 + 95
    assert row["area_ha"] == pytest.approx(75.0)
    assert row["area_se_ha"] == pytest.approx(np.sqrt(695.0))
    assert out.unsampled_share == pytest.approx(30 / 150)


def test_unbiased_and_covered_on_a_simulated_population() -> None:
    rng = np.random.default_rng(7)
    sizes = {"a": 4000, "b": 2500, "c": 1500}
    strata = np.concatenate([np.full(n, h) for h, n in sizes.items()])
    truth = np.concatenate([rng.choice([1, 2, 3], n, p=p) for n, p in zip(
        sizes.values(), ([0.2, 0.5, 0.3], [0.5, 0.3, 0.2], [0.1, 0.2, 0.7]), strict=True)])
    # the map errs: 25 % of pixels get a neighbouring grade
    shift = rng.random(truth.size) < 0.25
    mapped = np.where(shift, np.clip(truth + rng.choice([-1, 1], truth.size), 1, 3), truth)
    mapped_pixels = {k: int((mapped == k).sum()) for k in (1, 2, 3)}
    true_area = {k: float((truth == k).sum()) for k in (1, 2, 3)}
    estimates, covered = {k: [] for k in (1, 2, 3)}, 0
    runs = 600
    for _ in range(runs):
        idx = np.concatenate([rng.choice(np.flatnonzero(strata == h), n, replace=False)
                              for h, n in (("a", 40), ("b", 30), ("c", 20))])
        out = difference_areas(strata[idx], mapped[idx], truth[idx], sizes, mapped_pixels,
                               [1, 2, 3], 1.0).table.set_index("class")
        for k in (1, 2, 3):
            estimates[k].append(out.loc[k, "area_ha"])
            covered += out.loc[k, "area_ha_ci_low"] <= true_area[k] <= out.loc[k,
                                                                               "area_ha_ci_high"]
    for k in (1, 2, 3):
        # unbiased: the mean of 600 estimates within 3 of its standard errors of the truth
        se_mean = np.std(estimates[k]) / np.sqrt(runs)
        assert abs(np.mean(estimates[k]) - true_area[k]) < 3 * se_mean
        assert abs(mapped_pixels[k] - true_area[k]) > 3 * se_mean or k == 2  # the map is off
    assert 0.92 <= covered / (3 * runs) <= 0.975


def test_bad_input() -> None:
    with pytest.raises(InputDataError, match="length"):
        difference_areas(["a"], [1, 2], [1, 2], {"a": 5}, {1: 3}, [1], 1.0)
    with pytest.raises(InputDataError, match="no sampled plot"):
        difference_areas([], [], [], {"a": 5}, {1: 3}, [1], 1.0)
    with pytest.raises(InputDataError, match="strata without pixels: b"):
        difference_areas(["a", "b"], [1, 1], [1, 1], {"a": 5}, {1: 3}, [1], 1.0)
