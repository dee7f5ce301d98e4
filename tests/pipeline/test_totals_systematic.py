"""The totals' systematic relative variance δ² from the plots' trees (issue 17)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from minecarbon.allometry.systematic import systematic_rel_var
from minecarbon.config import Config
from minecarbon.pipeline.totals_steps import TREES_AGC, _systematic_rel_var


def _ctx(root: Path, **errors: float) -> Any:
    config = Config.model_validate({"allometry": {"errors": errors}}) if errors else Config()
    return SimpleNamespace(workspace=SimpleNamespace(path=lambda rel: root / rel),
                           config=config)


def _trees(root: Path, frame: pd.DataFrame) -> None:
    path = root / TREES_AGC
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


TREES = pd.DataFrame({
    "plot_id": ["A", "A", "B", "C", "C"],
    "model_id": ["pine", "oak", "pine", "oak", "oak"],
    "agc_kg": [30.0, 10.0, 20.0, 40.0, 100.0],
    "carbon_fraction": [0.5, 0.45, 0.5, 0.45, 0.45],
    "model_sd_rel": [0.1, float("nan"), 0.1, float("nan"), float("nan")],
})


def test_delta_is_taken_over_the_paired_plots_trees(tmp_path: Path) -> None:
    _trees(tmp_path, TREES)
    plots = pd.DataFrame({"plot_id": ["A", "B"], "agc_t_per_ha": [1.0, 1.0]})
    # plots A and B: pine 50 kg, oak 10 kg; oak's table value is empty → 0.10
    expected = systematic_rel_var([10.0, 50.0], [0.45, 0.5], [0.10, 0.10], 0.01)
    assert _systematic_rel_var(_ctx(tmp_path), plots) == pytest.approx(expected, rel=1e-12)
    # all three plots weigh oak more; a config override sets every model's error
    plots3 = pd.DataFrame({"plot_id": ["A", "B", "C"], "agc_t_per_ha": [1.0, 1.0, 1.0]})
    expected = systematic_rel_var([150.0, 50.0], [0.45, 0.5], [0.3, 0.3], 0.02)
    got = _systematic_rel_var(_ctx(tmp_path, model_sd_rel=0.3, carbon_fraction_sd=0.02), plots3)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got > 0.3 ** 2 * (150 / 200) ** 2  # no smaller than the largest model's part


def test_a_tree_table_from_before_the_column_falls_back_to_the_carbon_fraction(
        tmp_path: Path) -> None:
    _trees(tmp_path, TREES.drop(columns="model_sd_rel"))
    plots = pd.DataFrame({"plot_id": ["A"], "agc_t_per_ha": [10.0], "agb_t_per_ha": [20.0]})
    assert _systematic_rel_var(_ctx(tmp_path), plots) == pytest.approx((0.01 / 0.5) ** 2)
    (tmp_path / TREES_AGC).unlink()
    assert _systematic_rel_var(_ctx(tmp_path), plots) == pytest.approx((0.01 / 0.5) ** 2)
