"""Getis–Ord Gi*, 1000 × 1000 cells, fixed distance 3 px (A5: target ≥ 100× esda).

    .venv/bin/python benchmarks/bench_gistar.py [--size 1000] [--pixels 3]
        [--esda-rows 100 200] [--esda-full]

The map is a seeded random "AGC" field (gamma-distributed, smoothed over 9 px so that hot and
cold spots exist) at 30 m with 10 % of the cells NaN at random and a 200 × 200 NaN block (a pit).
minecarbon's :func:`gi_star` is timed on the whole map (numpy, best of three; dask with 250 px
chunks, best of two; with the FDR correction).

Peer: esda ``G_Local(y, w, transform='B', star=True, permutations=0)`` with libpysal
``DistanceBand(centres, threshold, binary=True)`` built on the centres of the valid cells; the
weights construction is part of the peer's time (ours builds its neighbourhoods implicitly).
esda is timed on horizontal strips of the map (the first ``--esda-rows`` rows, full width) and
scaled linearly to the whole map by the number of valid cells: time_full ≈ time_strip ×
n_valid_full / n_valid_strip, from the largest strip. Two strip sizes show how the time grows;
if it grows faster than linearly (it does: esda's time per cell rises with n), the linear
scaling underestimates esda and the reported speed-up is conservative. ``--esda-full`` runs
esda on the whole map instead (minutes, several GB). On each strip the Zs of esda and ours
(run on the same strip) are compared.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.assessment.hotspots import gi_star

PIXEL_M = 30.0


def make_map(size: int, seed: int = 0) -> xr.DataArray:
    from scipy.ndimage import uniform_filter

    rng = np.random.default_rng(seed)
    agc = uniform_filter(rng.gamma(2.0, 20.0, size=(size, size)), 9) * 3.0
    agc[rng.random(agc.shape) < 0.10] = np.nan
    agc[size // 4 : size // 4 + size // 5, size // 2 : size // 2 + size // 5] = np.nan
    return xr.DataArray(agc, dims=("y", "x"), name="agc_t_ha",
                        coords={"y": 4_100_000.0 - PIXEL_M * (np.arange(size) + 0.5),
                                "x": 500_000.0 + PIXEL_M * (np.arange(size) + 0.5)})


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(min(times), 4)


def time_esda(strip: xr.DataArray, distance_m: float) -> dict:
    import esda
    import libpysal

    yy, xx = np.meshgrid(strip.y.values, strip.x.values, indexing="ij")
    valid = ~np.isnan(strip.values)
    centres = np.column_stack([xx[valid], yy[valid]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        w = libpysal.weights.DistanceBand(centres, threshold=distance_m, binary=True)
        weights_s = time.perf_counter() - start
        start = time.perf_counter()
        zs = esda.G_Local(strip.values[valid], w, transform="B", star=True, permutations=0).Zs
        g_local_s = time.perf_counter() - start
    ours = gi_star(strip, distance_m).z.values[valid]
    return {"rows": strip.sizes["y"], "valid_cells": int(valid.sum()),
            "weights_s": round(weights_s, 2), "g_local_s": round(g_local_s, 2),
            "total_s": round(weights_s + g_local_s, 2),
            "max_abs_z_difference_vs_ours": float(np.abs(zs - ours).max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--pixels", type=float, default=3.0, help="distance in pixels")
    parser.add_argument("--esda-rows", type=int, nargs="+", default=[100, 200])
    parser.add_argument("--esda-full", action="store_true")
    args = parser.parse_args()
    agc = make_map(args.size)
    distance_m = args.pixels * PIXEL_M
    n_valid = int(np.isfinite(agc.values).sum())
    record: dict = {"size_px": [args.size, args.size], "pixel_m": PIXEL_M,
                    "distance_m": distance_m, "valid_cells": n_valid,
                    "weights": "fixed distance, binary, self included (ArcGIS Gi*)"}
    gi_star(agc[:50, :50], distance_m)
    record["ours_numpy_s"] = best_of(lambda: gi_star(agc, distance_m))
    lazy = agc.chunk(250)
    record["ours_dask_250px_chunks_s"] = best_of(
        lambda: gi_star(lazy, distance_m).compute(), runs=2)
    record["ours_numpy_fdr_s"] = best_of(lambda: gi_star(agc, distance_m, fdr=True))

    strips = [time_esda(agc[:rows], distance_m) for rows in args.esda_rows]
    record["esda_strips"] = strips
    largest = strips[-1]
    record["esda_scaling"] = (f"linear in valid cells from the {largest['rows']}-row strip: "
                              f"{largest['total_s']} s × {n_valid} / {largest['valid_cells']}")
    record["esda_scaled_s"] = round(largest["total_s"] * n_valid / largest["valid_cells"], 1)
    if args.esda_full:
        full = time_esda(agc, distance_m)
        record["esda_full"] = full
        record["esda_scaled_s"] = full["total_s"]
        record["esda_scaling"] = "not scaled: esda run on the whole map"
    record["speedup_vs_esda"] = round(record["esda_scaled_s"] / record["ours_numpy_s"])
    record["speedup_vs_esda_dask"] = round(
        record["esda_scaled_s"] / record["ours_dask_250px_chunks_s"])
    record["target_speedup_vs_esda"] = 100

    print(f"\nGi* on {args.size} × {args.size} cells ({n_valid} valid), distance {distance_m:g} m")
    print(f"{'method':<44}{'seconds':>12}")
    for key in ("ours_numpy_s", "ours_dask_250px_chunks_s", "ours_numpy_fdr_s"):
        print(f"{key:<44}{record[key]:>12}")
    for strip in strips:
        label = f"esda+libpysal, {strip['rows']} rows ({strip['valid_cells']} cells)"
        print(f"{label:<44}{strip['total_s']:>12}   (weights {strip['weights_s']} s, "
              f"max |Δz| {strip['max_abs_z_difference_vs_ours']:.1e})")
    how = "measured" if args.esda_full else "scaled linearly"
    print(f"{'esda+libpysal, whole map (' + how + ')':<44}{record['esda_scaled_s']:>12}")
    print(f"speed-up vs esda: {record['speedup_vs_esda']}× (numpy), "
          f"{record['speedup_vs_esda_dask']}× (dask)\n")
    save("gistar", record)


if __name__ == "__main__":
    main()
