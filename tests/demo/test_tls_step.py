"""TLS on the simulated site through the pipeline: the quality bars of issue 5."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from minecarbon.pipeline.survey_steps import with_tls_trees
from minecarbon.pipeline.tls_steps import MIN_CLEAR_TOPS, fill_overtopped_heights


def test_simulated_tls_plots_meet_the_quality_bars(small_site: Path) -> None:
    reports = sorted((small_site / "products/tls").glob("*_validation.json"))
    assert len(reports) == 2
    for path in reports:
        v = json.loads(path.read_text())
        assert v["detection_rate"] >= 0.95, path.name
        assert v["dbh_rmse"] <= 1.5, path.name
        assert v["height_rmse"] <= 1.0, path.name
        assert v["n_dbh_missing"] == 0
        plot = v["plot_id"]
        trees = pd.read_csv(small_site / f"products/tls/{plot}_trees.csv")
        assert (trees["dbh_cm"] > 0).all()
        assert set(trees["dbh_quality"]) <= {"ok", "fallback", "failed"}
        assert (small_site / f"products/tls/{plot}_stem_map.png").stat().st_size > 10_000


def test_overtopped_heights_come_from_the_plots_clear_tops() -> None:
    n = MIN_CLEAR_TOPS + 4
    dbh = [10.0 + 3 * i for i in range(n)]
    trees = pd.DataFrame({
        "dbh_cm": dbh,
        "height_m": [1.3 + 20 * (1 - 2.718281828 ** (-0.05 * d)) for d in dbh],
        "height_quality": ["ok"] * MIN_CLEAR_TOPS + ["overtopped"] * 4,
    })
    true = trees["height_m"].copy()
    trees.loc[MIN_CLEAR_TOPS:, "height_m"] += 6.0  # the neighbour's crown above them
    out = fill_overtopped_heights(trees)
    filled = out["height_quality"] == "hd_model"
    assert filled.sum() == 4
    assert (out.loc[filled, "height_m"] - true[filled]).abs().max() < 0.3
    assert (out.loc[filled, "height_top_m"] - true[filled]).min() == pytest.approx(6.0)
    few = fill_overtopped_heights(trees.iloc[MIN_CLEAR_TOPS - 2:])
    assert "hd_model" not in set(few["height_quality"])  # too few clear tops: left flagged


def test_tls_trees_feed_plot_carbon_by_policy() -> None:
    tallied = pd.DataFrame({"plot_id": ["A", "A"], "tree_id": ["1", "2"],
                            "species": ["油松", "油松"], "dbh_cm": [20.0, 22.0],
                            "height_m": [12.0, 13.0], "source": "tally", "row": [2, 3]})
    tls = pd.DataFrame({"plot_id": ["A", "B", "B"], "tree_id": [1, 1, 2],
                        "dbh_cm": [19.5, 30.0, float("nan")], "height_m": [12.1, 15.0, 9.0],
                        "dbh_quality": ["ok", "ok", "failed"]})
    plots = pd.DataFrame({"plot_id": ["A", "B"], "species_group": ["油松", "栎类"]})
    where = with_tls_trees(tallied, tls, plots, "where_no_tally")
    assert set(where.loc[where["source"] == "tls", "plot_id"]) == {"B"}
    assert where.loc[where["source"] == "tls", "species"].tolist() == ["栎类"]
    assert len(where) == 3  # the failed TLS tree is not used
    prefer = with_tls_trees(tallied, tls, plots, "prefer")
    assert set(prefer["source"]) == {"tls"} and len(prefer) == 2
    assert with_tls_trees(tallied, tls, plots, "never").equals(tallied)
