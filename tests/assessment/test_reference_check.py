"""Areas from an interpreted reference corrected by a checked subsample (two-phase difference
estimator: Cochran 1977, ch. 12; Särndal, Swensson & Wretman 1992, ch. 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minecarbon.assessment.area_estimation import estimate_areas
from minecarbon.assessment.reference_check import two_phase_areas
from minecarbon.errors import InputDataError


def _counts(stratum: np.ndarray, label: np.ndarray, codes: list[int]) -> np.ndarray:
    return pd.crosstab(pd.Categorical(stratum, categories=codes),
                       pd.Categorical(label, categories=codes), dropna=False).to_numpy()


def test_by_hand_two_strata() -> None:
    """Stratum 0: 10 points (8 labelled 0), 4 checked (one 0 → 1); stratum 1: 5, 1 checked."""
    stratum = np.array([0] * 10 + [1] * 5)
    label = np.array([0] * 8 + [1] * 2 + [1, 1, 1, 1, 0])
    checked = label.copy()
    is_checked = np.zeros(15, bool)
    is_checked[[0, 1, 2, 8, 10]] = True
    checked[2] = 1  # the interpreter said 0, the check says 1
    out = two_phase_areas(stratum, label, checked, is_checked, [60.0, 40.0], [0, 1])
    # ŷ_0 = (0.8, 0.2) + (−0.25, 0.25); S²_d = 0.25, S²_y = 0.55·0.45·10/9 = 0.275
    # V_0 = 0.275/10 + (1/4 − 1/10)·0.25 = 0.065. Stratum 1: one checked point → the pooled
    # S²_d of all 5 checked points (0.2); ŷ_1 = (0.2, 0.8), V_1 = 0.2/5 + (1 − 1/5)·0.2 = 0.2
    areas = out.estimate.areas.set_index("class")
    assert areas.loc[1, "area"] == pytest.approx(100 * (0.6 * 0.45 + 0.4 * 0.8))
    assert areas.loc[0, "area"] == pytest.approx(100 * (0.6 * 0.55 + 0.4 * 0.2))
    se = 100 * np.sqrt(0.36 * 0.065 + 0.16 * 0.2)
    assert areas.loc[1, "area_se"] == pytest.approx(se)
    assert areas.loc[0, "area_se"] == pytest.approx(se)
    assert areas.loc[0, "users_accuracy"] == pytest.approx(0.55)
    assert areas.loc[0, "users_se"] == pytest.approx(np.sqrt(0.065))
    assert (out.checked, out.disagreements, out.uncorrected) == (5, 1, [])


def test_every_point_checked_is_olofssons_estimator_on_the_checked_labels() -> None:
    rng = np.random.default_rng(3)
    codes = [-1, 0, 1, 9]
    stratum = rng.choice(codes, 400, p=[0.1, 0.2, 0.5, 0.2])
    label = np.where(rng.random(400) < 0.8, stratum, rng.choice(codes, 400))
    mapped = [120.0, 300.0, 900.0, 400.0]
    # no disagreement: Olofsson et al. 2014 on the labels, every column
    same = two_phase_areas(stratum, label, label, np.ones(400, bool), mapped, codes)
    ref = estimate_areas(_counts(stratum, label, codes), mapped, classes=codes)
    pd.testing.assert_frame_equal(same.estimate.areas, ref.areas, rtol=1e-12, atol=1e-12)
    assert same.estimate.overall_se == pytest.approx(ref.overall_se, rel=1e-12)
    # the check disagrees everywhere it can: the estimate is Olofsson's on the checked labels
    checked = np.where(rng.random(400) < 0.1, rng.choice(codes, 400), label)
    other = two_phase_areas(stratum, label, checked, np.ones(400, bool), mapped, codes)
    ref2 = estimate_areas(_counts(stratum, checked, codes), mapped, classes=codes)
    for column in ("area", "area_se", "users_accuracy", "producers_accuracy", "producers_se"):
        np.testing.assert_allclose(other.estimate.areas[column], ref2.areas[column],
                                   rtol=1e-12, atol=1e-12)
    assert other.disagreements == int((checked != label).sum()) > 10


def _population(rng: np.random.Generator, n_px: int = 40_000
                ) -> tuple[np.ndarray, np.ndarray]:
    """True trend categories (−1 3 %, 0 7 %, 1 75 %, 9 15 %) and a map that errs."""
    truth = rng.choice([-1, 0, 1, 9], n_px, p=[0.03, 0.07, 0.75, 0.15])
    wrong = rng.random(n_px) < 0.12
    neighbour = np.where(truth == 1, 0, np.where(truth == 9, 1, truth + 1))
    return truth, np.where(wrong, neighbour, truth)


def test_coverage_where_the_interpreter_errs() -> None:
    """A simulated site: 3 % of the forest points get a neighbouring label, 20 % are checked.

    The labels' Olofsson estimate is biased for the small category next to the large one
    (every 3 % of 'increase' read as 'no clear change' adds a third to it) and its intervals
    miss; the two-phase estimate is unbiased and its 95 % intervals hold the truth about 95 %
    of the time.
    """
    rng = np.random.default_rng(17)
    truth, mapped_cat = _population(rng)
    codes = [-1, 0, 1, 9]
    mapped = [float((mapped_cat == c).sum()) for c in codes]
    true_area = np.array([(truth == c).sum() for c in codes], float)
    reps, n = 300, 1500
    hits_two = np.zeros(4)
    hits_one = np.zeros(4)
    errors = []
    for _ in range(reps):
        pick = rng.choice(truth.size, n, replace=False)
        t, m = truth[pick], mapped_cat[pick]
        forest = t != 9
        err = forest & (rng.random(n) < 0.03)
        step = np.where(t == 1, -1, np.where(t == -1, 1, rng.choice([-1, 1], n)))
        label = np.where(err, t + step, t)
        sub = rng.random(n) < 0.2
        two = two_phase_areas(m, label, t, sub, mapped, codes).estimate.areas
        one = estimate_areas(_counts(m, label, codes), mapped, classes=codes).areas
        hits_two += (two["area_ci_low"].to_numpy() <= true_area) & (
            true_area <= two["area_ci_high"].to_numpy())
        hits_one += (one["area_ci_low"].to_numpy() <= true_area) & (
            true_area <= one["area_ci_high"].to_numpy())
        errors.append(two["area"].to_numpy() - true_area)
    cover_two, cover_one = hits_two / reps, hits_one / reps
    bias = np.mean(errors, axis=0)
    se_of_bias = np.std(errors, axis=0) / np.sqrt(reps)
    print("coverage two-phase", cover_two.round(3), "labels only", cover_one.round(3))
    assert len(errors) == reps
    assert np.all(np.abs(bias) < 3 * se_of_bias + 1e-9)  # unbiased
    assert np.all((cover_two >= 0.91) & (cover_two <= 0.99))
    assert cover_one[1] < 0.5  # 'no clear change' from the labels alone misses


def test_refusals_and_a_stratum_without_a_check() -> None:
    stratum = np.array([0, 0, 0, 1, 1, 1])
    label = np.array([0, 0, 1, 1, 1, 0])
    sub = np.array([True, False, True, False, False, False])
    out = two_phase_areas(stratum, label, label, sub, [10.0, 10.0], [0, 1])
    assert out.uncorrected == [1] and out.checked == 2
    areas = out.estimate.areas.set_index("class")
    assert areas.loc[0, "area"] == pytest.approx(10 * (2 / 3) + 10 * (1 / 3))
    with pytest.raises(InputDataError, match="no reference point has a checked label"):
        two_phase_areas(stratum, label, label, np.zeros(6, bool), [10.0, 10.0], [0, 1])
    with pytest.raises(InputDataError, match="checked label 5"):
        two_phase_areas(stratum, label, np.full(6, 5), sub, [10.0, 10.0], [0, 1])
    with pytest.raises(InputDataError, match="fewer|2 reference points|1 reference points"):
        two_phase_areas(np.array([0, 1, 1]), np.array([0, 1, 1]), np.array([0, 1, 1]),
                        np.ones(3, bool), [10.0, 10.0], [0, 1])
