"""Piecewise-linear AGC trajectories (issue 14): known answers and ruptures' Dynp as the oracle.

The oracle: for a fixed number of breaks, the break positions and SSE of the exact
least-squares segmentation equal those of ``ruptures.Dynp(model="linear", min_size=min_obs,
jump=1)`` on the signal ``[v, t, 1]`` (CostLinear: column 0 the response, the rest the
covariates; ``min_size`` counts samples, which equals our ``min_obs`` on series without NaN).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import ruptures
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.mapping.trajectory import fit_trajectories, segment_series

N = 25
FOREST = np.ones(N, dtype=bool)


def _robust_sd(v: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(np.diff(v))) / np.sqrt(2.0))


def _sse(fitted: np.ndarray, v: np.ndarray) -> float:
    ok = np.isfinite(v)
    return float(((fitted[ok].astype(np.float64) - v[ok]) ** 2).sum())


def _piecewise(rng: np.random.Generator, n: int, n_breaks: int, noise: float) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    cuts = np.sort(rng.choice(np.arange(4, n - 3), n_breaks, replace=False))
    v = np.empty(n)
    for s, e in zip([0, *cuts], [*cuts, n], strict=True):
        v[s:e] = rng.uniform(20, 80) + rng.uniform(-2, 2) * (t[s:e] - s)
    return v + rng.normal(0.0, noise, n)


def test_exact_piecewise_linear_is_reproduced_with_its_break() -> None:
    t = np.arange(N, dtype=np.float64)
    v = np.where(t < 10, 30.0 + t, 30.0 + 10.0 - 20.0 + 0.5 * (t - 10)).astype(np.float32)
    fitted, starts = segment_series(v, FOREST)
    assert fitted.size == N
    np.testing.assert_allclose(fitted, v, rtol=0, atol=1e-6)
    assert starts == [0, 10]
    # the drop stays a drop: fitted 9 → 10 falls by 20 - 1 = 19
    assert fitted[10] - fitted[9] == pytest.approx(-19.0, abs=1e-5)


def test_constant_plus_noise_is_one_segment() -> None:
    rng = np.random.default_rng(0)
    series = 50.0 + rng.normal(0.0, 3.0, (400, N))
    counts = np.array([len(segment_series(v, FOREST)[1]) for v in series])
    assert counts.size == 400
    # the second series of seed 0: one segment, the least-squares line through the noise
    fitted, starts = segment_series(series[1], FOREST)
    assert starts == [0]
    slope, intercept = np.polyfit(np.arange(N), series[1], 1)
    np.testing.assert_allclose(fitted, intercept + slope * np.arange(N), atol=1e-4)
    # the BIC-like price (3 σ̂² ln n) keeps false breaks rare on pure noise; doubling it
    # almost removes them (measured: 15 % and 2 % of 2000 series)
    assert (counts == 1).mean() >= 0.78
    strict = np.array([len(segment_series(v, FOREST, penalty_factor=2.0)[1]) for v in series])
    assert (strict == 1).mean() >= 0.95
    assert counts.max() <= 3


@pytest.mark.parametrize("n_breaks", [1, 2, 3])
def test_fixed_number_of_breaks_matches_ruptures_dynp(n_breaks: int) -> None:
    rng = np.random.default_rng(100 + n_breaks)
    t = np.arange(N, dtype=np.float64)
    compared = 0
    for _ in range(60):
        v = _piecewise(rng, N, int(rng.integers(0, 4)), noise=rng.uniform(0.5, 5.0))
        signal = np.column_stack([v, t, np.ones(N)])
        algo = ruptures.Dynp(model="linear", min_size=3, jump=1).fit(signal)
        bkps = algo.predict(n_bkps=n_breaks)
        their_sse = sum(algo.cost.error(s, e) for s, e in zip([0, *bkps[:-1]], bkps,
                                                             strict=True))
        fitted, starts = segment_series(v, FOREST, min_obs=3, n_segments=n_breaks + 1)
        assert starts[1:] == bkps[:-1]
        assert _sse(fitted, v) == pytest.approx(their_sse, rel=1e-4, abs=1e-4)
        compared += 1
    assert compared == 60


def test_min_obs_matches_ruptures_min_size() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(N, dtype=np.float64)
    compared = 0
    for min_obs in (2, 4, 6):
        for _ in range(20):
            v = _piecewise(rng, N, 2, noise=1.0)
            algo = ruptures.Dynp(model="linear", min_size=min_obs, jump=1)
            bkps = algo.fit_predict(np.column_stack([v, t, np.ones(N)]), n_bkps=2)
            _, starts = segment_series(v, FOREST, min_obs=min_obs, n_segments=3)
            assert starts[1:] == bkps[:-1]
            assert min(np.diff([*starts, N])) >= min_obs
            compared += 1
    assert compared == 60


def test_penalised_choice_is_the_best_of_the_fixed_k_optima() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(N, dtype=np.float64)
    compared = 0
    for _ in range(50):
        v = _piecewise(rng, N, int(rng.integers(0, 3)), noise=1.5)
        beta = 3.0 * _robust_sd(v) ** 2 * np.log(N)
        algo = ruptures.Dynp(model="linear", min_size=3, jump=1).fit(
            np.column_stack([v, t, np.ones(N)]))
        totals = []
        for k in range(3):
            bkps = algo.predict(n_bkps=k)
            sse = sum(algo.cost.error(s, e) for s, e in zip([0, *bkps[:-1]], bkps, strict=True))
            totals.append(sse + beta * k)
        _, starts = segment_series(v, FOREST, max_segments=3)
        assert len(starts) - 1 == int(np.argmin(totals))
        compared += 1
    assert compared == 50


def test_missing_years_are_filled_on_their_segment_line() -> None:
    t = np.arange(N, dtype=np.float64)
    line = np.where(t < 12, 20.0 + 2.0 * t, 5.0 + 1.0 * (t - 12))
    v = line.copy()
    holes = [0, 3, 4, 11, 17, 24]
    v[holes] = np.nan
    fitted, starts = segment_series(v, FOREST)
    assert starts == [0, 12]
    np.testing.assert_allclose(fitted[holes], line[holes], atol=1e-5)
    assert len(holes) == 6
    ds = fit_trajectories(_cube(v), _cube(FOREST))
    assert ds["filled"].values[:, 0, 0].tolist() == [i in holes for i in range(N)]
    assert int(ds["n_valid"].values[0, 0]) == N - len(holes)
    assert int(ds["n_segments"].values[0, 0]) == 2


def test_years_without_observation_between_segments_go_to_the_earlier_one() -> None:
    t = np.arange(N, dtype=np.float64)
    line = np.where(t < 12, 40.0 + 0.5 * t, 10.0 + 1.0 * t)
    v = line.copy()
    v[10:12] = np.nan  # the loss happened in 10, 11 or 12: no observation says which
    _, starts = segment_series(v, FOREST)
    assert starts == [0, 12]
    free = np.zeros(N, dtype=bool)
    free[11] = True  # the damage records say 11
    fitted, starts = segment_series(v, FOREST, free)
    assert starts == [0, 11]
    assert fitted[11] == pytest.approx(21.0, abs=1e-5)
    assert fitted[10] == pytest.approx(45.0, abs=1e-5)


def test_forest_gaps_split_spans() -> None:
    forest = np.ones(N, dtype=bool)
    forest[8:13] = False
    v = np.full(N, 40.0)
    v[8:13] = 5.0  # values of non-forest years are ignored
    fitted, starts = segment_series(v, forest, max_segments=1)
    assert starts == [0, 13]
    assert np.isnan(fitted[8:13]).all()
    np.testing.assert_allclose(fitted[forest], 40.0)
    # separate fits: each span its own line, none bridging the gap
    t = np.arange(N, dtype=np.float64)
    v = np.where(t < 8, 10.0 + 2.0 * t, 100.0 - t)
    fitted, starts = segment_series(v, forest, max_segments=1)
    assert starts == [0, 13]
    np.testing.assert_allclose(fitted[forest], v[forest], atol=1e-5)
    assert int(forest.sum()) == 20


def test_span_without_observation_takes_the_nearest_fitted_value() -> None:
    forest = np.ones(N, dtype=bool)
    forest[[10, 11, 13, 14, 20]] = False
    v = np.arange(N, dtype=np.float64) + 30.0
    v[12] = np.nan          # span {12}: no observation; years 9 and 15 are 3 away
    v[[21, 22]] = np.nan    # span 21–24 keeps 2 observations: < min_obs → their mean
    fitted, starts = segment_series(v, forest)
    assert fitted[12] == pytest.approx(39.0)  # the tie goes to the earlier year
    assert fitted[21:].tolist() == pytest.approx([53.5] * 4)
    assert starts == [0, 15, 21]
    forest2 = np.ones(N, dtype=bool)
    forest2[[10, 11, 14]] = False
    v2 = np.arange(N, dtype=np.float64) + 30.0
    v2[[12, 13]] = np.nan   # span 12–13: 12 is nearer 9 (3) than 15 (3 → tie → 9); 13 → 15
    fitted2, _ = segment_series(v2, forest2)
    assert fitted2[[12, 13]].tolist() == pytest.approx([39.0, 45.0])
    empty, starts = segment_series(np.full(N, np.nan), forest2)
    assert np.isnan(empty).all() and starts == []
    ds = fit_trajectories(_cube(v2), _cube(forest2))
    assert ds["filled"].values[:, 0, 0].tolist() == [i in (12, 13) for i in range(N)]


def test_free_break_lets_a_moderate_drop_through() -> None:
    # a fixed noise sequence (seed 13) and a drop of 1.5 σ̂ at year 12: the two-segment gain
    # lies between β/3 and β, so only a documented disturbance lets the break through
    noise = np.random.default_rng(13).normal(0.0, 1.0, N)
    v = 50.0 + noise
    v[12:] -= 1.5 * _robust_sd(noise)
    beta = 3.0 * _robust_sd(v) ** 2 * np.log(N)
    one, _ = segment_series(v, FOREST, n_segments=1)
    two, starts_two = segment_series(v, FOREST, n_segments=2)
    gain = _sse(one, v) - _sse(two, v)
    assert starts_two == [0, 12]
    assert beta / 3.0 < gain < beta
    free = np.zeros(N, dtype=bool)
    free[12] = True
    assert segment_series(v, FOREST)[1] == [0]
    fitted, starts = segment_series(v, FOREST, free)
    assert starts == [0, 12]
    assert fitted[12] < fitted[11]


def _cube(series: np.ndarray) -> xr.DataArray:
    data = np.asarray(series)[:, None, None]
    if data.dtype.kind == "f":
        data = data.astype(np.float32)
    return xr.DataArray(data, dims=("year", "y", "x"),
                        coords={"year": np.arange(2000, 2000 + data.shape[0])})


def _random_stack(seed: int, shape: tuple[int, int, int]
                  ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    rng = np.random.default_rng(seed)
    n_t, ny, nx = shape
    t = np.arange(n_t)[:, None, None]
    level = rng.uniform(10, 80, (1, ny, nx))
    slope = rng.uniform(-1, 2, (1, ny, nx))
    year_break = rng.integers(3, n_t - 3, (1, ny, nx))
    drop = rng.uniform(0, 30, (1, ny, nx)) * (rng.random((1, ny, nx)) < 0.5)
    values = level + slope * t - drop * (t >= year_break) + rng.normal(0, 3, shape)
    values[rng.random(shape) < 0.1] = np.nan
    forest = rng.random((1, ny, nx)) < 0.9
    forest = np.broadcast_to(forest, shape).copy()
    gap = rng.random((ny, nx)) < 0.2
    forest[8:11, gap] = False
    free = (t == year_break) & (rng.random((1, ny, nx)) < 0.5)
    coords = {"year": np.arange(2000, 2000 + n_t)}
    dims = ("year", "y", "x")
    return (xr.DataArray(values.astype(np.float32), dims=dims, coords=coords),
            xr.DataArray(forest, dims=dims, coords=coords),
            xr.DataArray(free, dims=dims, coords=coords))


def test_dask_path_equals_numpy_path_and_the_helper() -> None:
    values, forest, free = _random_stack(1, (25, 64, 64))
    eager = fit_trajectories(values, forest, free)
    lazy_in = [a.chunk({"year": 5, "y": 32, "x": 32}) for a in (values, forest, free)]
    lazy = fit_trajectories(*lazy_in)
    assert lazy["fitted"].chunks is not None
    assert lazy["fitted"].dims == ("year", "y", "x")
    computed = lazy.compute()
    for name in ("fitted", "n_segments", "n_valid", "filled"):
        np.testing.assert_array_equal(computed[name].values, eager[name].values)
    assert eager["fitted"].dtype == np.float32 and eager["n_segments"].dtype == np.uint8
    assert eager["n_valid"].dtype == np.int16 and eager["filled"].dtype == bool
    compared = 0
    for iy in range(64):
        for ix in range(64):
            fitted, starts = segment_series(values.values[:, iy, ix], forest.values[:, iy, ix],
                                            free.values[:, iy, ix], t=values["year"].values)
            np.testing.assert_array_equal(fitted, eager["fitted"].values[:, iy, ix])
            assert len(starts) == int(eager["n_segments"].values[iy, ix])
            compared += 1
    assert compared == 64 * 64
    fitted = eager["fitted"].values
    assert np.isnan(fitted[~forest.values]).all()
    assert np.isfinite(fitted[forest.values]).mean() > 0.99
    np.testing.assert_array_equal(eager["filled"].values,
                                  forest.values & ~np.isfinite(values.values))
    # a dask array whose chunks split the year axis is rechunked, and the values are lazy
    raw = fit_trajectories(values.copy(data=da.from_array(values.values, chunks=(5, 64, 64))),
                           forest)
    assert raw["fitted"].chunks is not None


def test_bad_inputs_raise() -> None:
    values, forest, free = _random_stack(2, (12, 2, 3))
    with pytest.raises(InputDataError, match="dimension 'time'"):
        fit_trajectories(values, forest, dim="time")
    with pytest.raises(InputDataError, match="forest has dims"):
        fit_trajectories(values, forest.isel(x=slice(0, 2)))
    with pytest.raises(InputDataError, match="free_break has dims"):
        fit_trajectories(values, forest, free.transpose("y", "year", "x"))
    with pytest.raises(InputDataError, match="forest has dtype"):
        fit_trajectories(values, forest.astype(np.uint8))
    with pytest.raises(InputDataError, match="max_segments"):
        fit_trajectories(values, forest, max_segments=0)
    with pytest.raises(InputDataError, match="min_obs"):
        fit_trajectories(values, forest, min_obs=1)
    with pytest.raises(InputDataError, match="penalty_factor"):
        fit_trajectories(values, forest, penalty_factor=-1.0)
    with pytest.raises(InputDataError, match="values must be"):
        fit_trajectories(values.values, forest)  # type: ignore[arg-type]
    with pytest.raises(InputDataError, match="strictly increasing"):
        fit_trajectories(values.isel(year=[1, 0, *range(2, 12)]),
                         forest.isel(year=[1, 0, *range(2, 12)]))
    with pytest.raises(InputDataError, match="1-D"):
        segment_series(np.zeros(5), np.ones(4, dtype=bool))
