"""A toy pipeline for the runner's tests: a → b → c, plus a chunked raster step.

Each step appends its name to the file named by $TOY_LOG, so tests can count executions.
Step ``b`` writes its product slowly when $TOY_SLOW names a marker file: it writes half the
bytes, creates the marker and sleeps, so a test can kill the process in the middle of the step.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import dask.array as dsa
import numpy as np

from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import to_grid_dataarray, write_geotiff
from minecarbon.pipeline import Step, StepContext

GRID = AnalysisGrid("EPSG:4546", 30.0, 500_010.0, 4_100_010.0, 300, 200)


def _log(name: str) -> None:
    log = os.environ.get("TOY_LOG")
    if log:
        with open(log, "a") as f:
            f.write(name + "\n")


def _a(ctx: StepContext) -> None:
    _log("a")
    factor = ctx.config.assessment.alpha
    ctx.publish("products/a.txt", lambda p: p.write_text(f"a {factor}\n"), kind="product:toy")


def _b(ctx: StepContext) -> None:
    _log("b")
    text = ctx.input_paths()[0].read_text() * 100_000

    def write(path: Path) -> None:
        marker = os.environ.get("TOY_SLOW")
        with path.open("w") as f:
            f.write(text[: len(text) // 2])
            f.flush()
            if marker:
                Path(marker).write_text("half written")
                time.sleep(60)
            f.write(text[len(text) // 2 :])

    ctx.publish("products/b.txt", write, kind="product:toy")


def _c(ctx: StepContext) -> None:
    _log("c")
    size = len(ctx.input_paths()[0].read_text())
    ctx.publish("products/c.txt", lambda p: p.write_text(str(size)), kind="product:toy")


def focal_mean_raster(seed: int = 0) -> object:
    """A chunked 3 × 3 focal mean of a seeded random field on GRID (dask map_overlap)."""
    rng = np.random.default_rng(seed)
    field = dsa.from_array(rng.random(GRID.shape, dtype="float32"), chunks=(64, 64))

    def mean3(block: np.ndarray) -> np.ndarray:
        out = np.zeros_like(block)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                out += np.roll(np.roll(block, dy, 0), dx, 1)
        return out / 9

    smooth = field.map_overlap(mean3, depth=1, boundary="reflect")
    return to_grid_dataarray(smooth, GRID, "focal_mean")


def _raster(ctx: StepContext) -> None:
    _log("raster")
    da = focal_mean_raster()
    ctx.publish("products/features/focal.tif", lambda p: write_geotiff(da, p),
                kind="product:feature")


STEPS = [
    Step("a", _a, config=("assessment",), makes=("products/a.txt",)),
    Step("b", _b, needs=("a",), makes=("products/b.txt",)),
    Step("c", _c, needs=("b",), makes=("products/c.txt",)),
]
RASTER = Step("raster", _raster, makes=("products/features/focal.tif",))
