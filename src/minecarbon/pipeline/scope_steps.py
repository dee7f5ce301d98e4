"""Pipeline steps of the scope stage.

``scope``: the monitoring extent (boundary + buffer, or a drawn influence boundary) and the
project grid. ``units``: the assessment units per year from the damage, plan and reclamation
polygons and the annual forest masks, and the unit of every plot. The forest masks come from the
imported land-cover maps or from the ``classify`` step's maps (``scope.forest_source``), so the
units step runs after classification.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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
from minecarbon.pipeline.step import Step, StepContext, moved_from
from minecarbon.scope.events import clean_events
from minecarbon.scope.extent import extent_mask, monitoring_extent, project_grid
from minecarbon.scope.units import assessment_units, plot_units, rasterize_events, unit_areas
from minecarbon.types import LandCover

GRID_FILE = "work/grid.json"
EXTENT_FILE = "products/units/extent.gpkg"
LANDCOVER = "products/classification/landcover_{year}.tif"  # written by the classify step


def load_grid(root: Path) -> AnalysisGrid:
    """The project grid written by the units step."""
    path = root / GRID_FILE
    if not path.exists():
        raise InputDataError(
            f"{root} has no project grid yet ({GRID_FILE})",
            fix="run `minecarbon run --until scope` first",
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


def read_layer(ctx: StepContext, kind: str, crs: str) -> gpd.GeoDataFrame | None:
    """The step's imported vector layers of ``kind`` in ``crs`` (event layers cleaned), or None."""
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


def _imported_forest(ctx: StepContext) -> dict[int, Path]:
    by_year: dict[int, Path] = {}
    for r in ctx.inputs:
        if r.kind == "raw:landcover":
            path = ctx.workspace.path(r.path)
            by_year[year_of(path, r.time)] = path
    return by_year


def forest_source(ctx: StepContext, wanted: range) -> tuple[str, dict[int, Path]]:
    """Where the annual forest masks come from: ``("imported" | "classified", year → map)``.

    ``scope.forest_source`` ``auto`` takes the imported land-cover maps when there is one for
    every year (an authoritative product such as a land survey or CLCD), else the classify
    step's maps. Classified maps flicker from year to year where classes are confusable (sparse
    forest and shrubland), and every forest → non-forest flicker outside a damage polygon makes
    an "other disturbance" unit, so they are the fallback, not the default.
    """
    cfg = ctx.config
    choice = cfg.scope.forest_source
    imported = _imported_forest(ctx)
    classified = {y: p for y in wanted
                  if (p := ctx.workspace.path(LANDCOVER.format(year=y))).exists()}
    if choice == "auto":
        complete = all(y in imported for y in wanted)
        choice = "imported" if complete or len(classified) < len(wanted) else "classified"
    by_year = classified if choice == "classified" else imported
    if not by_year:
        raise InputDataError(
            "no land-cover maps in the workspace: the assessment units need annual forest masks"
            if choice == "imported" else
            "no classified land-cover maps (products/classification/landcover_<year>.tif): the "
            "assessment units need annual forest masks",
            fix="import annual maps with `minecarbon import landcover FILE --year YYYY`, or give "
            "training samples (`minecarbon import samples FILE`) so that the classify step maps "
            "land cover",
        )
    missing = [y for y in wanted if y not in by_year]
    if missing:
        raise InputDataError(
            f"{choice} land-cover maps are missing for years {missing}",
            fix="import a map for every project year (or give scenes of those years to classify),"
            " or narrow project.first_year/last_year",
        )
    return choice, by_year


def _forest_cube(ctx: StepContext, grid: AnalysisGrid) -> tuple[str, xr.DataArray]:
    cfg = ctx.config
    wanted = range(cfg.project.first_year, cfg.project.last_year + 1)
    source, by_year = forest_source(ctx, wanted)
    codes = cfg.scope.landcover_forest_codes if source == "imported" else [int(LandCover.FOREST)]
    chunk = cfg.compute.chunk_px
    layers = [read_on_grid(by_year[y], grid, chunks=chunk).isin(codes) for y in wanted]
    cube = xr.concat(layers, dim=pd.Index(list(wanted), name="year"))
    return source, cube.chunk({"year": -1})


def _scope(ctx: StepContext) -> None:
    cfg = ctx.config
    crs = cfg.project.crs
    boundary = read_layer(ctx, "boundary", crs)
    if boundary is None:
        raise InputDataError(
            "no mining-right boundary in the workspace",
            fix="import it with `minecarbon import boundary FILE`",
        )
    influence = read_layer(ctx, "influence", crs)
    extent = monitoring_extent(boundary, cfg.scope.buffer_m, influence, crs)
    grid = project_grid(extent, crs, cfg.scope.pixel_size_m)
    ctx.publish(GRID_FILE, lambda tmp: tmp.write_text(json.dumps(grid.to_dict(), indent=1)),
                kind="work:grid")
    extent_frame = gpd.GeoDataFrame({"name": ["监测评估范围 monitoring extent"]},
                                    geometry=[extent], crs=crs)
    ctx.publish(EXTENT_FILE, lambda tmp: write_vector(extent_frame, tmp, layer="extent"),
                kind="product:extent")


def _units(ctx: StepContext) -> None:
    cfg = ctx.config
    ws = ctx.workspace
    crs = cfg.project.crs
    grid = load_grid(ws.root)
    extent = read_vector(ws.path(EXTENT_FILE)).geometry.union_all()
    events = {k: f for k in ("damage", "plan", "reclamation") if (f := read_layer(ctx, k, crs))
              is not None}
    rasters = rasterize_events(events, grid, chunks=cfg.compute.chunk_px)
    source, forest = _forest_cube(ctx, grid)
    inside = extent_mask(extent, grid, chunks=cfg.compute.chunk_px)
    units = assessment_units(forest, rasters, inside)
    years = [int(y) for y in units["year"].values]
    final = {lv: {y: ws.path(f"products/units/units_{lv}_{y}.tif") for y in years}
             for lv in ("l1", "l2")}
    staged = {lv: {y: temporary_sibling(p) for y, p in paths.items()}
              for lv, paths in final.items()}
    cubes = {lv: units[lv].rio.write_crs(crs).rename(f"units_{lv}")
             .assign_attrs(forest_source=source) for lv in final}
    write_cubes(cubes, staged, nodata=0)
    for level, paths in final.items():
        for y in years:
            ctx.publish(paths[y].relative_to(ws.root).as_posix(), moved_from(staged[level][y]),
                        kind=f"product:units_{level}", time=str(y))
    written = load_units(ws.root, grid, years)
    areas = unit_areas(written, grid.pixel_area_ha)
    areas["area_ha"] = areas["area_ha"].round(4)
    areas["forest_source"] = source
    ctx.publish("products/units/unit_areas.csv", lambda tmp: write_csv(areas, tmp),
                kind="product:unit_areas", time=f"{years[0]}/{years[-1]}")
    plots = read_plot_records(ws, ctx.input_paths("raw:plots"))
    if plots is not None:
        survey_year = years[-1]
        table = plot_units(plots, written, survey_year, cfg.plot_side_m)
        ctx.publish("products/units/plot_units.csv", lambda tmp: write_csv(table, tmp),
                    kind="product:plot_units", time=str(survey_year))



SCOPE = Step(
    "scope",
    _scope,
    after=("import",),
    raw=("boundary", "influence"),
    makes=(GRID_FILE, EXTENT_FILE),
    config=("project", "scope"),
    description="monitoring extent (boundary + buffer or influence boundary) and grid (S1)",
)

UNITS = Step(
    "units",
    _units,
    needs=("scope", "classify"),
    raw=("damage", "plan", "reclamation", "landcover", "plots"),
    makes=("products/units/units_*.tif", "products/units/unit_areas.csv",
           "products/units/plot_units.csv"),
    config=("project", "scope", "survey"),
    description="assessment units per year from the damage polygons and the annual forest "
    "masks, imported or classified (S2, S3); plot units",
)
