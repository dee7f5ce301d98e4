"""Trend-class areas from an interpreted reference sample (issue 17, point 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minecarbon.assessment.area_estimation import estimate_areas
from minecarbon.assessment.reference_check import two_phase_areas
from minecarbon.assessment.trend_reference import (
    NONE,
    checked_labels,
    checked_trend_areas,
    map_category,
    reference_labels,
    trend_areas,
)
from minecarbon.demo.reference import interpret
from minecarbon.errors import InputDataError


def test_reference_labels_in_english_and_chinese() -> None:
    codes = reference_labels(["increase", "稳定", " Decrease ", "none", "非森林"], "x.gpkg")
    assert codes.tolist() == [1, 0, -1, NONE, NONE]
    with pytest.raises(InputDataError, match=r"x.gpkg: row 2 has trend 'up'"):
        reference_labels(["stable", "up"], "x.gpkg")


def test_map_category_groups_the_five_trend_classes() -> None:
    assert map_category([-2, -1, 0, 1, 2, -128, np.nan]).tolist() == [
        -1, 0, 0, 0, 1, NONE, NONE]


def test_trend_areas_equal_the_stratified_estimator_and_drop_points_outside() -> None:
    mapped = np.array([-1] * 10 + [0] * 20 + [1] * 30 + [NONE] * 40 + [-128] * 5)
    ref = mapped.copy()
    ref[[0, 15, 40, 41, 95]] = [0, 1, 0, NONE, 1]
    ref[-5:] = 1  # outside the extent: left out whatever their label
    areas = {-1: 50.0, 0: 100.0, 1: 300.0, NONE: 550.0}
    est = trend_areas(mapped, ref, areas)
    keep = mapped != -128
    codes = [-1, 0, 1, NONE]
    counts = np.array([[np.sum((mapped[keep] == i) & (ref[keep] == j)) for j in codes]
                       for i in codes])
    expected = estimate_areas(counts, [areas[c] for c in codes], classes=codes)
    assert est.areas["area"].tolist() == pytest.approx(expected.areas["area"].tolist())
    assert est.areas["area"].sum() == pytest.approx(1000.0)
    # by hand: increase = 300·28/30 + 100·1/20 + 550·1/40 = 280 + 5 + 13.75
    assert est.areas.set_index("class").at[1, "area"] == pytest.approx(298.75)


def test_the_interpreter_sees_clear_changes_only() -> None:
    series = np.array([[10.0, 10, 10, 30, 30, 30],    # +20 t C/ha: clear increase
                       [40.0, 40, 40, 43, 43, 43],    # +3: below 5 t C/ha, stable
                       [80.0, 80, 80, 70, 70, 70],    # −10 of 80 (12.5 %): stable
                       [30.0, 30, 30, 0, 0, 0],       # cleared: clear decrease
                       [0.0, 0, 0, 8, np.nan, 9]])    # planted: +8.5 > 5 t C/ha
    assert interpret(series).tolist() == [2, 1, 1, 0, 2]


def test_checked_labels_blank_where_not_checked_and_the_file_row_of_a_bad_one() -> None:
    codes, present = checked_labels([None, "increase", "", float("nan"), " 稳定 "], "x.gpkg")
    assert present.tolist() == [False, True, False, False, True]
    assert codes[present].tolist() == [1, 0]
    # a string column read with pandas' own missing value
    column = pd.Series(["stable", None, "decrease"], dtype="string")
    codes, present = checked_labels(column, "x.gpkg")
    assert present.tolist() == [True, False, True] and codes[present].tolist() == [0, -1]
    with pytest.raises(InputDataError, match=r"x.gpkg: row 4 has trend_checked 'up'"):
        checked_labels([None, "stable", None, "up"], "x.gpkg")


def test_checked_trend_areas_drop_points_outside_and_correct_the_labels() -> None:
    rng = np.random.default_rng(5)
    codes = [-1, 0, 1, NONE]
    mapped = rng.choice(codes, 300, p=[0.1, 0.2, 0.5, 0.2])
    truth = np.where(rng.random(300) < 0.9, mapped, rng.choice(codes, 300))
    label = np.where(rng.random(300) < 0.05, np.clip(truth + 1, -1, 1), truth)
    is_checked = rng.random(300) < 0.3
    at = mapped.copy()
    at[:7] = -128  # outside the extent
    areas = {-1: 50.0, 0: 100.0, 1: 300.0, NONE: 150.0}
    out = checked_trend_areas(at, label, truth, is_checked, areas)
    keep = at != -128
    ref = two_phase_areas(mapped[keep], label[keep], truth[keep], is_checked[keep],
                          [areas[c] for c in codes], codes)
    np.testing.assert_allclose(out.estimate.areas["area"], ref.estimate.areas["area"])
    np.testing.assert_allclose(out.estimate.areas["area_se"], ref.estimate.areas["area_se"])
    assert out.checked == int(is_checked[keep].sum()) > 50
    assert out.disagreements == int((is_checked & keep & (label != truth)).sum()) > 0

