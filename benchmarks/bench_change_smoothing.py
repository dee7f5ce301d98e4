"""A stable stand's change (decision 56): the zoned window mean over a (year, y, x) cube.

    .venv/bin/python benchmarks/bench_change_smoothing.py [--size 4000] [--years 25] [--window 3]

The cube is generated block by block (float32 AGC, 12 zones, 10 % of the pixels unmapped in
some year), 1024-px chunks as the mapping step reads its staged maps, and reduced to a sum on
the threaded scheduler. Each run is a process of its own, so that its peak RSS is its own:

* ``files``: the mapping stage's path — the cube written first as one GeoTIFF per year with a
  forest-type and a unit layer (not timed), then every block reading its own window and halo
  from them (``minecarbon.pipeline.change_smoothing_steps._windowed``): tasks independent of
  each other, so memory is that of a few blocks whatever the area;
* ``chunked``: :func:`~minecarbon.mapping.change_smoothing.smooth_change` (dask
  ``map_overlap``) on the generated cube, the in-memory API's path, whose peak grows with the
  area (dask holds neighbouring blocks for their halos);
* ``generate``: the same cube reduced without the smoothing (the cost of making the data);
* ``whole``: the kernel (:func:`~minecarbon.mapping.change_smoothing.smooth_block`) on the
  whole cube in memory at ``--peer-size``² (1000), beside ``chunked`` at the same size: the
  per-pixel cost of the halo and the blocks, as a ratio (the sums must be equal).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import in_own_process, peak_rss_mb, save

from minecarbon.mapping.change_smoothing import smooth_block, smooth_change

CHUNK = 1024
ZONES = 12


def _agc_block(block_id: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(block_id[1] * 1000 + block_id[2])
    level = rng.uniform(10, 90, shape[1:]).astype(np.float32)
    growth = rng.uniform(0, 2, shape[1:]).astype(np.float32)
    years = np.arange(shape[0], dtype=np.float32)[:, None, None]
    out = level + growth * years + rng.normal(0, 4, shape).astype(np.float32)
    gone = rng.random(shape[1:]) < 0.10
    out[rng.integers(0, shape[0]), gone] = np.nan
    return out


def _zone_block(block_id: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(10_000 + block_id[0] * 1000 + block_id[1])
    return rng.integers(0, ZONES, shape).astype(np.int64)


def cubes(size: int, n_years: int) -> tuple[xr.DataArray, xr.DataArray]:
    """The lazily generated AGC cube and zone layer."""
    yx = tuple([CHUNK] * (size // CHUNK) + ([size % CHUNK] if size % CHUNK else []))
    agc = da.map_blocks(lambda block_id=None: _agc_block(  # type: ignore[no-untyped-call]
        block_id, (n_years, *_extent(block_id, yx))), chunks=((n_years,), yx, yx),
        dtype=np.float32, meta=np.array((), np.float32))
    zone = da.map_blocks(lambda block_id=None: _zone_block(  # type: ignore[no-untyped-call]
        block_id, _extent((0, *block_id), yx)), chunks=(yx, yx), dtype=np.int64,
        meta=np.array((), np.int64))
    years = np.arange(2000, 2000 + n_years)
    return (xr.DataArray(agc, dims=("year", "y", "x"), coords={"year": years}),
            xr.DataArray(zone, dims=("y", "x")))


def _extent(block_id: tuple[int, ...], yx: tuple[int, ...]) -> tuple[int, int]:
    return yx[block_id[1]], yx[block_id[2]]


def run_one(mode: str, size: int, n_years: int, window: int, folder: str = ""
            ) -> dict[str, Any]:
    """One measurement in this process: seconds, peak RSS and a checksum of the result."""
    if mode == "files":
        return _files_run(Path(folder), size, n_years, window)
    if mode == "write":
        write_files(Path(folder), size, n_years)
        return {"mode": "write"}
    agc, zone = cubes(size, n_years)
    reference = int(agc["year"].values[-1])
    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        if mode == "generate":
            total = float(agc.sum().compute())
        elif mode == "chunked":
            total = float(smooth_change(agc, reference, zone, window).sum().compute())
        else:  # whole: the kernel on the whole cube in memory
            out = smooth_block(agc.values, zone.values, n_years - 1, window)
            total = float(np.nansum(out, dtype=np.float64))
    return {"mode": mode, "size": size, "years": n_years, "seconds":
            round(time.perf_counter() - start, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
            "sum": total}


def _grid(size: int) -> Any:
    from minecarbon.grid import AnalysisGrid

    return AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, size, size)


def _paths(folder: Path, n_years: int) -> tuple[list[Path], list[Path]]:
    return ([folder / f"agc_{i}.tif" for i in range(n_years)],
            [folder / "ftype.tif", folder / "unit.tif"])


def write_files(folder: Path, size: int, n_years: int) -> None:
    """The generated cube as a GeoTIFF per year and two zone layers, block by block."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    grid = _grid(size)
    profile = {"driver": "GTiff", "height": size, "width": size, "count": 1, "crs": grid.crs,
               "transform": Affine(*grid.transform), "tiled": True, "blockxsize": 512,
               "blockysize": 512}
    paths, zone_paths = _paths(folder, n_years)
    dsts = [rasterio.open(p, "w", dtype="float32", nodata=np.nan, **profile) for p in paths]
    zdsts = [rasterio.open(p, "w", dtype="uint8", nodata=0, **profile) for p in zone_paths]
    yx = [min(CHUNK, size - i) for i in range(0, size, CHUNK)]
    offsets = np.concatenate([[0], np.cumsum(yx)])
    for bi, h in enumerate(yx):
        for bj, w in enumerate(yx):
            window = Window(int(offsets[bj]), int(offsets[bi]), w, h)
            block = _agc_block((0, bi, bj), (n_years, h, w))
            for i, dst in enumerate(dsts):
                dst.write(block[i][None], window=window)
            z = _zone_block((bi, bj), (h, w))
            for dst, layer in zip(zdsts, (z // 3, z % 3), strict=True):
                dst.write(layer.astype("uint8")[None], window=window)
    for dst in [*dsts, *zdsts]:
        dst.close()


def _files_run(folder: Path, size: int, n_years: int, window: int) -> dict[str, Any]:
    from minecarbon.pipeline.change_smoothing_steps import _windowed

    paths, zone_paths = _paths(folder, n_years)
    start = time.perf_counter()
    with dask.config.set(scheduler="threads"):
        cube = _windowed(paths, zone_paths, [], _grid(size), CHUNK, n_years - 1, window,
                         list(range(n_years)))
        total = float(cube.sum().compute())
    return {"mode": "files", "size": size, "years": n_years,
            "seconds": round(time.perf_counter() - start, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1), "sum": total}


def _subprocess(mode: str, size: int, n_years: int, window: int, folder: str = ""
                ) -> dict[str, Any]:
    return in_own_process(__file__, "--one", mode, "--size", size, "--years", n_years,
                          "--window", window, "--folder", folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--peer-size", type=int, default=1000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--window", type=int, default=3)
    parser.add_argument("--one", choices=["generate", "chunked", "whole", "files", "write"])
    parser.add_argument("--folder", default="")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.size, args.years, args.window, args.folder)))
        return
    import tempfile

    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        _subprocess("write", args.size, args.years, args.window, tmp)
        files = _subprocess("files", args.size, args.years, args.window, tmp)
    runs = {
        "files": files,
        "generate": _subprocess("generate", args.size, args.years, args.window),
        "chunked": _subprocess("chunked", args.size, args.years, args.window),
        "peer_chunked": _subprocess("chunked", args.peer_size, args.years, args.window),
        "peer_whole": _subprocess("whole", args.peer_size, args.years, args.window),
    }
    mpx_years = args.size**2 * args.years / 1e6
    smoothing = runs["chunked"]["seconds"] - runs["generate"]["seconds"]
    same = np.isclose(runs["peer_chunked"]["sum"], runs["peer_whole"]["sum"], rtol=1e-6)
    save(f"change_smoothing_{args.size}x{args.years}", {
        "window_px": args.window, "runs": runs,
        "smoothing_seconds_per_megapixel_year": round(smoothing / mpx_years, 4),
        "files_seconds_per_megapixel_year": round(runs["files"]["seconds"] / mpx_years, 4),
        "files_equal_chunked": bool(np.isclose(runs["files"]["sum"], runs["chunked"]["sum"],
                                               rtol=1e-9)),
        "chunked_over_whole_at_peer_size": round(
            runs["peer_chunked"]["seconds"] / max(runs["peer_whole"]["seconds"], 1e-9), 2),
        "chunked_equals_whole": bool(same)})


if __name__ == "__main__":
    main()
