"""Conformal prediction intervals (M7): the quantile rule and empirical coverage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from minecarbon.errors import InputDataError
from minecarbon.modeling.intervals import (
    conformal_halfwidth,
    interval_halfwidths,
    predict_interval,
)
from minecarbon.modeling.stratified import POOLED, StratifiedModel, fit_stratified
from tests.modeling import FEATURES, synthetic_plots

LEVEL = 0.9


def test_halfwidth_is_the_conformal_order_statistic() -> None:
    # Lei et al. (2018): the ⌈(n + 1)(1 − α)⌉-th smallest |residual|; n = 9, 1 − α = 0.8 → 8th
    residuals = [-1.0, 2.0, -3.0, 4.0, -5.0, 6.0, -7.0, 8.0, -9.0]
    assert conformal_halfwidth(residuals, 0.8) == 8.0
    assert conformal_halfwidth(residuals, 0.9) == 9.0  # ⌈10 · 0.9⌉ = 9
    assert conformal_halfwidth([*residuals, np.nan], 0.8) == 8.0  # NaN ignored


def test_too_few_residuals_give_an_unbounded_interval_with_a_warning() -> None:
    with pytest.warns(UserWarning, match=r"5 residuals are too few.*need ≥ 9"):
        assert math.isinf(conformal_halfwidth([1.0, 2.0, 3.0, 4.0, 5.0], 0.9))
    assert conformal_halfwidth(np.arange(1.0, 10.0), 0.9) == 9.0  # 9 are enough
    with pytest.raises(InputDataError, match="not in"):
        conformal_halfwidth([1.0, 2.0], 1.5)


@pytest.fixture(scope="module")
def model() -> StratifiedModel:
    calm = synthetic_plots({"coniferous": 200}, seed=20, noise_sd=2.0)
    noisy = synthetic_plots({"broadleaf": 200}, seed=21, noise_sd=6.0)
    plots = pd.concat([calm, noisy], ignore_index=True)
    return fit_stratified(plots, "agc_t_ha", "stratum", FEATURES, kinds=["svr"],
                          selector_params={"k": 3}, seed=0)


def _fresh(label: str, noise_sd: float, seed: int) -> pd.DataFrame:
    table = synthetic_plots({label: 3000}, seed=seed, noise_sd=noise_sd)
    return table


@pytest.mark.parametrize(("label", "noise_sd"), [("coniferous", 2.0), ("broadleaf", 6.0)])
def test_90_percent_intervals_cover_about_90_percent_of_new_plots(
    model: StratifiedModel, label: str, noise_sd: float
) -> None:
    fresh = _fresh(label, noise_sd, seed=30)
    out = predict_interval(model, fresh[FEATURES], fresh["stratum"], level=LEVEL)
    inside = (fresh["agc_t_ha"] >= out.lower) & (fresh["agc_t_ha"] <= out.upper)
    assert 0.85 <= inside.mean() <= 0.95
    # the width follows the stratum's own errors: ≈ 2 · 1.645 · σ for Gaussian noise
    width = np.median(out.upper - out.predicted)
    assert width == pytest.approx(1.645 * noise_sd, rel=0.3)


def test_pooled_interval_covers_the_mixed_population(model: StratifiedModel) -> None:
    fresh = pd.concat([_fresh("coniferous", 2.0, 31), _fresh("broadleaf", 6.0, 32)])
    with pytest.warns(UserWarning, match="larch-unseen"):
        out = predict_interval(model, fresh[FEATURES], "larch-unseen", level=LEVEL)
    # the pooled model predicts both strata with one relation: wider, still ≈ 90 % overall
    inside = (fresh["agc_t_ha"] >= out.lower) & (fresh["agc_t_ha"] <= out.upper)
    assert 0.85 <= inside.mean() <= 0.95
    widths = interval_halfwidths(model, LEVEL)
    assert widths[POOLED] > widths["coniferous"]


def test_lower_bound_is_clipped_and_nan_propagates(model: StratifiedModel) -> None:
    fresh = _fresh("broadleaf", 6.0, 33).iloc[:50].reset_index(drop=True)
    fresh.loc[0, "ndvi"] = np.nan
    raw = predict_interval(model, fresh[FEATURES], fresh["stratum"], clip_min=None)
    assert np.isnan(raw.predicted[0]) and np.isnan(raw.lower[0]) and np.isnan(raw.upper[0])
    np.testing.assert_allclose(raw.predicted[1:] - raw.lower[1:], raw.upper[1:] - raw.predicted[1:])
    clipped = predict_interval(model, fresh[FEATURES], fresh["stratum"], clip_min=40.0)
    np.testing.assert_array_equal(clipped.lower[1:], np.maximum(raw.lower[1:], 40.0))
    assert (raw.lower[1:] < 40.0).any() and (raw.lower[1:] > 40.0).any()
    np.testing.assert_array_equal(clipped.upper, raw.upper)
    default = predict_interval(model, fresh[FEATURES], fresh["stratum"])
    assert (default.lower[1:] >= 0).all()
