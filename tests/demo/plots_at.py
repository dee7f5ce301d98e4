"""Shared by the demo tests that read the published maps at the reference year's plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rasterio


def at(path: Path, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A raster's first band at map coordinates (float64)."""
    with rasterio.open(path) as src:
        rows, cols = rasterio.transform.rowcol(src.transform, x, y)
        return np.asarray(src.read(1)[np.asarray(rows), np.asarray(cols)], dtype=np.float64)


def reference_plots(site: Path, year: int) -> pd.DataFrame:
    """The plots of ``year``: position, AGC, level-1 unit, out-of-fold prediction, stratum."""
    plots = (pd.read_csv(site / "raw/plots/plots.csv")[["plot_id", "x", "y"]]
             .merge(pd.read_csv(site / "products/plots/plot_agc.csv")[
                 ["plot_id", "agc_t_per_ha"]], on="plot_id")
             .merge(pd.read_csv(site / "products/units/plot_units.csv")[
                 ["plot_id", "unit_l1"]], on="plot_id"))
    oof = pd.read_csv(site / "products/models/oof_predictions.csv")
    return plots.merge(oof[oof["year"] == year][["plot_id", "predicted", "stratum"]],
                       on="plot_id")
