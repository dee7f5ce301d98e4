"""Bad input at the model stage (issue 7): the rules of screen_plot_table and fit_stratified.

Each case is named in a warning (plot id, feature, stratum) or an InputDataError with a fix;
peer libraries are the oracles where they implement the same rule: pandas ``dropna`` for the
plots kept, scikit-learn's ``VarianceThreshold(0)`` for the constant features.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import VarianceThreshold

from minecarbon.errors import InputDataError
from minecarbon.modeling.evaluation import screen_plot_table
from minecarbon.modeling.stratified import fit_stratified
from tests.modeling import FEATURES, synthetic_plots

FAST = {"kinds": ["svr"], "k_folds": 3, "inner_folds": 2, "seed": 0}


def _table(n: int = 20, seed: int = 3) -> pd.DataFrame:
    return synthetic_plots({"coniferous": n}, seed=seed)


# ----------------------------------------------------------------- NaN features (case 4)
def test_plots_with_a_missing_feature_are_dropped_and_named_as_pandas_dropna() -> None:
    table = _table()
    table.loc[3, "ndvi"] = np.nan
    table.loc[7, ["slope_deg", "agc_t_ha"]] = [np.inf, np.nan]
    with pytest.warns(UserWarning, match=r"2 plots dropped .*P003 \(ndvi\); P007 \(slope_deg, "
                      r"agc_t_ha\)"):
        screen = screen_plot_table(table, "agc_t_ha", FEATURES, plot_ids=table["plot_id"])
    oracle = table[[*FEATURES, "agc_t_ha"]].replace([np.inf, -np.inf], np.nan).dropna()
    assert table.index[screen.rows].tolist() == oracle.index.tolist()
    assert screen.plots_dropped == {"P003": ["ndvi"], "P007": ["slope_deg", "agc_t_ha"]}
    assert screen.features == FEATURES


def test_a_feature_missing_at_most_plots_is_dropped_instead_of_the_plots() -> None:
    table = _table()
    table.loc[:10, "glcm_nir_mean"] = np.nan  # 11 of 20 plots: more than half
    table.loc[:9, "tpi_m"] = np.nan  # 10 of 20: exactly half, kept; its plots go
    with pytest.warns(UserWarning, match=r"missing at more than 50% .*glcm_nir_mean \(11 of 20"), \
            pytest.warns(UserWarning, match=r"10 plots dropped .*P000 \(tpi_m\)"):
        screen = screen_plot_table(table, "agc_t_ha", FEATURES, plot_ids=table["plot_id"])
    assert screen.features_missing == {"glcm_nir_mean": pytest.approx(0.55)}
    assert "glcm_nir_mean" not in screen.features and "tpi_m" in screen.features
    assert int(screen.rows.sum()) == 10  # the plots missing tpi_m, not those of glcm_nir_mean
    assert screen.plots_dropped["P000"] == ["tpi_m"]
    # a stricter share drops tpi_m too, and keeps every plot
    with pytest.warns(UserWarning, match="tpi_m"):
        strict = screen_plot_table(table, "agc_t_ha", FEATURES, max_missing_share=0.4)
    assert strict.rows.all() and {"glcm_nir_mean", "tpi_m"}.isdisjoint(strict.features)


def test_no_usable_plot_or_share_out_of_range_is_an_error_naming_it() -> None:
    table = _table(6)
    table["agc_t_ha"] = np.nan
    with pytest.raises(InputDataError, match="none of its 6 plots .*fix"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screen_plot_table(table, "agc_t_ha", FEATURES)
    with pytest.raises(InputDataError, match="max_missing_share = 1.5"):
        screen_plot_table(_table(), "agc_t_ha", FEATURES, max_missing_share=1.5)


# ----------------------------------------------------------------- constant features (case 3)
def test_constant_features_are_dropped_as_variance_threshold_zero() -> None:
    table = _table()
    table["slope_deg"] = 5.0
    table["tpi_m"] = 0.0
    table.loc[4, "tpi_m"] = 2.0  # varies only at a plot dropped for a missing value:
    table.loc[4, "ndvi"] = np.nan  # constant over the plots the model sees
    with pytest.warns(UserWarning, match=r"constant features .*19 plots.*slope_deg \(= 5\), "
                      r"tpi_m \(= 0\)"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*1 plots dropped")
        screen = screen_plot_table(table, "agc_t_ha", FEATURES)
    kept = table.loc[screen.rows, FEATURES]
    oracle = VarianceThreshold(0.0).fit(kept.to_numpy())
    assert screen.features == [f for f, s in zip(FEATURES, oracle.get_support(), strict=True)
                               if s]
    assert screen.features_constant == {"slope_deg": 5.0, "tpi_m": 0.0}


def test_all_features_constant_or_missing_is_an_error_naming_them() -> None:
    table = _table(8)[["plot_id", "agc_t_ha"]].assign(ndvi=0.5, savi=np.nan)
    with pytest.raises(InputDataError, match=r"no usable feature .*mostly missing: savi; "
                       r"constant: ndvi.*fix"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screen_plot_table(table, "agc_t_ha", ["ndvi", "savi"])


def test_fit_stratified_drops_a_constant_feature_and_still_fits() -> None:
    table = _table(24)
    table["northness"] = 1.0
    with pytest.warns(UserWarning, match=r"constant features .*northness \(= 1\)"):
        model = fit_stratified(table, "agc_t_ha", "stratum", FEATURES, **FAST)
    assert "northness" not in model.features
    assert model.features == [f for f in FEATURES if f != "northness"]
    assert model.settings["features_dropped_constant"] == {"northness": 1.0}
    pred = model.predict(table, "coniferous")  # the extra column is ignored
    assert np.isfinite(pred).all()
    card = json.loads(model.model_card_json())
    assert "northness" not in card["features_in"]


# ----------------------------------------------------------------- too few plots (case 1)
def test_a_small_stratum_uses_the_pooled_model_with_a_warning_and_a_card_note() -> None:
    table = synthetic_plots({"coniferous": 24, "sparse": 5}, seed=4)
    with pytest.warns(UserWarning, match=r"stratum 'sparse' has 5 plots, fewer than the 10 "
                      r"needed .*min_plots = 10, config modeling.min_plots_per_stratum\)"):
        model = fit_stratified(table, "agc_t_ha", "stratum", FEATURES, min_plots=10, **FAST)
    sparse = model.strata["sparse"]
    assert sparse.source == "pooled" and sparse.n_plots == 5 and sparse.pipeline is None
    assert model.model_for("sparse") is model.pooled
    rows = table["stratum"] == "sparse"
    expected = model.pooled.pipeline.predict(table.loc[rows, model.features])
    np.testing.assert_allclose(model.predict(table.loc[rows], "sparse"), expected)
    card = json.loads(model.model_card_json())
    assert card["strata"]["sparse"]["source"] == "pooled"
    assert "5 plots, fewer than the 10" in card["strata"]["sparse"]["note"]
    assert card["strata"]["coniferous"]["source"] == "own"
    assert card["settings"]["min_plots"] == 10


def test_the_fold_sizes_can_raise_the_minimum_and_the_warning_says_so() -> None:
    # 3 outer folds leave n − ⌈n/3⌉ training plots, which 2 inner folds need to be ≥ 2 × 2:
    # n = 5 leaves 3, n = 6 leaves 4, so a stratum needs 6 plots even with min_plots = 3.
    table = synthetic_plots({"coniferous": 20, "sparse": 5}, seed=5)
    with pytest.warns(UserWarning, match=r"stratum 'sparse' has 5 plots, fewer than the 6 "
                      r"needed .*min_plots = 3.*3 outer × 2 inner folds need 6"):
        model = fit_stratified(table, "agc_t_ha", "stratum", FEATURES, min_plots=3, **FAST)
    assert model.strata["sparse"].source == "pooled"


def test_a_stratum_that_loses_all_its_plots_is_named() -> None:
    table = synthetic_plots({"coniferous": 24, "sparse": 2}, seed=6)
    table.loc[table["stratum"] == "sparse", "ndvi"] = np.nan
    with pytest.warns(UserWarning, match="strata 'sparse' lost all their plots"), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*2 plots dropped")
        model = fit_stratified(table, "agc_t_ha", "stratum", FEATURES, **FAST)
    assert "sparse" not in model.strata
    assert model.model_for("sparse") is model.pooled
    assert set(model.settings["plots_dropped"]) == {"P024", "P025"}


def test_too_few_plots_for_the_pooled_model_is_an_error() -> None:
    table = _table(5)
    with pytest.raises(InputDataError, match=r"all plots: 5 plots are too few .*fix"):
        fit_stratified(table, "agc_t_ha", "stratum", FEATURES, **FAST)
