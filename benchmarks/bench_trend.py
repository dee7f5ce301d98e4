"""Sen's slope + Mann–Kendall per pixel, 1,000,000 pixels × 20 years (A2: ≥ 300× pymannkendall).

    .venv/bin/python benchmarks/bench_trend.py [--pixels 1000000] [--years 20] [--sample 2000]

The stack is seeded random AGC-like values (t C/ha): a level per pixel, a trend per pixel (a
third of the pixels flat, the rest ±0.1 … 2 t C/ha/yr), Gaussian noise, values rounded to
0.1 t C/ha (so ties occur), 5 % of the values NaN and 1 % of the pixels all NaN (no forest).

minecarbon's :func:`sen_mk` is timed on the whole stack with one numba thread and with all
threads (best of three), and through dask (250,000-pixel chunks, threaded scheduler). Wall
time is reported, and for the one-thread runs also process CPU time, which is less disturbed by
other work on a shared machine.

Peer: pymannkendall ``original_test`` + ``sens_slope`` on each pixel of a random sample, in a
Python loop, scaled to the number of pixels; the sample's outputs are compared with ours
(largest absolute difference of slope, intercept, S, Var(S), Z, p, tau).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.assessment.trend import sen_mk

COMPARED = {"slope": "slope", "intercept": "intercept", "s": "s", "var_s": "var_s", "z": "z",
            "p": "p", "tau": "Tau"}


def make_stack(n_pixels: int, n_years: int, seed: int = 0) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    level = rng.uniform(10.0, 60.0, n_pixels)
    trend = rng.uniform(0.1, 2.0, n_pixels) * rng.choice([-1.0, 0.0, 1.0], n_pixels)
    years = np.arange(2005, 2005 + n_years)
    values = level + trend * (years[:, None] - years[0]) \
        + rng.normal(0.0, 3.0, (n_years, n_pixels))
    values = np.round(values, 1)
    values[rng.random(values.shape) < 0.05] = np.nan
    values[:, rng.random(n_pixels) < 0.01] = np.nan
    side = int(np.sqrt(n_pixels))
    shape = (side, n_pixels // side) if side * (n_pixels // side) == n_pixels else (1, n_pixels)
    return xr.DataArray(values.reshape(n_years, *shape), dims=("year", "y", "x"),
                        coords={"year": years}, attrs={"units": "t C/ha"}, name="agc")


def best_of(fn: Callable[[], object], runs: int = 3, clock: Callable[[], float] = time.perf_counter
            ) -> float:
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return round(min(times), 3)


def time_ours(stack: xr.DataArray, record: dict) -> xr.Dataset:
    sen_mk(stack[:, :2, :2])  # compile / load the numba cache
    sen_mk(stack[:, :2, :2].chunk({"x": 1})).compute()
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    record["ours_1_thread_s"] = best_of(lambda: sen_mk(stack))
    record["ours_1_thread_cpu_s"] = best_of(lambda: sen_mk(stack), clock=time.process_time)
    numba.set_num_threads(threads)
    record["numba_threads"] = threads
    record["ours_all_threads_s"] = best_of(lambda: sen_mk(stack))
    rows = max(1, stack.sizes["y"] // 4)
    lazy = stack.chunk({"year": -1, "y": rows, "x": -1})
    record["dask_chunk_pixels"] = rows * stack.sizes["x"]
    record["ours_dask_s"] = best_of(lambda: sen_mk(lazy).compute(), runs=2)
    return sen_mk(stack)


def time_pymannkendall(stack: xr.DataArray, ours: xr.Dataset, n_sample: int,
                       record: dict) -> None:
    import pymannkendall as mk

    values = stack.values.reshape(stack.sizes["year"], -1)
    n_pixels = values.shape[1]
    valid = np.isfinite(values).sum(axis=0) >= 4
    sample = np.random.default_rng(1).choice(np.flatnonzero(valid), n_sample, replace=False)
    theirs = np.empty((n_sample, len(COMPARED)))
    start, start_cpu = time.perf_counter(), time.process_time()
    for k, pixel in enumerate(sample):
        series = values[:, pixel]
        test = mk.original_test(series)
        sens = mk.sens_slope(series)
        row = {**test._asdict(), "slope": sens.slope, "intercept": sens.intercept}
        theirs[k] = [row[name] for name in COMPARED.values()]
    per_pixel = (time.perf_counter() - start) / n_sample
    per_pixel_cpu = (time.process_time() - start_cpu) / n_sample
    mine = np.stack([ours[name].values.reshape(-1)[sample] for name in COMPARED], axis=1)
    record.update({
        "pymannkendall_sample_pixels": n_sample,
        "pymannkendall_per_pixel_us": round(per_pixel * 1e6, 1),
        "pymannkendall_scaled_s": round(per_pixel * n_pixels, 1),
        "pymannkendall_cpu_scaled_s": round(per_pixel_cpu * n_pixels, 1),
        "max_abs_difference_vs_pymannkendall": {
            name: float(np.abs(mine[:, k] - theirs[:, k]).max())
            for k, name in enumerate(COMPARED)},
    })
    record["speedup_vs_pymannkendall"] = round(
        record["pymannkendall_scaled_s"] / record["ours_all_threads_s"])
    record["speedup_vs_pymannkendall_1_thread"] = round(
        record["pymannkendall_scaled_s"] / record["ours_1_thread_s"])
    record["speedup_vs_pymannkendall_1_thread_cpu_time"] = round(
        record["pymannkendall_cpu_scaled_s"] / record["ours_1_thread_cpu_s"])
    record["speedup_vs_pymannkendall_dask"] = round(
        record["pymannkendall_scaled_s"] / record["ours_dask_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()
    stack = make_stack(args.pixels, args.years)
    record: dict = {"pixels": args.pixels, "years": args.years,
                    "nan_fraction": round(float(np.isnan(stack.values).mean()), 4),
                    "outputs": ["slope", "intercept", "s", "var_s", "z", "p", "tau",
                                "trend_class"]}
    ours = time_ours(stack, record)
    time_pymannkendall(stack, ours, args.sample, record)
    record["target_speedup_vs_pymannkendall"] = 300
    print(f"{'':32}{'seconds':>10}{'× faster':>10}")
    scaled = record["pymannkendall_scaled_s"]
    for key in ("pymannkendall_scaled_s", "ours_1_thread_s", "ours_all_threads_s",
                "ours_dask_s"):
        print(f"{key:32}{record[key]:>10}{scaled / record[key]:>10.0f}")
    save("trend", record)


if __name__ == "__main__":
    main()
