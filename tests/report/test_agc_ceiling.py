"""docs/scripts/agc_ceiling.py: the RMSE a model fitted on the truth reaches (docs/accuracy.md)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import docs_script

ceiling = docs_script("agc_ceiling")


def test_relative_errors_count_an_unmapped_pixel_as_zero() -> None:
    # truth mean 20; errors +2, -20 (unmapped), 0: RMSE sqrt(404/3), bias -6
    result = ceiling.relative_errors(np.array([10.0, 20.0, 30.0]),
                                     np.array([12.0, np.nan, 30.0]))
    assert result.pixels == 3
    assert math.isclose(result.rmse_pct, 100 * math.sqrt(404 / 3) / 20)
    assert math.isclose(result.bias_pct, -30.0)
    with pytest.raises(ValueError, match="non-empty"):
        ceiling.relative_errors(np.array([]), np.array([]))


def test_the_ceiling_follows_the_features_information() -> None:
    rng = np.random.default_rng(1)
    y = rng.gamma(6.0, 8.0, 1500)  # CV 1/sqrt(6) = 41 %
    informative = np.column_stack([y + rng.normal(0, 2.0, y.size), rng.normal(size=y.size)])
    noise = rng.normal(size=(y.size, 2))
    cv_pct = 100 * y.std() / y.mean()
    good = ceiling.relative_errors(y, ceiling.cross_validated(informative, y))
    useless = ceiling.relative_errors(y, ceiling.cross_validated(noise, y))
    assert good.pixels == useless.pixels == y.size
    assert good.rmse_pct < 0.25 * cv_pct
    # features without information leave the spread of the truth (a little more: overfitting)
    assert 0.95 * cv_pct < useless.rmse_pct < 1.25 * cv_pct
    few = ceiling.trained_on_sample(informative, y, 20)
    many = ceiling.trained_on_sample(informative, y, 800)
    assert (few.pixels, many.pixels) == (y.size - 20, y.size - 800)
    assert many.rmse_pct < few.rmse_pct


def test_the_demo_maps_stay_above_the_ceiling(small_site: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    # a lighter model keeps the test quick; a misaligned feature stack would still fail it
    monkeypatch.setattr(ceiling, "model", lambda: HistGradientBoostingRegressor(
        max_iter=60, learning_rate=0.15, random_state=0))
    monkeypatch.setattr(ceiling, "MULTIPLES", (1,))
    (row,) = ceiling.ceilings(small_site, [2024])
    n_plots = ceiling.plot_count(small_site)
    assert row["pixels"] > 1000 and row["map"].pixels == row["pixels"]
    assert list(row["n_pixels"]) == [n_plots] and n_plots > 50
    # fitted on the truth of every pixel, the features beat the map, and beat a fit on as
    # many pixels as there are plots
    assert row["all_pixels"].rmse_pct < row["n_pixels"][n_plots].rmse_pct
    assert row["all_pixels"].rmse_pct < row["map"].rmse_pct
    assert row["all_pixels"].rmse_pct < 0.8 * row["cv_pct"]
