"""What plot planning and plot checking share: the guide's plot counts and argument checks.

:data:`MIN_PLOTS_PER_UNIT` and :data:`PLANNED_DAMAGE_L1` make a unit's requirement
(:func:`_required`); the other helpers check a count, the plot side and the plots' CRS, and turn
plots into ids, centre coordinates and the pixels under those. Used by
:func:`~minecarbon.survey.design.plan_plots` and :func:`~minecarbon.survey.design.check_plots`;
:mod:`minecarbon.survey.design`, which re-exports the constants, is the module to import.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from minecarbon.errors import GridMismatchError, InputDataError, MissingCRSError
from minecarbon.grid import AnalysisGrid
from minecarbon.scope.units import unit_names
from minecarbon.types import AssessmentUnit

#: The guide's minimum number of plots per assessment unit.
MIN_PLOTS_PER_UNIT = 3

#: Level-1 code of the units that get extra plots (拟损毁森林 to-be-damaged forest).
PLANNED_DAMAGE_L1 = int(AssessmentUnit.TO_BE_DAMAGED)

_TOL = 1e-9  # in pixels: pixel centres on a square's edge count as inside


def _check_count(value: int, name: str, minimum: int, fix: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputDataError(f"{name} = {value!r}; it must be an integer ≥ {minimum}", fix=fix)
    return int(value)


def _check_side(side_m: float | None, grid: AnalysisGrid) -> float:
    """The plot side: the pixel size by default; refused below one pixel."""
    pixel = grid.pixel_size_m
    if side_m is None:
        return pixel
    side = float(side_m)
    if not (math.isfinite(side) and side > 0):
        raise InputDataError(f"plot side {side_m!r} m is not positive",
                             fix="set survey.plot_side_m, or leave it out for the pixel size")
    if side < pixel * (1 - _TOL):
        raise InputDataError(
            f"plot side {side:g} m is smaller than the {pixel:g} m pixel; the guide asks for "
            "square plots of at least one pixel",
            fix=f"use a side of at least {pixel:g} m (survey.plot_side_m)",
        )
    return side


def _check_crs(gdf: Any, grid: AnalysisGrid, what: str) -> None:
    if gdf.crs is None:
        raise MissingCRSError(f"{what} have no CRS", fix="assign the CRS of the GNSS survey")
    if CRS.from_user_input(gdf.crs) != CRS.from_user_input(grid.crs):
        raise GridMismatchError(
            f"{what} are in {CRS.from_user_input(gdf.crs).to_string()}, the project grid in "
            f"{grid.crs}",
            fix="reproject them to the project CRS (GeoDataFrame.to_crs)",
        )


def _ids(plots: Any) -> list[str]:
    """Plot ids from a ``plot_id`` column, else ``row N``."""
    if "plot_id" in plots.columns:
        return [str(v) for v in plots["plot_id"]]
    return [f"row {n + 1}" for n in range(len(plots))]


def _centres(plots: Any, ids: list[str], what: str) -> tuple[np.ndarray, np.ndarray]:
    """Centre coordinates of points, or of polygons (their centroids)."""
    geoms = np.asarray(plots.geometry.values, dtype=object)
    missing = [ids[n] for n, g in enumerate(geoms) if g is None or g.is_empty]
    if missing:
        raise InputDataError(f"{what} {', '.join(missing)} have no geometry",
                             fix="give every plot its centre coordinates")
    if len(geoms) == 0:
        return np.empty(0), np.empty(0)
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.centroid(geoms))
    return shapely.get_x(points).astype(float), shapely.get_y(points).astype(float)


def _pixel_index(grid: AnalysisGrid, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Row, column and 'on the grid' of coordinates."""
    p = grid.pixel_size_m
    cols = np.floor((x - grid.x_min_m) / p).astype(np.int64)
    rows = np.floor((grid.y_max_m - y) / p).astype(np.int64)
    on = (cols >= 0) & (cols < grid.width) & (rows >= 0) & (rows < grid.height)
    return rows, cols, on


def _required(code: int, level: int, per_unit: int, extra: int) -> int:
    l1 = code if level == 1 else code // 10
    return per_unit + (extra if l1 == PLANNED_DAMAGE_L1 else 0)


def _label(code: int, level: int = 2) -> str:
    zh, en = unit_names(level, code)
    return f"unit {code} {zh} {en}"
