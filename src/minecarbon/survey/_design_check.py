"""Checking a plot survey (or a plan) against the guide: :func:`check_plots`, :class:`CheckReport`.

Every level-1 and level-2 unit present in the year is compared with its requirement, and the
plots that cross a unit border, are smaller than a pixel or lie outside every unit are listed;
the rules are in the module docstring of :mod:`minecarbon.survey.design`, which re-exports both
names and is the module to import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import shapely

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid, assert_on_grid
from minecarbon.scope.units import plot_units, unit_areas
from minecarbon.survey._design_common import (
    _TOL,
    MIN_PLOTS_PER_UNIT,
    _centres,
    _check_count,
    _check_crs,
    _ids,
    _pixel_index,
    _required,
)


@dataclass(frozen=True)
class CheckReport:
    """What :func:`check_plots` found.

    Attributes
    ----------
    per_unit
        One row per level-1 and level-2 unit present in the year: ``level``, ``code``, ``zh``,
        ``en``, ``area_ha``, ``plots`` (plots whose centre lies in it), ``required``,
        ``deficit`` (``max(0, required − plots)``).
    crossing
        Plots whose square covers more than one level-2 code: ``plot_id``, ``unit_l2`` (under
        the centre) and ``units`` (the sorted level-2 codes covered; 0 = not an assessment
        object or off the grid).
    too_small
        Plots whose side is below the pixel size: ``plot_id``, ``side_m``, ``pixel_size_m``.
    outside
        Plots outside every unit: ``plot_id``, ``x``, ``y``, ``reason`` (``outside the grid``
        or ``outside every unit``).

    """

    per_unit: pd.DataFrame
    crossing: pd.DataFrame
    too_small: pd.DataFrame
    outside: pd.DataFrame

    @property
    def ok(self) -> bool:
        """Whether every unit has the plots it needs."""
        return not bool((self.per_unit["deficit"] > 0).any())

    @property
    def deficits(self) -> pd.DataFrame:
        """The rows of :attr:`per_unit` short of plots."""
        return self.per_unit[self.per_unit["deficit"] > 0].reset_index(drop=True)

    def messages(self) -> list[str]:
        """One line per problem found, for a log or the report."""
        lines = [
            f"level-{r.level} unit {r.code} {r.zh} {r.en}: {r.plots} plots, {r.required} "
            f"required ({r.deficit} short)"
            for r in self.deficits.itertuples()
        ]
        lines += [
            f"plot {r.plot_id} crosses unit borders (covers {', '.join(map(str, r.units))})"
            for r in self.crossing.itertuples()
        ]
        lines += [
            f"plot {r.plot_id}: side {r.side_m:g} m is below the {r.pixel_size_m:g} m pixel"
            for r in self.too_small.itertuples()
        ]
        lines += [f"plot {r.plot_id} lies {r.reason}" for r in self.outside.itertuples()]
        return lines


def _plot_sides(plots: Any, side_m: float | None, grid: AnalysisGrid) -> np.ndarray:
    """Side of every plot.

    The argument, else a ``side_m`` column, else the square's size (polygons) or the pixel
    size (points).
    """
    n = len(plots)
    if side_m is not None:
        side = float(side_m)
        if not (math.isfinite(side) and side > 0):
            raise InputDataError(f"plot side {side_m!r} m is not positive",
                                 fix="set survey.plot_side_m")
        return np.full(n, side)
    if "side_m" in plots.columns:
        sides = np.asarray(plots["side_m"], dtype=float)
    else:
        sides = np.full(n, np.nan)
    geoms = np.asarray(plots.geometry.values, dtype=object)
    if n:
        polygon = shapely.get_type_id(geoms) != 0
        from_shape = np.sqrt(shapely.area(geoms))
        sides = np.where(np.isnan(sides) & polygon, from_shape, sides)
    sides = np.where(np.isnan(sides), grid.pixel_size_m, sides)
    if not np.all(sides > 0):
        raise InputDataError("some plots have a side ≤ 0", fix="check the side_m column")
    return np.asarray(sides, dtype=float)


def _window_ranges(
    bounds: np.ndarray, grid: AnalysisGrid
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns (inclusive, unclipped) of the pixels whose centres lie in the bounds."""
    p, x0, y_top = grid.pixel_size_m, grid.x_min_m, grid.y_max_m
    c_lo = np.ceil((bounds[:, 0] - x0) / p - 0.5 - _TOL).astype(np.int64)
    c_hi = np.floor((bounds[:, 2] - x0) / p - 0.5 + _TOL).astype(np.int64)
    r_lo = np.ceil((y_top - bounds[:, 3]) / p - 0.5 - _TOL).astype(np.int64)
    r_hi = np.floor((y_top - bounds[:, 1]) / p - 0.5 + _TOL).astype(np.int64)
    return r_lo, r_hi, c_lo, c_hi


def _covered_codes(
    plane: Any, geom: Any, window: tuple[int, int, int, int], grid: AnalysisGrid
) -> set[int]:
    """Level-2 codes of the on-grid pixels whose centres lie in a plot's square."""
    r_lo, r_hi, c_lo, c_hi = window
    r0, r1 = max(r_lo, 0), min(r_hi, grid.height - 1)
    c0, c1 = max(c_lo, 0), min(c_hi, grid.width - 1)
    if r0 > r1 or c0 > c1:
        return set()
    codes = np.asarray(plane[r0:r1 + 1, c0:c1 + 1].values)
    if geom.geom_type != "Point":
        xs = grid.x_coords()[c0:c1 + 1]
        ys = grid.y_coords()[r0:r1 + 1]
        gx, gy = np.meshgrid(xs, ys)
        codes = codes[shapely.intersects_xy(geom, gx, gy)]
    return {int(c) for c in np.unique(codes)}


def _count_table(
    areas: pd.DataFrame, counts: dict[tuple[int, int], int], required: int, extra: int
) -> pd.DataFrame:
    rows = []
    for r in areas.itertuples():
        level, code = int(r.level), int(r.code)
        need = _required(code, level, required, extra)
        have = counts.get((level, code), 0)
        rows.append((level, code, r.zh, r.en, float(r.area_ha), have, need, max(0, need - have)))
    columns = ["level", "code", "zh", "en", "area_ha", "plots", "required", "deficit"]
    return pd.DataFrame(rows, columns=columns)


def check_plots(
    plots: Any,
    units: Any,
    year: int,
    grid: AnalysisGrid,
    *,
    side_m: float | None = None,
    required: int = MIN_PLOTS_PER_UNIT,
    extra_planned: int = 2,
) -> CheckReport:
    """Check a plot survey (or a plan) against the guide's requirements in ``year``.

    Parameters
    ----------
    plots
        GeoDataFrame of plot centres (points) or squares (polygons) in the grid's CRS, with a
        ``plot_id`` column (else plots are named ``row N``).
    units
        Dataset with ``l1`` and ``l2`` (year, y, x) on ``grid``, as made by
        :func:`~minecarbon.scope.units.assessment_units` or read from ``products/units``.
    year
        The year whose units the plots are checked against.
    grid
        The analysis grid.
    side_m
        Plot side in metres for every plot; ``None`` takes the plots' ``side_m`` column, else
        the size of each square (polygons) or the pixel size (points).
    required
        Plots every unit needs (the guide: at least 3).
    extra_planned
        Extra plots for to-be-damaged units (level-1 code 2 and its level-2 units).

    Returns
    -------
    A :class:`CheckReport`; ``report.ok`` is true when no unit is short of plots.

    """
    required = _check_count(required, "required", MIN_PLOTS_PER_UNIT,
                            "the guide asks for at least 3 plots per unit")
    extra_planned = _check_count(extra_planned, "extra_planned", 0, "use 0 or more")
    years = np.asarray(units["year"].values).tolist()
    if year not in years:
        raise InputDataError(f"year {year} is not among the unit years {years}",
                             fix="choose a year the forest masks cover")
    assert_on_grid(units, grid, "the assessment units")
    units = units[["l1", "l2"]]
    if not all(np.issubdtype(units[v].dtype, np.integer) for v in ("l1", "l2")):
        units = units.fillna(0).astype(np.uint8)  # read from GeoTIFF: NaN where not an object
    _check_crs(plots, grid, "the plots")
    ids = _ids(plots)
    cx, cy = _centres(plots, ids, "plots")
    sides = _plot_sides(plots, side_m, grid)
    _, _, on = _pixel_index(grid, cx, cy)
    pixel = grid.pixel_size_m

    # unit under the centre and border flags, by plot_units, one call per distinct side
    n = len(ids)
    l1_at = np.zeros(n, dtype=np.uint8)
    l2_at = np.zeros(n, dtype=np.uint8)
    crosses = np.zeros(n, dtype=bool)
    frame = gpd.GeoDataFrame({"plot_id": ids}, geometry=plots.geometry.values, crs=plots.crs)
    for side in np.unique(sides[on]):
        pick = np.flatnonzero(on & (sides == side))
        table = plot_units(frame.iloc[pick], units, year, float(side))
        l1_at[pick] = np.asarray(table["unit_l1"], dtype=np.uint8)
        l2_at[pick] = np.asarray(table["unit_l2"], dtype=np.uint8)
        crosses[pick] = np.asarray(table["crosses_border"], dtype=bool)

    # squares reaching off the grid cross into "no unit" as well
    geoms = np.asarray(plots.geometry.values, dtype=object)
    if n:
        is_point = shapely.get_type_id(geoms) == 0
        half = sides / 2
        point_bounds = np.column_stack([cx - half, cy - half, cx + half, cy + half])
        bounds = np.where(is_point[:, np.newaxis], point_bounds, shapely.bounds(geoms))
    else:
        bounds = np.empty((0, 4))
    r_lo, r_hi, c_lo, c_hi = _window_ranges(bounds, grid)
    holds_pixels = (r_lo <= r_hi) & (c_lo <= c_hi)
    off_grid = holds_pixels & (
        (r_lo < 0) | (c_lo < 0) | (r_hi >= grid.height) | (c_hi >= grid.width)
    )
    crossing_rows = []
    plane = units["l2"].sel(year=year).transpose("y", "x")
    for k in np.flatnonzero(on & (crosses | off_grid)):
        window = (int(r_lo[k]), int(r_hi[k]), int(c_lo[k]), int(c_hi[k]))
        covered = _covered_codes(plane, geoms[k], window, grid)
        if off_grid[k]:
            covered.add(0)
        if len(covered) > 1:
            crossing_rows.append((ids[k], int(l2_at[k]), tuple(sorted(covered))))
    crossing = pd.DataFrame(crossing_rows, columns=["plot_id", "unit_l2", "units"])

    small = sides < pixel * (1 - _TOL)
    too_small = pd.DataFrame({
        "plot_id": [ids[k] for k in np.flatnonzero(small)],
        "side_m": sides[small],
        "pixel_size_m": np.full(int(small.sum()), pixel),
    })

    no_unit = on & (l2_at == 0)
    out_idx = np.flatnonzero(~on | no_unit)
    outside = pd.DataFrame({
        "plot_id": [ids[k] for k in out_idx],
        "x": cx[out_idx],
        "y": cy[out_idx],
        "reason": ["outside the grid" if not on[k] else "outside every unit" for k in out_idx],
    })

    counted = on & (l2_at != 0)
    counts: dict[tuple[int, int], int] = {}
    for level, values in ((1, l1_at[counted]), (2, l2_at[counted])):
        codes, number = np.unique(values, return_counts=True)
        counts.update({(level, int(c)): int(m) for c, m in zip(codes, number, strict=True)})
    areas = unit_areas(units.sel(year=[year]), grid.pixel_area_ha)
    per_unit = _count_table(areas, counts, required, extra_planned)
    return CheckReport(per_unit, crossing, too_small, outside)
