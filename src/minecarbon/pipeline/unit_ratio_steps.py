"""The mapping step's last stage: each level-1 unit's maps brought to its plots (decision 44).

The plots of the reference year on the finished map (read back from the mapping step's
temporary files) give every level-1 unit its shrunken ratio
(:mod:`minecarbon.mapping.unit_calibration`) from the map's out-of-fold value at each plot (a
map value is for its pixel: the plots the map missed enter the carbon totals, which correct
for omission, not the maps). Every pixel-year is multiplied by the ratio of the unit it lies
in that year (``products/units/units_l1_<year>.tif``); the mapping step writes the rescaled
maps once, together with the borrowed change of
:mod:`minecarbon.pipeline.synthetic_change_steps`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError, warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import read_on_grid
from minecarbon.mapping.unit_calibration import apply_unit_ratios, shrunken_ratios
from minecarbon.pipeline.plot_pairs import plot_pairs
from minecarbon.pipeline.step import StepContext

UNITS_L1 = "products/units/units_l1_{year}.tif"


def calibrate_units(ctx: StepContext, grid: AnalysisGrid, agc: xr.DataArray,
                    mapped: xr.DataArray | None, raw: dict[int, Path], reference_year: int
                    ) -> tuple[xr.DataArray, dict[str, Any]]:
    """The (year, y, x) maps scaled by their units' ratios (lazy), and the record.

    ``mapped`` is the finished map of the plots' year (None: that year was not mapped), from
    which the plots' ratios come. Returns ``agc`` unchanged (and a record saying why) when the
    plots' year was not mapped, a year has no unit map, or the plots on mapped forest give no
    ratio.
    """
    ws = ctx.workspace
    chunk = ctx.config.compute.chunk_px
    years = [int(y) for y in agc["year"].values]
    lacking = [y for y in years if not ws.path(UNITS_L1.format(year=y)).exists()]
    if mapped is None or lacking:
        why = (f"the plots' year {reference_year} has no AGC map" if mapped is None
               else f"no level-1 unit map of {', '.join(map(str, lacking))}")
        warn(f"AGC maps not brought to the units' plots: {why}", stacklevel=2)
        return agc, {"applied": False, "reason": why}
    model = (read_on_grid(raw[reference_year], grid, chunks=chunk)
             if reference_year in raw else None)
    pairs = plot_pairs(ctx, grid, reference_year, mapped, model)
    # a map value is for its pixel: plots the map missed (omission) are the totals' business
    table = pairs[pairs["on_map"]].rename(columns={"unit_l1": "zone"})[
        ["zone", "observed", "mapped"]]
    record = unit_ratio_record(table, ctx.config.mapping.unit_min_plots, reference_year)
    if not record["applied"]:
        warn(f"AGC maps not brought to the units' plots: {record['reason']}", stacklevel=2)
        return agc, record
    units = xr.concat([read_on_grid(ws.path(UNITS_L1.format(year=y)), grid, chunks=chunk,
                                    masked=False) for y in years],
                      dim=pd.Index(years, name="year"))
    units = units.assign_coords(y=agc["y"], x=agc["x"])
    scaled = apply_unit_ratios(agc, units,
                               {int(k): v["ratio"] for k, v in record["units"].items()},
                               record["pooled_ratio"]).astype("float32")
    return scaled, record


def unit_ratio_record(table: pd.DataFrame, min_plots: int, reference_year: int
                      ) -> dict[str, Any]:
    """The shrunken ratios of a plot table as ``calibration.json`` records them, or why none.

    ``table`` has ``zone, observed, mapped``. Where the plots cannot give a ratio (fewer than
    2 on mapped forest, or the map 0 at all of them) the record has ``applied: False`` and the
    reason, and the maps stay as they are.
    """
    try:
        by_unit, pooled, tau2 = shrunken_ratios(table, min_plots=min_plots)
    except InputDataError as err:
        return {"applied": False,
                "reason": f"{len(table)} plots of {reference_year} on mapped forest: {err}"}
    return {
        "applied": True, "level": 1, "reference_year": reference_year,
        "plots": len(table), "pooled_ratio": round(pooled.ratio, 6),
        "between_unit_variance": round(tau2, 6),
        "units": {str(k): {"ratio": round(v.ratio, 6),
                           "own_ratio": None if v.own_ratio is None else round(v.own_ratio, 4),
                           "weight": round(v.weight, 4), "plots": v.n_plots}
                  for k, v in by_unit.items()},
    }
