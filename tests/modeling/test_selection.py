"""Feature selection (M2): relevant features kept, collinear twins and constants dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from minecarbon.errors import InputDataError
from minecarbon.modeling.selection import (
    CorrelationSelector,
    PassthroughSelector,
    PCASelector,
    RFImportanceSelector,
    make_selector,
    oob_permutation_importance,
    selected_feature_scores,
)
from tests.modeling import FEATURES, IRRELEVANT, RELEVANT, synthetic_plots


@pytest.fixture(scope="module")
def plots() -> pd.DataFrame:
    return synthetic_plots({"coniferous": 120}, seed=1)


def _xy(plots: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    return plots[FEATURES], plots["agc_t_ha"]


# ---------------------------------------------------------------------------- correlation
def test_correlation_keeps_the_relevant_features_and_drops_the_collinear_twin(
    plots: pd.DataFrame,
) -> None:
    x, y = _xy(plots)
    sel = CorrelationSelector(k=2).fit(x, y)
    assert sorted(sel.get_feature_names_out()) == sorted(RELEVANT)
    # the twin correlates with the target nearly as well as ndvi, better than tc_wetness …
    assert sel.scores_[FEATURES.index("savi")] > 0.5
    # … and is dropped only because of its collinearity with ndvi
    off = CorrelationSelector(k=2, max_collinearity=1.0).fit(x, y)
    assert sorted(off.get_feature_names_out()) == ["ndvi", "savi"]


def test_pearson_and_spearman_scores_equal_scipy(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    for method, oracle in (("pearson", stats.pearsonr), ("spearman", stats.spearmanr)):
        sel = CorrelationSelector(method=method).fit(x, y)
        expected = [oracle(x[c], y)[0] for c in FEATURES]
        np.testing.assert_allclose(sel.correlations_, expected, rtol=1e-10, atol=1e-12)


def test_spearman_ranks_a_monotone_nonlinear_feature_first() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 80), "b": rng.uniform(0, 1, 80)})
    y = np.exp(12 * x["a"]) + 50 * x["b"]  # monotone in a, very nonlinear
    sel = CorrelationSelector(method="spearman", k=1).fit(x, y)
    assert list(sel.get_feature_names_out()) == ["a"]
    assert sel.scores_[0] > 0.9


def test_min_abs_r_limits_the_selection_and_keeps_one_with_a_warning(
    plots: pd.DataFrame,
) -> None:
    x, y = _xy(plots)
    sel = CorrelationSelector(min_abs_r=0.3).fit(x, y)
    assert set(sel.get_feature_names_out()) <= {"ndvi", "savi", "tc_wetness"}
    with pytest.warns(UserWarning, match="no feature has"):
        one = CorrelationSelector(min_abs_r=0.99).fit(x, y)
    assert one.get_support().sum() == 1


def test_ranking_order_and_scores_table(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    sel = CorrelationSelector(k=4).fit(x, y)
    table = selected_feature_scores(sel)
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert table["score"].is_monotonic_decreasing
    assert set(table["feature"]) == set(sel.get_feature_names_out())


def test_constant_feature_is_dropped_with_a_warning_naming_it(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    x = x.assign(flat_band=0.25)
    for selector in (CorrelationSelector(), RFImportanceSelector(k=None, n_estimators=20),
                     PCASelector(n_components=2), PassthroughSelector()):
        with pytest.warns(UserWarning, match="flat_band"):
            selector.fit(x, y)
        assert not selector.get_support()[list(x.columns).index("flat_band")]


def test_nan_names_the_column_and_row(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    x = x.copy()
    x.loc[17, "tc_wetness"] = np.nan
    for selector in (CorrelationSelector(), PCASelector(), RFImportanceSelector(n_estimators=5)):
        with pytest.raises(InputDataError, match=r"'tc_wetness'.*row 17"):
            selector.fit(x, y)
    with pytest.raises(InputDataError, match="column 2.*row 17"):
        CorrelationSelector().fit(x.to_numpy(), y)


def test_constant_target_is_refused(plots: pd.DataFrame) -> None:
    x, _ = _xy(plots)
    with pytest.raises(InputDataError, match="target is constant"):
        CorrelationSelector().fit(x, np.full(len(x), 3.0))


def test_transform_in_a_pipeline_with_pandas_output(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    pipe = Pipeline([("select", CorrelationSelector(k=2)), ("model", LinearRegression())])
    pipe.fit(x, y)
    assert list(pipe[:-1].get_feature_names_out()) == ["ndvi", "tc_wetness"]
    out = CorrelationSelector(k=2).set_output(transform="pandas").fit(x, y).transform(x)
    assert list(out.columns) == ["ndvi", "tc_wetness"]
    np.testing.assert_array_equal(out.to_numpy(), x[["ndvi", "tc_wetness"]].to_numpy())
    # the linear fit on the two true features recovers the true coefficients (80, 400)
    np.testing.assert_allclose(pipe.named_steps["model"].coef_, [80.0, 400.0], rtol=0.05)


def test_selectors_clone_with_their_parameters() -> None:
    sel = CorrelationSelector(k=3, min_abs_r=0.1, max_collinearity=0.8, method="spearman")
    assert clone(sel).get_params() == sel.get_params()
    assert clone(RFImportanceSelector(k=2, seed=4)).get_params()["seed"] == 4


# ----------------------------------------------------------------------------------- PCA
def test_pca_components_equal_an_svd_of_the_standardised_features(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    sel = PCASelector(variance=0.9).fit(x, y)
    z = (x - x.mean()) / x.std(ddof=0)
    s = np.linalg.svd(z.to_numpy(), compute_uv=False)
    ratio = s**2 / np.sum(s**2)
    n = int(np.searchsorted(np.cumsum(ratio), 0.9) + 1)  # fewest reaching 90 %
    assert list(sel.get_feature_names_out()) == [f"pc{i}" for i in range(1, n + 1)]
    np.testing.assert_allclose(sel.scores_, ratio[:n], rtol=1e-9)
    out = sel.transform(x)
    np.testing.assert_allclose(np.var(out, axis=0) * len(x), s[:n] ** 2, rtol=1e-9)
    assert sel.get_support().all()
    assert sel.loadings_.shape == (len(FEATURES), n)


def test_pca_n_components_wins_over_variance(plots: pd.DataFrame) -> None:
    x, y = _xy(plots)
    assert PCASelector(n_components=3).fit(x, y).transform(x).shape == (len(x), 3)


# ---------------------------------------------------------------------- random forest
@pytest.mark.parametrize("importance", ["permutation", "impurity"])
def test_rf_importance_ranks_the_relevant_features_first(
    plots: pd.DataFrame, importance: str
) -> None:
    x, y = _xy(plots)
    sel = RFImportanceSelector(k=3, n_estimators=100, importance=importance, seed=0).fit(x, y)
    top = list(np.asarray(FEATURES)[sel.ranking_])
    assert "tc_wetness" in top[:2]
    assert top[0] in ("ndvi", "savi", "tc_wetness")
    assert not set(top[:2]) & set(IRRELEVANT)
    again = RFImportanceSelector(k=3, n_estimators=100, importance=importance, seed=0).fit(x, y)
    np.testing.assert_array_equal(sel.scores_, again.scores_)


def test_oob_permutation_importance_of_an_unused_feature_is_zero() -> None:
    # stumps on a step in feature 0 never split on feature 1: permuting it changes nothing
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (200, 2))
    y = np.where(x[:, 0] > 0.5, 10.0, 0.0)
    forest = RandomForestRegressor(n_estimators=30, max_depth=1, random_state=0).fit(x, y)
    assert all(t.tree_.feature[0] == 0 for t in forest.estimators_)
    imp = oob_permutation_importance(forest, x, y, seed=0)
    assert imp[1] == 0.0
    # permuting the step feature turns a perfect stump into a coin flip: MSE ≈ 2·25 = 50
    assert imp[0] == pytest.approx(50.0, rel=0.2)


# ------------------------------------------------------------------------ make_selector
def test_make_selector_by_name_and_errors() -> None:
    assert isinstance(make_selector("correlation", k=3), CorrelationSelector)
    assert isinstance(make_selector("pca", variance=0.8), PCASelector)
    assert isinstance(make_selector("rf_importance", k=5), RFImportanceSelector)
    assert isinstance(make_selector("none"), PassthroughSelector)
    with pytest.raises(InputDataError, match="unknown feature-selection method 'lasso'"):
        make_selector("lasso")
    with pytest.raises(InputDataError, match="'pca'"):
        make_selector("pca", k=3)
