"""Temporally consistent land cover (issue 14): HMM Viterbi per pixel vs hmmlearn.

    .venv/bin/python benchmarks/bench_hmm.py [--size 1000] [--years 25] [--classes 7]

Class probabilities are generated block by block (a Dirichlet draw per pixel-year, packed to
uint8 as the classify step stores them, 5 % of the years missing) and held in memory (175 MB
at 1000² × 25 × 7), so that only the decoding is timed: :func:`smooth_class_series` with
500 × 500 px chunks on the threaded scheduler, reduced to class counts. The time at
4000 × 4000 px is extrapolated from the per-pixel time (the work is per pixel); the peak RSS of
the process is reported (it is set by the chunk, not the area).

Peer: hmmlearn's compiled Viterbi (``hmmlearn._hmmc.viterbi``, the same start, transition and
emission log-probabilities) pixel by pixel on a sample. Paths are compared by their
log-probability: where a year has no observation, a change on either side of it is equally
probable, and the two implementations break such exact ties differently.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.classify.temporal import SCALE, smooth_class_series

CHUNK = 500
STAY, MIXING = 0.95, 0.05


def _block(block_id: tuple[int, ...], n_years: int, n_k: int, ny: int, nx: int
           ) -> np.ndarray:
    rng = np.random.default_rng(block_id[2] * 1000 + block_id[3])
    p = rng.dirichlet(np.full(n_k, 0.5), size=(n_years, ny, nx)).transpose(0, 3, 1, 2)
    out = np.round(p * SCALE).astype(np.uint8)
    missing = rng.random((n_years, ny, nx)) < 0.05
    out[:, :, :][np.broadcast_to(missing[:, None], out.shape)] = 255
    return out


def cube(size: int, n_years: int, n_k: int) -> xr.DataArray:
    chunks = ((n_years,), (n_k,), tuple([CHUNK] * (size // CHUNK)),
              tuple([CHUNK] * (size // CHUNK)))
    data = da.map_blocks(lambda block_id=None: _block(block_id, n_years, n_k, CHUNK, CHUNK),
                         chunks=chunks, dtype=np.uint8)
    return xr.DataArray(data, dims=("year", "class", "y", "x"),
                        coords={"year": np.arange(2000, 2000 + n_years)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--classes", type=int, default=7)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()
    codes = list(range(1, args.classes + 1))
    probabilities = cube(args.size, args.years, args.classes).compute().chunk(
        {"y": CHUNK, "x": CHUNK})
    warm = smooth_class_series(probabilities.isel(y=slice(0, 50), x=slice(0, 50)), codes,
                               stay=STAY, mixing=MIXING)
    warm.compute()
    out = smooth_class_series(probabilities, codes, stay=STAY, mixing=MIXING)
    counts = da.bincount(out.data.ravel(), minlength=args.classes + 1)
    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        histogram = counts.compute()
    seconds = time.perf_counter() - start
    n_px = args.size * args.size

    from hmmlearn import _hmmc

    block = probabilities.isel(y=slice(0, CHUNK), x=slice(0, CHUNK)).values
    mine = smooth_class_series(xr.DataArray(block, dims=probabilities.dims), codes, stay=STAY,
                               mixing=MIXING).values
    k = args.classes
    transition = np.full((k, k), (1 - STAY) / (k - 1))
    np.fill_diagonal(transition, STAY)
    start_p = np.full(k, 1 / k)
    rng = np.random.default_rng(0)
    rows = rng.integers(0, CHUNK, args.sample)
    cols = rng.integers(0, CHUNK, args.sample)
    emissions = []
    for r, c in zip(rows, cols, strict=True):
        q = block[:, :, r, c].astype(float)
        emission = np.log((1 - MIXING) * q / SCALE + MIXING / k)
        emission[q[:, 0] == 255] = 0.0
        emissions.append(emission)
    start = time.perf_counter()
    paths = [_hmmc.viterbi(start_p, transition, e)[1] for e in emissions]
    peer_per_px = (time.perf_counter() - start) / args.sample
    log_t = np.log(transition)

    def log_prob(path: np.ndarray, emission: np.ndarray) -> float:
        steps = log_t[path[:-1], path[1:]].sum()
        return float(np.log(1 / k) + steps + emission[np.arange(len(path)), path].sum())

    same_path = same_prob = 0
    for emission, path, r, c in zip(emissions, paths, rows, cols, strict=True):
        ours = mine[:, r, c].astype(int) - 1
        same_path += int((ours == path).all())
        same_prob += int(abs(log_prob(ours, emission) - log_prob(path, emission)) < 1e-9)
    ours_per_px = seconds / n_px
    save(f"hmm_{args.size}x{args.years}", {
        "what": "smooth_class_series (numba Viterbi over dask blocks) vs hmmlearn _hmmc.viterbi "
                "per pixel",
        "size_px": args.size, "years": args.years, "classes": args.classes,
        "seconds": round(seconds, 2), "us_per_pixel": round(ours_per_px * 1e6, 3),
        "extrapolated_4000x4000_s": round(ours_per_px * 16e6, 1),
        "hmmlearn_us_per_pixel": round(peer_per_px * 1e6, 2),
        "ratio_hmmlearn_over_minecarbon": round(peer_per_px / ours_per_px, 1),
        "paths_equal": f"{same_path}/{args.sample}",
        "path_log_probability_equal": f"{same_prob}/{args.sample}",
        "class_counts": histogram.tolist(),
    })


if __name__ == "__main__":
    main()
