"""Cumulative effect of mining on AGC: actual minus ideal accumulation over a period (A3).

The standard (explanatory notes §5) defines the cumulative effect as the difference between the
actual and the ideal carbon accumulation over a period. Actual comes from the annual AGC maps;
ideal from a multiple linear regression of AGC on climate (temperature, precipitation) fitted on
the years before mining, "the accumulation natural factors alone would give". For a period
(s, e) and a pixel with AGC C and climate predictors x (a k-vector per year):

* actual  A = C(e) − C(s)
* model   C(t) = α + βᵀ x(t) + ε, fitted by ordinary least squares on the base years
* ideal   I = f(x(e)) − f(x(s)) = βᵀ (x(e) − x(s))   (the intercept α cancels)
* effect  E = A − I   (negative: less carbon accumulated than climate alone would give)

β is fitted per pixel where the pixel has at least ``min_base_years`` valid base years (default
k + 2); elsewhere it is the pooled fixed-effects (within) estimate of the pixel's stratum
(forest type), C(i, t) = αᵢ + βᵀ x(t) + ε, i.e. one climate response shared by the stratum with
an intercept per pixel; where the stratum cannot be fitted, the pooled estimate of all pixels.
Both solve the within normal equations Sxx β = Sxy, with Sxx = Σₜ (x − x̄ᵢ)(x − x̄ᵢ)ᵀ and
Sxy = Σₜ (x − x̄ᵢ)(C − C̄ᵢ) over a pixel's valid base years (Frisch–Waugh–Lovell: equal to OLS
with an intercept; the pooled sums of these equal OLS with one dummy per pixel). The design is
standardised by the base-period mean and standard deviation of each predictor.

On dask input every step is lazy: per-block sums → pooled sums per stratum (a reduction to a
257 × (k² + k + 1) table) → per-block solve, with the year axis in one chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.assessment.change import (
    UNIT_AGC,
    _fill_lost,
    assert_same_grid,
    check_year_stack,
    require_years,
)
from minecarbon.errors import InputDataError, warn

#: Climate predictors of the standard's model (columns of the climate table).
PREDICTORS: tuple[str, ...] = ("temperature_c", "precipitation_mm")
#: Strata codes 0–255 get their own pool; slot 256 pools every pixel.
_N_CODES = 256
_OVERALL = _N_CODES
#: Largest accepted condition number of a (standardised) within normal matrix.
_MAX_COND = 1e8
#: Codes of ``ideal_source``.
SOURCE_NONE, SOURCE_PIXEL, SOURCE_STRATUM, SOURCE_OVERALL = 0, 1, 2, 3


def climate_table(
    climate: pd.DataFrame | xr.Dataset, years: Sequence[int], predictors: Sequence[str]
) -> np.ndarray:
    """The ``predictors`` of ``climate`` in the given years, shape (len(years), k).

    Raises
    ------
    InputDataError
        When a predictor is absent, years repeat, or a needed year is missing or NaN.

    """
    if isinstance(climate, xr.Dataset):
        if "year" not in climate.dims:
            raise InputDataError(
                f"the climate dataset has dims {tuple(climate.dims)}, without 'year'",
                fix="give the climate variables along a 'year' dimension",
            )
        absent = [p for p in predictors if p != "year" and p not in climate.data_vars]
        wanted = [p for p in predictors if p != "year" and p not in absent]
        frame = climate[wanted].to_dataframe().reset_index()
    else:
        frame = climate
        absent = [p for p in (*predictors, "year") if p not in frame.columns]
    if absent:
        raise InputDataError(
            f"the climate table lacks {', '.join(absent)}",
            fix="give a table with columns year, temperature_c, precipitation_mm",
        )
    frame = frame.assign(year=frame["year"].astype(int))
    if frame["year"].duplicated().any():
        dup = sorted(set(frame.loc[frame["year"].duplicated(), "year"].tolist()))
        raise InputDataError(f"the climate table repeats years {dup}", fix="one row per year")
    indexed = frame.set_index("year", drop=False)
    missing = sorted({int(y) for y in years if int(y) not in indexed.index})
    if missing:
        raise InputDataError(
            f"the climate table lacks years {missing}",
            fix="add the climate of every base year and of the period's first and last year",
        )
    rows = [int(y) for y in years]
    values: np.ndarray = indexed.loc[rows, list(predictors)].to_numpy(dtype=float)
    bad = sorted({rows[int(i)] for i in np.flatnonzero(~np.isfinite(values).all(axis=1))})
    if bad:
        raise InputDataError(f"the climate table has NaN values in years {bad}",
                             fix="fill the gaps in the climate series")
    return values


def _pixel_stats(base: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Within normal equations of every pixel: (k² + k + 1, y, x) = Sxx, Sxy, n.

    ``base`` is (t, y, x) AGC of the base years, ``z`` the standardised design (t, k).
    """
    t, ny, nx = base.shape
    k = z.shape[1]
    y = base.reshape(t, -1).astype(np.float64)
    w = np.isfinite(y)
    n = w.sum(axis=0).astype(np.float64)
    wf = w.astype(np.float64)
    safe_n = np.maximum(n, 1.0)
    y_mean = np.where(w, y, 0.0).sum(axis=0) / safe_n
    y_dev = np.where(w, y - y_mean, 0.0)
    # (k, p) layouts: a small matrix times a wide one is fast, the transpose is not
    sz = z.T @ wf
    zz = (z[:, :, None] * z[:, None, :]).reshape(t, k * k)
    szz = zz.T @ wf - (sz[:, None, :] * sz[None, :, :]).reshape(k * k, -1) / safe_n
    szy = z.T @ y_dev
    out = np.concatenate([szz, szy, n[None, :]], axis=0)
    return out.reshape(k * k + k + 1, ny, nx)


def _codes(strata: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """Pool slot of every pixel: the stratum code 0–255, or −1 for none."""
    if strata is None:
        return np.full(shape, -1, dtype=np.int64)
    s = np.asarray(strata, dtype=np.float64)
    ok = np.isfinite(s) & (s >= 0) & (s < _N_CODES) & (s == np.round(s))
    return np.where(ok, s, -1).astype(np.int64)


def _pool_sums(stats: np.ndarray, strata: np.ndarray | None) -> np.ndarray:
    """Sum of the within equations per stratum and overall: (257, k² + k + 1).

    The last column holds the within degrees of freedom Σ (nᵢ − 1) instead of Σ nᵢ.
    """
    m = stats.shape[0]
    flat = stats.reshape(m, -1).T.copy()
    flat[:, -1] = np.maximum(flat[:, -1] - 1.0, 0.0)
    codes = _codes(strata, stats.shape[1:]).ravel()
    out = np.zeros((_N_CODES + 1, m))
    has = codes >= 0
    np.add.at(out, codes[has], flat[has])
    out[_OVERALL] = flat.sum(axis=0)
    return out


def _solve(sxx: np.ndarray, sxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched β = Sxx⁻¹ Sxy where Sxx is well conditioned; returns (β, ok)."""
    k = sxy.shape[-1]
    beta = np.full(sxy.shape, np.nan)
    if sxx.shape[0] == 0:
        return beta, np.zeros(0, dtype=bool)
    eig = np.linalg.eigvalsh(sxx)
    top = eig[:, -1]
    ok: np.ndarray = np.asarray((top > 0) & (eig[:, 0] > top / _MAX_COND))
    if ok.any():
        beta[ok] = np.linalg.solve(sxx[ok], sxy[ok][..., None])[..., 0]
    return beta.reshape(-1, k), ok


def _pooled_slopes(sums: np.ndarray, k: int) -> np.ndarray:
    """β of each pool (257, k); NaN where the pool has too few degrees of freedom."""
    beta, ok = _solve(sums[:, : k * k].reshape(-1, k, k), sums[:, k * k : k * k + k])
    dof = sums[:, -1] - k
    beta[~ok | (dof < 1)] = np.nan
    return beta


def _apply(
    stats: np.ndarray,
    strata: np.ndarray | None,
    pooled: np.ndarray,
    dz: np.ndarray,
    min_years: int,
) -> np.ndarray:
    """Ideal accumulation and model source of every pixel: (2, y, x) float64."""
    m, ny, nx = stats.shape
    k = dz.shape[0]
    flat = stats.reshape(m, -1).T
    beta, ok = _solve(flat[:, : k * k].reshape(-1, k, k), flat[:, k * k : k * k + k])
    own: np.ndarray = np.asarray(ok & (flat[:, -1] >= min_years))
    codes = _codes(strata, (ny, nx)).ravel()
    stratum_beta = np.where((codes >= 0)[:, None], pooled[np.maximum(codes, 0)], np.nan)
    has_stratum: np.ndarray = np.asarray(np.isfinite(stratum_beta).all(axis=1))
    has_overall = bool(np.isfinite(pooled[_OVERALL]).all())
    source = np.where(
        own,
        SOURCE_PIXEL,
        np.where(has_stratum, SOURCE_STRATUM, SOURCE_OVERALL if has_overall else SOURCE_NONE),
    )
    chosen = np.where(own[:, None], beta, np.where(has_stratum[:, None], stratum_beta,
                                                    pooled[_OVERALL][None, :]))
    ideal = chosen @ dz
    ideal[source == SOURCE_NONE] = np.nan
    return np.stack([ideal, source.astype(np.float64)]).reshape(2, ny, nx)


def _check_inputs(
    stack: xr.DataArray,
    base_years: Sequence[int],
    period: tuple[int, int],
    predictors: Sequence[str],
    min_base_years: int | None,
) -> tuple[list[int], int, int, int]:
    base = sorted({int(y) for y in base_years})
    if len(period) != 2 or int(period[0]) >= int(period[1]):
        raise InputDataError(
            f"period {tuple(period)} is not (start_year, end_year) with start < end",
            fix="give the period as (start_year, end_year), e.g. (2015, 2024)",
        )
    start, end = int(period[0]), int(period[1])
    k = len(predictors)
    if k == 0:
        raise InputDataError("no climate predictors given",
                             fix="use temperature_c, precipitation_mm")
    min_years = k + 2 if min_base_years is None else int(min_base_years)
    if min_years < k + 1:
        raise InputDataError(
            f"min_base_years = {min_years} is fewer than the {k + 1} coefficients of the model",
            fix=f"use at least {k + 1} (default {k + 2})",
        )
    if len(base) < k + 1:
        raise InputDataError(
            f"base years {base} are fewer than the {k + 1} coefficients of the climate model "
            "(the climate is the same for every pixel, so pooling pixels does not help)",
            fix="give more years before mining as base years (assessment.base_years)",
        )
    require_years(stack, base, "base years")
    require_years(stack, [start, end], "period years")
    inside = [y for y in base if y > start]
    if inside:
        warn(f"base years {inside} fall after the start of the period {start}–{end}; the base "
             "period should precede mining", UserWarning, stacklevel=3)
    return base, start, end, min_years


def cumulative_effect(
    stack: xr.DataArray,
    climate: pd.DataFrame | xr.Dataset,
    base_years: Sequence[int],
    period: tuple[int, int],
    *,
    strata: xr.DataArray | None = None,
    min_base_years: int | None = None,
    predictors: Sequence[str] = PREDICTORS,
    nan_as_zero: bool = False,
) -> xr.Dataset:
    """Actual and ideal AGC accumulation over ``period`` and their difference, the effect (A3).

    Parameters
    ----------
    stack
        Annual AGC maps (t C/ha), dims (year, y, x), numpy- or dask-backed; NaN = no forest or
        no data (NaN base years are left out of a pixel's fit).
    climate
        Annual climate: a DataFrame with columns ``year`` and the predictors, or a Dataset with
        the predictors along ``year``. Needs every base year and the period's two years.
    base_years
        Years before mining on which the AGC–climate regression is fitted.
    period
        (start_year, end_year) of the assessment.
    strata
        Optional forest-type codes (y, x), integers 0–255 (NaN or other values: none), on the
        stack's grid; pixels with too few base years take their stratum's pooled fit.
    min_base_years
        Valid base years a pixel needs for its own fit; default number of predictors + 2.
    predictors
        Climate columns of the model; ``year`` may be added to absorb a linear growth trend.
    nan_as_zero
        Read NaN at one end of the period as "no forest" (0 t C/ha) where the other end has
        AGC, so that forest cleared by mining counts as a loss of all its carbon.

    Returns
    -------
    xarray.Dataset
        (y, x) float64 ``actual``, ``ideal``, ``effect`` (t C/ha; NaN where actual is NaN) and
        uint8 ``ideal_source`` (0 no fit, 1 own fit, 2 stratum pool, 3 pool of all pixels), with
        the stack's coords; lazy when the stack or the strata are dask-backed.

    Raises
    ------
    InputDataError
        When years are missing from the stack or the climate, or a predictor is constant.
    GridMismatchError
        When ``strata`` is not on the stack's grid.

    """
    stack = check_year_stack(stack)
    base, start, end, min_years = _check_inputs(
        stack, base_years, period, predictors, min_base_years
    )
    x_all = climate_table(climate, [*base, start, end], predictors)
    x_base, x_period = x_all[: len(base)], x_all[len(base) :]
    mu, sd = x_base.mean(axis=0), x_base.std(axis=0)
    flat = [p for p, s in zip(predictors, sd, strict=True) if not s > 0]
    if flat:
        raise InputDataError(
            f"climate predictors {flat} are constant over the base years {base}",
            fix="drop them from predictors or widen the base period",
        )
    z = (x_base - mu) / sd
    dz = (x_period[1] - x_period[0]) / sd
    first = stack.sel(year=start, drop=True)
    last = stack.sel(year=end, drop=True)
    if nan_as_zero:
        first, last = _fill_lost(first, last)
    actual = (last - first).astype(np.float64)
    codes: Any = None
    if strata is not None:
        if set(strata.dims) != {"y", "x"}:
            raise InputDataError(f"strata have dims {tuple(strata.dims)}, expected (y, x)",
                                 fix="give one forest-type map (y, x)")
        strata = strata.transpose("y", "x")
        assert_same_grid(stack, strata, "the strata (forest-type map)")
        codes = strata.data
    base_data = stack.sel(year=base).data
    lazy = isinstance(base_data, da.Array) or isinstance(codes, da.Array)
    k = len(predictors)
    if not lazy:
        stats = _pixel_stats(np.asarray(base_data), z)
        pooled = _pooled_slopes(_pool_sums(stats, codes), k)
        out: Any = _apply(stats, codes, pooled, dz, min_years)
    else:
        out = _lazy_apply(base_data, codes, z, dz, min_years)
    coords = first.coords
    ideal = xr.DataArray(out[0], dims=("y", "x"), coords=coords).where(actual.notnull())
    source = xr.DataArray(out[1], dims=("y", "x"), coords=coords).astype(np.uint8)
    span = f"{start}–{end}"
    ds = xr.Dataset({
        "actual": actual.assign_attrs(units=UNIT_AGC, long_name=f"actual accumulation {span}"),
        "ideal": ideal.assign_attrs(units=UNIT_AGC, long_name=f"ideal accumulation {span}"),
        "effect": (actual - ideal).assign_attrs(units=UNIT_AGC,
                                                long_name=f"cumulative effect {span}"),
        "ideal_source": source.assign_attrs(
            long_name="ideal model: 0 none, 1 pixel, 2 stratum pool, 3 all pixels"),
    })
    ds.attrs = {"period": [start, end], "base_years": base, "predictors": list(predictors),
                "min_base_years": min_years}
    return ds


def _lazy_apply(
    base_data: Any, codes: Any, z: np.ndarray, dz: np.ndarray, min_years: int
) -> da.Array:
    """The (2, y, x) ideal/source array built lazily, block by block."""
    k = z.shape[1]
    m = k * k + k + 1
    if isinstance(base_data, da.Array):
        base_arr = base_data.rechunk({0: -1})  # type: ignore[no-untyped-call, unused-ignore]
    else:
        base_arr = da.from_array(  # type: ignore[no-untyped-call, unused-ignore]
            np.asarray(base_data), chunks=(-1, *codes.chunks)
        )
    yx_chunks = base_arr.chunks[1:]
    stats = base_arr.map_blocks(
        _pixel_stats, z, chunks=((m,), *yx_chunks), dtype=np.float64,
        meta=np.empty((0, 0, 0), dtype=np.float64),
    )
    code_args: list[Any] = []
    if codes is not None:
        code_arr = (
            codes.rechunk(yx_chunks)  # type: ignore[no-untyped-call, unused-ignore]
            if isinstance(codes, da.Array)
            else da.from_array(np.asarray(codes), chunks=yx_chunks)  # type: ignore[no-untyped-call, unused-ignore]
        )
        code_args = [code_arr, "yx"]

    def block_sums(s: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
        return _pool_sums(s, c)[None, None]

    partial = da.blockwise(  # type: ignore[no-untyped-call, unused-ignore]
        block_sums, "yxsq", stats, "myx", *code_args,
        new_axes={"s": _N_CODES + 1, "q": m}, adjust_chunks={"y": 1, "x": 1},
        concatenate=True, dtype=np.float64, meta=np.empty((0, 0, 0, 0), dtype=np.float64),
    )
    sums = partial.sum(axis=(0, 1))
    pooled = sums.map_blocks(_pooled_slopes, k, chunks=((_N_CODES + 1,), (k,)), dtype=np.float64)

    def block_apply(s: np.ndarray, p: np.ndarray, c: np.ndarray | None = None) -> np.ndarray:
        return _apply(s, c, p, dz, min_years)

    result: da.Array = da.blockwise(  # type: ignore[no-untyped-call, unused-ignore]
        block_apply, "ryx", stats, "myx", pooled, "sk", *code_args,
        new_axes={"r": 2}, concatenate=True, dtype=np.float64,
        meta=np.empty((0, 0, 0), dtype=np.float64),
    )
    return result
