"""The land-cover context features' running median: the kernel against xarray + numpy.

    .venv/bin/python benchmarks/bench_context_median.py [--size 1000] [--big 4000] [--years 25]

One context feature (``classify.context_years`` = 4: a 9-year window), a (year, y, x) float32
cube generated block by block (1024-px chunks, 5 % of the values NaN, one year without data),
reduced to a sum on the threaded scheduler, each run in a process of its own (its peak RSS is
its own):

* ``kernel``: :func:`minecarbon.classify.running_median.running_median_years` (numba);
* ``peer``: xarray's centred ``rolling(year=9).construct`` with :func:`numpy.nanmedian`, what
  the pipeline ran before the kernel (the sums must agree);
* ``generate``: the cube reduced without a median (the cost of making the data);
* ``kernel`` again at ``--big``² (4000): its memory stays that of a few blocks.

The ratio peer / kernel is reported net of ``generate``; twelve features are computed a run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import in_own_process, peak_rss_mb, save

from minecarbon.classify.running_median import running_median_years

CHUNK = 1024
HALF = 4


def _block(block_id: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(block_id[1] * 1000 + block_id[2])
    out = rng.normal(0.5, 0.2, shape).astype(np.float32)
    out[rng.random(shape) < 0.05] = np.nan
    out[3] = np.nan  # a year without data
    return out


def cube(size: int, n_years: int) -> xr.DataArray:
    yx = tuple([CHUNK] * (size // CHUNK) + ([size % CHUNK] if size % CHUNK else []))
    data = da.map_blocks(lambda block_id=None: _block(  # type: ignore[no-untyped-call]
        block_id, (n_years, yx[block_id[1]], yx[block_id[2]])), chunks=((n_years,), yx, yx),
        dtype=np.float32, meta=np.array((), np.float32))
    return xr.DataArray(data, dims=("year", "y", "x"),
                        coords={"year": np.arange(2000, 2000 + n_years)})


def _peer(values: xr.DataArray) -> xr.DataArray:
    windows = values.rolling(year=2 * HALF + 1, center=True, min_periods=1).construct("window")

    def median(block: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
            return np.asarray(np.nanmedian(block, axis=-1), dtype=np.float32)

    return xr.apply_ufunc(median, windows, input_core_dims=[["window"]], dask="parallelized",
                          output_dtypes=[np.float32])


def run_one(mode: str, size: int, n_years: int) -> dict[str, Any]:
    values = cube(size, n_years)
    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        if mode == "generate":
            result = values
        elif mode == "kernel":
            result = running_median_years(values, HALF)
        else:
            result = _peer(values)
        total = float(result.sum(dtype=np.float64).compute())
    return {"mode": mode, "size": size, "years": n_years,
            "seconds": round(time.perf_counter() - start, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1), "sum": total}


def _subprocess(mode: str, size: int, n_years: int) -> dict[str, Any]:
    return in_own_process(__file__, "--one", mode, "--size", size, "--years", n_years)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--big", type=int, default=4000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--one", choices=["generate", "kernel", "peer"])
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.years)))
        return
    runs = {mode: _subprocess(mode, args.size, args.years)
            for mode in ("generate", "kernel", "peer")}
    runs["big_generate"] = _subprocess("generate", args.big, args.years)
    runs["big_kernel"] = _subprocess("kernel", args.big, args.years)
    base = runs["generate"]["seconds"]
    net = {m: max(runs[m]["seconds"] - base, 1e-3) for m in ("kernel", "peer")}
    mpx_years = args.big**2 * args.years / 1e6
    save(f"context_median_{args.size}x{args.years}", {
        "half_years": HALF, "runs": runs,
        "peer_over_kernel": round(net["peer"] / net["kernel"], 1),
        "kernel_equals_peer": bool(np.isclose(runs["kernel"]["sum"], runs["peer"]["sum"],
                                              rtol=1e-6)),
        "big_kernel_seconds_per_megapixel_year": round(
            (runs["big_kernel"]["seconds"] - runs["big_generate"]["seconds"]) / mpx_years, 4),
    })


if __name__ == "__main__":
    main()
