"""Canopy height model and tree tops on a synthetic ALS tile (issue 19), beside the peer fill.

A tile of conical crowns on a jittered 4 m grid, sampled at 4.4 points/m² (lidR's MixedConifer
density, where a quarter of the 0.5 m cells hold no point). Times, in one run:

* ``canopy_height_model`` (highest point per cell, then the harmonic fill of the empty cells)
  and ``find_tree_tops`` (variable window);
* the peer fill: the same empty cells interpolated linearly on a Delaunay triangulation of the
  filled cells (``scipy.interpolate.LinearNDInterpolator``, what lidR's ``tin()`` does), with
  the largest difference between the two fills.

    .venv/bin/python benchmarks/bench_chm.py [--side 1000]
"""

from __future__ import annotations

import argparse

import numpy as np
from _measure import save, timed
from scipy.interpolate import LinearNDInterpolator
from scipy.spatial import cKDTree

from minecarbon.features.chm import canopy_height_model
from minecarbon.features.tree_tops import find_tree_tops


def tile(side: float, density: float, seed: int = 0) -> tuple[np.ndarray, int]:
    """Points (n, 3) over crowns of cones (slope 3 m/m) 8–30 m tall, and the number of trees."""
    rng = np.random.default_rng(seed)
    n = int(density * side * side)
    x, y = rng.uniform(0, side, n), rng.uniform(0, side, n)
    tx, ty = np.meshgrid(np.arange(2, side, 4.0), np.arange(2, side, 4.0))
    tx = tx.ravel() + rng.normal(0, 0.7, tx.size)
    ty = ty.ravel() + rng.normal(0, 0.7, ty.size)
    th = rng.uniform(8, 30, tx.size)
    d, i = cKDTree(np.column_stack([tx, ty])).query(np.column_stack([x, y]))
    return np.column_stack([x, y, np.maximum(0.0, th[i] - 3.0 * d)]), int(tx.size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=float, default=1000.0)
    parser.add_argument("--density", type=float, default=4.4)
    args = parser.parse_args()
    pts, n_trees = tile(args.side, args.density)
    box = (0.0, 0.0, args.side, args.side)
    record: dict = {"side_m": args.side, "points": len(pts), "trees": n_trees}
    with timed(record, "chm_s"):
        chm = canopy_height_model(pts, box)
    with timed(record, "tops_s"):
        tops = find_tree_tops(chm)
    raw = canopy_height_model(pts, box, chm.attrs["resolution_m"], fill_empty=False).values
    empty = np.isnan(raw)
    with timed(record, "peer_tin_fill_s"):
        rc = np.argwhere(~empty).astype(float)
        tin = LinearNDInterpolator(rc, raw[~empty])(np.argwhere(empty).astype(float))
    ours = chm.values[empty]
    both = np.isfinite(tin) & np.isfinite(ours)
    record.update(
        cells=int(raw.size), empty_share=round(float(empty.mean()), 3), tops=len(tops),
        fill_cells_compared=int(both.sum()),
        fill_max_abs_diff_m=round(float(np.abs(ours[both] - tin[both]).max()), 2),
        fill_mean_abs_diff_m=round(float(np.abs(ours[both] - tin[both]).mean()), 3),
        fill_speedup_vs_tin=round(record["peer_tin_fill_s"] / max(record["chm_s"], 1e-9), 1),
    )
    save("chm", record)


if __name__ == "__main__":
    main()
