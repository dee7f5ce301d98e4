"""The biomass models' systematic error: the Monte Carlo's shared factor, and the relative
variance of a carbon sum from the errors every tree of a model shares
(minecarbon.allometry.systematic)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from minecarbon.allometry.equations import ModelTable
from minecarbon.allometry.error_model import DEFAULT_MODEL_SD_REL, ErrorModel
from minecarbon.allometry.systematic import (
    model_shares,
    plot_systematic_sd_rel,
    systematic_rel_var,
    trees_systematic_rel_var,
)
from minecarbon.allometry.uncertainty import plot_carbon_draws
from minecarbon.errors import InputDataError

DEFAULT = ModelTable.default()
NONE = ErrorModel.none()
KEYS = ("pinus_tabuliformis", "robinia_pseudoacacia", "quercus")


def forest(n_plots: int, per_plot: int, keys: tuple[str, ...] = KEYS,
           seed: int = 3) -> tuple[pd.DataFrame, dict[str, float]]:
    """Trees with their deterministic AGC and their models' columns, as trees_agc.csv has."""
    rng = np.random.default_rng(seed)
    n = n_plots * per_plot
    dbh = rng.uniform(6.0, 40.0, n).round(1)
    trees = pd.DataFrame({
        "plot_id": np.repeat([f"P{i:02d}" for i in range(n_plots)], per_plot),
        "dbh_cm": dbh,
        "height_m": (1.3 + 18.0 * (1 - np.exp(-0.05 * dbh))).round(1),
        "model_key": rng.choice(np.array(keys), n),
    })
    models = {k: DEFAULT.model_for(k) for k in keys}
    trees["model_id"] = trees["model_key"].map(lambda k: models[k].model_id)
    trees["carbon_fraction"] = trees["model_key"].map(lambda k: models[k].carbon_fraction)
    trees["model_sd_rel"] = trees["model_key"].map(lambda k: models[k].model_sd_rel)
    trees["agc_kg"] = [float(models[k].agc_kg(d, h)[()]) for d, h, k in zip(
        trees["dbh_cm"], trees["height_m"], trees["model_key"], strict=True)]
    return trees, {f"P{i:02d}": 0.06 for i in range(n_plots)}


def test_the_model_source_resolves_table_default_and_override() -> None:
    assert DEFAULT_MODEL_SD_REL == 0.10
    assert ErrorModel().model_sd(0.2) == 0.2  # the table's own value
    assert ErrorModel().model_sd(None) == DEFAULT_MODEL_SD_REL
    assert ErrorModel().model_sd(float("nan")) == DEFAULT_MODEL_SD_REL
    assert ErrorModel(model_sd_rel=0.05).model_sd(0.2) == 0.05  # the config overrides
    assert NONE.model_sd(0.2) == 0.0  # none() switches it off
    with pytest.raises(InputDataError, match="model_sd_rel"):
        ErrorModel(model_sd_rel=-0.1)


def test_the_shared_factor_has_mean_one_and_the_tables_relative_sd() -> None:
    # one model (刺槐, model_sd_rel 0.20 in the default table), only the model's error on
    trees, areas = forest(4, 30, keys=("robinia_pseudoacacia",))
    only = dataclasses.replace(NONE, model_sd_rel=None)
    draws = plot_carbon_draws(trees, None, areas, n_draws=20_000, seed=4, errors=only)
    ratio = draws.agb_draws_kg.astype(np.float64) / draws.agb_kg[:, None]
    assert ratio.shape == (4, 20_000)
    # mean 1 (SE 0.2/√20000 = 0.0014) and relative sd 0.20 (SE ≈ 0.2 · 0.5 % ≈ 0.001 + skew)
    assert ratio.mean(axis=1) == pytest.approx([1.0] * 4, abs=0.006)
    assert ratio.std(axis=1) == pytest.approx([0.20] * 4, abs=0.006)
    # shared by every plot of the model: the same factor in all four
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[0], ratio.shape), rtol=1e-5)


def test_different_models_draw_independent_factors() -> None:
    trees, _ = forest(2, 40, keys=("betula",))
    other = trees.assign(model_key="larix_principis_rupprechtii")
    both = pd.concat([trees.assign(plot_id="B"), other.assign(plot_id="L")])
    only = dataclasses.replace(NONE, model_sd_rel=0.1)
    draws = plot_carbon_draws(both, None, {"B": 0.12, "L": 0.12}, n_draws=5000, errors=only)
    assert abs(np.corrcoef(draws.agb_draws_kg.astype(np.float64))[0, 1]) < 0.05


def test_relative_variance_by_hand() -> None:
    # two models: carbon 3 and 1 (w = 0.75, 0.25), CF 0.5 and 0.45, s 0.1 and 0.2, σ_CF 0.01
    # model 1: (1 + 0.01)(1 + (0.01/0.5)²) − 1 = 1.01 · 1.0004 − 1 = 0.010404
    # model 2: (1 + 0.04)(1 + (0.01/0.45)²) − 1 = 1.04 · 1.000493827 − 1 = 0.040513580
    # Var/T² = 0.5625 · 0.010404 + 0.0625 · 0.040513580 = 0.005852250 + 0.002532099
    got = systematic_rel_var([3.0, 1.0], [0.5, 0.45], [0.1, 0.2], 0.01)
    assert got == pytest.approx(0.008384349, rel=1e-6)
    # one model: its own relative variance, however many trees
    assert systematic_rel_var([7.0], [0.5], [0.1], 0.0) == pytest.approx(0.01, rel=1e-12)
    assert systematic_rel_var([0.0, 0.0], [0.5, 0.5], [0.1, 0.1], 0.01) == 0.0
    with pytest.raises(InputDataError, match="shape"):
        systematic_rel_var([1.0, 2.0], [0.5], [0.1, 0.1], 0.01)
    with pytest.raises(InputDataError, match="out of range"):
        systematic_rel_var([1.0], [0.5], [-0.1], 0.01)
    with pytest.raises(InputDataError, match="out of range"):
        systematic_rel_var([1.0], [0.0], [0.1], 0.01)


def test_relative_variance_equals_the_monte_carlos_over_all_plots() -> None:
    # only the shared errors on (model and carbon fraction): the draws of the sum of all plots
    trees, areas = forest(12, 25)
    shared = dataclasses.replace(NONE, model_sd_rel=None, carbon_fraction_sd=0.02)
    draws = plot_carbon_draws(trees, None, areas, n_draws=40_000, seed=8, errors=shared)
    total = draws.agc_draws_kg.astype(np.float64).sum(axis=0)
    mc = float(total.var() / total.mean() ** 2)
    expected = trees_systematic_rel_var(trees, shared)
    assert expected > 0.003  # three models of 0.10–0.20: far from nothing
    # the MC variance's relative SE is about √(2/n) · (1 + kurtosis) ≈ 1 %
    assert mc == pytest.approx(expected, rel=0.04)
    assert total.mean() == pytest.approx(trees["agc_kg"].sum(), rel=0.004)


def test_per_plot_values_and_the_default_where_a_table_gives_none() -> None:
    trees, _ = forest(5, 20)
    errors = ErrorModel()
    per_plot = plot_systematic_sd_rel(trees, errors)
    assert list(per_plot.index) == [f"P{i:02d}" for i in range(5)]
    for plot_id, value in per_plot.items():
        one = trees[trees["plot_id"] == plot_id]
        assert value == pytest.approx(trees_systematic_rel_var(one, errors) ** 0.5, rel=1e-12)
    # a plot of one model: that model's own value, by hand
    pine = trees[trees["model_key"] == "pinus_tabuliformis"].assign(plot_id="X")
    cf = float(pine["carbon_fraction"].iloc[0])
    hand = math.sqrt((1 + 0.10 ** 2) * (1 + (0.01 / cf) ** 2) - 1)
    assert plot_systematic_sd_rel(pine, errors)["X"] == pytest.approx(hand, rel=1e-12)
    # a user table without the column: NaN reads as the default 0.10
    assert plot_systematic_sd_rel(pine.assign(model_sd_rel=np.nan), errors)["X"] == \
        pytest.approx(hand, rel=1e-12)
    # the sum of many plots is surer than any one plot: the shares spread the models' errors
    assert trees_systematic_rel_var(trees, errors) ** 0.5 < per_plot.max()
    with pytest.raises(InputDataError, match="model_sd_rel"):
        trees_systematic_rel_var(trees.drop(columns="model_sd_rel"), errors)


def test_model_shares_say_which_error_each_model_was_given() -> None:
    trees, _ = forest(6, 30)
    trees["species_key"] = trees["model_key"]
    table_only = model_shares(trees, ErrorModel())
    assert len(table_only) == 3 and table_only["n_trees"].sum() == len(trees)
    assert table_only["agc_share"].sum() == pytest.approx(1.0, rel=1e-12)
    assert table_only["agc_share"].is_monotonic_decreasing
    by_id = table_only.set_index("model_id")
    for model_id, rows in trees.groupby("model_id"):
        assert by_id.at[model_id, "n_trees"] == len(rows)
        assert by_id.at[model_id, "agc_share"] == pytest.approx(
            rows["agc_kg"].sum() / trees["agc_kg"].sum(), rel=1e-12)
    assert by_id.at["robinia_pseudoacacia_forrester2017", "model_sd_rel"] == 0.20
    assert set(table_only["sd_source"]) == {"table"}
    # a table without values: the default, said so; a configured value: for every model
    blank = model_shares(trees.assign(model_sd_rel=np.nan), ErrorModel())
    assert set(blank["sd_source"]) == {"default"} and set(blank["model_sd_rel"]) == {0.10}
    # a table that gives some models a value and not others (NaN beside numbers)
    oak = trees["model_key"] == "quercus"
    mixed = model_shares(trees.assign(model_sd_rel=trees["model_sd_rel"].where(~oak)),
                         ErrorModel()).set_index("model_id")
    oak_id = str(trees.loc[oak, "model_id"].iloc[0])
    assert mixed.at[oak_id, "sd_source"] == "default" and mixed.at[oak_id, "model_sd_rel"] == 0.1
    assert set(mixed.drop(index=oak_id)["sd_source"]) == {"table"}
    fixed = model_shares(trees, ErrorModel(model_sd_rel=0.05))
    assert set(fixed["sd_source"]) == {"config"} and set(fixed["model_sd_rel"]) == {0.05}
    with pytest.raises(InputDataError, match="species_key"):
        model_shares(trees.drop(columns="species_key"), ErrorModel())
