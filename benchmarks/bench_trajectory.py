"""AGC trajectories per pixel (issue 14): 1000 × 1000 px × 25 years, vs ruptures Dynp per pixel.

    .venv/bin/python benchmarks/bench_trajectory.py [--size 1000] [--years 25] [--sample 1000]

The stack is seeded random AGC-like values (t C/ha): per pixel a level, a slope, in half of the
pixels a drop of 5–40 t C/ha in a random year (a documented disturbance in half of those),
Gaussian noise (SD 3), 10 % of the values NaN (clouds), 10 % of the pixels never forest and 15 %
with a three-year non-forest gap (two forest spans).

minecarbon's :func:`fit_trajectories` (3 segments at most, ``min_obs`` 3) is timed on the whole
numpy stack with one numba thread and with all threads (best of two), and through dask
(250 × 250 px chunks, threaded scheduler). Peak memory bounded by blocks: the dask path on a
stack *generated block by block* (``dask.array.map_blocks``, nothing whole in memory), reduced
to sums, in a process of its own at ``--size`` and at twice the side (4 × the pixels); its peak
RSS is reported. The time at 4000 × 4000 px is extrapolated linearly from the per-pixel time
(the work is per pixel).

Peer: ruptures 1.1 ``Dynp(model="linear", min_size=3, jump=1)`` on a random sample of
all-forest pixels (NaN-free copies: ruptures has no missing values), solving the same problem:
``fit`` on ``[v, t, 1]``, ``predict`` for 0, 1 and 2 breaks, and the least of SSE + β × breaks
with our β; per-pixel time scaled to the stack. The sample's break positions are compared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dask
import dask.array as da
import numba
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import peak_rss_mb, save

from minecarbon.mapping.trajectory import fit_trajectories, segment_series

MIN_OBS = 3
MAX_SEGMENTS = 3
CHUNK = 250


def make_block(seed: int, n_years: int, ny: int, nx: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (float32), forest and free-break masks of one (n_years, ny, nx) block."""
    rng = np.random.default_rng(seed)
    shape = (n_years, ny, nx)
    t = np.arange(n_years, dtype=np.float32)[:, None, None]
    level = rng.uniform(10, 80, (1, ny, nx)).astype(np.float32)
    slope = rng.uniform(-0.5, 2.0, (1, ny, nx)).astype(np.float32)
    year_break = rng.integers(4, n_years - 3, (1, ny, nx))
    drop = (rng.uniform(5, 40, (1, ny, nx)) * (rng.random((1, ny, nx)) < 0.5)).astype(np.float32)
    values = level + slope * t - drop * (t >= year_break) \
        + rng.normal(0, 3, shape).astype(np.float32)
    values[rng.random(shape) < 0.1] = np.nan
    forest = np.broadcast_to(rng.random((1, ny, nx)) >= 0.1, shape).copy()
    gap = rng.random((ny, nx)) < 0.15
    mid = n_years // 2
    forest[mid - 1:mid + 2, gap] = False
    free = (t == year_break) & (drop > 0) & (rng.random((1, ny, nx)) < 0.5)
    return values.astype(np.float32), forest, free


def make_stack(size: int, n_years: int, seed: int = 0) -> tuple[xr.DataArray, ...]:
    values, forest, free = make_block(seed, n_years, size, size)
    coords = {"year": np.arange(2000, 2000 + n_years)}
    dims = ("year", "y", "x")
    return tuple(xr.DataArray(a, dims=dims, coords=coords) for a in (values, forest, free))


def lazy_stack(size: int, n_years: int) -> tuple[xr.DataArray, ...]:
    """The same kind of stack, generated chunk by chunk (never whole in memory)."""
    n_blocks = -(-size // CHUNK)
    chunks = ((n_years,), (CHUNK,) * n_blocks, (CHUNK,) * n_blocks)
    seeds = da.from_array(np.arange(n_blocks * n_blocks).reshape(1, n_blocks, n_blocks),
                          chunks=1)

    def part(k: int, seed: np.ndarray) -> np.ndarray:
        return make_block(int(seed.ravel()[0]), n_years, CHUNK, CHUNK)[k]

    coords = {"year": np.arange(2000, 2000 + n_years)}
    dims = ("year", "y", "x")
    out = []
    for k, dtype in enumerate((np.float32, np.bool_, np.bool_)):
        arr = da.map_blocks(part, k, seeds, chunks=chunks, dtype=dtype)
        out.append(xr.DataArray(arr, dims=dims, coords=coords))
    return tuple(out)


def best_of(fn: Callable[[], object], runs: int = 2) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(min(times), 3)


def hwm_mb() -> float:
    """Peak resident memory of this process (VmHWM), not inherited through fork and exec.

    ``getrusage``'s ``ru_maxrss`` survives ``execve`` on Linux, so a child started by a big
    parent would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return peak_rss_mb()


def memory_run(size: int, n_years: int) -> None:
    """Child process: the dask path on a lazily generated stack, reduced to sums."""
    values, forest, free = lazy_stack(size, n_years)
    fit_trajectories(*(a[:, :2, :2].compute() for a in (values, forest, free)))
    start = time.perf_counter()
    result = fit_trajectories(values, forest, free)
    total, segments, filled = dask.compute(result["fitted"].astype(np.float64).sum(),
                                           result["n_segments"].sum(), result["filled"].sum())
    print(json.dumps({"size": size, "seconds": round(time.perf_counter() - start, 2),
                      "peak_rss_mb": round(hwm_mb(), 1),
                      "fitted_sum": float(total), "segments": int(segments),
                      "filled": int(filled)}))


def time_ours(stack: tuple[xr.DataArray, ...], record: dict) -> xr.Dataset:
    small = tuple(a[:, :2, :2] for a in stack)
    fit_trajectories(*small)  # compile / load the numba cache
    fit_trajectories(*(a.chunk({"x": 1}) for a in small)).compute()
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    record["ours_1_thread_s"] = best_of(lambda: fit_trajectories(*stack))
    numba.set_num_threads(threads)
    record["numba_threads"] = threads
    record["ours_all_threads_s"] = best_of(lambda: fit_trajectories(*stack))
    lazy = tuple(a.chunk({"year": -1, "y": CHUNK, "x": CHUNK}) for a in stack)
    record["dask_chunk"] = [CHUNK, CHUNK]
    record["ours_dask_s"] = best_of(lambda: fit_trajectories(*lazy).compute())
    return fit_trajectories(*stack)


def time_ruptures(stack: tuple[xr.DataArray, ...], n_sample: int, record: dict) -> None:
    import ruptures

    values, forest, _ = (a.values.reshape(a.shape[0], -1) for a in stack)
    n_years, n_pixels = values.shape
    rng = np.random.default_rng(1)
    candidates = np.flatnonzero(forest.all(axis=0))
    sample = rng.choice(candidates, n_sample, replace=False)
    t = np.arange(n_years, dtype=np.float64)
    series = []
    for pixel in sample:  # NaN-free copies: a NaN year takes the mean of its neighbours
        v = values[:, pixel].astype(np.float64)
        ok = np.isfinite(v)
        series.append(np.where(ok, v, np.interp(t, t[ok], v[ok])))
    theirs = []
    start = time.perf_counter()
    for v in series:
        beta = 3.0 * (1.4826 * np.median(np.abs(np.diff(v))) / np.sqrt(2.0)) ** 2 \
            * np.log(n_years)
        algo = ruptures.Dynp(model="linear", min_size=MIN_OBS, jump=1).fit(
            np.column_stack([v, t, np.ones(n_years)]))
        best: tuple[float, list[int]] = (np.inf, [])
        for k in range(MAX_SEGMENTS):
            bkps = algo.predict(n_bkps=k)
            sse = sum(algo.cost.error(s, e) for s, e in zip([0, *bkps[:-1]], bkps, strict=True))
            if sse + beta * k < best[0]:
                best = (sse + beta * k, bkps[:-1])
        theirs.append(best[1])
    per_pixel = (time.perf_counter() - start) / n_sample
    start = time.perf_counter()
    ours = [segment_series(v, np.ones(n_years, dtype=bool), max_segments=MAX_SEGMENTS,
                           min_obs=MIN_OBS)[1][1:] for v in series]
    helper_per_pixel = (time.perf_counter() - start) / n_sample
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    ours_per_pixel_1_thread = record["ours_1_thread_s"] / n_pixels
    record.update({
        "ruptures_sample_pixels": n_sample,
        "ruptures_per_pixel_us": round(per_pixel * 1e6, 1),
        "ruptures_scaled_s": round(per_pixel * n_pixels, 1),
        "ours_per_pixel_us_1_thread": round(ours_per_pixel_1_thread * 1e6, 2),
        "ours_segment_series_per_pixel_us": round(helper_per_pixel * 1e6, 1),
        "same_breaks_as_ruptures": f"{same}/{n_sample}",
        "speedup_vs_ruptures_1_thread": round(per_pixel / ours_per_pixel_1_thread),
        "speedup_vs_ruptures_all_threads": round(
            per_pixel * n_pixels / record["ours_all_threads_s"]),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--memory-run", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_run:
        memory_run(args.memory_run, args.years)
        return
    memory_runs = []  # first, while this process is small
    for size in (args.size, 2 * args.size):
        out = subprocess.run([sys.executable, __file__, "--memory-run", str(size),
                              "--years", str(args.years)], capture_output=True, text=True,
                             check=True)
        memory_runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    stack = make_stack(args.size, args.years)
    n_pixels = args.size * args.size
    record: dict = {"pixels": n_pixels, "size": args.size, "years": args.years,
                    "max_segments": MAX_SEGMENTS, "min_obs": MIN_OBS,
                    "nan_fraction": round(float(np.isnan(stack[0].values).mean()), 4)}
    ours = time_ours(stack, record)
    record["mean_segments_per_forest_pixel"] = round(float(
        ours["n_segments"].values[stack[1].values.any(axis=0)].mean()), 3)
    time_ruptures(stack, args.sample, record)
    per_px = record["ours_all_threads_s"] / n_pixels
    record["extrapolated_4000x4000_all_threads_s"] = round(per_px * 4000 * 4000, 1)
    record["extrapolated_4000x4000_dask_s"] = round(
        record["ours_dask_s"] / n_pixels * 4000 * 4000, 1)
    record["memory_runs"] = memory_runs
    print(f"{'':36}{'seconds':>10}")
    for key in ("ruptures_scaled_s", "ours_1_thread_s", "ours_all_threads_s", "ours_dask_s",
                "extrapolated_4000x4000_all_threads_s"):
        print(f"{key:36}{record[key]:>10}")
    save("trajectory", record)


if __name__ == "__main__":
    main()
