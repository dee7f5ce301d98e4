"""Phenology metrics from a vegetation-index time series (requirement C3).

:func:`phenology_metrics` turns one phenology year of a vegetation index (monthly scenes, March
to November, irregular dates, NaN where cloudy) into per-pixel metrics that separate the species
groups: the range of the index, the dates of green-up, peak and senescence, the length and
integral of the season, and harmonic-regression coefficients. docs/phenology.md gives the
formulas and their sources.

In short, for each pixel with at least ``min_valid`` valid dates in the season window:

* ``vi_max``, ``vi_min``, ``vi_mean``, ``vi_amplitude``: of the valid observations themselves.
* A harmonic regression of order ``harmonics`` (Jakubauskas et al. 2001; HANTS, Roerink et al.
  2000) is fitted by ordinary least squares to the pixel's own valid dates:
  ``f(t) = c0 + Σ_k a_k cos(2πkt/365.25) + b_k sin(2πkt/365.25)``, ``t`` the day of year.
* That fitted curve, evaluated daily over the season window, gives ``peak_doy`` (its maximum),
  ``greenup_doy`` and ``senescence_doy`` (where it crosses ``min + threshold × amplitude`` of
  itself going up before and down after the peak, linearly interpolated between days: the
  "amplitude fraction" method of TIMESAT, Jönsson & Eklundh 2004, which at ``threshold = 0.5``
  is the NDVI-ratio midpoint of White et al. 1997), ``season_length_days`` and ``vi_integral``
  (trapezoidal integral over the whole window, VI·days).

Everything is vectorised over pixels (masked normal equations, batched solves); on dask input
the result stays lazy (``apply_ufunc`` with time as the core dimension, one chunk along time).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError

FloatArray = npt.NDArray[np.float64]

#: Length of the harmonic period in days.
YEAR_DAYS = 365.25
#: Normal matrices less well conditioned than this give NaN (the dates cannot fix the fit).
MAX_CONDITION = 1e12
#: Pixels handled at once inside a block (bounds the daily-curve memory to ~20 MB).
BATCH_PIXELS = 8192

#: Metrics that do not depend on the harmonic order: description and units.
BASE_METRICS: dict[str, tuple[str, str]] = {
    "vi_max": ("largest valid observation in the season", "VI"),
    "vi_min": ("smallest valid observation in the season", "VI"),
    "vi_mean": ("mean of the valid observations in the season", "VI"),
    "vi_amplitude": ("vi_max - vi_min", "VI"),
    "peak_doy": ("day of year of the maximum of the fitted curve", "day of year"),
    "greenup_doy": ("fitted curve crosses min + threshold x amplitude going up", "day of year"),
    "senescence_doy": ("fitted curve crosses min + threshold x amplitude going down",
                       "day of year"),
    "season_length_days": ("senescence_doy - greenup_doy", "day"),
    "vi_integral": ("trapezoidal integral of the fitted curve over the season window",
                    "VI day"),
    "harm_mean": ("constant term of the harmonic regression", "VI"),
}


def metric_names(harmonics: int = 2) -> tuple[str, ...]:
    """The variables :func:`phenology_metrics` returns (``n_valid`` aside), in order."""
    names = list(BASE_METRICS)
    for k in range(1, harmonics + 1):
        names += [f"harm{k}_amplitude", f"harm{k}_phase_doy"]
    return tuple(names)


def design_matrix(doy: npt.ArrayLike, harmonics: int) -> FloatArray:
    """Harmonic regressors ``[1, cos(ωt), sin(ωt), …, cos(Kωt), sin(Kωt)]``, ω = 2π/365.25."""
    t = np.asarray(doy, dtype=np.float64)
    omega = 2.0 * np.pi / YEAR_DAYS
    columns = [np.ones_like(t)]
    for k in range(1, harmonics + 1):
        columns += [np.cos(k * omega * t), np.sin(k * omega * t)]
    return np.stack(columns, axis=-1)


# ------------------------------------------------------------------------------ the kernel
def _fit(y: FloatArray, valid: npt.NDArray[np.bool_], design: FloatArray,
         usable: npt.NDArray[np.bool_]) -> FloatArray:
    """OLS coefficients per pixel from its own valid dates (NaN where the fit is undetermined)."""
    w = valid.astype(np.float64)
    normal = np.einsum("pt,ti,tj->pij", w, design, design)
    rhs = np.einsum("pt,ti->pi", np.where(valid, y, 0.0), design)
    coef = np.full(rhs.shape, np.nan)
    idx = np.flatnonzero(usable)
    if idx.size:
        with np.errstate(all="ignore"):
            cond = np.linalg.cond(normal[idx])
        idx = idx[np.isfinite(cond) & (cond < MAX_CONDITION)]
    if idx.size:
        coef[idx] = np.linalg.solve(normal[idx], rhs[idx][..., None])[..., 0]
    return coef


def _crossings(curve: FloatArray, grid: FloatArray, level: FloatArray,
               peak: npt.NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """Last upward crossing of ``level`` up to the peak, first downward one after it."""
    lo, hi = curve[:, :-1], curve[:, 1:]
    lev = level[:, None]
    i = np.arange(curve.shape[1] - 1)[None, :]
    up = (lo < lev) & (hi >= lev) & (i < peak[:, None])
    down = (lo >= lev) & (hi < lev) & (i >= peak[:, None])
    rows = np.arange(curve.shape[0])
    last_up = up.shape[1] - 1 - np.argmax(up[:, ::-1], axis=1)
    first_down = np.argmax(down, axis=1)

    def interpolate(j: npt.NDArray[np.intp], found: npt.NDArray[np.bool_]) -> FloatArray:
        f0, f1 = curve[rows, j], curve[rows, j + 1]
        with np.errstate(all="ignore"):
            frac = (level - f0) / (f1 - f0)
        date = grid[j] + frac * (grid[j + 1] - grid[j])
        return np.where(found, date, np.nan)

    return (interpolate(last_up, np.asarray(up.any(axis=1))),
            interpolate(first_down, np.asarray(down.any(axis=1))))


def _metrics_flat(y: FloatArray, doy: FloatArray, grid: FloatArray, harmonics: int,
                  threshold: float, min_valid: int) -> FloatArray:
    """Metrics of ``y`` (pixels × dates) as pixels × :func:`metric_names`."""
    valid = np.isfinite(y)
    n = valid.sum(axis=1)
    usable = n >= max(min_valid, 1)
    out = np.full((y.shape[0], len(metric_names(harmonics))), np.nan)
    with np.errstate(all="ignore"):
        out[:, 0] = np.where(valid, y, -np.inf).max(axis=1)
        out[:, 1] = np.where(valid, y, np.inf).min(axis=1)
        out[:, 2] = np.where(valid, y, 0.0).sum(axis=1) / n
    out[:, 3] = out[:, 0] - out[:, 1]
    out[~usable, :4] = np.nan

    coef = _fit(y, valid, design_matrix(doy, harmonics), usable)
    on_grid = design_matrix(grid, harmonics)
    curve = coef @ on_grid.T
    fitted = np.isfinite(coef[:, 0])
    top, bottom = curve.max(axis=1), curve.min(axis=1)
    flat = ~fitted | (top - bottom <= 1e-9 * (1.0 + np.abs(top)))
    filled = np.where(fitted[:, None], curve, 0.0)
    peak = np.argmax(filled, axis=1)
    rows = np.arange(y.shape[0])
    inner = np.clip(peak, 1, max(grid.size - 2, 1))
    if grid.size >= 3:  # parabola through the top three days
        fm, f0, fp = filled[rows, inner - 1], filled[rows, inner], filled[rows, inner + 1]
        with np.errstate(all="ignore"):
            shift = 0.5 * (fm - fp) / (fm - 2.0 * f0 + fp)
        shift = np.where((peak == inner) & np.isfinite(shift), np.clip(shift, -1.0, 1.0), 0.0)
    else:
        shift = np.zeros(y.shape[0])
    step = grid[1] - grid[0] if grid.size > 1 else 0.0
    out[:, 4] = np.where(flat, np.nan, grid[peak] + shift * step)
    green, senescence = _crossings(filled, grid, bottom + threshold * (top - bottom), peak)
    out[:, 5] = np.where(flat, np.nan, green)
    out[:, 6] = np.where(flat, np.nan, senescence)
    out[:, 7] = out[:, 6] - out[:, 5]
    # the trapezoid rule is linear in the curve, hence in the coefficients
    out[:, 8] = coef @ np.trapezoid(on_grid, grid, axis=0)
    out[:, 9] = coef[:, 0]
    omega = 2.0 * np.pi / YEAR_DAYS
    for k in range(1, harmonics + 1):
        a, b = coef[:, 2 * k - 1], coef[:, 2 * k]
        amplitude = np.hypot(a, b)
        phase = np.mod(np.arctan2(b, a) / (k * omega), YEAR_DAYS / k)
        tiny = amplitude <= 1e-9 * (1.0 + np.abs(coef[:, 0]))
        out[:, 8 + 2 * k] = amplitude
        out[:, 9 + 2 * k] = np.where(tiny, np.nan, phase)
    return out


def _metrics_block(vi: Any, *, doy: FloatArray, grid: FloatArray, harmonics: int,
                   threshold: float, min_valid: int) -> npt.NDArray[np.float32]:
    """``apply_ufunc`` kernel: (..., time) → (..., metric), in batches of pixels."""
    data = np.asarray(vi, dtype=np.float64)
    flat = data.reshape(-1, data.shape[-1])
    out = np.empty((flat.shape[0], len(metric_names(harmonics))), dtype=np.float32)
    for start in range(0, flat.shape[0], BATCH_PIXELS):
        stop = start + BATCH_PIXELS
        out[start:stop] = _metrics_flat(flat[start:stop], doy, grid, harmonics, threshold,
                                        min_valid)
    return out.reshape(*data.shape[:-1], out.shape[-1])


# --------------------------------------------------------------------------- public entry
def _day_of_year(vi: xr.DataArray) -> FloatArray:
    """Day of year (1 January = 1) of every date, after checking the series is one year."""
    what = f"vegetation-index series {vi.name!r}" if vi.name is not None else "the VI series"
    if not isinstance(vi, xr.DataArray) or "time" not in vi.dims or "time" not in vi.coords:
        raise InputDataError(
            f"{what} has no 'time' dimension with coordinates (dims {getattr(vi, 'dims', None)})",
            fix="stack the scenes along a 'time' dimension with their acquisition dates",
        )
    if not np.issubdtype(vi["time"].dtype, np.datetime64):
        raise InputDataError(
            f"{what} has time coordinates of dtype {vi['time'].dtype}, not dates",
            fix="use numpy datetime64 acquisition dates as the time coordinate",
        )
    dates = pd.DatetimeIndex(vi["time"].values)
    if dates.hasnans:
        raise InputDataError(f"{what} has a missing (NaT) date", fix="drop that scene")
    years = sorted(set(dates.year))
    if len(years) > 1:
        raise InputDataError(
            f"{what} spans several years {years}; phenology metrics need one year",
            fix="pass one phenology year, e.g. vi.sel(time=str(year))",
        )
    return np.asarray(dates.day_of_year, dtype=np.float64)


def _check_season(season: tuple[float, float] | None, doy: FloatArray) -> tuple[float, float]:
    if season is None:
        return float(doy.min()), float(doy.max())
    if len(season) != 2 or not 1 <= season[0] < season[1] <= 366:
        raise InputDataError(
            f"season {season!r} is not (first day, last day) with 1 <= first < last <= 366",
            fix="give the season as days of year, e.g. (60, 334) for March–November",
        )
    return float(season[0]), float(season[1])


def phenology_metrics(vi: xr.DataArray, *, season: tuple[float, float] | None = None,
                      harmonics: int = 2, threshold: float = 0.5,
                      min_valid: int | None = None) -> xr.Dataset:
    """Per-pixel phenology metrics of one year of a vegetation index.

    Parameters
    ----------
    vi
        Vegetation index with a ``time`` dimension (numpy datetime64 dates, irregular, all in
        one calendar year) and any other dims (normally ``("time", "y", "x")``); NaN where
        cloudy. Numpy- or dask-backed; dask input stays lazy (rechunked to one time chunk).
    season
        ``(first, last)`` day of year of the season window. Only dates inside it are used, and
        the fitted curve is evaluated daily from ``first`` to ``last``. ``None``: from the first
        to the last date of the series (the same window for every pixel).
    harmonics
        Order ``K`` of the harmonic regression (1 to 4).
    threshold
        Amplitude fraction in (0, 1) of the green-up and senescence crossings; 0.5 is the
        midpoint of White et al. (1997).
    min_valid
        Fewest valid dates a pixel needs; with fewer, all its metrics are NaN. Default
        ``2 * harmonics + 2``: one more than the coefficients of the fit.

    Returns
    -------
    xarray.Dataset
        float32 variables :func:`metric_names` (``harm{k}_amplitude`` and ``harm{k}_phase_doy``
        for k = 1..K) and ``n_valid`` (uint16, valid dates in the season), on ``vi``'s grid
        without ``time``. Dates are NaN where the fitted curve is flat or never crosses the
        level on the wanted side of its peak; ``harm{k}_phase_doy`` is the first day of year
        at which harmonic ``k`` peaks, in [0, 365.25 / k).

    Raises
    ------
    InputDataError
        If ``vi`` has no datetime ``time`` dimension, spans several years, or a parameter is
        out of range.

    """
    doy = _day_of_year(vi)
    if isinstance(harmonics, bool) or not isinstance(harmonics, int) or not 1 <= harmonics <= 4:
        raise InputDataError(f"harmonics must be an integer 1–4, got {harmonics!r}",
                             fix="use 2 (annual and semi-annual terms)")
    if not 0.0 < threshold < 1.0:
        raise InputDataError(f"threshold must lie in (0, 1), got {threshold!r}",
                             fix="use 0.5 (midpoint) or e.g. 0.2 (TIMESAT's common start level)")
    n_coef = 2 * harmonics + 1
    needed = n_coef + 1 if min_valid is None else int(min_valid)
    if needed < n_coef:
        raise InputDataError(
            f"min_valid = {min_valid} is below the {n_coef} coefficients of a order-{harmonics} "
            "harmonic fit", fix=f"use at least {n_coef}")
    first, last = _check_season(season, doy)
    inside = (doy >= first) & (doy <= last)
    if not inside.any():
        raise InputDataError(f"no date of the VI series lies in the season {first:g}–{last:g}",
                             fix="widen the season or check the dates")
    series = vi.isel(time=np.flatnonzero(inside))
    order = np.argsort(doy[inside], kind="stable")
    series = series.isel(time=order)
    if series.chunks:
        series = series.chunk({"time": -1})
    grid = np.linspace(first, last, int(np.ceil(last - first)) + 1)
    names = metric_names(harmonics)
    stacked = xr.apply_ufunc(
        _metrics_block, series, input_core_dims=[["time"]], output_core_dims=[["metric"]],
        dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {"metric": len(names)}},
        kwargs={"doy": doy[inside][order], "grid": grid, "harmonics": harmonics,
                "threshold": float(threshold), "min_valid": needed},
    )
    method = (f"harmonic OLS order {harmonics}, season {first:g}-{last:g}, amplitude fraction "
              f"{threshold:g}, min_valid {needed}")
    out = xr.Dataset(attrs={"method": method})
    for i, name in enumerate(names):
        da = stacked.isel(metric=i, drop=True)
        if name in BASE_METRICS:
            description, units = BASE_METRICS[name]
        else:
            k = name[4:].split("_")[0]
            description = (f"amplitude of harmonic {k}" if name.endswith("amplitude")
                           else f"first day of year at which harmonic {k} peaks")
            units = "VI" if name.endswith("amplitude") else "day of year"
        out[name] = da.assign_attrs(long_name=description, units=units)
    out["n_valid"] = series.notnull().sum("time").astype(np.uint16).assign_attrs(
        long_name="valid dates in the season", units="1")
    return out
