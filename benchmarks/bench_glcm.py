"""GLCM texture, 2048 × 2048 px, 7 × 7 window, 32 grey levels, 8 measures (F5: ≥ 1000× skimage).

    .venv/bin/python benchmarks/bench_glcm.py [--size 2048] [--sample 2000] [--no-otb]

The image is a seeded random field (gamma-distributed "reflectance" smoothed over 3 px, so that
windows have texture but are not white noise). minecarbon's :func:`glcm_texture` with the
scikit-image convention (pairs inside the window, distance 1, angle 0, symmetric) is timed on the
whole image with one numba thread and with all threads (best of three runs each), plus the ENVI
convention, the four directions averaged and the dask path (512 px chunks).

Peers:

* scikit-image window by window: ``graycomatrix(window, [1], [0], 32, symmetric=True,
  normed=True)`` + ``graycoprops`` for the 8 measures, timed on a random sample of windows and
  scaled to the number of full windows in the image; the sample's values are also compared with
  ours (largest absolute difference).
* Orfeo ToolBox ``otbcli_HaralickTextureExtraction`` (Debian package ``otb-bin``), when
  installed: the same image as a float32 GeoTIFF, xrad = yrad = 3 (7 × 7), offset (1, 0),
  nbbin = 32, min/max of the image, "simple" set (8 measures: energy, entropy, correlation,
  IDM, inertia, cluster shade, cluster prominence, Haralick correlation) and "advanced" set
  (10 measures incl. mean, variance, dissimilarity); 1 ITK thread and all threads. Our eight
  measures need both OTB sets, so the ratio is given against each and against their sum.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.features.texture import MEASURES, glcm_texture, quantise

WINDOW = 7
LEVELS = 32
SKIMAGE_PROPS = ("mean", "variance", "homogeneity", "contrast", "dissimilarity", "entropy",
                 "ASM", "correlation")


def make_image(size: int, seed: int = 0) -> np.ndarray:
    from scipy.ndimage import uniform_filter

    rng = np.random.default_rng(seed)
    return uniform_filter(rng.gamma(2.0, 0.08, size=(size, size)), 3).astype(np.float32)


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(min(times), 3)


def time_ours(band: xr.DataArray, record: dict) -> xr.Dataset:
    kwargs = {"window": WINDOW, "levels": LEVELS, "directions": [0], "convention": "skimage"}
    glcm_texture(band[:64, :64], **kwargs)  # compile / load the numba cache
    glcm_texture(band[:64, :64].chunk(32), **kwargs).compute()
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(1)
    record["ours_1_thread_s"] = best_of(lambda: glcm_texture(band, **kwargs))
    numba.set_num_threads(threads)
    record["numba_threads"] = threads
    record["ours_all_threads_s"] = best_of(lambda: glcm_texture(band, **kwargs))
    record["ours_envi_one_shift_s"] = best_of(
        lambda: glcm_texture(band, window=WINDOW, levels=LEVELS, shifts=[(0, 1)]))
    record["ours_four_directions_s"] = best_of(
        lambda: glcm_texture(band, window=WINDOW, levels=LEVELS, convention="skimage"))
    lazy = band.chunk(512)
    record["ours_dask_512px_chunks_s"] = best_of(
        lambda: glcm_texture(lazy, **kwargs).compute(), runs=2)
    return glcm_texture(band, **kwargs)


def time_skimage(band: xr.DataArray, ours: xr.Dataset, n_sample: int, record: dict) -> None:
    from skimage.feature import graycomatrix, graycoprops

    codes = quantise(band.values, LEVELS)
    half = WINDOW // 2
    rows, cols = codes.shape
    rng = np.random.default_rng(1)
    centres = np.column_stack([rng.integers(half, rows - half, n_sample),
                               rng.integers(half, cols - half, n_sample)])
    values = np.empty((n_sample, len(SKIMAGE_PROPS)))
    start = time.perf_counter()
    for k, (r, c) in enumerate(centres):
        window = codes[r - half:r + half + 1, c - half:c + half + 1]
        glcm = graycomatrix(window, [1], [0.0], levels=LEVELS, symmetric=True, normed=True)
        values[k] = [graycoprops(glcm, prop)[0, 0] for prop in SKIMAGE_PROPS]
    per_window = (time.perf_counter() - start) / n_sample
    full_windows = (rows - 2 * half) * (cols - 2 * half)
    mine = np.stack([ours[f"glcm_{m}"].values[centres[:, 0], centres[:, 1]] for m in MEASURES],
                    axis=1)
    record.update({
        "skimage_sample_windows": n_sample,
        "skimage_per_window_us": round(per_window * 1e6, 1),
        "skimage_full_windows": full_windows,
        "skimage_scaled_s": round(per_window * full_windows, 1),
        "max_abs_difference_vs_skimage": float(np.abs(mine - values).max()),
        "max_rel_difference_vs_skimage": float(
            (np.abs(mine - values) / np.maximum(np.abs(values), 1e-12)).max()),
    })
    record["speedup_vs_skimage"] = round(record["skimage_scaled_s"] / record["ours_all_threads_s"])
    record["speedup_vs_skimage_1_thread"] = round(
        record["skimage_scaled_s"] / record["ours_1_thread_s"])


def time_otb(image: np.ndarray, record: dict) -> None:
    exe = shutil.which("otbcli_HaralickTextureExtraction")
    if exe is None:
        record["otb"] = ("not run: otbcli_HaralickTextureExtraction not found (install the Debian "
                         "package otb-bin: apt-get install -y otb-bin)")
        return
    import rasterio
    from rasterio.transform import from_origin

    otb: dict = {"version": _otb_version(exe), "xrad": 3, "yrad": 3, "xoff": 1, "yoff": 0,
                 "nbbin": LEVELS}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "image.tif"
        profile = {"driver": "GTiff", "height": image.shape[0], "width": image.shape[1],
                   "count": 1, "dtype": "float32", "crs": "EPSG:4546",
                   "transform": from_origin(500_000.0, 4_100_000.0, 30.0, 30.0)}
        with rasterio.open(src, "w", **profile) as dst:
            dst.write(image, 1)
        base = [exe, "-in", str(src), "-channel", "1", "-parameters.xrad", "3",
                "-parameters.yrad", "3", "-parameters.xoff", "1", "-parameters.yoff", "0",
                "-parameters.min", repr(float(image.min())), "-parameters.max",
                repr(float(image.max())), "-parameters.nbbin", str(LEVELS), "-ram", "1024"]
        for texture_set in ("simple", "advanced"):
            for threads in (1, os.cpu_count() or 1):
                env = {**os.environ, "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": str(threads)}
                cmd = [*base, "-texture", texture_set, "-out", str(Path(tmp) / "out.tif")]
                start = time.perf_counter()
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                elapsed = round(time.perf_counter() - start, 2)
                key = f"{texture_set}_{'1_thread' if threads == 1 else 'all_threads'}_s"
                if done.returncode != 0:
                    otb[key] = f"failed ({done.returncode}): {done.stderr.strip()[-300:]}"
                else:
                    otb[key] = elapsed
    record["otb"] = otb
    if all(isinstance(otb.get(k), float) for k in ("simple_all_threads_s",
                                                     "advanced_all_threads_s")):
        ours = record["ours_all_threads_s"]
        record["speedup_vs_otb_simple"] = round(otb["simple_all_threads_s"] / ours, 1)
        record["speedup_vs_otb_advanced"] = round(otb["advanced_all_threads_s"] / ours, 1)
        record["speedup_vs_otb_simple_plus_advanced"] = round(
            (otb["simple_all_threads_s"] + otb["advanced_all_threads_s"]) / ours, 1)


def _otb_version(exe: str) -> str:
    done = subprocess.run([exe, "-help"], capture_output=True, text=True, check=False)
    for line in (done.stdout + done.stderr).splitlines():
        if "version" in line:
            return line.strip().rsplit("version", 1)[-1].strip(" ,")
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--no-otb", action="store_true")
    args = parser.parse_args()
    image = make_image(args.size)
    band = xr.DataArray(image, dims=("y", "x"), name="nir")
    record: dict = {"size_px": [args.size, args.size], "window": WINDOW, "levels": LEVELS,
                    "measures": list(MEASURES), "displacement": "distance 1, angle 0 (dy, dx) = "
                    "(0, 1), symmetric, pairs inside the window (convention='skimage')"}
    ours = time_ours(band, record)
    time_skimage(band, ours, args.sample, record)
    if args.no_otb:
        record["otb"] = "not run (--no-otb)"
    else:
        time_otb(image, record)
    record["target_speedup_vs_skimage"] = 1000
    save("glcm", record)


if __name__ == "__main__":
    main()
