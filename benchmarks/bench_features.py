"""A whole feature stack for 4000 × 4000 pixels (issue 6): time per megapixel, peak memory.

Builds a one-year workspace whose grid is 4000 × 4000 pixels of 30 m: a boundary polygon, a
land-cover map, a DEM and three growing-season Landsat-8 Collection-2 scenes with QA_PIXEL
(clouds included), all written block by block. Then runs the pipeline's ``units`` and
``features`` steps exactly as `minecarbon run` does — read and cloud-mask the scenes, median
composite, indices, tasseled cap with DI, GLCM texture on NIR (four directions), terrain, and
the multi-band stack written block by block — and reports the time of the features step per
megapixel and the peak resident memory of that step (run in a process of its own).

    .venv/bin/python benchmarks/bench_features.py [--size 4000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import box

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import peak_rss_mb, save

from minecarbon.catalog import Workspace
from minecarbon.config import CONFIG_FILE, render_config
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import BlockWriter
from minecarbon.pipeline import run_pipeline
from minecarbon.pipeline.steps import default_steps

CRS = "EPSG:4546"
PIXEL = 30.0
BLOCK = 500
YEAR = 2020


def _fields(rows: slice, cols: slice, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Smooth forest-cover and elevation fields plus pixel noise for one block."""
    y, x = np.mgrid[rows, cols].astype(np.float64)
    cover = 0.5 + 0.35 * np.sin(x / 97.0) * np.cos(y / 131.0)
    rng = np.random.default_rng([seed, rows.start, cols.start])
    cover = np.clip(cover + rng.normal(0, 0.05, cover.shape), 0, 1)
    elevation = 900 + 60 * np.sin(x / 400.0) + 40 * np.cos(y / 300.0) + 5 * np.sin(x / 23.0)
    return cover, elevation


def _write_inputs(root: Path, grid: AnalysisGrid, n: int) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {"scene": [], "dem": [], "landcover": []}
    soil = np.array([0.10, 0.15, 0.21, 0.26, 0.34, 0.29])
    leaf = np.array([0.03, 0.07, 0.03, 0.40, 0.18, 0.08])
    names = ("SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL")
    writers = {
        "dem": BlockWriter(root / "dem.tif", grid, "float32", ("elevation",)),
        "landcover": BlockWriter(root / f"landcover_{YEAR}.tif", grid, "uint8", ("landcover",),
                                 0),
    }
    for i, day in enumerate((15, 10, 5)):
        stamp = f"{YEAR}{7 + i:02d}{day:02d}"
        writers[f"s{i}"] = BlockWriter(
            root / f"LC08_L2SP_125034_{stamp}_{stamp}_02_T1_SR.tif", grid, "uint16", names, 0,
            {"ACQUISITION_DATE": f"{YEAR}-{7 + i:02d}-{day:02d}"})
    for r0 in range(0, n, BLOCK):
        for c0 in range(0, n, BLOCK):
            rows, cols = slice(r0, min(n, r0 + BLOCK)), slice(c0, min(n, c0 + BLOCK))
            cover, elevation = _fields(rows, cols, 1)
            writers["dem"].write(r0, c0, elevation.astype("float32"))
            writers["landcover"].write(r0, c0, np.where(cover > 0.45, 1, 3).astype("uint8"))
            for i in range(3):
                rng = np.random.default_rng([i, r0, c0])
                refl = cover[None] * leaf[:, None, None] + (1 - cover[None]) * soil[:, None,
                                                                                     None]
                refl = refl + rng.normal(0, 0.005, refl.shape)
                dn = np.clip(np.round((refl + 0.2) / 2.75e-5), 1, 65535).astype("uint16")
                cloudy = _cloud(rows, cols, i)
                qa = np.where(cloudy, 22280, 21824).astype("uint16")
                writers[f"s{i}"].write(r0, c0, np.concatenate([dn, qa[None]]))
    for key, w in writers.items():
        path = w.close()
        out["scene" if key.startswith("s") else key].append(path)
    return out


def _cloud(rows: slice, cols: slice, i: int) -> np.ndarray:
    y, x = np.mgrid[rows, cols].astype(np.float64)
    return np.sin(x / (53.0 + 7 * i) + i) * np.sin(y / (61.0 + 5 * i)) > 0.75


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    n = args.size
    tmp = Path(tempfile.mkdtemp(prefix="bench-features-"))
    root = args.keep or tmp / "ws"
    grid = AnalysisGrid(CRS, PIXEL, 500_000.0, 4_200_000.0, n, n)
    record: dict = {"pixels": n * n, "megapixels": n * n / 1e6, "scenes": 3}
    try:
        start = time.perf_counter()
        inputs = _write_inputs(tmp, grid, n)
        record["write_inputs_s"] = round(time.perf_counter() - start, 1)
        with Workspace.init(root) as ws:
            (root / CONFIG_FILE).write_text(render_config({
                "project": {"name": "benchmark", "crs": CRS, "first_year": YEAR,
                            "last_year": YEAR},
                "scope": {"buffer_m": 100.0, "pixel_size_m": PIXEL},
                "assessment": {"base_years": [YEAR]},
            }), encoding="utf-8")
            ws.reload_config()
            inner = box(*grid.bounds).buffer(-150.0)
            boundary = gpd.GeoDataFrame({"name": ["mine"]}, geometry=[inner], crs=CRS)
            boundary.to_file(tmp / "boundary.gpkg")
            ws.import_raw("boundary", tmp / "boundary.gpkg")
            for kind, paths in inputs.items():
                for p in paths:
                    ws.import_raw(kind, p, time=str(YEAR) if kind == "landcover" else None,
                                  move=True)
            steps = default_steps()
            start = time.perf_counter()
            run_pipeline(ws, steps, until="units")
            record["units_s"] = round(time.perf_counter() - start, 1)
        record["peak_rss_making_inputs_mb"] = round(peak_rss_mb(), 1)
        # the features step in a process of its own, so that its peak memory is its own
        code = ("import sys; from pathlib import Path; from minecarbon.catalog import Workspace;"
                "from minecarbon.pipeline import run_pipeline;"
                "from minecarbon.pipeline.steps import default_steps;"
                "ws = Workspace.open(Path(sys.argv[1]));"
                "run_pipeline(ws, default_steps(), until='features')")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(root)], check=True)
        seconds = time.perf_counter() - start
        child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        record["features_s"] = round(seconds, 1)
        record["seconds_per_megapixel"] = round(seconds / record["megapixels"], 3)
        record["features_step_peak_rss_mb"] = round(child_peak, 1)
        stack = root / f"products/features/features_{YEAR}.tif"
        record["stack_bytes"] = stack.stat().st_size
        import rasterio

        with rasterio.open(stack) as src:
            record["features"] = src.count
            record["uncompressed_stack_mb"] = round(src.count * n * n * 4 / 1e6, 1)
        save("features_stack", record)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
