"""Phenology metrics (requirement C3): known answers, a per-pixel least-squares oracle, dask."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from scipy import integrate, optimize

from minecarbon.classify.phenology import YEAR_DAYS, metric_names, phenology_metrics
from minecarbon.errors import InputDataError

OMEGA = 2 * np.pi / YEAR_DAYS
# one Landsat-like scene a month, March–November 2021, irregular days
DATES = pd.to_datetime(["2021-03-15", "2021-04-09", "2021-05-20", "2021-06-13", "2021-07-18",
                        "2021-08-15", "2021-09-07", "2021-10-20", "2021-11-14"])
DOY = np.asarray(DATES.day_of_year, dtype=float)


def series(values: np.ndarray, dates: pd.DatetimeIndex = DATES) -> xr.DataArray:
    """(time, y, x) DataArray from values of shape (time, y, x) or (time,) (one pixel)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None, None]
    ny, nx = values.shape[1:]
    return xr.DataArray(values, dims=("time", "y", "x"),
                        coords={"time": dates.values, "y": 4_100_000.0 - 30 * np.arange(ny),
                                "x": 500_000.0 + 30 * np.arange(nx)}, name="ndvi")


def harmonic(t: np.ndarray, c0: float, amps: list[float], phases: list[float]) -> np.ndarray:
    """c0 + Σ A_k cos(kω(t − φ_k)): harmonic k peaks at day φ_k."""
    out = np.full_like(np.asarray(t, dtype=float), c0)
    for k, (a, p) in enumerate(zip(amps, phases, strict=True), start=1):
        out = out + a * np.cos(k * OMEGA * (np.asarray(t) - p))
    return out


def double_logistic(t: np.ndarray, sos: float, eos: float, rate: float, base: float = 0.2,
                    top: float = 0.8) -> np.ndarray:
    """Double logistic of Zhang et al. (2003, RSE 84:471-475) / Beck et al. (2006, RSE 100:321).

    Each half reaches half its amplitude at its inflection point ``sos`` / ``eos``.
    """
    t = np.asarray(t, dtype=float)
    return base + (top - base) * (1 / (1 + np.exp(-rate * (t - sos)))
                                  - 1 / (1 + np.exp(-rate * (t - eos))))


def value(ds: xr.Dataset, name: str, y: int = 0, x: int = 0) -> float:
    return float(ds[name].values[y, x])


# ------------------------------------------------------------------------- known answers
def test_pure_cosine_recovers_coefficients_exactly() -> None:
    """Trigonometric identity: OLS on 9 dates recovers a 2-harmonic curve exactly."""
    ds = phenology_metrics(series(harmonic(DOY, 0.5, [0.2, 0.05], [200.0, 30.0])))
    assert value(ds, "harm_mean") == pytest.approx(0.5, abs=1e-6)
    assert value(ds, "harm1_amplitude") == pytest.approx(0.2, abs=1e-6)
    assert value(ds, "harm1_phase_doy") == pytest.approx(200.0, abs=1e-3)
    assert value(ds, "harm2_amplitude") == pytest.approx(0.05, abs=1e-6)
    assert value(ds, "harm2_phase_doy") == pytest.approx(30.0, abs=1e-3)


def test_phase_of_second_harmonic_is_its_first_peak() -> None:
    """A second harmonic peaking at day 250 also peaks at 250 − 365.25/2 = 67.375."""
    ds = phenology_metrics(series(harmonic(DOY, 0.4, [0.1, 0.08], [190.0, 250.0])))
    assert value(ds, "harm2_phase_doy") == pytest.approx(250.0 - YEAR_DAYS / 2, abs=1e-3)


def test_peak_and_integral_of_fitted_curve_match_scipy() -> None:
    """Peak by scipy's bounded minimiser and integral by quad on the exact curve (oracles)."""
    first, last = 60.0, 334.0
    ds = phenology_metrics(series(harmonic(DOY, 0.5, [0.2, 0.05], [200.0, 30.0])),
                           season=(first, last))

    def curve(t: float) -> float:
        return float(harmonic(np.array([t]), 0.5, [0.2, 0.05], [200.0, 30.0])[0])

    peak = optimize.minimize_scalar(lambda t: -curve(t), bounds=(first, last), method="bounded",
                                    options={"xatol": 1e-6})
    assert value(ds, "peak_doy") == pytest.approx(peak.x, abs=0.05)
    area, _ = integrate.quad(curve, first, last)
    assert value(ds, "vi_integral") == pytest.approx(area, rel=1e-4)  # trapezoid, daily steps


def test_green_up_and_senescence_of_a_double_logistic_from_monthly_samples() -> None:
    """Midpoint dates (White et al. 1997) of a logistic curve with inflections at 120 and 280.

    Nine monthly samples cannot resolve a sigmoid exactly: on these dates the 2-harmonic fit is
    off by 0.3 and 2.4 days (up to ~8 on other monthly dates; docs/phenology.md), the
    3-harmonic fit by less than 2. The test allows 6 and 3 days.
    """
    vi = series(double_logistic(DOY, 120.0, 280.0, 0.08))
    ds = phenology_metrics(vi)
    assert value(ds, "greenup_doy") == pytest.approx(120.0, abs=6.0)
    assert value(ds, "senescence_doy") == pytest.approx(280.0, abs=6.0)
    assert value(ds, "season_length_days") == pytest.approx(
        value(ds, "senescence_doy") - value(ds, "greenup_doy"), abs=1e-3)
    assert value(ds, "greenup_doy") < value(ds, "peak_doy") < value(ds, "senescence_doy")
    three = phenology_metrics(vi, harmonics=3, min_valid=8)
    assert value(three, "greenup_doy") == pytest.approx(120.0, abs=3.0)
    assert value(three, "senescence_doy") == pytest.approx(280.0, abs=3.0)


def test_amplitude_fraction_follows_the_logistic_inverse() -> None:
    """A logistic reaches fraction q of its rise at sos + ln(q / (1 − q)) / rate.

    Sampled densely (every 5 days) so that the fit, not the sampling, is tested.
    """
    dates = pd.date_range("2021-03-01", "2021-11-30", freq="5D")
    doy = np.asarray(dates.day_of_year, dtype=float)
    vi = series(double_logistic(doy, 130.0, 270.0, 0.06), dates)
    for q in (0.3, 0.5, 0.7):
        ds = phenology_metrics(vi, threshold=q, harmonics=4)
        shift = np.log(q / (1 - q)) / 0.06
        assert value(ds, "greenup_doy") == pytest.approx(130.0 + shift, abs=2.0)
        assert value(ds, "senescence_doy") == pytest.approx(270.0 - shift, abs=2.0)


def test_observation_statistics() -> None:
    y = np.array([0.2, 0.3, np.nan, 0.7, 0.8, 0.75, 0.6, 0.4, 0.25])
    ds = phenology_metrics(series(y), min_valid=6)
    ok = y[np.isfinite(y)]
    assert value(ds, "vi_max") == pytest.approx(ok.max())
    assert value(ds, "vi_min") == pytest.approx(ok.min())
    assert value(ds, "vi_mean") == pytest.approx(ok.mean())
    assert value(ds, "vi_amplitude") == pytest.approx(ok.max() - ok.min())
    assert int(ds["n_valid"].values[0, 0]) == 8


def test_constant_series_has_zero_amplitude_and_no_dates() -> None:
    ds = phenology_metrics(series(np.full(DOY.size, 0.42)), season=(60, 334))
    assert value(ds, "vi_amplitude") == 0.0
    assert value(ds, "harm1_amplitude") == pytest.approx(0.0, abs=1e-9)
    assert value(ds, "harm_mean") == pytest.approx(0.42, abs=1e-6)
    for name in ("peak_doy", "greenup_doy", "senescence_doy", "season_length_days",
                 "harm1_phase_doy", "harm2_phase_doy"):
        assert np.isnan(value(ds, name)), name
    assert value(ds, "vi_integral") == pytest.approx(0.42 * (334 - 60), rel=1e-5)


# --------------------------------------------------------------- oracle, NaN, dask, dates
def lstsq_oracle(y: np.ndarray, doy: np.ndarray, harmonics: int) -> np.ndarray:
    """numpy.linalg.lstsq on one pixel's valid dates → [c0, A1, φ1, A2, φ2, …]."""
    ok = np.isfinite(y)
    cols = [np.ones(ok.sum())]
    for k in range(1, harmonics + 1):
        cols += [np.cos(k * OMEGA * doy[ok]), np.sin(k * OMEGA * doy[ok])]
    coef, *_ = np.linalg.lstsq(np.column_stack(cols), y[ok], rcond=None)
    out = [coef[0]]
    for k in range(1, harmonics + 1):
        a, b = coef[2 * k - 1], coef[2 * k]
        out += [np.hypot(a, b), np.mod(np.arctan2(b, a) / (k * OMEGA), YEAR_DAYS / k)]
    return np.array(out)


@pytest.mark.parametrize("harmonics", [1, 2, 3])
def test_harmonic_fit_matches_lstsq_per_pixel(harmonics: int) -> None:
    rng = np.random.default_rng(7)
    t, ny, nx = DOY.size, 6, 7
    base = double_logistic(DOY, 125, 275, 0.07)[:, None, None]
    values = base + rng.normal(0, 0.05, (t, ny, nx))
    values[rng.random((t, ny, nx)) < 0.2] = np.nan  # clouds
    ds = phenology_metrics(series(values), harmonics=harmonics, min_valid=2 * harmonics + 1)
    names = ["harm_mean"] + [f"harm{k}_{p}" for k in range(1, harmonics + 1)
                             for p in ("amplitude", "phase_doy")]
    got = np.stack([ds[n].values for n in names], axis=-1)
    checked = 0
    for i in range(ny):
        for j in range(nx):
            if np.isfinite(values[:, i, j]).sum() < 2 * harmonics + 1:
                assert np.isnan(got[i, j]).all()
                continue
            np.testing.assert_allclose(got[i, j], lstsq_oracle(values[:, i, j], DOY, harmonics),
                                       rtol=2e-5, atol=2e-4)
            checked += 1
    assert checked > 20


def test_pixels_with_too_few_dates_are_nan() -> None:
    y = harmonic(DOY, 0.5, [0.2, 0.05], [200.0, 30.0])
    values = np.stack([y, y], axis=1)[:, :, None]  # two pixels
    values[:4, 1, 0] = np.nan  # 5 valid dates left
    ds = phenology_metrics(series(values), min_valid=6)
    for name in metric_names(2):
        assert np.isnan(float(ds[name].values[1, 0])), name
        assert not np.isnan(float(ds[name].values[0, 0])) or name.endswith("doy"), name
    assert ds["n_valid"].values[:, 0].tolist() == [9, 5]
    relaxed = phenology_metrics(series(values), min_valid=5)
    assert float(relaxed["harm1_amplitude"].values[1, 0]) == pytest.approx(0.2, abs=1e-5)


def test_dask_equals_numpy_and_stays_lazy() -> None:
    rng = np.random.default_rng(3)
    values = double_logistic(DOY, 120, 280, 0.08)[:, None, None] + rng.normal(0, 0.03,
                                                                             (DOY.size, 9, 11))
    values[rng.random(values.shape) < 0.15] = np.nan
    vi = series(values).rio.write_crs("EPSG:4546")
    eager = phenology_metrics(vi)
    lazy = phenology_metrics(vi.chunk({"time": 2, "y": 4, "x": 3}))
    for name in lazy.data_vars:
        assert isinstance(lazy[name].data, dsa.Array), name
    xr.testing.assert_allclose(eager, lazy.compute())
    assert set(eager.data_vars) == {*metric_names(2), "n_valid"}
    assert eager["peak_doy"].dims == ("y", "x")
    np.testing.assert_array_equal(eager["x"].values, vi["x"].values)
    assert lazy["peak_doy"].rio.crs == "EPSG:4546"


def test_date_order_does_not_matter() -> None:
    rng = np.random.default_rng(11)
    values = double_logistic(DOY, 120, 280, 0.08)[:, None, None] + rng.normal(0, 0.03,
                                                                             (DOY.size, 3, 3))
    order = rng.permutation(DOY.size)
    a = phenology_metrics(series(values))
    b = phenology_metrics(series(values[order], DATES[order]))
    xr.testing.assert_allclose(a, b)


def test_dates_outside_the_season_are_ignored() -> None:
    y = double_logistic(DOY, 120, 280, 0.08)
    winter = pd.to_datetime(["2021-01-20", "2021-12-20"])
    dates = DATES.append(winter)
    with_winter = phenology_metrics(series(np.r_[y, 5.0, 5.0], dates), season=(60, 334))
    without = phenology_metrics(series(y), season=(60, 334))
    xr.testing.assert_allclose(with_winter, without)


def test_lower_threshold_gives_earlier_green_up_and_later_senescence() -> None:
    vi = series(double_logistic(DOY, 120, 280, 0.08))
    half = phenology_metrics(vi, threshold=0.5)
    fifth = phenology_metrics(vi, threshold=0.2)
    assert value(fifth, "greenup_doy") < value(half, "greenup_doy")
    assert value(fifth, "senescence_doy") > value(half, "senescence_doy")


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"harmonics": 0}, "harmonics"),
    ({"harmonics": 5}, "harmonics"),
    ({"threshold": 1.0}, "threshold"),
    ({"min_valid": 3}, "min_valid"),
    ({"season": (200, 100)}, "season"),
    ({"season": (1, 40)}, "no date"),
])
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputDataError, match=match):
        phenology_metrics(series(double_logistic(DOY, 120, 280, 0.08)), **kwargs)  # type: ignore[arg-type]


def test_bad_series() -> None:
    vi = series(double_logistic(DOY, 120, 280, 0.08))
    with pytest.raises(InputDataError, match="several years"):
        phenology_metrics(vi.assign_coords(time=DATES.values.copy().astype("datetime64[ns]")
                                           + np.r_[np.zeros(8), 400].astype("timedelta64[D]")))
    with pytest.raises(InputDataError, match="'ndvi'.*not dates"):
        phenology_metrics(vi.assign_coords(time=DOY))
    with pytest.raises(InputDataError, match="time"):
        phenology_metrics(vi.isel(time=0))
