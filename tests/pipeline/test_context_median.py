"""The running median behind the context features: nanmedian, all-NaN windows quietly NaN."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from minecarbon.pipeline.landcover_series import _quiet_median


def test_quiet_median_equals_nanmedian_and_gives_nan_for_empty_windows() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=(6, 5, 9))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[0, 0] = np.nan  # an all-NaN window
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _quiet_median(values)
    expected = np.full(values.shape[:-1], np.nan)
    filled = ~np.isnan(values).all(axis=-1)
    expected[filled] = np.nanmedian(values[filled], axis=-1)
    assert filled.sum() == 29
    np.testing.assert_allclose(out[filled], expected[filled], rtol=1e-6)
    assert np.isnan(out[0, 0])


def test_running_median_of_a_step_switches_at_its_year() -> None:
    """A lasting change is kept at its year by a centred 9-year window (min 1 value)."""
    series = np.r_[np.zeros(10), np.ones(10)][:, None, None].astype(float)
    cube = xr.DataArray(series, dims=("year", "y", "x"), coords={"year": np.arange(20)})
    windows = cube.rolling(year=9, center=True, min_periods=1).construct("window")
    out = xr.apply_ufunc(_quiet_median, windows, input_core_dims=[["window"]]).values.ravel()
    assert out.size == 20
    np.testing.assert_array_equal(out, series.ravel())
