"""match_to_tally on hand-built cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from minecarbon.errors import InputDataError
from minecarbon.survey.tls import match_to_tally


def _trees(xy: list[tuple[float, float]], dbh: list[float], height: list[float] | None = None,
           ids: list[object] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"x": [p[0] for p in xy], "y": [p[1] for p in xy], "dbh_cm": dbh})
    if height is not None:
        frame["height_m"] = height
    if ids is not None:
        frame["tree_id"] = ids
    return frame


def test_hungarian_prefers_the_global_optimum_over_greedy() -> None:
    # greedy nearest-first would give detected 0 to tally 1 (0.4 m) and leave tally 0 unmatched
    tally = _trees([(0.0, 0.0), (1.0, 0.0)], [20.0, 30.0], ids=["a", "b"])
    detected = _trees([(0.6, 0.0), (1.9, 0.0)], [21.0, 28.0], ids=[1, 2])
    result = match_to_tally(detected, tally, max_distance_m=1.0)
    pairs = result.pairs.sort_values("tally_index")
    assert pairs["tally_id"].tolist() == ["a", "b"]
    assert pairs["detected_id"].tolist() == [1, 2]
    assert pairs["distance_m"].to_numpy() == pytest.approx([0.6, 0.9])
    m = result.metrics
    assert (m.n_tally, m.n_detected, m.matched) == (2, 2, 2)
    assert m.detection_rate == 1.0 and m.commission_rate == 0.0
    assert m.dbh.n == 2
    assert m.dbh.bias == pytest.approx(-0.5)
    assert m.dbh.rmse == pytest.approx(math.sqrt((1 + 4) / 2))
    assert m.dbh.rel_rmse == pytest.approx(m.dbh.rmse / 25.0)
    assert math.isnan(m.height.rmse) and m.height.n == 0


def test_distance_gate_makes_omissions_and_commissions() -> None:
    tally = _trees([(0, 0), (10, 0), (20, 0)], [20, 25, 30], [15, 16, 17])
    detected = _trees([(0.3, 0), (10, 2.5), (40, 0), (20, 0.1)], [22, 25, 9, 29],
                      [16, 10, 8, 17.5])
    m = match_to_tally(detected, tally, max_distance_m=1.5).metrics
    assert m.matched == 2
    assert m.detection_rate == pytest.approx(2 / 3)
    assert m.commission_rate == pytest.approx(2 / 4)
    assert m.dbh.bias == pytest.approx(0.5)  # (+2, −1) / 2
    assert m.height.bias == pytest.approx(0.75)
    assert m.height.rmse == pytest.approx(math.sqrt((1 + 0.25) / 2))
    wide = match_to_tally(detected, tally, max_distance_m=3.0).metrics
    assert wide.matched == 3


def test_failed_dbh_is_left_out_not_counted_as_zero() -> None:
    tally = _trees([(0, 0), (5, 0)], [20, 30])
    detected = _trees([(0, 0), (5, 0)], [np.nan, 31])
    m = match_to_tally(detected, tally).metrics
    assert m.matched == 2 and m.dbh.n == 1 and m.n_dbh_missing == 1
    assert m.dbh.rmse == pytest.approx(1.0)
    flat = m.as_dict()
    assert flat["dbh_rmse"] == pytest.approx(1.0) and flat["detection_rate"] == 1.0


def test_empty_lists() -> None:
    tally = _trees([(0, 0)], [20])
    empty = tally.iloc[:0]
    m = match_to_tally(empty, tally).metrics
    assert m.matched == 0 and m.detection_rate == 0.0 and math.isnan(m.commission_rate)
    m = match_to_tally(tally, empty).metrics
    assert math.isnan(m.detection_rate) and m.commission_rate == 1.0


def test_bad_input() -> None:
    tally = _trees([(0, 0)], [20])
    with pytest.raises(InputDataError, match="no column"):
        match_to_tally(tally.drop(columns="y"), tally)
    with pytest.raises(InputDataError, match="no position in row 0"):
        match_to_tally(_trees([(np.nan, 0)], [20]), tally)
    with pytest.raises(InputDataError, match="not positive"):
        match_to_tally(tally, tally, max_distance_m=0)
