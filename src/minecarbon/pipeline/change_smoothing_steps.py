"""The mapping step's last stage: stable forest's change as its stand's (decision 56).

Reads the staged annual maps once, replaces the change since the plots' year of every pixel
mapped as forest in every year by its window mean among such pixels of the same zone
(:mod:`minecarbon.mapping.change_smoothing`; the zone is the plots' year's forest type × the
last year's level-1 assessment unit), writes new staged maps and records what it did in
``calibration.json`` → ``change_smoothing``. Every block reads its own window and halo from
the staged files (independent tasks, bounded memory); layers off the grid go through
:func:`~minecarbon.mapping.change_smoothing.smooth_change` instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dask
import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import GridMismatchError, warn
from minecarbon.grid import AnalysisGrid, assert_on_grid
from minecarbon.io.files import temporary_sibling
from minecarbon.io.raster import read_on_grid, read_raster, write_cubes
from minecarbon.mapping.change_smoothing import smooth_block, smooth_change, stable_forest
from minecarbon.pipeline.classify_steps import FOREST_TYPE
from minecarbon.pipeline.step import StepContext
from minecarbon.pipeline.unit_ratio_steps import UNITS_L1

#: Zone codes: forest type × ZONE_BASE + level-1 unit (both small non-negative integers).
ZONE_BASE = 1000
#: ``agc_quality`` of a pixel-year whose change was borrowed (decision 45).
BORROWED = 3


def change_smoothing_stage(ctx: StepContext, grid: AnalysisGrid, staged: dict[int, Path],
                           reference_year: int, quality: dict[int, Path] | None = None
                           ) -> tuple[dict[int, Path], dict[str, Any]]:
    """Smooth the staged maps' stable-forest change; returns the staged paths and the record.

    ``quality`` are the staged quality layers: a pixel whose change was borrowed in any year
    (quality 3, decision 45) keeps its own series and gives no change to others — its change
    is already its forest's, without a pixel's noise. Off (``mapping.change_window_px = 1``),
    or without a map of the plots' year or the zone layers, the staged maps are returned as
    they are and the record says why.
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
    paths = [staged[y] for y in years]
    flags = [quality[y] for y in years if y in quality] if quality else []
    if all(_on_grid(p, grid) for p in [*paths, *needed, *flags]):
        out = _windowed(paths, needed, flags, grid, chunk, years.index(reference_year), size,
                        years)
    else:  # a layer off the grid: read everything through read_on_grid (reprojected lazily)
        agc = xr.concat([read_on_grid(p, grid, chunks=chunk) for p in paths],
                        dim=pd.Index(years, name="year")).chunk({"year": -1})
        ftype, unit = (read_on_grid(p, grid, chunks=chunk, masked=False) for p in needed)
        zone = (ftype.fillna(0).astype("int64") * ZONE_BASE
                + unit.fillna(0).astype("int64")).assign_coords(y=agc["y"], x=agc["x"])
        out = smooth_change(agc, reference_year, zone, size,
                            _borrowed(flags, grid, chunk).assign_coords(y=agc["y"], x=agc["x"])
                            if flags else None)
    new = {y: temporary_sibling(p) for y, p in staged.items()}
    write_cubes({"agc": out.astype("float32").rio.write_crs(grid.crs).rename("agc_t_per_ha")},
                {"agc": new}, nodata={"agc": float("nan")})
    for path in staged.values():
        path.unlink(missing_ok=True)
    maps = xr.concat([read_on_grid(new[y], grid, chunks=chunk) for y in years], dim="year")
    stable = stable_forest(maps)
    borrowed = (_borrowed(flags, grid, chunk) if flags
                else xr.zeros_like(stable)).assign_coords(y=stable["y"], x=stable["x"])
    # one pass over the written maps for the three counts
    took, kept, forest_last = (int(n) for n in dask.compute(  # type: ignore[attr-defined, no-untyped-call, unused-ignore]
        (stable & ~borrowed).sum().data, (stable & borrowed).sum().data,
        maps.isel(year=-1).notnull().sum().data))
    return new, {**record, "applied": True,
                 "zone": f"forest type of {reference_year} × level-1 unit of {last}",
                 "stable_forest_pixels": took,
                 "stable_share_of_last_year_forest": round(took / max(forest_last, 1), 4),
                 "borrowed_change_pixels_kept": kept}


def _borrowed(flags: list[Path], grid: AnalysisGrid, chunk: int) -> xr.DataArray:
    """(y, x) bool: quality 3 (change borrowed, decision 45) in any year."""
    return xr.concat([read_on_grid(p, grid, chunks=chunk, masked=False) == BORROWED
                      for p in flags], dim="year").any("year")


def _on_grid(path: Path, grid: AnalysisGrid) -> bool:
    """Whether a raster lies exactly on the grid (so that windows can be read from it)."""
    try:
        assert_on_grid(read_raster(path), grid, str(path))  # lazy: reads no pixels
    except GridMismatchError:
        return False
    return True


def _windowed(paths: list[Path], zone_paths: list[Path], flags: list[Path],
              grid: AnalysisGrid, chunk: int, index: int, size: int, years: list[int]
              ) -> xr.DataArray:
    """The smoothed cube as a dask array whose every block reads its own window and halo.

    Each task reads its block plus ``size // 2`` pixels around it from every year's staged
    map, the two zone layers and the quality layers (``flags``), smooths it
    (:func:`~minecarbon.mapping.change_smoothing.smooth_block`) and keeps the block: no task
    depends on another, so memory stays that of a few blocks whatever the area (dask's
    ``map_overlap`` held neighbouring blocks, and the peak grew with the area).
    """
    import dask.array as da
    import rasterio
    from rasterio.windows import Window

    half = size // 2
    ny, nx = grid.shape

    def read(path: Path, window: Window, masked: bool) -> np.ndarray:
        with rasterio.open(path) as src:
            if masked:
                return np.asarray(src.read(1, window=window, masked=True)
                                  .astype("float32").filled(np.nan))
            return np.asarray(src.read(1, window=window))

    def block(block_info: dict[Any, Any] | None = None) -> np.ndarray:
        assert block_info is not None
        (_, _), (y0, y1), (x0, x1) = block_info[None]["array-location"]
        r0, r1, c0, c1 = max(y0 - half, 0), min(y1 + half, ny), max(x0 - half, 0), min(
            x1 + half, nx)
        window = Window(c0, r0, c1 - c0, r1 - r0)
        values = np.stack([read(p, window, True) for p in paths])
        ftype, unit = (read(p, window, False).astype(np.int64) for p in zone_paths)
        borrowed = np.zeros(ftype.shape, bool)
        for path in flags:
            borrowed |= read(path, window, False) == BORROWED
        out = smooth_block(values, ftype * ZONE_BASE + unit, index, size, borrowed)
        return out[:, y0 - r0:y1 - r0, x0 - c0:x1 - c0]

    def split(n: int) -> tuple[int, ...]:
        return tuple(min(chunk, n - i) for i in range(0, n, chunk))

    chunks = ((len(paths),), split(ny), split(nx))
    data = da.map_blocks(  # type: ignore[no-untyped-call, unused-ignore]
        block, chunks=chunks, dtype=np.float32, meta=np.array((), np.float32))
    return xr.DataArray(data, dims=("year", "y", "x"),
                        coords={"year": years, "y": grid.y_coords(), "x": grid.x_coords()})
