"""The web viewer's export for a 4000 × 4000 px × 25-year workspace (issue 18, point 3).

Writes a synthetic workspace — 25 annual AGC maps with their interval bounds and level-1/2
unit maps, float32/uint8 tiled GeoTIFFs on a 30 m grid — then times ``export_viewer`` (default
1024 px a side: each displayed pixel a 4 × 4 block) in this process, and states its size and
peak memory. The peer an Earth Engine app would be is a server; there is no local peer to run.

    .venv/bin/python benchmarks/bench_viewer.py [--size 4000] [--years 25] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from _measure import save, timed
from rasterio.transform import from_origin

from minecarbon.view import export_viewer


def _write(path: Path, data: np.ndarray, nodata: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype, crs="EPSG:4546", nodata=nodata, tiled=True,
                       blockxsize=512, blockysize=512,
                       transform=from_origin(500_000.0, 4_200_000.0, 30.0, 30.0)) as dst:
        dst.write(data, 1)


def workspace(root: Path, size: int, years: int) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = (40 + 25 * np.sin(6 * xx) * np.cos(4 * yy)).astype("float32")
    forest = (np.sin(13 * xx + 3 * np.cos(9 * yy)) > -0.3)
    l1 = np.where(forest, np.where(xx > 0.6, 2, 1), 0).astype("uint8")
    for k, year in enumerate(range(2000, 2000 + years)):
        agc = np.where(forest, base + 0.8 * k + rng.normal(0, 2, base.shape).astype("float32"),
                       np.nan).astype("float32")
        _write(root / f"products/agc/agc_{year}.tif", agc, float("nan"))
        _write(root / f"products/agc/agc_{year}_lower.tif", agc - 12, float("nan"))
        _write(root / f"products/agc/agc_{year}_upper.tif", agc + 12, float("nan"))
        _write(root / f"products/units/units_l1_{year}.tif", l1, 0)
        _write(root / f"products/units/units_l2_{year}.tif", (l1 * 10).astype("uint8"), 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    record: dict = {"size_px": args.size, "years": args.years}
    try:
        with timed(record, "write_workspace_s"):
            workspace(root, args.size, args.years)
        with timed(record, "export_s"):
            export_viewer(root, root / "view")
        files = [p for p in (root / "view").rglob("*") if p.is_file()]
        record["export_mb"] = round(sum(p.stat().st_size for p in files) / 2**20, 1)
        record["files"] = len(files)
        record["seconds_per_year"] = round(record["export_s"] / args.years, 2)
        save(f"viewer_{args.size}x{args.years}", record)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
