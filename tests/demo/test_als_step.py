"""The `als` step on the simulated site: structure metrics and the canopy height model's mean
per pixel against the simulator's canopy (F7, issue 19)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import rasterio

from minecarbon.catalog import Workspace
from minecarbon.pipeline import run_pipeline
from minecarbon.pipeline.steps import default_steps


def _window(site: Path, name: str, row0: int, col0: int, shape: tuple[int, int]) -> np.ndarray:
    with rasterio.open(site / "products" / "features" / f"{name}.tif") as src:
        return src.read(1)[row0:row0 + shape[0], col0:col0 + shape[1]].astype(np.float64)


def test_chm_mean_follows_the_simulated_canopy(small_site: Path, tmp_path: Path) -> None:
    # the report does not need the ALS products, so the shared site has not made them
    site = tmp_path / "ws"
    shutil.copytree(small_site, site)
    with Workspace.open(site) as ws:
        outcomes = run_pipeline(ws, default_steps(), until="als")
    assert any(o.step == "als" and o.status == "ran" for o in outcomes)
    truth = json.loads((site / "truth" / "als_canopy_height.json").read_text())
    h = np.asarray(truth["canopy_height_m"], dtype=np.float64)
    args = (truth["row0"], truth["col0"], h.shape)
    chm = _window(site, "als_chm_mean_m", *args)
    h_max = _window(site, "als_h_max_m", *args)
    cover = _window(site, "als_cover", *args)
    canopy = h > 0
    assert canopy.sum() >= 100 and (~canopy).sum() >= 50
    assert np.isfinite(chm).all()
    # the simulator's canopy is flat per pixel, hit with probability `cover`: the model's mean
    # is the height where a cell's highest return hit the canopy, so at most the height (a few
    # pixels next to a taller neighbour's edge excepted) ...
    assert np.mean(chm[canopy] <= h[canopy] * 1.05 + 0.1) >= 0.97
    # ... close to it where the cover is dense, and it follows height × cover
    dense = canopy & (cover > 0.6)
    assert dense.sum() >= 50 and np.median(chm[dense] / h[dense]) > 0.6
    assert np.corrcoef(chm[canopy], h[canopy] * cover[canopy])[0, 1] > 0.9
    assert np.nanmax(chm[~canopy]) < 1.0
    # the highest return per pixel is the canopy height (within the points' noise)
    rel = np.abs(h_max[canopy] / h[canopy] - 1)
    assert np.median(rel) < 0.03 and np.mean(rel < 0.05) >= 0.97
