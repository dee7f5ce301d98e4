"""Annual AGC maps (issue 7, M6): time per megapixel-year and peak memory, per model kind.

Fits a :class:`~minecarbon.modeling.StratifiedModel` per model kind (svr, rf, gbdt, xgboost) on
150 synthetic plots in 3 forest types (60/50/40, so each has its own model) with 40 features,
correlation selection down to 10, 5 × 3 nested CV, and saves it with ``minecarbon.io.models``.
Writes a synthetic 40-band float32 feature stack, a forest-type map and a land-cover map with
``minecarbon.io`` (``BlockWriter``, 1024-px chunks on reading, as the pipeline does), then maps
AGC exactly as the ``mapping`` step does — read the stack lazily, :func:`predict_agc`, write the
GeoTIFF block by block — each run in a process of its own so that its peak RSS is its own:

* ``--size`` (4000) × 4000 px, one year, every kind, with ``minecarbon.mapping.predict_agc``
  and with the naive path it replaced (all stack bands concatenated, a pandas DataFrame and an
  object array of stratum labels per block, ``StratifiedModel.predict``), side by side;
* ``--small-size`` (1000) px for 1 and ``--years`` (20) years (one stack file mapped as every
  year, an AGC file written per year): memory does not grow with the years.

    .venv/bin/python benchmarks/bench_mapping.py [--size 4000] [--kinds svr rf gbdt xgboost]
    .venv/bin/python benchmarks/bench_mapping.py --kinds gbdt --size 0 --small-size 4000 \
        --name mapping_4000x20_gbdt          # 20 years at 4000 × 4000 px only

Files go to a temporary folder under /tmp and are deleted (the 4000² stack is ≈ 2.4 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.grid import AnalysisGrid
from minecarbon.io.models import load_model, save_model
from minecarbon.io.raster import BlockWriter, read_on_grid, read_stack, write_geotiff
from minecarbon.mapping import FOREST_TYPE_LABELS, model_inputs, predict_agc
from minecarbon.modeling import MODEL_FORMAT, check_loaded, fit_stratified, model_payload
from minecarbon.modeling.stratified import POOLED

CRS = "EPSG:4546"
BLOCK = 500
CHUNK = 1024
N_FEATURES = 40
STRATA = {"coniferous": 60, "broadleaf": 50, "sparse": 40}
CODES = {label: code for code, label in FOREST_TYPE_LABELS.items()}


# ------------------------------------------------------------------------- synthetic site
def _feature(j: int, y: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Feature ``j`` at pixel rows ``y`` and columns ``x``: smooth waves plus pixel noise."""
    p = np.random.default_rng([99, j]).uniform(0.0, 1.0, 6)
    wave = np.sin(x / (40 + 200 * p[0]) + 6 * p[1]) * np.cos(y / (40 + 200 * p[2]) + 6 * p[3])
    ramp = np.sin((x + y * (p[4] - 0.5)) / (300 + 500 * p[5]))
    return (0.6 * wave + 0.4 * ramp + rng.normal(0.0, 0.05, x.shape)).astype(np.float32)


def _forest_type(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    field = np.sin(x / 350.0) + np.cos(y / 420.0)
    return np.select([field > 0.5, field < -0.4], [CODES["coniferous"], CODES["broadleaf"]],
                     CODES["sparse"]).astype(np.uint8)


def _forest(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.sin(x / 77.0) * np.sin(y / 91.0) > -0.6  # about 80 % forest


def _agc(features: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Plot AGC (t C/ha): a per-type function of 5 of the 40 features plus noise."""
    f = features
    base = 45 + 30 * f[:, 0] + 20 * f[:, 3] - 15 * f[:, 7] + 15 * f[:, 12] * f[:, 20]
    scale = np.select([codes == CODES["coniferous"], codes == CODES["broadleaf"]], [1.1, 1.0],
                      0.8)
    return np.clip(scale * base + rng.normal(0, 4.0, codes.size), 0, None)


def _plots(n: int) -> pd.DataFrame:
    """150 plots in forest, drawn at random pixels of an n × n site until each type is full."""
    rng = np.random.default_rng(1)
    y, x = rng.integers(0, n, 20000), rng.integers(0, n, 20000)
    keep = _forest(y, x)
    y, x = y[keep], x[keep]
    codes = _forest_type(y, x)
    rows = np.concatenate([np.flatnonzero(codes == CODES[s])[:k] for s, k in STRATA.items()])
    y, x, codes = y[rows], x[rows], codes[rows]
    feats = np.stack([_feature(j, y, x, rng) for j in range(N_FEATURES)], axis=1)
    table = pd.DataFrame(feats, columns=[f"f{j:02d}" for j in range(N_FEATURES)])
    table.insert(0, "plot_id", [f"P{i:03d}" for i in range(len(rows))])
    table["forest_type"] = [FOREST_TYPE_LABELS[int(c)] for c in codes]
    table["agc_t_per_ha"] = _agc(feats, codes, rng)
    return table


def _write_site(folder: Path, n: int) -> dict[str, str]:
    grid = AnalysisGrid(CRS, 30.0, 500_000.0, 4_200_000.0, n, n)
    names = tuple(f"f{j:02d}" for j in range(N_FEATURES))
    paths = {"stack": folder / "features.tif", "ftype": folder / "forest_type.tif",
             "landcover": folder / "landcover.tif"}
    with BlockWriter(paths["stack"], grid, "float32", names, float("nan")) as stack, \
            BlockWriter(paths["ftype"], grid, "uint8", ("forest_type",), 0) as ftype, \
            BlockWriter(paths["landcover"], grid, "uint8", ("landcover",), 0) as lc:
        for r0 in range(0, n, BLOCK):
            for c0 in range(0, n, BLOCK):
                y, x = np.mgrid[r0:min(n, r0 + BLOCK), c0:min(n, c0 + BLOCK)]
                rng = np.random.default_rng([r0, c0])
                stack.write(r0, c0, np.stack([_feature(j, y, x, rng) for j in range(len(names))]))
                ftype.write(r0, c0, _forest_type(y, x))
                lc.write(r0, c0, np.where(_forest(y, x), 1, 3).astype(np.uint8))
    return {k: str(v) for k, v in paths.items()}


# ------------------------------------------------------------------------------- mapping
def naive_agc_map(model: Any, stack: Any, forest_type: Any, forest: Any) -> Any:
    """The mapping step before issue 7's mapping package (the baseline), unchanged."""
    import xarray as xr

    features = list(model.features)
    values = xr.concat([stack[f] for f in features], dim="feature").transpose("y", "x", "feature")
    values = values.chunk({"feature": -1})

    def block(v: np.ndarray, ftype: np.ndarray, inside: np.ndarray) -> np.ndarray:
        out = np.full(v.shape[:2], np.nan, np.float32)
        flat = v.reshape(-1, v.shape[-1])
        ok = inside.ravel() & np.isfinite(flat).all(axis=1)
        if ok.any():
            strata = np.array([FOREST_TYPE_LABELS.get(int(c), POOLED) for c in ftype.ravel()[ok]],
                              dtype=object)
            frame = pd.DataFrame(flat[ok], columns=features)
            out.ravel()[ok] = np.clip(model.predict(frame, strata), 0.0, None)
        return out

    agc = xr.apply_ufunc(block, values, forest_type, forest, input_core_dims=[["feature"], [], []],
                         dask="parallelized", output_dtypes=[np.float32])
    return agc.rename("agc_t_per_ha").assign_attrs(units="t C/ha")


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """Map ``years`` years from one stack with one model; time, peak RSS, map statistics."""
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    stored = load_model(Path(job["model"]), fmt=MODEL_FORMAT)
    model = check_loaded(stored.model, stored.header, stored.card)
    n = job["size"]
    grid = AnalysisGrid(CRS, 30.0, 500_000.0, 4_200_000.0, n, n)
    out = Path(job["out"])
    load = os.getloadavg()[0]
    rss_by_year = []
    for year in range(job["years"]):
        stack = read_stack(Path(job["stack"]), chunks=CHUNK)
        ftype = read_on_grid(Path(job["ftype"]), grid, chunks=CHUNK, masked=False)
        lc = read_on_grid(Path(job["landcover"]), grid, chunks=CHUNK, masked=False)
        make = naive_agc_map if job["method"] == "naive" else predict_agc
        agc = make(model, stack, ftype, lc == 1).rio.write_crs(grid.crs)
        path = out / f"agc_{job['method']}_{year}.tif"
        write_geotiff(agc, path)
        rss_by_year.append(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    seconds = time.perf_counter() - start  # load the model, read, predict, write
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    check = read_on_grid(out / f"agc_{job['method']}_0.tif", grid, chunks=CHUNK)
    mpx_years = n * n * job["years"] / 1e6
    return {"seconds": round(seconds, 1), "megapixel_years": mpx_years,
            "s_per_megapixel_year": round(seconds / mpx_years, 3), "peak_rss_mb": round(peak, 1),
            "agc_sum": float(check.astype("float64").sum().values),
            "mapped_pixels": int(check.notnull().sum().values),
            "load_average_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
            "peak_rss_mb_after_each_year": rss_by_year}


def _run(job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], check=True,
                          capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    for p in Path(job["out"]).glob("agc_*.tif"):
        p.unlink()
    print(job["kind"], job["method"], job["size"], job["years"], result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--small-size", type=int, default=1000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--kinds", nargs="+", default=["svr", "rf", "gbdt", "xgboost"])
    parser.add_argument("--name", default="mapping", help="results/<name>.json")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-mapping-"))
    record: dict[str, Any] = {"size": args.size, "small_size": args.small_size,
                              "years": args.years, "features_in_stack": N_FEATURES,
                              "plots": sum(STRATA.values()), "strata": STRATA,
                              "chunk_px": CHUNK, "kinds": {}}
    try:
        plots = _plots(max(args.size, args.small_size))
        features = [f"f{j:02d}" for j in range(N_FEATURES)]
        models = {}
        for kind in args.kinds:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = fit_stratified(plots, "agc_t_per_ha", "forest_type", features,
                                       kinds=[kind], selector_params={"k": 10}, seed=0)
            fmt, header, card = model_payload(model)
            models[kind] = save_model(model, tmp / f"agc_{kind}.joblib", fmt=fmt,
                                      header=header, card=card)
            record["kinds"][kind] = {"fit_s": round(time.perf_counter() - start, 1),
                                     "bands_read": len(model_inputs(model)),
                                     "r2_oof": {str(f.label): round(f.metrics["r2"], 3)
                                                for f in [model.pooled,
                                                          *model.strata.values()]}}
        for part, size in (("side_by_side", args.size), ("years", args.small_size)):
            if size <= 0:  # --size 0: no side-by-side run
                continue
            folder = tmp / f"site_{part}"
            start = time.perf_counter()
            site = _write_site(folder, size)
            record[f"write_site_{part}_s"] = round(time.perf_counter() - start, 1)
            record[f"stack_{part}_bytes"] = Path(site["stack"]).stat().st_size
            for kind in args.kinds:
                base = {**site, "model": str(models[kind]), "kind": kind, "size": size,
                        "out": str(folder)}
                entry = record["kinds"][kind]
                if part == "side_by_side":
                    fast = _run({**base, "method": "predict_agc", "years": 1})
                    naive = _run({**base, "method": "naive", "years": 1})
                    entry[f"predict_agc_{size}"] = fast
                    entry[f"naive_{size}"] = naive
                    entry["speedup"] = round(naive["seconds"] / fast["seconds"], 2)
                    entry["same_pixels_mapped"] = fast["mapped_pixels"] == naive["mapped_pixels"]
                    entry["agc_sum_relative_difference"] = abs(
                        fast["agc_sum"] / naive["agc_sum"] - 1)
                else:
                    for years in (1, args.years):
                        entry[f"predict_agc_{size}_{years}y"] = _run(
                            {**base, "method": "predict_agc", "years": years})
            shutil.rmtree(folder, ignore_errors=True)
        save(args.name, record)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
