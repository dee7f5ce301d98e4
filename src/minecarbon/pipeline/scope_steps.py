"""Pipeline step of the scope stage: extent, grid, assessment units per year, plot units."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.files import temporary_sibling
from minecarbon.io.raster import read_on_grid, write_cubes
from minecarbon.io.tables import write_csv
from minecarbon.io.vector import read_vector, write_vector
from minecarbon.pipeline.records import read_plot_records
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.scope.events import clean_events
from minecarbon.scope.extent import extent_mask, monitoring_extent, project_grid
from minecarbon.scope.units import assessment_units, plot_units, rasterize_events, unit_areas

GRID_FILE = "work/grid.json"


def load_grid(root: Path) -> AnalysisGrid:
    """The project grid written by the units step."""
    path = root / GRID_FILE
    if not path.exists():
        raise InputDataError(
            f"{root} has no project grid yet ({GRID_FILE})",
            fix="run `minecarbon run --until units` first",
        )
    return AnalysisGrid.from_dict(json.loads(path.read_text()))


def load_units(root: Path, grid: AnalysisGrid, years: list[int]) -> xr.Dataset:
    """The unit products of ``years`` as a lazy Dataset with l1 and l2 (year, y, x)."""
    missing = [y for y in years if not (root / f"products/units/units_l2_{y}.tif").exists()]
    if missing:
        raise InputDataError(
            f"no assessment-unit maps for years {missing} in {root / 'products/units'}",
            fix="run `minecarbon run --until units` first",
        )

    def stacked(level: str) -> xr.DataArray:
        layers = [read_on_grid(root / f"products/units/units_{level}_{y}.tif", grid)
                  for y in years]
        return xr.concat(layers, dim=pd.Index(years, name="year")).fillna(0).astype("uint8")

    return xr.Dataset({level: stacked(level) for level in ("l1", "l2")})


def _layer(ctx: StepContext, kind: str, crs: str) -> gpd.GeoDataFrame | None:
    paths = [p for p in ctx.input_paths(f"raw:{kind}") if p.suffix.lower() in (
        ".gpkg", ".shp", ".geojson", ".fgb")]
    if not paths:
        return None
    frames = []
    for p in paths:
        frame = read_vector(p)
        if kind in ("damage", "plan", "reclamation", "disturbance"):
            frame = clean_events(frame, kind, crs, str(p.name))
        elif frame.crs is not None and str(frame.crs) != crs:
            frame = frame.to_crs(crs)
        frames.append(frame)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def year_of(path: Path, recorded: str | None) -> int:
    """The year a dataset describes: its catalogued time, else the last year in its name."""
    if recorded and recorded[:4].isdigit():
        return int(recorded[:4])
    found = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", path.stem)
    if not found:
        raise InputDataError(
            f"cannot tell the year of land-cover map {path.name}",
            fix="import it with --year YYYY, or put the year in its file name",
        )
    return int(found[-1])


def _forest_cube(ctx: StepContext, grid: AnalysisGrid) -> xr.DataArray:
    cfg = ctx.config
    records = [r for r in ctx.inputs if r.kind == "raw:landcover"]
    if not records:
        raise InputDataError(
            "no land-cover maps in the workspace: the assessment units need annual forest masks",
            fix="import annual maps with `minecarbon import landcover FILE --year YYYY`",
        )
    by_year: dict[int, Path] = {}
    for r in records:
        path = ctx.workspace.path(r.path)
        by_year[year_of(path, r.time)] = path
    wanted = range(cfg.project.first_year, cfg.project.last_year + 1)
    missing = [y for y in wanted if y not in by_year]
    if missing:
        raise InputDataError(
            f"land-cover maps are missing for years {missing}",
            fix="import a map for every project year, or narrow project.first_year/last_year",
        )
    codes = cfg.scope.landcover_forest_codes
    chunk = cfg.compute.chunk_px
    layers = [read_on_grid(by_year[y], grid, chunks=chunk).isin(codes) for y in wanted]
    cube = xr.concat(layers, dim=pd.Index(list(wanted), name="year"))
    return cube.chunk({"year": -1})


def _units(ctx: StepContext) -> None:
    cfg = ctx.config
    ws = ctx.workspace
    crs = cfg.project.crs
    boundary = _layer(ctx, "boundary", crs)
    if boundary is None:
        raise InputDataError(
            "no mining-right boundary in the workspace",
            fix="import it with `minecarbon import boundary FILE`",
        )
    influence = _layer(ctx, "influence", crs)
    extent = monitoring_extent(boundary, cfg.scope.buffer_m, influence, crs)
    grid = project_grid(extent, crs, cfg.scope.pixel_size_m)
    ctx.publish(GRID_FILE, lambda tmp: tmp.write_text(json.dumps(grid.to_dict(), indent=1)),
                kind="work:grid")
    extent_frame = gpd.GeoDataFrame({"name": ["监测评估范围 monitoring extent"]},
                                    geometry=[extent], crs=crs)
    ctx.publish("products/units/extent.gpkg",
                lambda tmp: write_vector(extent_frame, tmp, layer="extent"),
                kind="product:extent")

    events = {k: f for k in ("damage", "plan", "reclamation") if (f := _layer(ctx, k, crs))
              is not None}
    rasters = rasterize_events(events, grid, chunks=cfg.compute.chunk_px)
    forest = _forest_cube(ctx, grid)
    inside = extent_mask(extent, grid, chunks=cfg.compute.chunk_px)
    units = assessment_units(forest, rasters, inside)
    years = [int(y) for y in units["year"].values]
    final = {lv: {y: ws.path(f"products/units/units_{lv}_{y}.tif") for y in years}
             for lv in ("l1", "l2")}
    staged = {lv: {y: temporary_sibling(p) for y, p in paths.items()}
              for lv, paths in final.items()}
    cubes = {lv: units[lv].rio.write_crs(crs).rename(f"units_{lv}") for lv in final}
    write_cubes(cubes, staged, nodata=0)
    for level, paths in final.items():
        for y in years:
            ctx.publish(paths[y].relative_to(ws.root).as_posix(), _mover(staged[level][y]),
                        kind=f"product:units_{level}", time=str(y))
    written = load_units(ws.root, grid, years)
    areas = unit_areas(written, grid.pixel_area_ha)
    areas["area_ha"] = areas["area_ha"].round(4)
    ctx.publish("products/units/unit_areas.csv", lambda tmp: write_csv(areas, tmp),
                kind="product:unit_areas", time=f"{years[0]}/{years[-1]}")
    plots = read_plot_records(ws, ctx.input_paths("raw:plots"))
    if plots is not None:
        survey_year = years[-1]
        table = plot_units(plots, written, survey_year, cfg.plot_side_m)
        ctx.publish("products/units/plot_units.csv", lambda tmp: write_csv(table, tmp),
                    kind="product:plot_units", time=str(survey_year))


def _mover(src: Path) -> Any:
    return lambda tmp: os.replace(src, tmp)


UNITS = Step(
    "units",
    _units,
    needs=("import",),
    raw=("boundary", "influence", "damage", "plan", "reclamation", "landcover", "plots"),
    makes=("work/grid.json", "products/units/*"),
    config=("project", "scope", "survey"),
    description="monitoring extent, grid, assessment units per year (S1–S3), plot units",
)
