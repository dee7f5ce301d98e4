"""Sen's slope + Mann–Kendall per pixel (A2) against pymannkendall, scipy and known answers.

Conventions checked (golden_numbers.md §1.5): S over the valid values in time order; Var(S)
tie-corrected; Z continuity-corrected; p two-sided; tau is tau-a (pymannkendall ``Tau``);
slope per unit of the time coordinate; intercept = median(v) − slope·median(x − x₀).
"""

from __future__ import annotations

import csv
import datetime as dt
import math

import dask
import dask.array as da
import numpy as np
import pymannkendall as mk
import pytest
import scipy.stats
import xarray as xr

from minecarbon.assessment.trend import NODATA, TREND_LABELS, TrendClass, sen_mk
from minecarbon.errors import InputDataError
from tests.conftest import shared_path

FLOATS = ("slope", "intercept", "s", "var_s", "z", "p", "tau")
PYMK = {"s": "s", "var_s": "var_s", "z": "z", "p": "p", "tau": "Tau"}


def _oracle(series: np.ndarray) -> dict[str, float]:
    """pymannkendall on one series (NaN kept: original_test drops it, sens_slope uses the index)."""
    test = mk.original_test(series)
    sens = mk.sens_slope(series)
    out = {ours: float(getattr(test, theirs)) for ours, theirs in PYMK.items()}
    out["slope"] = float(sens.slope)
    out["intercept"] = float(sens.intercept)
    return out


def _assert_matches(result: xr.Dataset, index: tuple[int, ...], expected: dict[str, float],
                    tol: float = 1e-9) -> None:
    for name, value in expected.items():
        ours = float(result[name].values[index])
        assert ours == pytest.approx(value, rel=tol, abs=tol), (name, index, ours, value)


def _series(values: np.ndarray, years: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=("year",), coords={"year": years})


# ----------------------------------------------------------------------------- known answers
def test_known_answer_by_hand() -> None:
    """v = [1, 3, 2, 2, 5] in 2001–2005, worked by hand with Gilbert (1987) §16.4 formulas.

    S: from 1 all four later values are higher (+4); from 3: 2, 2 lower, 5 higher (−1); from
    the first 2: a tie and 5 (+1); from the second 2: 5 (+1) → S = 5. One tie group of two:
    Var(S) = [5·4·15 − 2·1·9]/18 = 282/18; Z = (5 − 1)/√Var(S); tau = 5/10.
    Pairwise slopes sorted: −1, −1/2, 0, 1/3, 1/2, 2/3, 1, 3/2, 2, 3 → median (1/2 + 2/3)/2 =
    7/12; intercept = median(v) − 7/12 · median(0…4) = 2 − 7/6 = 5/6.
    """
    result = sen_mk(_series(np.array([1.0, 3, 2, 2, 5]), np.arange(2001, 2006)))
    z = 4 / math.sqrt(282 / 18)
    expected = {"s": 5.0, "var_s": 282 / 18, "z": z, "p": math.erfc(z / math.sqrt(2)),
                "tau": 0.5, "slope": 7 / 12, "intercept": 5 / 6}
    _assert_matches(result, (), expected, tol=1e-12)
    assert int(result.trend_class) == TrendClass.SLIGHT_INCREASE  # p ≈ 0.22


def test_nile_golden_numbers_and_pymannkendall() -> None:
    """Nile at Aswan 1871–1970 (golden_numbers.md §1.5, computed with pymannkendall)."""
    with shared_path("statsmodels_nile", "nile.csv").open() as f:
        rows = list(csv.DictReader(f))
    years = np.array([int(r["year"]) for r in rows])
    volume = np.array([float(r["volume"]) for r in rows])
    result = sen_mk(_series(volume, years))
    golden = {"z": -4.128067, "p": 3.658e-05, "tau": -0.280202, "s": -1387.0,
              "var_s": 112728.3, "slope": -2.6, "intercept": 1022.2}
    _assert_matches(result, (), golden, tol=1e-4)
    _assert_matches(result, (), _oracle(volume))
    assert int(result.trend_class) == TrendClass.SIGNIFICANT_DECREASE
    # scipy.stats.theilslopes(volume, year): same slope, intercept at year 0 (golden 5886.8)
    theil = scipy.stats.theilslopes(volume, years)
    assert float(result.slope) == pytest.approx(theil.slope, abs=1e-12)
    assert float(result.intercept) + float(result.slope) * (0 - 1871) == pytest.approx(
        5886.8, abs=0.05)


def test_global_temperature_gcag() -> None:
    """GCAG annual anomalies 1850–2024 (golden: z 13.1067, Tau 0.6672, slope 0.006139 °C/yr)."""
    with shared_path("global_temp", "annual.csv").open() as f:
        rows = sorted((int(r["Year"]), float(r["Mean"])) for r in csv.DictReader(f)
                      if r["Source"] == "gcag")
    years = np.array([y for y, _ in rows])
    mean = np.array([m for _, m in rows])
    assert years[0] == 1850 and np.all(np.diff(years) == 1)
    result = sen_mk(_series(mean, years))
    _assert_matches(result, (), {"z": 13.1067, "tau": 0.6672, "slope": 0.006139}, tol=1e-4)
    _assert_matches(result, (), _oracle(mean))
    assert int(result.trend_class) == TrendClass.SIGNIFICANT_INCREASE


def _harvard_forest_ndvi() -> xr.DataArray:
    """Annual median summer (June–September) NDVI per pixel from clear Fmask observations."""
    with np.load(shared_path("yatsm_landsat_harvard_forest", "p013r030_r50_n423_b8.npz")) as npz:
        y_obs, ordinals = npz["Y"], npz["dates"]
    dates = [dt.date.fromordinal(int(o)) for o in ordinals]
    year = np.array([d.year for d in dates])
    summer = np.array([6 <= d.month <= 9 for d in dates])
    red, nir, fmask = (y_obs[k].astype(np.float64) for k in (2, 3, 7))
    clear = (fmask == 0) & (red > 0) & (nir > 0) & (red <= 10000) & (nir <= 10000)
    ndvi = np.where(clear & summer[:, None], (nir - red) / (nir + red), np.nan)
    years = np.arange(year.min(), year.max() + 1)
    annual = np.full((years.size, ndvi.shape[1]), np.nan)
    for k, yr in enumerate(years):
        rows = ndvi[year == yr]
        has = np.isfinite(rows).any(axis=0)
        annual[k, has] = np.nanmedian(rows[:, has], axis=0)
    return xr.DataArray(annual[:, None, :], dims=("year", "y", "x"),
                        coords={"year": years, "y": [0.0], "x": np.arange(ndvi.shape[1]) * 30.0})


def test_harvard_forest_every_pixel_against_pymannkendall() -> None:
    """Real Landsat NDVI, 300 pixels × 31 years with NaN years where no clear summer obs."""
    stack = _harvard_forest_ndvi()
    assert np.isnan(stack.values).any()  # the gaps are exercised
    result = sen_mk(stack)
    n_checked = 0
    for col in range(stack.sizes["x"]):
        series = stack.values[:, 0, col]
        if np.isfinite(series).sum() < 4:
            assert int(result.trend_class[0, col]) == NODATA
            continue
        _assert_matches(result, (0, col), _oracle(series))
        n_checked += 1
    assert n_checked > 250


# ----------------------------------------------------------------- random series: ties, gaps
def _random_stack(seed: int, n_years: int = 12, shape: tuple[int, int] = (9, 11)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, (n_years, *shape)).astype(np.float64)  # many ties
    values += rng.integers(-1, 2, shape) * np.arange(n_years)[:, None, None]  # some trends
    values[rng.random(values.shape) < 0.2] = np.nan  # NaN gaps
    return values


@pytest.mark.parametrize("seed", [0, 1])
def test_random_ties_and_gaps_against_pymannkendall(seed: int) -> None:
    values = _random_stack(seed)
    stack = xr.DataArray(values, dims=("year", "y", "x"),
                         coords={"year": np.arange(1990, 1990 + values.shape[0])})
    result = sen_mk(stack)
    for iy in range(values.shape[1]):
        for ix in range(values.shape[2]):
            series = values[:, iy, ix]
            if np.isfinite(series).sum() < 4:
                assert np.isnan(result.slope.values[iy, ix])
                assert int(result.trend_class[iy, ix]) == NODATA
            else:
                _assert_matches(result, (iy, ix), _oracle(series))


def test_irregular_years_against_scipy_theilslopes() -> None:
    """Years missing from the stack: slope over the actual year differences (scipy oracle)."""
    rng = np.random.default_rng(3)
    years = np.array([2000, 2001, 2003, 2004, 2007, 2008, 2010, 2015])
    values = rng.integers(0, 8, (years.size, 40)).astype(float) + 0.3 * years[:, None]
    values[rng.random(values.shape) < 0.15] = np.nan
    result = sen_mk(xr.DataArray(values, dims=("year", "x"), coords={"year": years}))
    for col in range(values.shape[1]):
        ok = np.isfinite(values[:, col])
        if ok.sum() < 4:
            continue
        theil = scipy.stats.theilslopes(values[ok, col], years[ok])
        assert result.slope.values[col] == pytest.approx(theil.slope, abs=1e-12)
        # scipy's intercept is at year 0; ours at the first year of the stack
        assert result.intercept.values[col] == pytest.approx(
            theil.intercept + theil.slope * years[0], abs=1e-9)
        # S, Var(S), Z, p, tau do not depend on the spacing: pymannkendall on the valid values
        expected = _oracle(values[ok, col])
        _assert_matches(result, (col,), {k: expected[k] for k in PYMK})


def test_unsorted_years_are_put_in_time_order() -> None:
    values = _random_stack(4)
    years = np.arange(2000, 2000 + values.shape[0])
    stack = xr.DataArray(values, dims=("year", "y", "x"), coords={"year": years})
    order = np.random.default_rng(0).permutation(years.size)
    shuffled = sen_mk(stack.isel(year=order))
    xr.testing.assert_identical(shuffled, sen_mk(stack))


# ---------------------------------------------------------------------- classes, nodata, dask
def test_trend_classes() -> None:
    years = np.arange(2000, 2012)
    up = np.arange(12.0)
    rows = {
        TrendClass.SIGNIFICANT_INCREASE: up,
        TrendClass.SIGNIFICANT_DECREASE: -up,
        TrendClass.SLIGHT_INCREASE: np.array([0, 1, 0, 2, 1, 0, 2, 1, 3, 0, 2, 1.0]),
        TrendClass.STABLE: np.full(12, 5.0),
        NODATA: np.r_[up[:3], np.full(9, np.nan)],
    }
    stack = xr.DataArray(np.stack(list(rows.values()), axis=1), dims=("year", "x"),
                         coords={"year": years})
    result = sen_mk(stack)
    assert result.trend_class.dtype == np.int8
    assert result.trend_class.values.tolist() == [int(k) for k in rows]
    assert result.trend_class.attrs["nodata"] == NODATA
    assert np.isnan(result.isel(x=-1)[list(FLOATS)].to_array()).all()
    # the slight increase is slight because its p is at least alpha, and significant below
    p = float(result.p[2])
    assert p >= 0.05
    assert int(sen_mk(stack, alpha=min(p * 1.01, 0.99)).trend_class[2]) == 2


def test_class_agrees_with_pymannkendall_decision() -> None:
    values = _random_stack(5, n_years=20, shape=(20, 20))
    result = sen_mk(xr.DataArray(values, dims=("year", "y", "x")), alpha=0.1)
    for iy, ix in np.ndindex(values.shape[1:]):
        series = values[:, iy, ix]
        if np.isfinite(series).sum() < 4:
            continue
        test = mk.original_test(series, alpha=0.1)
        slope = mk.sens_slope(series).slope
        code = int(result.trend_class[iy, ix])
        if slope == 0 or test.s == 0 or np.sign(slope) != np.sign(test.s):
            assert code == 0
        else:
            assert code == np.sign(slope) * (2 if test.h else 1)


def test_min_count() -> None:
    values = np.arange(10.0)[:, None] * np.ones((1, 3))
    values[:5, 1] = np.nan  # 5 valid years
    values[:7, 2] = np.nan  # 3 valid years
    result = sen_mk(xr.DataArray(values, dims=("year", "x")), min_count=5)
    assert result.trend_class.values.tolist() == [2, 2, NODATA]  # 5 rising years: p = 0.027
    assert float(result.slope[1]) == 1.0
    assert float(result.s[1]) == 10.0
    assert np.isnan(float(result.s[2]))


def test_dask_is_lazy_and_identical_to_numpy() -> None:
    values = _random_stack(6, n_years=15, shape=(30, 40))
    coords = {"year": np.arange(2005, 2020), "y": np.arange(30.0), "x": np.arange(40.0),
              "spatial_ref": 0}
    stack = xr.DataArray(values, dims=("year", "y", "x"), coords=coords,
                         attrs={"units": "t C/ha"})
    eager = sen_mk(stack)
    chunked = stack.copy(data=da.from_array(values, chunks=(5, 16, 16)))
    calls = []

    def counting_get(graph: object, keys: object, **kwargs: object) -> object:
        calls.append(keys)
        return dask.get(graph, keys, **kwargs)  # type: ignore[arg-type]

    with dask.config.set(scheduler=counting_get):
        lazy = sen_mk(chunked)
        assert calls == []  # nothing computed while building the result
        assert all(isinstance(lazy[name].data, da.Array) for name in lazy.data_vars)
        assert lazy.slope.chunks == ((16, 14), (16, 16, 8))
        xr.testing.assert_identical(lazy.compute(), eager)
    assert "spatial_ref" in eager.coords and eager.slope.dims == ("y", "x")
    assert eager.slope.attrs["units"] == "t C/ha per year"


def test_float32_input_and_no_coordinate() -> None:
    values = _random_stack(7).astype(np.float32)
    result = sen_mk(xr.DataArray(values, dims=("time", "y", "x")), dim="time")
    series = values[:, 2, 3].astype(np.float64)
    _assert_matches(result, (2, 3), _oracle(series))


def test_labels() -> None:
    assert [TREND_LABELS[c][0] for c in (2, 1, 0, -1, -2)] == [
        "显著增加", "轻微增加", "稳定不变", "轻微减少", "显著减少"]
    assert TREND_LABELS[TrendClass.SIGNIFICANT_DECREASE][1] == "significant decrease"


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"dim": "time"}, "no dimension 'time'"),
    ({"min_count": 3}, "min_count = 3"),
    ({"min_count": 11}, "min_count = 11 exceeds"),
    ({"alpha": 1.5}, "alpha = 1.5"),
])
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    stack = xr.DataArray(np.zeros((10, 2)), dims=("year", "x"))
    with pytest.raises(InputDataError, match=match) as info:
        sen_mk(stack, **kwargs)  # type: ignore[arg-type]
    assert info.value.fix


def test_bad_stacks() -> None:
    with pytest.raises(InputDataError, match="3 layers along 'year'"):
        sen_mk(xr.DataArray(np.zeros((3, 2)), dims=("year", "x")))
    with pytest.raises(InputDataError, match="repeats"):
        sen_mk(xr.DataArray(np.zeros((5, 2)), dims=("year", "x"),
                            coords={"year": [2000, 2001, 2001, 2002, 2003]}))
    dates = np.array(["2000-06-01", "2001-06-01", "2002-06-01", "2003-06-01"], "datetime64[ns]")
    with pytest.raises(InputDataError, match="not numeric years"):
        sen_mk(xr.DataArray(np.zeros((4, 2)), dims=("year", "x"), coords={"year": dates}))
    with pytest.raises(InputDataError, match="DataArray"):
        sen_mk(xr.Dataset({"agc": (("year",), np.zeros(5))}))  # type: ignore[arg-type]


def test_crs_and_grid_coordinates_are_kept() -> None:
    import rioxarray  # noqa: F401  (registers .rio)

    values = _random_stack(8, n_years=6, shape=(4, 5))
    stack = xr.DataArray(values, dims=("year", "y", "x"),
                         coords={"year": np.arange(2018, 2024), "y": 4.1e6 - 30.0 * np.arange(4),
                                 "x": 5e5 + 30.0 * np.arange(5)}).rio.write_crs("EPSG:4546")
    result = sen_mk(stack)
    assert result.slope.rio.crs == stack.rio.crs
    xr.testing.assert_identical(result.x, stack.x)
    xr.testing.assert_identical(result.y, stack.y)
