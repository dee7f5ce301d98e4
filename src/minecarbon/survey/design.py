"""Plot design: plan plot centres per assessment unit, and check a survey against the guide (P1).

The guide asks for square plots whose side matches the image pixel (at least one pixel; the
default side is the pixel size) and at least 3 plots in every assessment unit (监测评估单元),
more where mining damage is planned (拟损毁森林, level-1 code 2).

**Planning** (:func:`plan_plots`). A plot centre is acceptable for a unit when the plot square
lies inside the unit *with half a side to spare*: every pixel whose centre lies inside or on the
square grown by ``side / 2`` on every side (a square of side ``2 × side`` around the centre)
carries the unit's level-2 code, and that grown square stays on the grid. Centres sit on the
pixel lattice so that a plot covers whole pixels where it can: with ``n`` = side / pixel
rounded half up, centres are pixel centres when ``n`` is odd (so a plot of side = pixel covers
exactly one pixel) and pixel corners when ``n`` is even (a plot of side = 2 × pixel covers
exactly 2 × 2 pixels).
The admissible centres of every unit come from one grey erosion and one grey dilation of the
level-2 map (``scipy.ndimage`` minimum and maximum filters over the grown square): a position is
inside a unit where both agree on a non-zero code. Plots are then drawn unit by unit (stratified
random sampling) from those centres in a random order given by a seeded NumPy generator, each
kept only if it is at least ``min_spacing_m`` from every plot placed so far and from every
existing plot, and its square does not overlap theirs. The units with the least room are served
first.

**Checking** (:func:`check_plots`). Every plot counts towards the unit of the pixel under its
centre (:func:`minecarbon.scope.units.plot_units`); every level-1 and level-2 unit present in the
year is compared with its requirement, and plots that cross a unit border (their pixels, those
whose centres lie inside or on the square, carry more than one level-2 code, or reach off the
grid), that are smaller than a pixel, or that lie outside every unit are listed.

:func:`~minecarbon.survey.plots.plot_squares` (re-exported here) turns a plan's centres into
the squares laid out in the field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import shapely
from pyproj import CRS
from scipy import ndimage

from minecarbon.errors import GridMismatchError, InputDataError, MissingCRSError, warn
from minecarbon.grid import AnalysisGrid, assert_on_grid
from minecarbon.scope.units import plot_units, unit_areas, unit_names
from minecarbon.survey.plots import plot_squares
from minecarbon.types import AssessmentUnit

#: The guide's minimum number of plots per assessment unit.
MIN_PLOTS_PER_UNIT = 3

#: Level-1 code of the units that get extra plots (拟损毁森林 to-be-damaged forest).
PLANNED_DAMAGE_L1 = int(AssessmentUnit.TO_BE_DAMAGED)

__all__ = [
    "MIN_PLOTS_PER_UNIT",
    "PLANNED_DAMAGE_L1",
    "PLAN_COLUMNS",
    "CheckReport",
    "check_plots",
    "plan_plots",
    "plan_summary",
    "plot_squares",
]

#: Columns of :func:`plan_plots`' result.
PLAN_COLUMNS = ("plot_id", "unit_l1", "unit_l2", "zh", "en", "x", "y", "side_m", "geometry")

_TOL = 1e-9  # in pixels: pixel centres on a square's edge count as inside
_SPACING_TOL_M = 1e-6
_BATCH = 1024  # candidates screened against the placed plots at a time


# ------------------------------------------------------------------------------ helpers
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


# ------------------------------------------------------------------------------ planning
def _lattice(side: float, pixel: float) -> tuple[bool, int]:
    """(centres on pixel corners?, size in pixels of the window to erode with).

    The window holds the pixels whose centres lie within ``side`` (half a side plus half a side
    to spare) of a centre, in x and in y.
    """
    s = side / pixel
    on_corners = math.floor(s + 0.5) % 2 == 0
    if on_corners:  # pixels C − m … C + m − 1 around the corner at the top left of pixel C
        return True, 2 * math.floor(s + 0.5 + _TOL)
    return False, 2 * math.floor(s + _TOL) + 1


@dataclass(frozen=True)
class _Centres:
    """Plot centres on the pixel lattice: pixel centres, or pixel corners (top left of a pixel)."""

    grid: AnalysisGrid
    on_corners: bool

    def xy(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of the centres at flat pixel indices."""
        rows, cols = np.divmod(flat, self.grid.width)
        shift = 0.0 if self.on_corners else 0.5
        p = self.grid.pixel_size_m
        return (self.grid.x_min_m + (cols + shift) * p, self.grid.y_max_m - (rows + shift) * p)


def _candidates(
    l2: np.ndarray, codes: Iterable[int], grid: AnalysisGrid, side: float
) -> tuple[_Centres, dict[int, np.ndarray]]:
    """Admissible plot centres (flat indices) of every unit, by one erosion and one dilation."""
    on_corners, size = _lattice(side, grid.pixel_size_m)
    low = ndimage.minimum_filter(l2, size=size, mode="constant", cval=0)
    high = ndimage.maximum_filter(l2, size=size, mode="constant", cval=0)
    inside = np.where(low == high, low, np.uint8(0)).ravel()
    return _Centres(grid, on_corners), {c: np.flatnonzero(inside == c) for c in codes}


def _clear(
    bx: np.ndarray, by: np.ndarray, px: np.ndarray, py: np.ndarray, spacing: float, side: float
) -> np.ndarray:
    """Whether each candidate keeps the spacing from, and does not overlap, every placed plot."""
    if px.size == 0:
        return np.ones(bx.size, dtype=bool)
    dx = np.abs(bx[:, np.newaxis] - px[np.newaxis, :])
    dy = np.abs(by[:, np.newaxis] - py[np.newaxis, :])
    far = np.hypot(dx, dy) >= spacing - _SPACING_TOL_M
    apart = np.maximum(dx, dy) >= side - _SPACING_TOL_M
    return np.asarray((far & apart).all(axis=1))


def _draw(
    candidates: np.ndarray,
    centres: _Centres,
    need: int,
    rng: np.random.Generator,
    placed: tuple[list[float], list[float]],
    spacing: float,
    side: float,
) -> list[tuple[float, float]]:
    """Up to ``need`` centres drawn in a random order from the candidates, keeping the spacing.

    Candidates are screened in batches against the plots already placed (vectorised); the
    Python loop runs once per plot kept. Kept centres are appended to ``placed``.
    """
    chosen: list[tuple[float, float]] = []
    if need <= 0 or candidates.size == 0:
        return chosen
    order = rng.permutation(candidates.size)
    for start in range(0, order.size, _BATCH):
        if len(chosen) >= need:
            break
        bx, by = centres.xy(candidates[order[start:start + _BATCH]])
        keep = _clear(bx, by, np.asarray(placed[0]), np.asarray(placed[1]), spacing, side)
        bx, by = bx[keep], by[keep]
        while bx.size and len(chosen) < need:
            x, y = float(bx[0]), float(by[0])
            chosen.append((x, y))
            placed[0].append(x)
            placed[1].append(y)
            keep = _clear(bx[1:], by[1:], np.array([x]), np.array([y]), spacing, side)
            bx, by = bx[1:][keep], by[1:][keep]
    return chosen


def _allocate(minimum: dict[int, int], area: dict[int, int], total: int | None) -> dict[int, int]:
    """Per-unit targets: the minimums plus ``total − Σ minimums`` shared in proportion to area.

    The share is rounded by the largest-remainder method (ties: the lower code).
    """
    target = dict(minimum)
    if total is None:
        return target
    remaining = total - sum(minimum.values())
    if remaining < 0:
        warn(
            f"the total of {total} plots is below the {sum(minimum.values())} the units need "
            "at least; planning the minimums",
            UserWarning,
            stacklevel=3,
        )
        return target
    codes = sorted(minimum)
    if remaining == 0 or not codes:
        return target
    weights = np.array([area[c] for c in codes], dtype=float)
    shares = remaining * weights / weights.sum()
    base = np.floor(shares).astype(np.int64)
    left = remaining - int(base.sum())
    fraction_order = sorted(range(len(codes)), key=lambda i: (-(shares[i] - base[i]), codes[i]))
    for i in fraction_order[:left]:
        base[i] += 1
    for code, extra in zip(codes, base, strict=True):
        target[code] += int(extra)
    return target


def _empty_plan(crs: str) -> Any:
    columns = {c: pd.Series(dtype=t) for c, t in zip(
        PLAN_COLUMNS[:-1], (str, np.uint8, np.uint8, str, str, float, float, float), strict=True
    )}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def plan_plots(
    units_l2: Any,
    grid: AnalysisGrid,
    *,
    side_m: float | None = None,
    per_unit: int = MIN_PLOTS_PER_UNIT,
    extra_planned: int = 2,
    total: int | None = None,
    min_spacing_m: float = 60.0,
    seed: int | np.random.Generator = 0,
    existing: Any = None,
) -> Any:
    """Propose plot centres: stratified random sampling per level-2 assessment unit.

    Parameters
    ----------
    units_l2
        Level-2 assessment units of the planning year, a (y, x) integer array on ``grid``
        (0 = not an assessment object), e.g. ``units["l2"].sel(year=…).values``.
    grid
        The analysis grid.
    side_m
        Plot side in metres; default the pixel size. Below one pixel is refused.
    per_unit
        Plots every unit needs (the guide: at least 3).
    extra_planned
        Plots added to the requirement of units whose level-1 code is 2 (拟损毁森林
        to-be-damaged forest).
    total
        An optional target for the whole design (existing plots in units included): what it
        leaves over the units' minimums is shared among the units in proportion to their area.
    min_spacing_m
        Least distance between plot centres, new and existing. Squares never overlap either.
    seed
        Seed of the NumPy generator (or a generator); the same seed gives the same plan.
    existing
        GeoDataFrame of plots already surveyed (points or squares) in the grid's CRS: each
        counts towards the unit under its centre, and new plots keep the spacing from all.

    Returns
    -------
    A GeoDataFrame of the new plot centres in the grid's CRS with columns ``plot_id``
    (``N001``, ``N002``…, by unit, north to south, west to east), ``unit_l1``, ``unit_l2``,
    ``zh``, ``en`` (the unit's names), ``x``, ``y``, ``side_m`` and the centre point as
    geometry. ``attrs`` holds ``required`` (the target of every unit present), ``existing``
    (existing plots counted per unit) and ``shortfall`` (unit → plots that found no room);
    a :class:`UserWarning` names every unit with a shortfall.

    """
    l2 = np.asarray(units_l2)
    if l2.shape != grid.shape:
        raise GridMismatchError(
            f"the unit map has shape {' × '.join(map(str, l2.shape))}, the project grid "
            f"{grid.height} × {grid.width}",
            fix="pass the level-2 units of one year on the project grid",
        )
    if not np.issubdtype(l2.dtype, np.integer):
        raise InputDataError(f"the unit map has dtype {l2.dtype}, expected integer codes",
                             fix="pass the l2 variable made by assessment_units")
    l2 = l2.astype(np.uint8, copy=False)
    side = _check_side(side_m, grid)
    per_unit = _check_count(per_unit, "per_unit", MIN_PLOTS_PER_UNIT,
                            "the guide asks for at least 3 plots per unit")
    extra_planned = _check_count(extra_planned, "extra_planned", 0, "use 0 or more")
    if total is not None:
        total = _check_count(total, "total", 0, "use a non-negative number of plots, or None")
    spacing = float(min_spacing_m)
    if not (math.isfinite(spacing) and spacing >= 0):
        raise InputDataError(f"min_spacing_m = {min_spacing_m!r} is not ≥ 0",
                             fix="set survey.min_spacing_m")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    pixels = np.bincount(l2.ravel(), minlength=256)
    area = {int(c): int(pixels[c]) for c in np.flatnonzero(pixels) if c}
    for code in area:
        unit_names(2, code)  # refuses codes assessment_units does not make

    placed: tuple[list[float], list[float]] = ([], [])
    have = dict.fromkeys(area, 0)
    if existing is not None and len(existing):
        _check_crs(existing, grid, "the existing plots")
        ex, ey = _centres(existing, _ids(existing), "existing plots")
        rows, cols, on = _pixel_index(grid, ex, ey)
        under = np.zeros(ex.size, dtype=np.uint8)
        under[on] = l2[rows[on], cols[on]]
        for code in under[under != 0]:
            have[int(code)] += 1
        placed[0].extend(ex.tolist())
        placed[1].extend(ey.tolist())

    minimum = {c: _required(c, 2, per_unit, extra_planned) for c in area}
    target = _allocate(minimum, area, total)
    centres, candidates = _candidates(l2, area, grid, side)
    order = sorted(area, key=lambda c: (candidates[c].size, c))
    records: list[tuple[int, float, float]] = []
    shortfall: dict[int, int] = {}
    for code in order:
        need = max(0, target[code] - have[code])
        chosen = _draw(candidates[code], centres, need, rng, placed, spacing, side)
        records += [(code, x, y) for x, y in chosen]
        if len(chosen) < need:
            shortfall[code] = need - len(chosen)
            reason = ("no position in it holds a whole plot with half a side to spare"
                      if candidates[code].size == 0
                      else f"the rest is closer than {spacing:g} m to other plots")
            warn(
                f"{_label(code)}: room for only {len(chosen)} of {need} new {side:g} m plots "
                f"({shortfall[code]} short); {reason}",
                UserWarning,
                stacklevel=2,
            )

    records.sort(key=lambda r: (r[0], -r[2], r[1]))
    if records:
        rec = np.array(records, dtype=float)
        code_col = rec[:, 0].astype(np.uint8)
        names = [unit_names(2, int(c)) for c in code_col]
        plan = gpd.GeoDataFrame(
            {
                "plot_id": [f"N{n + 1:03d}" for n in range(len(records))],
                "unit_l1": (code_col // 10).astype(np.uint8),
                "unit_l2": code_col,
                "zh": [z for z, _ in names],
                "en": [e for _, e in names],
                "x": rec[:, 1],
                "y": rec[:, 2],
                "side_m": np.full(len(records), side),
            },
            geometry=gpd.points_from_xy(rec[:, 1], rec[:, 2], crs=grid.crs),
            crs=grid.crs,
        )
    else:
        plan = _empty_plan(grid.crs)
    plan.attrs["required"] = {c: target[c] for c in sorted(target)}
    plan.attrs["existing"] = {c: have[c] for c in sorted(have)}
    plan.attrs["shortfall"] = dict(sorted(shortfall.items()))
    return plan


# ------------------------------------------------------------------------------ checking
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


def plan_summary(plan: Any) -> list[str]:
    """Lines describing a plan's targets and shortfalls (from :func:`plan_plots`' ``attrs``)."""
    counts = plan["unit_l2"].value_counts().to_dict() if len(plan) else {}
    lines = []
    for code, target in plan.attrs.get("required", {}).items():
        have = plan.attrs.get("existing", {}).get(code, 0)
        new = int(counts.get(code, 0))
        short = plan.attrs.get("shortfall", {}).get(code, 0)
        tail = f", {short} short" if short else ""
        lines.append(f"{_label(code)}: {target} required, {have} existing, {new} new{tail}")
    return lines
