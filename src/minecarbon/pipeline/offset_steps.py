"""The residual offsets of the mapping step, post-stratified by the map's forest type.

The difference estimator adds to every pixel of a domain the mean residual (observed − mapped)
of the plots in that domain (McRoberts et al. 2013). The maps apply an offset to the pixels of
each *mapped* forest type, so the plots that estimate it are those the map puts in that type,
with the map's value at them — not the plots of the crew's stand type with their own model's
prediction. The two differ where the map's type is not the crew's: young broadleaf plantations
and subsidence-thinned stands that the map calls sparse forest, whose map value is the sparse
route's (decision 46).

The map's value at a plot in the reference year is its fitted, change-calibrated trajectory
there, made out of fold where the map's model was fitted to the plot
(:func:`minecarbon.pipeline.plot_pairs.plot_pairs`'s rule). The trajectories of the plots'
cells are fitted on their own (a pixel's trajectory depends on its own series only), so the
whole cube is not computed twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.grid import AnalysisGrid
from minecarbon.mapping.calibration import calibrate_change
from minecarbon.mapping.trajectory import fit_trajectories
from minecarbon.pipeline.plot_pairs import cells_of, plot_cells, with_map_values
from minecarbon.pipeline.step import StepContext


def _series_at(cube: xr.DataArray, row: np.ndarray, col: np.ndarray) -> xr.DataArray:
    """(year, y, x) → (year, 1, n): the cells' series, as a one-row cube."""
    picked = cube.isel(y=xr.DataArray(row, dims="cell"), x=xr.DataArray(col, dims="cell"))
    values = np.asarray(picked.transpose("year", "cell").values)
    return xr.DataArray(values[:, None, :], dims=("year", "y", "x"),
                        coords={"year": cube["year"].values})


def level_at_cells(values: xr.DataArray, forest: xr.DataArray, free: xr.DataArray | None,
                   row: np.ndarray, col: np.ndarray, reference_year: int, attenuation: float,
                   *, max_segments: int = 3, penalty_factor: float = 1.0) -> np.ndarray:
    """The change-calibrated trajectory's value in the reference year at each cell.

    The same as fitting and calibrating the whole (year, y, x) cube and reading the cells
    (each pixel's trajectory depends on its own series only), at the cost of the cells alone.
    NaN where the cell is not forest in the reference year (or its span has no value).
    """
    if len(row) == 0:
        return np.empty(0, dtype=np.float64)
    series = _series_at(values, row, col)
    mask = _series_at(forest, row, col).astype(bool)
    breaks = _series_at(free, row, col).astype(bool) if free is not None else None
    fitted = fit_trajectories(series, mask, breaks, max_segments=max_segments,
                              penalty_factor=penalty_factor)["fitted"]
    level = calibrate_change(fitted, mask, reference_year, attenuation)
    years = [int(y) for y in series["year"].values]
    at = int(np.argmin([abs(y - reference_year) for y in years]))
    return np.asarray(level.isel(year=at, y=0).values, dtype=np.float64)


def mapped_at_plots(ctx: StepContext, grid: AnalysisGrid, values: xr.DataArray,
                    forest: xr.DataArray, free: xr.DataArray | None,
                    calibration: dict[str, Any], raw_reference: xr.DataArray | None
                    ) -> pd.DataFrame:
    """The reference year's plots with the map's out-of-fold value and forest type at each.

    ``values`` and ``forest`` are the mapping step's (year, y, x) raw predictions and forest
    mask, ``free`` its free breaks, ``calibration`` holds ``reference_year`` and
    ``attenuation``, ``raw_reference`` is the reference year's raw prediction. Columns of
    :func:`~minecarbon.pipeline.plot_pairs.plot_cells` plus ``map_stratum``, ``same_model``,
    ``on_map`` (also requiring a forest type), ``mapped`` (before any offset; out of fold where
    the map's model is the plot's stratum's and the year was observed; 0 off the map) and
    ``observed``.
    """
    cfg = ctx.config.mapping
    year = int(calibration["reference_year"])
    table = plot_cells(ctx, grid, year)
    row, col = table["row"].to_numpy(), table["col"].to_numpy()
    value = level_at_cells(values, forest, free, row, col, year,
                           float(calibration["attenuation"]), max_segments=cfg.max_segments,
                           penalty_factor=cfg.segment_penalty)
    model = (cells_of(raw_reference, row, col) if raw_reference is not None
             else np.full(len(table), np.nan))
    table = with_map_values(ctx, grid, year, table, value, model)
    table["on_map"] &= (table["map_stratum"] != "").to_numpy(bool)  # offsets go by type
    return table
