"""Tree tops, optimal matching and detection scores (F7, issue 19), and the ALS docs' figures."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from minecarbon.errors import InputDataError
from minecarbon.features.chm import canopy_height_model
from minecarbon.features.tree_tops import (
    DEFAULT_WINDOW,
    chm_max_near,
    detection_scores,
    find_tree_tops,
    linear_window,
    match_trees,
)
from tests.conftest import REPO, docs_script, shared_path


def _model(values: np.ndarray, size: float) -> object:
    h, w = values.shape
    pts = np.zeros((1, 3))
    return canopy_height_model(pts, (0.0, 0.0, w * size, h * size), size,
                               fill_empty=False).copy(data=values)


def _cones(crowns: list[tuple[float, float, float, float]], n: int, size: float) -> np.ndarray:
    """A model of cones (x, y, height, slope) on n × n cells of ``size`` m."""
    y, x = np.mgrid[0:n, 0:n] * size + size / 2
    values = np.zeros((n, n))
    for cx, cy, h, slope in crowns:
        values = np.maximum(values, h - slope * np.hypot(x - cx, (n * size - y) - cy))
    return values


def test_chm_max_near() -> None:
    values = np.zeros((10, 10))
    values[2, 3] = 20.0  # centre (3.5, 7.5)
    values[8, 8] = 30.0  # centre (8.5, 1.5)
    values[5, 5] = np.nan
    chm = _model(values, 1.0)
    got = chm_max_near(chm, [3.5, 4.9, 5.5, 8.4, 50.0], [7.5, 7.5, 5.5, 2.9, 50.0], 1.5)
    np.testing.assert_allclose(got, [20.0, 20.0, 0.0, 30.0, np.nan])
    assert chm_max_near(chm, [5.1], [7.5], 1.5)[0] == 0.0  # 1.6 m from the 20 m cell


def test_find_tree_tops_fixed_window() -> None:
    values = _cones([(5.25, 14.25, 20.0, 3.0), (14.75, 5.25, 15.0, 3.0),
                     (15.25, 15.25, 3.0, 3.0)], 40, 0.5)
    tops = find_tree_tops(_model(values, 0.5), window_radius_m=1.5, min_height_m=5.0)
    assert len(tops) == 2
    np.testing.assert_allclose(tops[["x_m", "y_m", "height_m", "window_m"]].to_numpy(),
                               [[5.25, 14.25, 20.0, 1.5], [14.75, 5.25, 15.0, 1.5]])


def test_variable_window_keeps_small_trees_and_whole_big_crowns() -> None:
    """Popescu & Wynne's point: no fixed window gets both cases right, a growing one does.

    A 30 m tree with two leaders 2.25 m apart (30 and 29.9 m), and a 6 m tree 2.75 m from a
    10 m one (narrow crowns, slope 4 m/m).
    """
    values = _cones([(6.125, 6.125, 30.0, 3.0), (8.375, 6.125, 29.9, 3.0),
                     (16.125, 16.125, 10.0, 4.0), (18.875, 16.125, 6.0, 4.0)], 96, 0.25)
    model = _model(values, 0.25)
    expected = {(6.125, 6.125), (16.125, 16.125), (18.875, 16.125)}

    def positions(tops: pd.DataFrame) -> set[tuple[float, float]]:
        return {(round(x, 3), round(y, 3)) for x, y in tops[["x_m", "y_m"]].to_numpy()}

    small = find_tree_tops(model, window_radius_m=1.5)  # splits the big crown
    large = find_tree_tops(model, window_radius_m=2.5)  # merges the small tree
    assert positions(small) == expected | {(8.375, 6.125)}
    assert positions(large) == expected - {(18.875, 16.125)}
    variable = find_tree_tops(model, window_radius_m=DEFAULT_WINDOW)
    assert positions(variable) == expected
    radii = dict(zip(variable["height_m"].round(2), variable["window_m"], strict=True))
    assert radii[30.0] == pytest.approx(2.5) and radii[6.0] == pytest.approx(1.3)


def test_a_window_of_one_cell_reaches_the_four_neighbours_only() -> None:
    """Radius = cell size: the disc holds the 4-neighbours, not the diagonal ones."""
    values = np.zeros((7, 7))
    values[3, 3] = 10.0
    values[2, 2] = 11.0  # a higher diagonal neighbour
    model = _model(values, 1.0)
    tops = find_tree_tops(model, window_radius_m=1.0)
    assert sorted(tops["height_m"].tolist()) == [10.0, 11.0]
    assert find_tree_tops(model, window_radius_m=1.5)["height_m"].tolist() == [11.0]


def test_tops_ignore_empty_cells_and_respect_the_minimum_height() -> None:
    values = _cones([(5.25, 5.25, 12.0, 2.0)], 20, 0.5)
    values[5:8, 5:8] = np.nan  # a void beside the crown neither is a top nor hides one
    tops = find_tree_tops(_model(values, 0.5), window_radius_m=1.5)
    assert len(tops) == 1 and tops["height_m"].iloc[0] == 12.0
    assert find_tree_tops(_model(values, 0.5), min_height_m=13.0).empty
    with pytest.raises(InputDataError, match="positive radius"):
        find_tree_tops(_model(values, 0.5), window_radius_m=0.0)
    with pytest.raises(InputDataError, match="not usable"):
        linear_window(1.0, 0.05, min_m=3.0, max_m=2.0)


def _brute_force(cost_ok: np.ndarray, dist: np.ndarray) -> tuple[int, float]:
    """Most admissible pairs, then least total distance, by trying every assignment."""
    n_r, n_d = cost_ok.shape
    best = (0, 0.0)
    for k in range(min(n_r, n_d), 0, -1):
        totals = [
            sum(dist[r, d] for r, d in zip(rs, ds, strict=True))
            for rs in itertools.combinations(range(n_r), k)
            for ds in itertools.permutations(range(n_d), k)
            if all(cost_ok[r, d] for r, d in zip(rs, ds, strict=True))
        ]
        if totals:
            return k, min(totals)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matching_is_optimal_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_r, n_d = rng.integers(2, 6), rng.integers(2, 6)
    rxy, dxy = rng.uniform(0, 8, (n_r, 2)), rng.uniform(0, 8, (n_d, 2))
    rh, dh = rng.uniform(5, 25, n_r), rng.uniform(5, 25, n_d)
    m = match_trees(rxy, rh, dxy, dh, max_distance_m=4.0, max_height_difference_m=8.0)
    dist = np.hypot(*(rxy[:, None, :] - dxy[None, :, :]).transpose(2, 0, 1))
    ok = (dist <= 4.0) & (np.abs(rh[:, None] - dh[None, :]) <= 8.0)
    k, total = _brute_force(ok, dist)
    assert len(m) == k
    assert m["distance_m"].sum() == pytest.approx(total)
    assert m["reference"].is_unique and m["detected"].is_unique
    assert ok[m["reference"], m["detected"]].all()
    np.testing.assert_allclose(m["height_difference_m"], dh[m["detected"]] - rh[m["reference"]])


def test_optimal_matching_differs_from_greedy() -> None:
    """The tall tree's nearest top is the only one the short tree can reach."""
    rxy = np.array([[0.0, 0.0], [2.5, 0.0]])
    rh = np.array([25.0, 20.0])
    dxy = np.array([[1.0, 0.0], [-1.5, 0.0]])
    dh = np.array([24.0, 24.5])
    m = match_trees(rxy, rh, dxy, dh, max_distance_m=2.0)
    # greedy (tallest first) would give the 25 m tree the top at 1 m and leave the other alone
    assert m[["reference", "detected"]].to_numpy().tolist() == [[0, 1], [1, 0]]
    tolerant = match_trees(rxy, rh, dxy, dh, max_distance_m=2.0, max_height_difference_m=2.0)
    # with a 2 m height tolerance the 20 m tree has no top, and the tall one takes its nearest
    assert tolerant[["reference", "detected"]].to_numpy().tolist() == [[0, 0]]
    assert match_trees(rxy, rh, np.zeros((0, 2)), []).empty
    with pytest.raises(InputDataError, match="one height per tree"):
        match_trees(rxy, [1.0], dxy, dh)


def test_detection_scores_by_hand() -> None:
    matches = pd.DataFrame({"reference": [0, 1, 2], "detected": [4, 0, 1],
                            "distance_m": [0.5, 1.0, 0.2],
                            "height_difference_m": [1.0, -2.0, 0.5]})
    s = detection_scores(matches, n_reference=4, n_detected=5)
    assert (s.n_reference, s.n_detected, s.n_matched) == (4, 5, 3)
    assert s.detection_rate == 0.75 and s.omission_rate == 0.25
    assert s.commission_rate == pytest.approx(0.4)
    assert s.f_score == pytest.approx(2 * 3 / 9)  # = 2 P R / (P + R) with P = 0.6, R = 0.75
    assert s.bias_m == pytest.approx(-0.5 / 3)
    assert s.rmse_m == pytest.approx(math.sqrt((1 + 4 + 0.25) / 3))
    empty = detection_scores(matches.iloc[:0], 4, 0)
    assert empty.detection_rate == 0.0 and math.isnan(empty.commission_rate)
    assert math.isnan(empty.rmse_m)
    with pytest.raises(InputDataError, match="3 pairs"):
        detection_scores(matches, 2, 5)


# -------------------------------------------------------------------------- docs' figures


@pytest.mark.shared
def test_als_tops_meet_the_targets_and_match_the_docs() -> None:
    """Issue 19's targets on real clouds, and the page quoting exactly these runs."""
    shared_path("pointclouds", "lidr_MixedConifer.laz")
    data = shared_path("pointclouds", "lidartree_las_chablais3.laz").parent
    script = docs_script("als_validation")
    mc, ch, rows = script.main_rows(data)
    # MixedConifer (4.4 points/m²): ≥ 90 % found, ≤ 20 % false tops, RMSE ≤ 1.5 m
    s = mc.scores
    assert mc.chm.attrs["resolution_m"] == 0.5 and mc.chm.attrs["empty_share"] > 0.25
    assert s.n_reference == 205 and s.detection_rate >= 0.90
    assert s.commission_rate <= 0.20 and s.rmse_m <= 1.5
    # Chablais: ≥ 90 % of the trees of 40 cm DBH and more own a matched top
    tally = ch.reference
    big = tally[tally["d"] >= 40]
    assert len(big) == 18 and big["h_top_m"].notna().mean() >= 0.90
    docs = (REPO / "docs" / "als-validation.md").read_text()
    for row in rows:
        assert row in docs, row
