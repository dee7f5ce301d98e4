"""Cumulative effect (A3): exact linear pixels, a known mining loss, pooled fallback, oracles.

Method: REQUIREMENTS A3 and the guide's explanatory notes §5 (effect = actual − ideal
accumulation; ideal from a multiple linear regression of AGC on temperature and precipitation in
the years before mining). Oracles: scikit-learn ``LinearRegression`` (per-pixel OLS; the pooled
fit is OLS with one dummy per pixel) and ``numpy.linalg.lstsq`` on the same inputs. Real input:
the GCAG global temperature series (../shared/data/global_temp, ODC-PDDL).
"""

from __future__ import annotations

import csv

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401
import xarray as xr
from sklearn.linear_model import LinearRegression

from minecarbon.assessment.cumulative import (
    SOURCE_OVERALL,
    SOURCE_PIXEL,
    SOURCE_STRATUM,
    cumulative_effect,
)
from minecarbon.errors import GridMismatchError, InputDataError
from tests.conftest import shared_path

YEARS = np.arange(2000, 2021)
BASE = list(range(2000, 2010))
PERIOD = (2012, 2020)
NY, NX = 6, 5


def _climate(years: np.ndarray = YEARS, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"year": years,
                         "temperature_c": 9.8 + rng.normal(0.0, 0.5, years.size),
                         "precipitation_mm": 470.0 + rng.normal(0.0, 70.0, years.size)})


def _stack(values: np.ndarray, years: np.ndarray = YEARS) -> xr.DataArray:
    _, ny, nx = values.shape
    out = xr.DataArray(values, dims=("year", "y", "x"),
                       coords={"year": years, "y": 4_100_000.0 - 30.0 * np.arange(ny),
                               "x": 500_000.0 + 30.0 * np.arange(nx)})
    return out.rio.write_crs("EPSG:4546")


def _linear(clim: pd.DataFrame, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    t = clim["temperature_c"].to_numpy()[:, None, None]
    p = clim["precipitation_mm"].to_numpy()[:, None, None]
    return a[None] + b[None] * t + c[None] * p


def _coefs(seed: int = 2, shape: tuple[int, int] = (NY, NX)) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.uniform(20, 60, shape), rng.uniform(-2, 2, shape), rng.uniform(0, 0.05, shape))


def _delta(clim: pd.DataFrame, period: tuple[int, int] = PERIOD) -> np.ndarray:
    rows = clim.set_index("year").loc[list(period), ["temperature_c", "precipitation_mm"]]
    return np.asarray(rows.iloc[1] - rows.iloc[0], dtype=float)


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("the graph was computed")


def test_exact_linear_pixels_have_no_effect() -> None:
    clim = _climate()
    ds = cumulative_effect(_stack(_linear(clim, *_coefs())), clim, BASE, PERIOD)
    np.testing.assert_allclose(ds["ideal"].values, ds["actual"].values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ds["effect"].values, 0.0, atol=1e-9)
    assert (ds["ideal_source"].values == SOURCE_PIXEL).all()
    assert ds.rio.crs == "EPSG:4546" and ds["effect"].attrs["units"] == "t C/ha"


def test_known_mining_loss_is_the_effect() -> None:
    clim = _climate()
    values = _linear(clim, *_coefs())
    values[YEARS >= 2015, 2, 3] -= 17.5  # stripped by mining in 2015
    ds = cumulative_effect(_stack(values), clim, BASE, PERIOD)
    expected = np.zeros((NY, NX))
    expected[2, 3] = -17.5
    np.testing.assert_allclose(ds["effect"].values, expected, atol=1e-9)


def test_cleared_pixel_with_nan_as_zero_loses_all_its_carbon() -> None:
    clim = _climate()
    values = _linear(clim, *_coefs())
    values[YEARS >= 2015, 0, 0] = np.nan  # no forest after mining
    c_start = values[PERIOD[0] == YEARS, 0, 0][0]
    ds = cumulative_effect(_stack(values), clim, BASE, PERIOD, nan_as_zero=True)
    plain = cumulative_effect(_stack(values), clim, BASE, PERIOD)
    assert np.isnan(plain["effect"].values[0, 0]) and np.isnan(plain["ideal"].values[0, 0])
    assert ds["actual"].values[0, 0] == pytest.approx(-c_start)
    ideal = ds["ideal"].values[0, 0]
    assert ds["effect"].values[0, 0] == pytest.approx(-c_start - ideal)


def _noisy(seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    clim = _climate()
    rng = np.random.default_rng(seed)
    values = _linear(clim, *_coefs()) + rng.normal(0.0, 1.5, (YEARS.size, NY, NX))
    gaps = rng.random((YEARS.size, NY, NX)) < 0.15  # cloudy years, different per pixel
    gaps[PERIOD[0] <= YEARS] = False
    values[gaps] = np.nan
    return clim, values


def test_per_pixel_fit_matches_sklearn_and_lstsq() -> None:
    clim, values = _noisy()
    ds = cumulative_effect(_stack(values), clim, BASE, PERIOD)
    x = clim.set_index("year").loc[BASE, ["temperature_c", "precipitation_mm"]].to_numpy()
    dx = _delta(clim)
    base = values[: len(BASE)]
    checked = 0
    for i in range(NY):
        for j in range(NX):
            ok = np.isfinite(base[:, i, j])
            if ok.sum() < 4:
                assert ds["ideal_source"].values[i, j] != SOURCE_PIXEL
                continue
            fit = LinearRegression().fit(x[ok], base[ok, i, j])
            assert ds["ideal"].values[i, j] == pytest.approx(fit.coef_ @ dx, rel=1e-8, abs=1e-9)
            design = np.column_stack([np.ones(ok.sum()), x[ok]])
            beta = np.linalg.lstsq(design, base[ok, i, j], rcond=None)[0]
            assert ds["ideal"].values[i, j] == pytest.approx(beta[1:] @ dx, rel=1e-8, abs=1e-9)
            checked += 1
    assert checked > NY * NX // 2


def test_pooled_fallback_per_stratum_is_exact_with_few_base_years() -> None:
    clim = _climate()
    a, _, _ = _coefs()
    strata = np.where(np.arange(NX)[None, :] < 2, 1, 2) * np.ones((NY, 1))
    b = np.where(strata == 1, 1.5, -0.8)  # one climate response per forest type
    c = np.where(strata == 1, 0.03, 0.01)
    values = _linear(clim, a, b, c)
    values[YEARS >= 2015, 4, 4] -= 9.0
    forest = xr.DataArray(strata.astype(np.uint8), dims=("y", "x"),
                          coords={"y": _stack(values)["y"], "x": _stack(values)["x"]})
    ds = cumulative_effect(_stack(values), clim, [2000, 2001, 2002], PERIOD, strata=forest)
    assert (ds["ideal_source"].values == SOURCE_STRATUM).all()  # 3 < 2 predictors + 2
    expected = np.zeros((NY, NX))
    expected[4, 4] = -9.0
    np.testing.assert_allclose(ds["effect"].values, expected, atol=1e-8)
    ideal = np.where(strata == 1, 1.5, -0.8) * _delta(clim)[0] + c * _delta(clim)[1]
    np.testing.assert_allclose(ds["ideal"].values, ideal, rtol=1e-9)


def test_pooled_fit_matches_sklearn_with_pixel_dummies() -> None:
    clim, values = _noisy(seed=5)
    base_years = [2000, 2001, 2002, 2003]
    ds = cumulative_effect(_stack(values), clim, base_years, PERIOD, min_base_years=5)
    assert (ds["ideal_source"].values == SOURCE_OVERALL).all()
    x = clim.set_index("year").loc[base_years, ["temperature_c", "precipitation_mm"]].to_numpy()
    rows, target = [], []
    for i in range(NY * NX):
        series = values[: len(base_years)].reshape(len(base_years), -1)[:, i]
        for t in np.flatnonzero(np.isfinite(series)):
            dummy = np.zeros(NY * NX)
            dummy[i] = 1.0
            rows.append(np.concatenate([x[t], dummy]))
            target.append(series[t])
    fit = LinearRegression().fit(np.array(rows), np.array(target))
    np.testing.assert_allclose(ds["ideal"].values, fit.coef_[:2] @ _delta(clim), rtol=1e-7)


def test_small_stratum_falls_back_to_all_pixels() -> None:
    clim = _climate()
    values = _linear(clim, _coefs()[0], np.full((NY, NX), 1.2), np.full((NY, NX), 0.02))
    codes = np.full((NY, NX), 1.0)
    codes[0, 0] = 7  # one pixel, 3 base years: 2 within degrees of freedom, too few for 2 slopes
    codes[0, 1] = np.nan  # no forest type
    forest = _stack(values).isel(year=0, drop=True).copy(data=codes)
    ds = cumulative_effect(_stack(values), clim, [2000, 2001, 2002], PERIOD, strata=forest)
    src = ds["ideal_source"].values
    assert src[0, 0] == SOURCE_OVERALL and src[0, 1] == SOURCE_OVERALL
    assert (src.ravel()[2:] == SOURCE_STRATUM).all()
    np.testing.assert_allclose(ds["effect"].values, 0.0, atol=1e-8)


def test_dask_is_lazy_and_equals_numpy() -> None:
    clim, values = _noisy(seed=7)
    codes = np.random.default_rng(8).integers(1, 4, (NY, NX)).astype(float)
    stack = _stack(values)
    forest = stack.isel(year=0, drop=True).copy(data=codes)
    args = (clim, [2000, 2001, 2002, 2003, 2004], PERIOD)
    eager = cumulative_effect(stack, *args, strata=forest)
    with dask.config.set(scheduler=_no_compute):
        lazy = cumulative_effect(stack.chunk({"year": 4, "y": 4, "x": 2}), *args,
                                 strata=forest.chunk({"y": 2}))
    assert all(isinstance(lazy[v].data, da.Array) for v in lazy.data_vars)
    xr.testing.assert_allclose(lazy.compute(), eager)
    assert set(np.unique(eager["ideal_source"].values)) >= {SOURCE_PIXEL, SOURCE_STRATUM}
    only_strata = cumulative_effect(stack, *args, strata=forest.chunk({"y": 3}))
    xr.testing.assert_allclose(only_strata.compute(), eager)


def test_climate_as_dataset_and_year_trend_predictor() -> None:
    clim = _climate()
    growth = 0.8 * (YEARS - 2000)[:, None, None]  # stands still growing: AGC trend
    values = _linear(clim, *_coefs()) + growth
    as_ds = xr.Dataset.from_dataframe(clim.set_index("year"))
    ds = cumulative_effect(_stack(values), as_ds, BASE, PERIOD,
                           predictors=("year", "temperature_c", "precipitation_mm"))
    np.testing.assert_allclose(ds["effect"].values, 0.0, atol=1e-8)
    climate_only = cumulative_effect(_stack(values), clim, BASE, PERIOD)
    assert np.abs(climate_only["effect"].values).max() > 1.0  # growth mistaken for climate


def test_real_global_temperature_series() -> None:
    with shared_path("global_temp", "annual.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["Source"] == "gcag"]
    temp = {int(r["Year"]): float(r["Mean"]) for r in rows}
    years = np.arange(1960, 2001)
    rng = np.random.default_rng(11)
    clim = pd.DataFrame({"year": years,
                         "temperature_c": [9.8 + temp[int(y)] for y in years],
                         "precipitation_mm": 470.0 + rng.normal(0.0, 70.0, years.size)})
    a, b, c = _coefs(seed=12)
    values = _linear(clim, a, b, c) + rng.normal(0.0, 0.5, (years.size, NY, NX))
    base, period = list(range(1960, 1985)), (1988, 2000)
    ds = cumulative_effect(_stack(values, years), clim, base, period)
    x = clim.set_index("year").loc[base, ["temperature_c", "precipitation_mm"]].to_numpy()
    dx = _delta(clim, period)
    for i, j in [(0, 0), (3, 2), (5, 4)]:
        fit = LinearRegression().fit(x, values[: len(base), i, j])
        assert ds["ideal"].values[i, j] == pytest.approx(fit.coef_ @ dx, rel=1e-8)


def test_missing_years_are_named() -> None:
    clim = _climate()
    stack = _stack(_linear(clim, *_coefs()))
    with pytest.raises(InputDataError, match=r"climate table lacks years \[2003, 2020\]"):
        cumulative_effect(stack, clim[~clim["year"].isin([2003, 2020])], BASE, PERIOD)
    with pytest.raises(InputDataError, match=r"base years \[1998, 1999\] not in the AGC stack"):
        cumulative_effect(stack, clim, [1998, 1999, 2000, 2001], PERIOD)
    with pytest.raises(InputDataError, match=r"period years \[2025\] not in"):
        cumulative_effect(stack, clim, BASE, (2012, 2025))
    with pytest.raises(InputDataError, match="start < end"):
        cumulative_effect(stack, clim, BASE, (2020, 2012))
    with pytest.raises(InputDataError, match="lacks precipitation_mm"):
        cumulative_effect(stack, clim.drop(columns="precipitation_mm"), BASE, PERIOD)


def test_bad_inputs_are_refused() -> None:
    clim = _climate()
    stack = _stack(_linear(clim, *_coefs()))
    forest = stack.isel(year=0, drop=True)
    with pytest.raises(GridMismatchError, match="strata .* has shape"):
        cumulative_effect(stack, clim, BASE, PERIOD, strata=forest.isel(y=slice(0, 3)))
    flat = clim.assign(temperature_c=10.0)
    with pytest.raises(InputDataError, match=r"\['temperature_c'\] are constant"):
        cumulative_effect(stack, flat, BASE, PERIOD)
    with pytest.raises(InputDataError, match=r"base years \[2000, 2001\] are fewer than the 3"):
        cumulative_effect(stack, clim, [2000, 2001], PERIOD)
    with pytest.raises(InputDataError, match="min_base_years = 2"):
        cumulative_effect(stack, clim, BASE, PERIOD, min_base_years=2)
    with pytest.warns(UserWarning, match=r"base years \[2013, 2014\] fall after"):
        cumulative_effect(stack, clim, [*BASE, 2013, 2014], PERIOD)
