"""The running median behind the context features (``classify.context_years``).

:func:`minecarbon.classify.running_median.running_nanmedian` against its oracle, xarray's
centred ``rolling(...).construct`` with :func:`numpy.nanmedian` (what the pipeline used before
the kernel), and known answers by hand.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from minecarbon.classify.running_median import running_median_years, running_nanmedian
from minecarbon.errors import InputDataError


def _oracle(values: np.ndarray, half: int) -> np.ndarray:
    """xarray's centred rolling window (clipped at the ends) and numpy's nanmedian."""
    cube = xr.DataArray(values, dims=("y", "x", "year"))
    windows = cube.rolling(year=2 * half + 1, center=True, min_periods=1).construct("window")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
        return np.nanmedian(windows.values, axis=-1)


@pytest.mark.parametrize("half", [0, 1, 2, 4, 30])
def test_equals_rolling_nanmedian(half: int) -> None:
    rng = np.random.default_rng(half)
    values = rng.normal(50.0, 20.0, size=(7, 9, 25)).astype(np.float32)
    values[rng.random(values.shape) < 0.3] = np.nan
    values[0, 0] = np.nan  # a pixel never observed
    values[1, 1, :12] = np.nan  # a pixel observed from its 13th year only
    out = running_nanmedian(values, half)
    expected = _oracle(values, half)
    assert out.dtype == np.float32 and out.shape == values.shape
    finite = np.isfinite(expected)
    assert finite.sum() > 0.6 * values.size  # most windows hold a value
    np.testing.assert_array_equal(np.isfinite(out), finite)  # NaN exactly where numpy's is
    np.testing.assert_array_equal(out[finite], expected[finite])  # bit for bit
    assert np.isnan(out[0, 0]).all()


def test_ties_and_infinities_leave_the_window_right() -> None:
    """Many equal values and ±inf: the sliding window removes exactly the value leaving it."""
    rng = np.random.default_rng(11)
    values = rng.integers(0, 4, size=(40, 25)).astype(np.float64)
    values[rng.random(values.shape) < 0.2] = np.nan
    values[rng.random(values.shape) < 0.05] = np.inf
    values[rng.random(values.shape) < 0.05] = -np.inf
    out = running_nanmedian(values, 3)
    expected = _oracle(values[None], 3)[0]
    finite = ~np.isnan(expected)
    assert finite.sum() > 900
    np.testing.assert_array_equal(np.isnan(out), ~finite)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out[finite], expected[finite].astype(np.float32))


def test_known_answers() -> None:
    """By hand: odd and even counts, NaN skipped, the window clipped at both ends."""
    series = np.array([5.0, np.nan, 1.0, 4.0, 2.0, np.nan, np.nan, np.nan, 9.0])
    # half = 1 → windows: [5,nan]→5; [5,nan,1]→3; [nan,1,4]→2.5; [1,4,2]→2; [4,2,nan]→3;
    # [2,nan,nan]→2; [nan]*3→NaN; [nan,nan,9]→9; [nan,9]→9
    expected = [5.0, 3.0, 2.5, 2.0, 3.0, 2.0, np.nan, 9.0, 9.0]
    np.testing.assert_array_equal(running_nanmedian(series, 1), expected)
    np.testing.assert_array_equal(running_nanmedian(series, 0),
                                  series.astype(np.float32))  # 0: the values themselves
    # ±inf count as values, as in numpy
    np.testing.assert_array_equal(running_nanmedian(np.array([np.inf, 1.0, 2.0]), 1),
                                  [np.inf, 2.0, 1.5])
    np.testing.assert_array_equal(running_nanmedian(np.array([np.inf, 1.0, np.inf]), 1),
                                  [np.inf, np.inf, np.inf])


def test_a_step_switches_at_its_year() -> None:
    """A lasting change is kept at its year by a centred 9-year window."""
    series = np.r_[np.zeros(10), np.ones(10)]
    out = running_nanmedian(series, 4)
    assert out.size == 20
    # the window centred on the last 0 holds five 0s and four 1s, the next one four and five
    np.testing.assert_array_equal(out, series)


def test_errors() -> None:
    with pytest.raises(InputDataError, match="half-width"):
        running_nanmedian(np.zeros(5), -1)
    with pytest.raises(InputDataError, match="scalar"):
        running_nanmedian(np.float64(3.0), 1)


def test_on_a_dask_cube_along_year() -> None:
    """The pipeline's call: a (year, y, x) dask cube, year not last, chunked in space."""
    rng = np.random.default_rng(7)
    values = rng.normal(size=(25, 30, 20)).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = np.nan
    values[5] = np.nan  # a year without data
    cube = xr.DataArray(values, dims=("year", "y", "x"),
                        coords={"year": np.arange(2000, 2025)}).chunk({"year": 5, "y": 16})
    out = running_median_years(cube, 4)
    assert out.dims == cube.dims and out.chunks is not None
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out["year"], cube["year"])
    expected = np.moveaxis(_oracle(np.moveaxis(values, 0, -1), 4), -1, 0)
    got = out.values
    finite = np.isfinite(expected)
    assert finite.sum() == values.size  # a 9-year window always holds a value here
    np.testing.assert_array_equal(got, expected)  # bit for bit, as the pipeline had it
    with pytest.raises(InputDataError, match="year"):
        running_median_years(cube.rename(year="time"), 4)
