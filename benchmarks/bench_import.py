"""Importing an archive of Landsat bundles (decision 55): files read ahead on threads vs one by one.

Writes ``--scenes`` (4) USGS-style Collection-2 Level-2 bundles (one ``.tar`` each: six SR bands
and QA_PIXEL as ``--size`` (4000) × ``--size`` px tiled, deflated GeoTIFFs of noisy reflectance,
with an MTL file), then imports the folder of bundles into a fresh workspace with
``minecarbon.pipeline.admission.admit`` twice, each in its own process: with the files' blocks
read one file at a time (``READ_AHEAD = 1``, as before), and read ahead on ``READ_AHEAD``
threads (the default: the cores, at most 8). Admission reads every block of every band (a
truncated file must fail at the door), which is most of an import's time. Reported: seconds of
each, their ratio, the peak RSS of each process, and that both imported the same files.

    .venv/bin/python benchmarks/bench_import.py [--size 4000] [--scenes 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

CRS = "EPSG:4546"
X0, Y1 = 500_000.0, 4_200_000.0
BANDS = ("SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6", "SR_B7", "QA_PIXEL")


def _bundles(folder: Path, size: int, scenes: int) -> None:
    import rasterio
    from affine import Affine

    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "uint16",
               "crs": CRS, "transform": Affine(30.0, 0, X0, 0, -30.0, Y1), "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate"}
    rng = np.random.default_rng(0)
    for k in range(scenes):
        stem = f"LC08_L2SP_125034_2020{7 + k // 3:02d}{1 + 10 * (k % 3):02d}_20200912_02_T1"
        members = Path(tempfile.mkdtemp(dir=folder))
        for band in BANDS:
            if band == "QA_PIXEL":
                data = np.full((size, size), 21824, "uint16")  # clear land
            else:
                data = ((rng.uniform(0.03, 0.4, (size, size)) + 0.2) / 2.75e-5).astype("uint16")
            with rasterio.open(members / f"{stem}_{band}.TIF", "w", **profile,
                               nodata=1 if band == "QA_PIXEL" else 0) as dst:
                dst.write(data, 1)
        (members / f"{stem}_MTL.txt").write_text("GROUP = LANDSAT_METADATA_FILE\n")
        with tarfile.open(folder / f"{stem}.tar", "w") as tf:
            for f in sorted(members.iterdir()):
                tf.add(f, arcname=f.name)
                f.unlink()
        members.rmdir()


def _workspace(root: Path, size: int) -> Path:
    import geopandas as gpd
    from shapely.geometry import box

    from minecarbon.catalog import Workspace
    from minecarbon.config import CONFIG_FILE, render_config

    ws = Workspace.init(root)
    (ws.root / CONFIG_FILE).write_text(render_config({
        "project": {"name": "bench", "crs": CRS, "first_year": 2020, "last_year": 2020}}),
        encoding="utf-8")
    ws.reload_config()
    side = size * 30.0
    boundary = root.parent / f"{root.name}_boundary.gpkg"
    gpd.GeoDataFrame({"name": ["mine"]}, geometry=[box(X0 + side / 3, Y1 - 2 * side / 3,
                                                       X0 + 2 * side / 3, Y1 - side / 3)],
                     crs=CRS).to_file(boundary)
    ws.import_raw("boundary", boundary)
    ws.close()
    return root


def _one(bundles: str, root: str, size: int, read_ahead: int) -> None:
    import minecarbon.pipeline.admission as admission
    from minecarbon.catalog import Workspace

    ws_root = _workspace(Path(root), size)
    admission.READ_AHEAD = read_ahead
    start = time.perf_counter()
    with Workspace.open(ws_root) as ws:
        records = admission.admit(ws, "scene", Path(bundles))
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": round(seconds, 2), "files": sorted(r.path for r in records),
                      "peak_rss_mb": round(resource.getrusage(
                          resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--read-ahead", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one[0], args.one[1], args.size, args.read_ahead)
        return
    from minecarbon.pipeline.admission import READ_AHEAD

    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        bundles = Path(tmp) / "downloads"
        bundles.mkdir()
        _bundles(bundles, args.size, args.scenes)
        runs = {}
        for name, ahead in (("one_by_one", 1), ("read_ahead", READ_AHEAD)):
            out = subprocess.run(
                [sys.executable, __file__, "--size", str(args.size), "--read-ahead", str(ahead),
                 "--one", str(bundles), str(Path(tmp) / f"ws_{name}"), "x"],
                check=True, capture_output=True, text=True)
            runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    files = {name: run.pop("files") for name, run in runs.items()}
    save("import", {
        "size_px": args.size, "scenes": args.scenes, "bands_per_scene": len(BANDS),
        "read_ahead_threads": READ_AHEAD, **runs,
        "ratio_one_by_one_to_read_ahead": round(
            runs["one_by_one"]["seconds"] / runs["read_ahead"]["seconds"], 2),
        "same_files": files["one_by_one"] == files["read_ahead"],
        "files_imported": len(files["read_ahead"]),
    })


if __name__ == "__main__":
    main()
