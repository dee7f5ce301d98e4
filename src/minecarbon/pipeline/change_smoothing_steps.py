"""The mapping step's last stage: stable forest's change as its stand's (decision 56).

Reads the staged annual maps once, replaces the change since the plots' year of every pixel
mapped as forest in every year by its window mean among such pixels of the same zone
(:func:`minecarbon.mapping.change_smoothing.smooth_change`; the zone is the plots' year's
forest type × the last year's level-1 assessment unit), writes new staged maps and records what
it did in ``calibration.json`` → ``change_smoothing``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from minecarbon.errors import warn
from minecarbon.grid import AnalysisGrid
from minecarbon.io.files import temporary_sibling
from minecarbon.io.raster import read_on_grid, write_cubes
from minecarbon.mapping.change_smoothing import smooth_change, stable_forest
from minecarbon.pipeline.classify_steps import FOREST_TYPE
from minecarbon.pipeline.step import StepContext
from minecarbon.pipeline.unit_ratio_steps import UNITS_L1

#: Zone codes: forest type × ZONE_BASE + level-1 unit (both small non-negative integers).
ZONE_BASE = 1000


def change_smoothing_stage(ctx: StepContext, grid: AnalysisGrid, staged: dict[int, Path],
                           reference_year: int) -> tuple[dict[int, Path], dict[str, Any]]:
    """Smooth the staged maps' stable-forest change; returns the staged paths and the record.

    Off (``mapping.change_window_px = 1``), or without a map of the plots' year or the zone
    layers, the staged maps are returned as they are and the record says why.
    """
    ws, cfg = ctx.workspace, ctx.config
    size = cfg.mapping.change_window_px
    years = sorted(staged)
    record: dict[str, Any] = {"window_px": size, "reference_year": reference_year}
    if size == 1:
        return staged, {**record, "applied": False, "reason": "mapping.change_window_px = 1"}
    last = years[-1]
    needed = [ws.path(FOREST_TYPE.format(year=reference_year)),
              ws.path(UNITS_L1.format(year=last))]
    missing = [str(p.relative_to(ws.root)) for p in needed if not p.exists()]
    why = (f"the plots' year {reference_year} has no AGC map"
           if reference_year not in staged else
           f"no {', '.join(missing)}" if missing else "")
    if why:
        warn(f"stable forest's change not averaged over its stand: {why}", stacklevel=2)
        return staged, {**record, "applied": False, "reason": why}
    chunk = cfg.compute.chunk_px
    agc = xr.concat([read_on_grid(staged[y], grid, chunks=chunk) for y in years],
                    dim=pd.Index(years, name="year")).chunk({"year": -1})
    ftype, unit = (read_on_grid(p, grid, chunks=chunk, masked=False) for p in needed)
    zone = (ftype.fillna(0).astype("int64") * ZONE_BASE
            + unit.fillna(0).astype("int64")).assign_coords(y=agc["y"], x=agc["x"])
    out = smooth_change(agc, reference_year, zone, size)
    new = {y: temporary_sibling(p) for y, p in staged.items()}
    write_cubes({"agc": out.astype("float32").rio.write_crs(grid.crs).rename("agc_t_per_ha")},
                {"agc": new}, nodata={"agc": float("nan")})
    for path in staged.values():
        path.unlink(missing_ok=True)
    stable = int(stable_forest(agc).sum().compute())
    forest_last = int(read_on_grid(new[last], grid, chunks=chunk).notnull().sum().compute())
    return new, {**record, "applied": True,
                 "zone": f"forest type of {reference_year} × level-1 unit of {last}",
                 "stable_forest_pixels": stable,
                 "stable_share_of_last_year_forest": round(stable / max(forest_last, 1), 4)}
