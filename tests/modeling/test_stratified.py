"""Stratified models (M5): own model per stratum, pooled fallback, tables and model card."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from minecarbon.errors import InputDataError
from minecarbon.modeling.evaluation import CVResult, rmse
from minecarbon.modeling.stratified import POOLED, StratifiedModel, _choose, fit_stratified
from minecarbon.types import ModelKind
from tests.modeling import FEATURES, synthetic_plots, true_agc

KINDS = ["svr", "xgboost"]
Fitted = tuple[StratifiedModel, list[str], pd.DataFrame]


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    plots = synthetic_plots({"coniferous": 60, "broadleaf": 60, "sparse": 8}, seed=0)
    plots.loc[3, "ndvi"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=KINDS,
                               selector_params={"k": 3}, min_plots=15, seed=0)
    return model, [str(w.message) for w in caught], plots


def test_big_strata_get_their_own_model_and_the_small_one_the_pooled(fitted: Fitted) -> None:
    model, messages, _ = fitted
    assert {k: v.source for k, v in model.strata.items()} == {
        "broadleaf": "own", "coniferous": "own", "sparse": "pooled"}
    assert any("stratum 'sparse' has 8 plots" in m and "pooled" in m for m in messages)
    sparse = model.strata["sparse"]
    assert sparse.n_plots == 8 and sparse.pipeline is None and sparse.kind is model.pooled.kind
    assert model.pooled.n_plots == 127


def test_a_plot_with_a_missing_feature_is_dropped_with_a_warning_naming_it(fitted: Fitted) -> None:
    model, messages, _ = fitted
    assert any("P003 (ndvi)" in m for m in messages)
    assert model.settings["n_plots_dropped"] == 1
    assert model.strata["coniferous"].n_plots == 59


def test_the_chosen_kind_has_the_lowest_out_of_fold_rmse(fitted: Fitted) -> None:
    model, _, _ = fitted
    table = model.model_comparison
    for stratum, rows in table.groupby("stratum"):
        chosen = rows.loc[rows["chosen"]]
        assert len(chosen) == 1
        assert chosen["rmse"].iloc[0] == rows["rmse"].min(), stratum
    own = model.strata["coniferous"]
    assert own.metrics == own.cv[own.kind].metrics


def test_ties_go_to_the_kind_listed_first() -> None:
    def result(kind: str, error: float) -> CVResult:
        obs = np.array([1.0, 2.0, 3.0])
        return CVResult(ModelKind(kind), pd.RangeIndex(3), obs, obs + error,
                        np.zeros(3, dtype=np.intp), pd.DataFrame())

    tied = {ModelKind.GBDT: result("gbdt", 1.0), ModelKind.SVR: result("svr", 1.0)}
    assert _choose(tied) is ModelKind.GBDT
    better = {ModelKind.GBDT: result("gbdt", 1.0), ModelKind.SVR: result("svr", 0.5)}
    assert _choose(better) is ModelKind.SVR


def test_own_models_recover_the_true_relation(fitted: Fitted) -> None:
    model, _, _ = fitted
    for label in ("coniferous", "broadleaf"):
        assert model.strata[label].metrics["r2"] > 0.9
        assert "tc_wetness" in model.strata[label].features
        # one of the collinear twins, never both (which one is the sample's choice)
        assert len({"ndvi", "savi"} & set(model.strata[label].features)) == 1
    fresh = synthetic_plots({"coniferous": 300, "broadleaf": 300}, seed=99)
    pred = model.predict(fresh[FEATURES], fresh["stratum"])
    assert rmse(true_agc(fresh), pred) < 3.0  # noise sd 2 in the training plots


def test_predict_uses_each_rows_model_and_the_pooled_for_unknown_labels(fitted: Fitted) -> None:
    model, _, _ = fitted
    fresh = synthetic_plots({"coniferous": 4, "sparse": 4}, seed=5)
    x = fresh[FEATURES]
    labels = np.array(["coniferous"] * 4 + ["sparse", "larch", None, "sparse"], dtype=object)
    x.loc[1, "tc_wetness"] = np.nan
    with pytest.warns(UserWarning, match="strata with no plots use the pooled model: larch"):
        pred = model.predict(x, labels)
    own = model.strata["coniferous"].pipeline.predict(x.iloc[[0, 2, 3]])
    np.testing.assert_allclose(pred[[0, 2, 3]], own)
    pooled = model.pooled.pipeline.predict(x.iloc[[4, 5, 7]])
    np.testing.assert_allclose(pred[[4, 5, 7]], pooled)
    assert np.isnan(pred[1]) and np.isnan(pred[6])
    # an array in the model's feature order, and one label for all rows
    arr = model.predict(x.iloc[[0, 2]].to_numpy(), "coniferous")
    np.testing.assert_allclose(arr, pred[[0, 2]])
    with pytest.raises(InputDataError, match="lacks the model's features"):
        model.predict(x.drop(columns="ndvi"), labels)
    with pytest.raises(InputDataError, match="2 stratum labels for 8 rows"):
        model.predict(x, ["a", "b"])


def test_result_tables(fitted: Fitted) -> None:
    model, _, _ = fitted
    cv = model.cv_results
    assert list(cv.columns) == ["stratum", "model", "fold", "r2", "rmse", "mae", "rrmse_pct",
                                "mean_relative_error_pct", "bias", "n_train", "n_test", "params"]
    assert len(cv) == 3 * len(KINDS) * 5  # pooled + two own strata, 2 kinds, 5 folds
    assert set(cv["stratum"]) == {POOLED, "coniferous", "broadleaf"}
    sel = model.selected_features
    assert list(sel.columns) == ["stratum", "model", "feature", "rank", "score",
                                 "times_selected_in_folds", "in_final_model"]
    conifer = sel[sel["stratum"] == "coniferous"]
    final = conifer[conifer["in_final_model"]]
    assert list(final["rank"]) == [1, 2, 3]
    assert final["times_selected_in_folds"].between(0, 5).all()
    assert conifer.set_index("feature").loc["tc_wetness", "times_selected_in_folds"] == 5


def test_model_card_is_json_and_complete(fitted: Fitted) -> None:
    model, _, _ = fitted
    card = json.loads(json.dumps(model.model_card()))
    assert card["settings"]["seed"] == 0 and card["settings"]["kinds"] == KINDS
    assert set(card["strata"]) == {"broadleaf", "coniferous", "sparse"}
    sparse = card["strata"]["sparse"]
    assert sparse["source"] == "pooled" and sparse["n_plots"] == 8
    conifer = card["strata"]["coniferous"]
    assert conifer["model"] in KINDS and set(conifer["kinds_compared"]) == set(KINDS)
    assert conifer["metrics_oof"]["rmse"] == pytest.approx(model.strata["coniferous"].metrics[
        "rmse"])
    assert {"python", "scikit-learn", "xgboost", "numpy"} <= set(card["software"])
    assert card["features_in"] == FEATURES


def test_a_single_stratum_reuses_the_pooled_fit() -> None:
    plots = synthetic_plots({"coniferous": 30}, seed=8)
    model = fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=["svr"], seed=1)
    assert model.strata["coniferous"].pipeline is model.pooled.pipeline
    assert model.strata["coniferous"].source == "own"


def test_missing_columns_are_named() -> None:
    plots = synthetic_plots({"coniferous": 30}, seed=8)
    with pytest.raises(InputDataError, match="agc"):
        fit_stratified(plots, "agc", "stratum", FEATURES)
    with pytest.raises(InputDataError, match="lidar_p95"):
        fit_stratified(plots, "agc_t_ha", "stratum", ["ndvi", "lidar_p95"])
    with pytest.raises(InputDataError, match="include the target"):
        fit_stratified(plots, "agc_t_ha", "stratum", ["ndvi", "agc_t_ha"])


def test_a_stratum_whose_own_model_predicts_worse_than_the_pooled_takes_the_pooled() -> None:
    """Both out of fold on the stratum's plots: a few noisy plots of the common relation."""
    plots = synthetic_plots({"coniferous": 100, "broadleaf": 16}, seed=4)
    plots["stratum"] = np.where(plots["stratum"] == "broadleaf", "mixed", "coniferous")
    plots["agc_t_ha"] = true_agc(plots.assign(stratum="coniferous")) + np.random.default_rng(
        5).normal(0, 2.0, len(plots))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=["svr"],
                               selector_params={"k": 3}, min_plots=15, seed=0)
    mixed = model.strata["mixed"]
    rows = (plots["stratum"] == "mixed").to_numpy()
    pooled_rmse = rmse(plots["agc_t_ha"].to_numpy()[rows],
                       model.pooled.cv[model.pooled.kind].predicted[rows])
    own_rmse = mixed.cv[ModelKind.SVR].metrics["rmse"]
    assert pooled_rmse < own_rmse  # the premise
    assert mixed.source == "pooled" and "out-of-fold RMSE" in mixed.note
    assert mixed.metrics["rmse"] == pytest.approx(pooled_rmse)
    assert any("stratum 'mixed'" in str(w.message) and "pooled" in str(w.message)
               for w in caught)
    assert not model.model_comparison.query("stratum == 'mixed'")["chosen"].any()
