"""The four regressors (M3) and their grids; nested CV at the size of a real plot set."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import ParameterGrid
from xgboost import XGBRegressor

from minecarbon.errors import InputDataError
from minecarbon.modeling.estimators import make_estimator
from minecarbon.modeling.evaluation import nested_cv, r2
from minecarbon.modeling.selection import CorrelationSelector
from minecarbon.types import ModelKind
from tests.modeling import FEATURES, synthetic_plots


@pytest.mark.parametrize("kind", list(ModelKind))
def test_every_grid_point_is_a_valid_parameter_and_the_model_learns(kind: ModelKind) -> None:
    plots = synthetic_plots({"coniferous": 100}, seed=4)
    x, y = plots[["ndvi", "tc_wetness"]], plots["agc_t_ha"]
    pipe, grid = make_estimator(kind, seed=3)
    assert pipe.steps[-1][0] == "model"
    assert all(key.startswith("model__") for key in grid)
    assert 4 <= len(ParameterGrid(grid)) <= 18
    for point in ParameterGrid(grid):
        clone(pipe).set_params(**point)
    fitted = clone(pipe).fit(x.iloc[:70], y.iloc[:70])
    assert r2(y.iloc[70:], fitted.predict(x.iloc[70:])) > 0.8
    again = clone(pipe).fit(x.iloc[:70], y.iloc[:70])
    np.testing.assert_array_equal(fitted.predict(x), again.predict(x))  # seeded


def test_svr_standardises_features_and_target() -> None:
    pipe, _ = make_estimator(ModelKind.SVR)
    assert pipe.steps[0][0] == "scale"
    assert isinstance(pipe.named_steps["model"], TransformedTargetRegressor)


def test_xgboost_settings() -> None:
    pipe, _ = make_estimator("xgboost", seed=5, n_jobs=2)
    model = pipe.named_steps["model"]
    assert isinstance(model, XGBRegressor)
    params = model.get_params()
    assert params["tree_method"] == "hist" and params["n_jobs"] == 2
    assert params["random_state"] == 5


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(InputDataError, match="unknown model kind 'lasso'"):
        make_estimator("lasso")


@pytest.mark.slow
def test_nested_cv_of_the_four_kinds_on_200_plots_and_40_features() -> None:
    # its time (under a minute on 2 cores) is measured by benchmarks/bench_nested_cv.py
    plots = synthetic_plots({"coniferous": 200}, seed=5)
    for i in range(30):  # 40 features in all, as a real feature table
        plots[f"noise_{i}"] = np.random.default_rng(i).normal(size=len(plots))
    x = plots[[*FEATURES, *(f"noise_{i}" for i in range(30))]]
    for kind in ModelKind:
        result = nested_cv(x, plots["agc_t_ha"], kind, CorrelationSelector(k=10), seed=0)
        assert result.kind == kind
        assert sorted(np.unique(result.fold)) == [0, 1, 2, 3, 4]  # every plot tested once
        assert len(result.predicted) == len(plots) and np.isfinite(result.predicted).all()
        assert len(result.folds) == 5 and len(result.best_params) == 5
        assert all(len(chosen) == 10 for chosen in result.selected_features)
