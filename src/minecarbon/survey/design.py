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

The pieces live in private siblings: the plot counts and argument checks that both share in
:mod:`minecarbon.survey._design_common`, allocation and placement in
:mod:`minecarbon.survey._design_placement`, and the check in
:mod:`minecarbon.survey._design_check` (:func:`check_plots` and :class:`CheckReport` are
re-exported here).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from minecarbon.errors import GridMismatchError, InputDataError, warn
from minecarbon.grid import AnalysisGrid
from minecarbon.scope.units import unit_names
from minecarbon.survey._design_check import CheckReport, check_plots
from minecarbon.survey._design_common import (
    MIN_PLOTS_PER_UNIT,
    PLANNED_DAMAGE_L1,
    _centres,
    _check_count,
    _check_crs,
    _check_side,
    _ids,
    _label,
    _pixel_index,
    _required,
)
from minecarbon.survey._design_placement import _allocate, _candidates, _draw
from minecarbon.survey.plots import plot_squares

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


# ------------------------------------------------------------------------------ planning
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
