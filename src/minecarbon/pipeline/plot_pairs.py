"""The plots of a year beside the map's out-of-fold value at each (carbon totals, unit ratios).

The map at a plot is in-sample where the model that made it was fitted to the plot: where
the map's forest type there is the plot's own stratum. Its out-of-fold counterpart then
replaces the model's raw prediction by the plot's out-of-fold one: ``map − raw + oof``. Where
the map's forest type differs (a young broadleaf plantation mapped as sparse forest), the
map's model never saw the plot and the map's value is already out of sample; putting the
plot's own stratum's out-of-fold prediction in it would mix two models and hide the error the
map makes there. (Where the map's type has no model of its own and uses the pooled one, that
model saw the plot as one of all plots; its out-of-fold prediction for the plot is not kept,
so the map's value is used, slightly optimistic.) 0 where the map has no forest at the plot.
Used by the mapping step's unit ratios (:mod:`minecarbon.mapping.unit_calibration`) and the
assessment's carbon totals.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.io.tables import read_table
from minecarbon.mapping import FOREST_TYPE_LABELS
from minecarbon.pipeline.classify_steps import FOREST_TYPE
from minecarbon.pipeline.records import read_plot_records
from minecarbon.pipeline.step import StepContext


def plot_cells(ctx: StepContext, grid: AnalysisGrid, year: int) -> pd.DataFrame:
    """The plots of ``year`` inside the grid: their AGC, out-of-fold prediction, units, cell.

    Columns ``plot_id``, ``agc_t_per_ha``, ``predicted``, ``stratum`` (where the out-of-fold
    table has it), ``x``, ``y``, ``unit_l1``, ``unit_l2``, ``row``, ``col``.
    """
    ws = ctx.workspace
    plots = read_table(ws.path("products/plots/plot_agc.csv"))
    oof = read_table(ws.path("products/models/oof_predictions.csv"))
    keep_oof = [c for c in ("plot_id", "predicted", "stratum") if c in oof.columns]
    oof = oof[oof["year"] == year][keep_oof]
    units = read_table(ws.path("products/units/plot_units.csv"))[["plot_id", "unit_l1",
                                                                   "unit_l2"]]
    records = read_plot_records(ws, ctx.input_paths("raw:plots"))
    if records is None:
        raise InputDataError("no plot records (raw/plots): no plot to calibrate on",
                             fix="import the plots with `minecarbon import plots FILE`")
    xy = pd.DataFrame({"plot_id": records["plot_id"].astype(str),
                       "x": records["x"].astype(float), "y": records["y"].astype(float)})
    keep = [c for c in ("plot_id", "agc_t_per_ha", "agb_t_per_ha") if c in plots.columns]
    table = (plots[keep].astype({"plot_id": str})
             .merge(oof.astype({"plot_id": str}), on="plot_id")
             .merge(xy, on="plot_id").merge(units.astype({"plot_id": str}), on="plot_id"))
    table = table.dropna(subset=["agc_t_per_ha", "predicted"])
    table[["unit_l1", "unit_l2"]] = table[["unit_l1", "unit_l2"]].fillna(0).astype(int)
    row, col, inside = grid.cells(table["x"], table["y"])
    table = table[inside].copy()
    table["row"], table["col"] = row[inside], col[inside]
    return table


def cells_of(layer: xr.DataArray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """A (y, x) layer's values at the cells (float64), reading only the chunks they fall in."""
    data = layer.data
    return np.asarray(data[row, col] if isinstance(data, np.ndarray)
                      else data.vindex[row, col].compute(), dtype=np.float64)


def out_of_fold(value: np.ndarray, model: np.ndarray, predicted: np.ndarray,
                same_model: np.ndarray, factor: np.ndarray | float = 1.0) -> np.ndarray:
    """The map's value at plots as if its model had not seen them (module docstring).

    ``value + factor × (predicted − model)`` where the map's model is the plot's stratum's
    (``same_model``) and the year has its raw prediction ``model``; ``value`` elsewhere.
    """
    return np.where(np.isfinite(model) & same_model,
                    value + factor * (predicted - model), value)


def map_strata(ctx: StepContext, grid: AnalysisGrid, year: int, row: np.ndarray,
               col: np.ndarray) -> np.ndarray:
    """The map's forest-type label (``FOREST_TYPE_LABELS``) at each cell; "" where none."""
    path = ctx.workspace.path(FOREST_TYPE.format(year=year))
    if not path.exists():
        return np.full(len(row), "", dtype=object)
    codes = cells_of(read_on_grid(path, grid, chunks=ctx.config.compute.chunk_px,
                                  masked=False), row, col)
    return np.array([FOREST_TYPE_LABELS.get(int(c), "") if np.isfinite(c) else ""
                     for c in codes], dtype=object)


def plot_pairs(ctx: StepContext, grid: AnalysisGrid, year: int, mapped: xr.DataArray,
               raw: xr.DataArray | None,
               unit_ratios: tuple[Mapping[int, float], float] | None = None) -> pd.DataFrame:
    """Plots of ``year`` with their AGC, the map's out-of-fold value and their units.

    Parameters
    ----------
    ctx, grid
        The step's context and the analysis grid.
    year
        The plots' survey year (rows of ``oof_predictions.csv`` of that year).
    mapped, raw
        The year's map (y, x) and the model's raw prediction it came from (None: the map is
        the raw prediction).
    unit_ratios
        The level-1 units' ratios the map was multiplied by, and the ratio of other units
        (:mod:`minecarbon.pipeline.unit_ratio_steps`); the out-of-fold value of an in-sample
        map is then ``map + ratio × (oof − raw)``, the rescaled map as if the model had not
        seen the plot.

    Returns
    -------
    pandas.DataFrame
        ``plot_id``, ``agc_t_per_ha``, ``predicted``, ``stratum``, ``x``, ``y``, ``unit_l1``,
        ``unit_l2``, ``row``, ``col``, ``map_stratum`` (the map's forest type at the plot),
        ``same_model`` (the map's forest type at the plot is its stratum),
        ``on_map`` (the map has forest at the plot), ``mapped`` (out of fold; 0 off the map)
        and ``observed``.

    """
    table = plot_cells(ctx, grid, year)
    row, col = table["row"].to_numpy(), table["col"].to_numpy()
    factor = np.ones(len(table))
    if unit_ratios is not None:
        by_unit, other = unit_ratios
        factor = table["unit_l1"].map(dict(by_unit)).fillna(other).to_numpy(dtype=np.float64)
    model = cells_of(raw, row, col) if raw is not None else np.full(len(table), np.nan)
    return with_map_values(ctx, grid, year, table, cells_of(mapped, row, col), model, factor)


def with_map_values(ctx: StepContext, grid: AnalysisGrid, year: int, table: pd.DataFrame,
                    value: np.ndarray, model: np.ndarray,
                    factor: np.ndarray | float = 1.0) -> pd.DataFrame:
    """A :func:`plot_cells` table with the map's forest type and out-of-fold value at each plot.

    ``value`` is the map's value at each plot's cell (NaN off the map), ``model`` the year's
    raw prediction there (NaN: none) and ``factor`` what the map multiplied the raw prediction
    by. Adds ``map_stratum``, ``same_model``, ``on_map`` (the map has a value at the plot),
    ``mapped`` (out of fold, :func:`out_of_fold`, never negative; 0 off the map) and
    ``observed``.
    """
    row, col = table["row"].to_numpy(), table["col"].to_numpy()
    table["map_stratum"] = map_strata(ctx, grid, year, row, col)
    if "stratum" in table.columns:  # the map's model is the plot's own stratum's
        same_model = (table["map_stratum"] == table["stratum"].astype(str)).to_numpy()
    else:  # an older oof table without strata: as before
        same_model = np.ones(len(table), dtype=bool)
    table["same_model"] = same_model
    oof_value = out_of_fold(value, model, table["predicted"].to_numpy(float), same_model,
                            factor)
    table["on_map"] = np.isfinite(value)
    table["mapped"] = np.where(table["on_map"], np.clip(oof_value, 0.0, None), 0.0)
    table["observed"] = table["agc_t_per_ha"].astype(float)
    return table
