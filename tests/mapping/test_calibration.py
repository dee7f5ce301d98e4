"""Change calibration of the annual AGC maps (issue 14, point 3).

Known answers: the inverse-calibration estimator AGC_t = F_ref + (F_t − F_ref)/b on
hand-computed series, and the attenuation b as the least-squares slope of predictions on
observations (Powell et al. 2010 describe the compression of change it undoes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.mapping.calibration import (
    attenuation_from_plots,
    attenuation_from_remeasurements,
    calibrate_change,
    remeasured_attenuation,
    remeasured_changes,
    residual_offsets,
    scale_change,
)


def _cube(values: list[list[float]], forest: list[list[bool]]) -> tuple[xr.DataArray,
                                                                        xr.DataArray]:
    v = np.asarray(values, dtype=float).T[:, :, None]  # (year, pixel, 1)
    f = np.asarray(forest, dtype=bool).T[:, :, None]
    years = np.arange(2000, 2000 + v.shape[0])
    dims = ("year", "y", "x")
    return (xr.DataArray(v, dims=dims, coords={"year": years}),
            xr.DataArray(f, dims=dims, coords={"year": years}))


def test_change_from_the_reference_year_is_divided_by_the_attenuation() -> None:
    fitted, forest = _cube([[10, 12, 14, 16, 18], [30, 30, 5, 6, 7]],
                           [[True] * 5, [True, True, False, True, True]])
    out = calibrate_change(fitted, forest, reference_year=2004, attenuation=0.5).values[:, :, 0]
    # pixel 0: anchor 2004 (18): 18 + (v − 18) × 2
    np.testing.assert_allclose(out[:, 0], [2, 6, 10, 14, 18])
    # pixel 1: span 2000–2001 anchors at its year nearest 2004 (2001); 2002 not forest;
    # span 2003–2004 anchors at 2004 (7)
    np.testing.assert_allclose(out[[0, 1, 3, 4], 1], [30, 30, 5, 7])
    assert np.isnan(out[2, 1])
    assert np.isfinite(out).sum() == 9


def test_calibrated_values_are_never_negative_and_b_one_is_identity() -> None:
    fitted, forest = _cube([[1, 5, 9]], [[True] * 3])
    low = calibrate_change(fitted, forest, reference_year=2002, attenuation=0.25).values.ravel()
    np.testing.assert_allclose(low, [0, 0, 9])  # 9 + (1 − 9) × 4 < 0 → 0
    same = calibrate_change(fitted.chunk({"year": 1}), forest, reference_year=2001,
                            attenuation=1.0).values.ravel()
    np.testing.assert_allclose(same, [1, 5, 9])


def test_attenuation_is_the_slope_of_predictions_on_observations() -> None:
    rng = np.random.default_rng(3)
    observed = rng.uniform(10, 90, 400)
    predicted = 20 + 0.4 * observed + rng.normal(0, 0.5, 400)
    assert attenuation_from_plots(observed, predicted) == pytest.approx(0.4, abs=0.01)
    change = rng.uniform(-10, 30, 50)
    assert attenuation_from_remeasurements(change, 0.6 * change) == pytest.approx(0.6)


def test_remeasured_b_is_the_slope_through_the_origin_by_hand() -> None:
    # b = Σop / Σo², se = sqrt(Σ (p − b o)² / ((n − 1) Σo²))
    o = [10.0, 12.0, 8.0, 20.0, 5.0, 15.0]  # Σo² = 958
    p = [6.0, 7.0, 5.0, 9.0, 4.0, 9.0]  # Σop = 519
    b, se = remeasured_attenuation(o, p)
    assert b == pytest.approx(519 / 958, rel=1e-12)
    residual = np.array(p) - 519 / 958 * np.array(o)
    assert se == pytest.approx(np.sqrt((residual ** 2).sum() / 5 / 958), rel=1e-12)
    # residuals 0.582, 0.499, 0.666, −1.835, 1.291, 0.874: Σ² = 6.8299, se = 0.03776
    assert se == pytest.approx(0.03776, rel=1e-3)
    assert attenuation_from_remeasurements(o, p) == b


def test_remeasured_b_standard_error_matches_its_sampling_spread() -> None:
    rng = np.random.default_rng(11)
    estimates, errors = [], []
    for _ in range(2000):
        o = rng.gamma(2.0, 4.0, 60)  # growth of 60 re-measured plots, mean 8 t C/ha
        p = 0.65 * o + rng.normal(0.0, 2.5, 60)
        b, se = remeasured_attenuation(o, p)
        estimates.append(b)
        errors.append(se)
    assert np.mean(estimates) == pytest.approx(0.65, abs=0.005)
    assert np.mean(errors) == pytest.approx(np.std(estimates), rel=0.1)


def test_attenuation_outside_its_range_is_clipped_with_a_warning() -> None:
    observed = np.arange(10.0)
    with pytest.warns(UserWarning, match="clipped"):
        assert attenuation_from_plots(observed, 0.05 * observed) == 0.2


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputDataError, match="at least 5 plots"):
        attenuation_from_plots([1, 2, 3], [1, 2, 3])
    with pytest.raises(InputDataError, match="re-measured"):
        attenuation_from_remeasurements([0, 0, 0, 0, 0], [1, 1, 1, 1, 1])
    fitted, forest = _cube([[1, 2]], [[True, True]])
    with pytest.raises(InputDataError, match="slope"):
        calibrate_change(fitted, forest, 2001, attenuation=0.0)
    with pytest.raises(InputDataError, match="one grid"):
        calibrate_change(fitted, forest.transpose("y", "year", "x"), 2001, attenuation=0.5)


def test_residual_offsets_are_stratum_means_with_the_pooled_mean_for_small_strata() -> None:
    strata = ["a"] * 4 + ["b"] * 2
    observed = [10, 20, 30, 40, 50, 60]
    predicted = [12, 18, 27, 41, 40, 40]  # residuals −2, 2, 3, −1 | 10, 20
    out = residual_offsets(strata, observed, predicted, min_plots=3)
    assert out == pytest.approx({"": 32 / 6, "a": 0.5, "b": 32 / 6})
    assert len(out) == 3
    with pytest.raises(InputDataError, match="one of each per plot"):
        residual_offsets(["a"], [1.0, 2.0], [1.0, 2.0])


def test_remeasured_changes_pair_the_first_and_last_measurement_of_a_site() -> None:
    oof = pd.DataFrame({
        "site": ["s1", "s1", "s1", "s2", "s3", "s3"],
        "year": [2024, 2014, 2019, 2024, 2010, 2020],
        "observed": [50.0, 30.0, 40.0, 45.0, 20.0, 26.0],
        "predicted": [46.0, 38.0, 41.0, 44.0, 30.0, 33.0],
    })
    out = remeasured_changes(oof)
    assert len(out) == 2  # s2 was measured once
    s1 = out[out["site"] == "s1"].iloc[0]
    assert (s1["first_year"], s1["last_year"]) == (2014, 2024)
    assert s1["observed_change"] == 20.0 and s1["predicted_change"] == 8.0
    s3 = out[out["site"] == "s3"].iloc[0]
    assert s3["observed_change"] == 6.0 and s3["predicted_change"] == 3.0
    assert remeasured_changes(oof[oof["site"] == "s2"]).empty


def test_scale_change_multiplies_each_span_change_from_its_anchor() -> None:
    """Two spans: years 0–2 (anchor 2, the reference) and 4–5 (anchor 4, nearest the
    reference); factor 1.5 and 0.5 by hand; the anchor years keep their values, a change that
    would go below 0 stops at 0, and a non-forest year stays NaN."""
    years = [2000, 2001, 2002, 2003, 2004, 2005]
    values = np.array([10.0, 20.0, 30.0, np.nan, 5.0, 9.0])
    forest = np.array([True, True, True, False, True, True])
    agc = xr.DataArray(values.reshape(6, 1, 1), dims=("year", "y", "x"),
                       coords={"year": years})
    mask = xr.DataArray(forest.reshape(6, 1, 1), dims=("year", "y", "x"),
                        coords={"year": years})
    up = scale_change(agc, mask, 2002, 1.5).values.ravel()
    assert np.allclose(up, [0.0, 15.0, 30.0, np.nan, 5.0, 11.0], equal_nan=True)
    down = scale_change(agc.chunk({"y": 1}), mask.chunk({"y": 1}), 2002, 0.5).values.ravel()
    assert np.allclose(down, [20.0, 25.0, 30.0, np.nan, 5.0, 7.0], equal_nan=True)
    with pytest.raises(InputDataError, match="change factor"):
        scale_change(agc, mask, 2002, 0.0)
