"""Appendix-D metrics (sklearn.metrics as oracle) and nested CV (honest, no leakage)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.pipeline import Pipeline

from minecarbon.errors import InputDataError
from minecarbon.modeling.estimators import make_estimator
from minecarbon.modeling.evaluation import (
    METRICS,
    CVResult,
    bias,
    mae,
    mean_relative_error_pct,
    nested_cv,
    r2,
    regression_metrics,
    rmse,
    rrmse_pct,
)
from minecarbon.modeling.selection import CorrelationSelector
from tests.modeling import FEATURES, synthetic_plots

OBS = np.array([1.0, 2.0, 3.0, 4.0])
PRED = np.array([1.5, 2.0, 2.5, 5.0])


# ---------------------------------------------------------------------------- metrics
def test_metrics_hand_computed() -> None:
    # errors ŷ − y = 0.5, 0, −0.5, 1; ȳ = 2.5; Σ(y − ȳ)² = 5
    assert rmse(OBS, PRED) == pytest.approx(math.sqrt(1.5 / 4))
    assert mae(OBS, PRED) == pytest.approx(0.5)
    assert bias(OBS, PRED) == pytest.approx(0.25)
    assert r2(OBS, PRED) == pytest.approx(1 - 1.5 / 5)
    assert rrmse_pct(OBS, PRED) == pytest.approx(math.sqrt(1.5 / 4) / 2.5 * 100)
    assert mean_relative_error_pct(OBS, PRED) == pytest.approx(
        (0.5 / 1 + 0 + 0.5 / 3 + 1 / 4) / 4 * 100)


def test_metrics_equal_sklearn_metrics() -> None:
    rng = np.random.default_rng(0)
    y = rng.gamma(4.0, 10.0, 300)
    p = y + rng.normal(0, 8, 300)
    assert r2(y, p) == pytest.approx(skm.r2_score(y, p), rel=1e-12)
    assert rmse(y, p) == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-12)
    assert mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-12)
    assert mean_relative_error_pct(y, p) == pytest.approx(
        skm.mean_absolute_percentage_error(y, p) * 100, rel=1e-12)
    assert rrmse_pct(y, p) == pytest.approx(skm.root_mean_squared_error(y, p) / y.mean() * 100)
    assert list(regression_metrics(y, p)) == list(METRICS)


def test_metric_edge_cases() -> None:
    assert math.isnan(r2([2.0, 2.0], [1.0, 3.0]))  # constant observed
    # a plot without carbon has no relative error; it is left out of the mean
    assert mean_relative_error_pct([0.0, 10.0], [1.0, 12.0]) == pytest.approx(20.0)
    assert math.isnan(mean_relative_error_pct([0.0, 0.0], [1.0, 2.0]))
    assert math.isnan(rrmse_pct([0.0, 0.0], [1.0, 2.0]))
    with pytest.raises(InputDataError, match="3 observed and 2 predicted"):
        rmse([1, 2, 3], [1, 2])


# -------------------------------------------------------------------------- nested CV
@pytest.fixture(scope="module")
def plots() -> pd.DataFrame:
    return synthetic_plots({"coniferous": 80}, seed=2)


@pytest.fixture(scope="module")
def svr_cv(plots: pd.DataFrame) -> CVResult:
    return nested_cv(plots[FEATURES], plots["agc_t_ha"], "svr", CorrelationSelector(k=3),
                     k_folds=5, inner_folds=3, seed=7)


def test_every_plot_is_predicted_once_and_fold_metrics_match(
    svr_cv: CVResult, plots: pd.DataFrame
) -> None:
    assert np.isfinite(svr_cv.predicted).all()
    assert sorted(np.bincount(svr_cv.fold)) == [16] * 5
    assert list(svr_cv.index) == list(plots.index)
    for row in svr_cv.folds.itertuples():
        test = svr_cv.fold == row.fold
        assert row.rmse == pytest.approx(rmse(svr_cv.observed[test], svr_cv.predicted[test]))
        assert row.n_test == test.sum() and row.n_train == 80 - test.sum()
        assert set(json.loads(row.params)) == {"C", "gamma", "epsilon"}
    assert svr_cv.metrics["r2"] > 0.9  # ndvi and tc_wetness explain most of the AGC
    for table in svr_cv.selected_features:
        assert set(table["feature"]) >= {"ndvi", "tc_wetness"}


def test_out_of_fold_predictions_equal_a_manual_rerun_of_one_fold(
    svr_cv: CVResult, plots: pd.DataFrame
) -> None:
    x, y = plots[FEATURES], plots["agc_t_ha"].to_numpy()
    train, test = next(iter(KFold(5, shuffle=True, random_state=7).split(x)))
    estimator, grid = make_estimator("svr", 7)
    pipe = Pipeline([("select", CorrelationSelector(k=3)), *estimator.steps])
    search = GridSearchCV(pipe, grid, cv=KFold(3, shuffle=True, random_state=8),
                          scoring="neg_root_mean_squared_error").fit(x.iloc[train], y[train])
    np.testing.assert_allclose(svr_cv.predicted[test], search.predict(x.iloc[test]), rtol=1e-12)
    assert svr_cv.best_params[0] == search.best_params_
    assert (svr_cv.fold[test] == 0).all()


def test_nested_cv_is_reproducible(plots: pd.DataFrame, svr_cv: CVResult) -> None:
    again = nested_cv(plots[FEATURES], plots["agc_t_ha"], "svr", CorrelationSelector(k=3),
                      seed=7)
    np.testing.assert_array_equal(again.predicted, svr_cv.predicted)


def test_pure_noise_gives_no_skill_out_of_fold_though_rf_fits_its_training_data() -> None:
    # Leakage check: 50 plots, 500 noise features, a target unrelated to all of them.
    rng = np.random.default_rng(11)
    x = pd.DataFrame(rng.normal(size=(50, 500)), columns=[f"f{i}" for i in range(500)])
    y = rng.normal(50, 10, 50)
    cv = nested_cv(x, y, "rf", CorrelationSelector(k=8), k_folds=4, inner_folds=2, seed=0)
    assert cv.metrics["r2"] <= 0.1  # ≈ 0 up to sampling noise
    estimator, _ = make_estimator("rf", 0)
    fitted = Pipeline([("select", CorrelationSelector(k=8)), *estimator.steps]).fit(x, y)
    assert r2(y, fitted.predict(x)) > 0.7  # the training fit looks excellent
    # Selecting the features on all plots before the CV leaks the test plots into the model:
    # a linear model on the 8 features chosen so "predicts" noise (Ambroise & McLachlan 2002).
    top = CorrelationSelector(k=8).fit(x, y).get_feature_names_out()
    leaky = cross_val_predict(LinearRegression(), x[top], y,
                              cv=KFold(5, shuffle=True, random_state=0))
    assert r2(y, leaky) > 0.3
    honest = nested_cv(x, y, "svr", CorrelationSelector(k=8), seed=0)  # same, selection inside
    assert honest.metrics["r2"] <= 0.1


def test_groups_never_straddle_a_split(plots: pd.DataFrame) -> None:
    groups = np.repeat(np.arange(20), 4)  # clusters of 4 neighbouring plots
    cv = nested_cv(plots[FEATURES], plots["agc_t_ha"], "xgboost", CorrelationSelector(k=3),
                   k_folds=4, inner_folds=2, seed=1, groups=groups)
    for g in range(20):
        assert len(set(cv.fold[groups == g])) == 1


def test_nested_cv_errors_name_the_problem(plots: pd.DataFrame) -> None:
    x, y = plots[FEATURES].copy(), plots["agc_t_ha"]
    with pytest.raises(InputDataError, match="too few"):
        nested_cv(x.iloc[:7], y.iloc[:7], "svr", CorrelationSelector(), k_folds=5)
    x.loc[5, "ndvi"] = np.nan
    with pytest.raises(InputDataError, match=r"'ndvi'.*row 5"):
        nested_cv(x, y, "svr", CorrelationSelector())
    with pytest.raises(InputDataError, match="not finite"):
        nested_cv(plots[FEATURES], y.where(y.index != 3), "svr", CorrelationSelector())
