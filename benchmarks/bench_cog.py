"""Cost of writing products as Cloud-Optimized GeoTIFFs (issue 15): time, size, peak memory.

Writes a ``--size`` (4000) × 4000 px raster with ``minecarbon.io.raster`` as the pipeline does
(dask array in 1024-px chunks, written block by block by ``BlockWriter``), once as the plain
tiled GeoTIFF written before issue 15 (``cog=False``: tiles, deflate level 1 + predictor, no
overviews) and once as a Cloud-Optimized GeoTIFF (the default for rasters of 512 px or more:
the same intermediate, then overviews and GDAL's COG copy). Three products:

* ``float32``: one band of a smooth AGC-like field with noise and a NaN hole (``write_geotiff``,
  average overviews, GDAL's COG driver);
* ``uint8``: class codes 1–6 in patches, 0 as nodata (``write_geotiff``, mode overviews);
* ``stack``: ``--bands`` (8) float32 bands (``write_stack``, band-interleaved COG through the
  GTiff driver with ``COPY_SRC_OVERVIEWS``).

Each write runs in a process of its own (so its peak RSS is its own), ``--repeat`` (3) times,
alternating plain and COG, and the best time is kept; the data are generated inside the dask
graph, block by block, and not counted apart from being computed. Reported: seconds, the ratio
COG / plain, file sizes, peak RSS, and whether the COG passes ``rio cogeo validate --strict``.

    .venv/bin/python benchmarks/bench_cog.py [--size 4000] [--bands 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

CRS = "EPSG:4546"
CHUNK = 1024


def _field(block_info: dict[Any, Any] | None = None, seed: int = 0) -> np.ndarray:
    assert block_info is not None
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    yy, xx = np.mgrid[r0:r1, c0:c1]
    rng = np.random.default_rng([seed, r0, c0])
    values = (40 + 20 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
              + rng.normal(0, 2, (r1 - r0, c1 - c0))).astype("float32")
    values[(yy // 700 == 2) & (xx // 900 == 1)] = np.nan
    return values


def _classes(block_info: dict[Any, Any] | None = None) -> np.ndarray:
    assert block_info is not None
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    yy, xx = np.mgrid[r0:r1, c0:c1]
    codes = ((yy // 37) * 7 + (xx // 53) * 3) % 6 + 1
    codes[(yy < 300) & (xx < 500)] = 0
    return codes.astype("uint8")


def worker(job: dict[str, Any]) -> dict[str, Any]:
    import dask.array as dsa
    import xarray as xr

    from minecarbon.grid import AnalysisGrid
    from minecarbon.io import raster

    size, path = job["size"], Path(job["path"])
    grid = AnalysisGrid(CRS, 30.0, 500_000.0, 4_100_000.0, size, size)

    sides = (CHUNK,) * (size // CHUNK) + ((size % CHUNK,) if size % CHUNK else ())

    def layer(fn: Any, dtype: str, name: str, **kw: Any) -> xr.DataArray:
        data = dsa.map_blocks(fn, dtype=dtype, chunks=(sides, sides), **kw)
        return raster.to_grid_dataarray(data, grid, name)

    if not job["cog"]:  # the writer as it was before issue 15: never a COG
        raster.COG_MIN_PX = 10**9
    start = time.perf_counter()
    if job["product"] == "float32":
        raster.write_geotiff(layer(_field, "float32", "agc_t_per_ha"), path)
    elif job["product"] == "uint8":
        raster.write_geotiff(layer(_classes, "uint8", "forest_type"), path, nodata=0)
    else:
        stack = xr.Dataset({f"band_{i}": layer(_field, "float32", f"band_{i}", seed=i)
                            for i in range(job["bands"])}).rio.write_crs(CRS)
        raster.write_stack(stack, path, tags={"YEAR": "2020"})
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "bytes": path.stat().st_size,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run(job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], check=True,
                          capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--bands", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--products", nargs="+", default=["float32", "uint8", "stack"])
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    from rio_cogeo.cogeo import cog_validate

    record: dict[str, Any] = {"size_px": args.size, "bands_in_stack": args.bands,
                              "repeat": args.repeat, "chunk_px": CHUNK}
    with tempfile.TemporaryDirectory(prefix="bench-cog-") as folder:
        for product in args.products:
            runs: dict[str, list[dict[str, Any]]] = {"plain": [], "cog": []}
            for i in range(args.repeat):
                for kind in ("plain", "cog"):
                    path = Path(folder) / f"{product}_{kind}_{i}.tif"
                    runs[kind].append(run({"size": args.size, "bands": args.bands,
                                           "product": product, "cog": kind == "cog",
                                           "path": str(path)}))
                    if i == 0 and kind == "cog":
                        valid, errors, warnings = cog_validate(str(path), strict=True,
                                                               quiet=True)
                        record[f"{product}_cog_valid_strict"] = valid and not errors \
                            and not warnings
                    path.unlink()
            entry: dict[str, Any] = {}
            for kind, results in runs.items():
                best = min(results, key=lambda r: r["seconds"])
                entry[kind] = {"best_s": best["seconds"],
                               "all_s": [r["seconds"] for r in results],
                               "mb": round(best["bytes"] / 2**20, 2),
                               "bytes": best["bytes"],
                               "peak_rss_mb": max(r["peak_rss_mb"] for r in results)}
            entry["time_ratio_cog_to_plain"] = round(
                entry["cog"]["best_s"] / entry["plain"]["best_s"], 2)
            entry["size_ratio_cog_to_plain"] = round(
                entry["cog"]["bytes"] / entry["plain"]["bytes"], 3)
            record[product] = entry
            print(product, json.dumps(entry), flush=True)
    save(f"cog_{args.size}", record)


if __name__ == "__main__":
    main()
