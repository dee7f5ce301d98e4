"""Assessment units for 4000 × 4000 pixels × 20 years (issue 3: target < 60 s on 2 cores).

Forest masks are a seeded random field with persistence between years (so every rule fires),
the event polygons are the large simulated mine's. The whole chain runs on dask in chunks:
rasterising the events, the extent mask, the per-pixel rules, the unit areas, and writing the
forty GeoTIFFs (l1 and l2 for every year).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import dask.array as da
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save, timed

from minecarbon.demo.mine import mine_layout
from minecarbon.demo.spec import SiteSpec, Size
from minecarbon.io.raster import write_cubes
from minecarbon.scope.events import clean_events
from minecarbon.scope.extent import extent_mask, monitoring_extent
from minecarbon.scope.units import assessment_units, rasterize_events, unit_areas

YEARS = list(range(2005, 2025))
CHUNK = 1024


def forest_cube(grid, seed: int = 0) -> xr.DataArray:
    """Seeded forest masks: 55 % forest, 3 % of pixels change state each year."""
    shape = (len(YEARS), *grid.shape)
    rs = da.random.RandomState(seed)
    base = rs.random_sample(grid.shape, chunks=CHUNK) < 0.55
    flips = rs.random_sample(shape, chunks=(-1, CHUNK, CHUNK)) < 0.03
    forest = base[None] ^ (da.cumsum(flips, axis=0) % 2).astype(bool)
    return xr.DataArray(forest, dims=("year", "y", "x"),
                        coords={"year": YEARS, "y": grid.y_coords(), "x": grid.x_coords()})


def main() -> None:
    spec = SiteSpec(size=Size.LARGE)
    grid = spec.grid
    layout = mine_layout(spec)
    record: dict = {"pixels": grid.width * grid.height, "years": len(YEARS), "chunk_px": CHUNK}
    events = {k: clean_events(getattr(layout, k), k, grid.crs, k)
              for k in ("damage", "plan", "reclamation")}
    with tempfile.TemporaryDirectory() as tmp, timed(record, "total_s"):
        with timed(record, "rasterize_and_rules_s"):
            extent = monitoring_extent(layout.boundary, spec.buffer_m, crs=grid.crs)
            rasters = rasterize_events(events, grid, chunks=CHUNK)
            inside = extent_mask(extent, grid, chunks=CHUNK)
            forest = forest_cube(grid).assign_coords(x=inside["x"], y=inside["y"])
            units = assessment_units(forest, rasters, inside)
            cubes = {lv: units[lv].rio.write_crs(grid.crs) for lv in ("l1", "l2")}
            write_cubes(cubes, {lv: {y: Path(tmp) / f"units_{lv}_{y}.tif" for y in YEARS}
                                for lv in cubes}, nodata=0)
        with timed(record, "unit_areas_s"):
            areas = unit_areas(units, grid.pixel_area_ha)
    record["units_present"] = sorted(int(c) for c in pd.unique(areas["code"]))
    record["megapixel_years_per_s"] = round(
        record["pixels"] * len(YEARS) / 1e6 / record["total_s"], 1)
    record["target_s"] = 60
    record["ratio_to_target"] = round(record["total_s"] / 60, 3)
    save("units_4000x4000x20", record)


if __name__ == "__main__":
    main()
