"""Render the simulated site to PNG for the docs: DEM, true colour of two years, units.

    python docs/scripts/render_site.py [WORKSPACE]   (default: builds the small demo in a tmp dir)

Writes docs/images/site_dem.png, site_truecolour.png and site_units.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import rasterio
from matplotlib.colors import LightSource, ListedColormap

from minecarbon.catalog import Workspace
from minecarbon.demo.deliver import deliver
from minecarbon.demo.spec import SiteSpec
from minecarbon.types import AssessmentUnit

OUT = Path(__file__).resolve().parents[1] / "images"
UNIT_COLOURS = ["#ffffff", "#1b7837", "#fdb863", "#b2182b", "#5aae61", "#8073ac"]


def _extent(src: rasterio.DatasetReader) -> list[float]:
    b = src.bounds
    return [b.left / 1000, b.right / 1000, b.bottom / 1000, b.top / 1000]


def _scene(ws: Path, year: int) -> Path:
    """The growing-season scene of ``year`` with the fewest cloud pixels (QA_PIXEL bit 3)."""
    found = sorted((ws / "raw/scene").glob(f"SIM_LC08_L2SP_*_{year}0[6789]*_SR.tif"))

    def cloudiness(path: Path) -> float:
        with rasterio.open(path) as src:
            return float(((src.read(7) >> 3) & 1).mean())

    return min(found, key=cloudiness)


def _truecolour(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        rgb = src.read([3, 2, 1]).astype(float) * 2.75e-5 - 0.2
    rgb = np.clip(rgb / 0.18, 0, 1) ** (1 / 1.6)
    return np.moveaxis(rgb, 0, -1)


def render(ws: Path) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with rasterio.open(next((ws / "raw/dem").glob("*.tif"))) as src:
        dem = src.read(1)
        ext = _extent(src)
    fig, ax = plt.subplots(figsize=(7, 6))
    shade = LightSource(azdeg=315, altdeg=40).shade(dem, cmap=plt.cm.gist_earth, vert_exag=2,
                                                    blend_mode="soft")
    ax.imshow(shade, extent=ext)
    mappable = ax.imshow(dem, extent=ext, cmap="gist_earth", alpha=0)
    fig.colorbar(mappable, ax=ax, label="elevation (m)")
    ax.set(title="Simulated Loess-Plateau relief (DEM, hill-shaded)", xlabel="easting (km)",
           ylabel="northing (km)")
    written.append(OUT / "site_dem.png")
    fig.savefig(written[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    for ax, year in zip(axes, (2005, 2024), strict=True):
        path = _scene(ws, year)
        with rasterio.open(path) as src:
            ext = _extent(src)
        ax.imshow(_truecolour(path), extent=ext)
        ax.set(title=f"True colour, {path.stem[-11:-3]}", xlabel="easting (km)")
    axes[0].set_ylabel("northing (km)")
    written.append(OUT / "site_truecolour.png")
    fig.savefig(written[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(13, 6))
    cmap = ListedColormap(UNIT_COLOURS)
    for ax, year in zip(axes, (2012, 2024), strict=True):
        with rasterio.open(ws / f"products/units/units_l1_{year}.tif") as src:
            units = src.read(1)
            ext = _extent(src)
        ax.imshow(units, extent=ext, cmap=cmap, vmin=0, vmax=5, interpolation="nearest")
        ax.set(title=f"Level-1 assessment units, {year}", xlabel="easting (km)")
    axes[0].set_ylabel("northing (km)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=UNIT_COLOURS[u]) for u in AssessmentUnit]
    fig.legend(handles, [u.en for u in AssessmentUnit], loc="lower center", ncol=5)
    written.append(OUT / "site_units.png")
    fig.savefig(written[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return written


def main() -> None:
    if len(sys.argv) > 1:
        paths = render(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            ws = Workspace.init(Path(tmp) / "demo")
            deliver(ws, SiteSpec())
            from minecarbon.pipeline import run_pipeline
            from minecarbon.pipeline.steps import default_steps

            run_pipeline(ws, default_steps(), until="units")
            paths = render(ws.root)
    for p in paths:
        print(p)


if __name__ == "__main__":
    main()
