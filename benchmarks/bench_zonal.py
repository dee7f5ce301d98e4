"""Zonal statistics (A4): raster zones and polygon zones, side by side with peer libraries.

    .venv/bin/python benchmarks/bench_zonal.py [--size 2048] [--polygons 100]

Data: a seeded gamma "AGC" field (t C/ha, 15 % NaN) of ``size`` × ``size`` 30 m pixels, a second
layer (change), a zone raster of level-2-like codes (0, 10, 21, 22, 31, 33, 41, 50) in 64-px
patches, and ``polygons`` random overlapping discs (radius 10–200 px).

Raster zones, two layers, mean/min/max/variance/std/count/total:

* ours on NumPy input and on dask input (1024-px chunks, threads);
* pandas ``groupby(zone).agg(count, mean, min, max, var(ddof=0), sum)`` on the flattened arrays
  (per layer);
* xarray-spatial ``zonal.stats`` (NumPy; mean, max, min, sum, std, var, count), per layer.

Polygon zones, one layer: ours (NumPy and dask) against exactextract's ``exact_extract`` with the
same seven operations on a NumPy raster source. The largest relative differences of the results
are reported next to the times.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.assessment.zonal import zonal_stats

PIXEL = 30.0
CODES = np.array([0, 10, 21, 22, 31, 33, 41, 50])


def best_of(fn: Callable[[], object], runs: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return round(min(times), 3), out


def grid_array(values: np.ndarray, units: str = "t C/ha") -> xr.DataArray:
    ny, nx = values.shape
    coords = {"y": 4_100_000.0 - (np.arange(ny) + 0.5) * PIXEL,
              "x": 500_000.0 + (np.arange(nx) + 0.5) * PIXEL}
    return xr.DataArray(values, dims=("y", "x"), coords=coords,
                        attrs={"units": units}).rio.write_crs("EPSG:4546")


def make_data(size: int, seed: int = 0) -> tuple[dict[str, xr.DataArray], xr.DataArray]:
    rng = np.random.default_rng(seed)
    agc = rng.gamma(4.0, 10.0, (size, size))
    agc[rng.random((size, size)) < 0.15] = np.nan
    change = rng.normal(0.0, 5.0, (size, size))
    patches = rng.choice(CODES, size=(size // 64 + 1, size // 64 + 1)).astype("uint8")
    zones = np.kron(patches, np.ones((64, 64), dtype="uint8"))[:size, :size]
    return {"agc": grid_array(agc), "change": grid_array(change)}, grid_array(zones, "")


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float((np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12)).max())


def bench_raster(layers: dict[str, xr.DataArray], zones: xr.DataArray, record: dict) -> None:
    from xrspatial.zonal import stats as xrs_stats

    r: dict = {}
    r["ours_numpy_s"], ours = best_of(lambda: zonal_stats(layers, zones))
    lazy = {k: v.chunk(1024) for k, v in layers.items()}
    r["ours_dask_1024px_s"], _ = best_of(lambda: zonal_stats(lazy, zones.chunk(1024)))

    def pandas_groupby() -> dict[str, pd.DataFrame]:
        z = zones.values.ravel()
        out = {}
        for name, layer in layers.items():
            frame = pd.DataFrame({"zone": z, "v": layer.values.ravel()})
            frame = frame[frame.zone != 0].dropna()
            out[name] = frame.groupby("zone")["v"].agg(
                ["count", "mean", "min", "max", lambda s: s.var(ddof=0), "sum"])
        return out

    r["pandas_groupby_s"], oracle = best_of(pandas_groupby)

    def xrspatial() -> dict[str, pd.DataFrame]:
        return {name: xrs_stats(zones, layer, zone_ids=[int(c) for c in CODES[1:]],
                                stats_funcs=["mean", "max", "min", "sum", "std", "var", "count"])
                for name, layer in layers.items()}

    r["xrspatial_numpy_s"], _ = best_of(xrspatial)
    table = ours.set_index(["layer", "zone_id"])  # type: ignore[union-attr]
    agc = table.loc["agc"]
    r["max_rel_diff_vs_pandas"] = max(
        rel_diff(agc[c], oracle["agc"][c]) for c in ("mean", "min", "max"))  # type: ignore[index]
    r["max_rel_diff_variance_vs_pandas"] = rel_diff(agc["variance"],
                                                    oracle["agc"]["<lambda_0>"])  # type: ignore[index]
    r["speedup_vs_pandas"] = round(r["pandas_groupby_s"] / r["ours_numpy_s"], 2)
    r["speedup_vs_xrspatial"] = round(r["xrspatial_numpy_s"] / r["ours_numpy_s"], 2)
    record["raster_zones"] = r


def bench_polygons(layer: xr.DataArray, n: int, record: dict) -> None:
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    rng = np.random.default_rng(1)
    ny, nx = layer.shape
    x0, y1 = 500_000.0, 4_100_000.0
    cx = x0 + rng.uniform(0, nx * PIXEL, n)
    cy = y1 - rng.uniform(0, ny * PIXEL, n)
    radius = rng.uniform(10, 200, n) * PIXEL
    polys = gpd.GeoDataFrame({"pid": np.arange(n)}, crs="EPSG:4546",
                             geometry=shapely.buffer(shapely.points(cx, cy), radius))
    r: dict = {"polygons": n, "cells_covered_approx": int(np.sum(np.pi * (radius / PIXEL) ** 2))}
    r["ours_numpy_s"], ours = best_of(lambda: zonal_stats({"agc": layer}, polys, id_column="pid"))
    lazy = layer.chunk(1024)
    r["ours_dask_1024px_s"], _ = best_of(
        lambda: zonal_stats({"agc": lazy}, polys, id_column="pid"))
    source = NumPyRasterSource(layer.values, x0, y1 - ny * PIXEL, x0 + nx * PIXEL, y1,
                               nodata=np.nan)
    ops = ["count", "sum", "mean", "min", "max", "variance", "stdev"]
    r["exactextract_s"], oracle = best_of(
        lambda: exact_extract(source, polys, ops, output="pandas"))
    r["max_rel_diff_vs_exactextract"] = max(
        rel_diff(ours[a], oracle[b])  # type: ignore[index]
        for a, b in (("count", "count"), ("mean", "mean"), ("min", "min"), ("max", "max"),
                     ("variance", "variance"), ("std", "stdev")))
    r["ratio_ours_numpy_to_exactextract"] = round(r["ours_numpy_s"] / r["exactextract_s"], 2)
    record["polygon_zones"] = r


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--polygons", type=int, default=100)
    args = parser.parse_args()
    layers, zones = make_data(args.size)
    record: dict = {"size_px": args.size, "pixel_m": PIXEL, "layers": len(layers)}
    bench_raster(layers, zones, record)
    bench_polygons(layers["agc"], args.polygons, record)
    print(f"{'case':<16}{'ours numpy s':>14}{'ours dask s':>13}{'peer':>22}{'peer s':>9}")
    rz, pz = record["raster_zones"], record["polygon_zones"]
    print(f"{'raster zones':<16}{rz['ours_numpy_s']:>14}{rz['ours_dask_1024px_s']:>13}"
          f"{'pandas groupby':>22}{rz['pandas_groupby_s']:>9}")
    print(f"{'':<16}{'':>14}{'':>13}{'xarray-spatial':>22}{rz['xrspatial_numpy_s']:>9}")
    print(f"{'polygon zones':<16}{pz['ours_numpy_s']:>14}{pz['ours_dask_1024px_s']:>13}"
          f"{'exactextract':>22}{pz['exactextract_s']:>9}")
    save("zonal", record)


if __name__ == "__main__":
    main()
