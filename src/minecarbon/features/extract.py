"""Plot features: area-weighted means of the feature pixels a plot covers (requirement F8).

A field plot (a 25.82 m square of 667 m², or a circle) is about the size of a 30 m pixel and
rarely aligned with the grid, so a plot's feature is the mean of the pixels it overlaps, each
weighted by the area of the overlap. :func:`coverage_weights` computes the overlaps exactly
(shapely intersections of the plot with the pixel squares of its bounding window);
:func:`extract_plot_features` applies them to a feature stack, reading only the pixels the plots
touch. The results equal exactextract's ``mean`` (docs/terrain.md, "Plot extraction").

Bad input (docs/models.md, "Bad input"): a plot wholly outside the grid is left out of the table
with a warning naming it, and with ``drop_invalid`` so is a plot inside the grid with no valid
pixel for any feature (outside the stack's valid area); when no plot is left, an error names
the plots' source unless ``allow_empty``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import xarray as xr
from pyproj import CRS

from minecarbon.errors import InputDataError, warn
from minecarbon.grid import AnalysisGrid, assert_on_grid

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: A plot may stick out of the grid by this share of its area before a warning.
_OUTSIDE_TOLERANCE = 1e-6

#: How many plot ids a message names before "… and N more".
_SHOWN = 10


@dataclass(frozen=True)
class PlotCoverage:
    """The pixels one plot covers and the share of the plot in each.

    Attributes
    ----------
    plot_id
        The plot's identifier (the index of a GeoSeries, or the ``ids`` given).
    rows, cols
        Grid row and column of each covered pixel.
    fraction
        Share of the plot's area inside the grid that falls in each pixel; sums to 1.
    inside_fraction
        Share of the plot's whole area that lies inside the grid (1 unless it sticks out).

    """

    plot_id: Any
    rows: IntArray
    cols: IntArray
    fraction: FloatArray
    inside_fraction: float


def _geometries(
    polygons: gpd.GeoSeries | Sequence[Any], grid: AnalysisGrid, ids: Sequence[Any] | None
) -> tuple[npt.NDArray[np.object_], list[Any]]:
    if isinstance(polygons, gpd.GeoSeries):
        if polygons.crs is not None and CRS.from_user_input(polygons.crs) != CRS(grid.crs):
            polygons = polygons.to_crs(grid.crs)
        labels = list(polygons.index) if ids is None else list(ids)
        geoms = np.asarray(polygons.values, dtype=object)
    else:
        geoms = np.asarray(list(polygons), dtype=object)
        labels = list(range(len(geoms))) if ids is None else list(ids)
    if len(labels) != len(geoms):
        raise InputDataError(
            f"{len(labels)} plot ids for {len(geoms)} plot polygons", fix="give one id per plot"
        )
    for geom, label in zip(geoms, labels, strict=True):
        if isinstance(geom, shapely.Geometry) and not geom.is_empty and not geom.is_valid:
            raise InputDataError(
                f"plot {label!r} has an invalid polygon ({shapely.is_valid_reason(geom)})",
                fix="repair it, e.g. with shapely.make_valid",
            )
        if not isinstance(geom, shapely.Geometry) or geom.is_empty or geom.area <= 0:
            kind = getattr(geom, "geom_type", type(geom).__name__)
            raise InputDataError(
                f"plot {label!r} has no area ({kind})",
                fix="give plots as polygons (buffer a centre point by the plot radius)",
            )
    return geoms, labels


def coverage_weights(
    polygons: gpd.GeoSeries | Sequence[Any],
    grid: AnalysisGrid,
    *,
    ids: Sequence[Any] | None = None,
) -> list[PlotCoverage]:
    """The exact share of each plot polygon in each pixel of ``grid``.

    Parameters
    ----------
    polygons
        Plot polygons: a GeoSeries (reprojected to the grid's CRS when it has another; one
        without a CRS is taken to be in the grid's) or a sequence of shapely polygons in the
        grid's CRS.
    grid
        The analysis grid.
    ids
        Plot identifiers used in messages and results; default the GeoSeries index, or the
        position in the sequence.

    Returns
    -------
    list of PlotCoverage
        One per polygon, in order. A plot partly outside the grid keeps the part inside (its
        fractions are shares of that part) and a warning names it.

    Raises
    ------
    InputDataError
        A polygon with no area, an invalid one, or one wholly outside the grid (named).

    """
    geoms, labels = _geometries(polygons, grid, ids)
    p, x0, y1 = grid.pixel_size_m, grid.x_min_m, grid.y_max_m
    bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((0, 4))
    windows = []
    for (bx0, by0, bx1, by1), label in zip(bounds, labels, strict=True):
        c0, c1 = max(0, math.floor((bx0 - x0) / p)), min(grid.width, math.ceil((bx1 - x0) / p))
        r0, r1 = max(0, math.floor((y1 - by1) / p)), min(grid.height, math.ceil((y1 - by0) / p))
        if c0 >= c1 or r0 >= r1:
            raise InputDataError(
                f"plot {label!r} lies wholly outside the analysis grid {grid.bounds}",
                fix="check the plot coordinates and their CRS, or widen the scope extent",
            )
        rr, cc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        windows.append((rr.ravel(), cc.ravel()))
    counts = np.array([len(r) for r, _ in windows], dtype=np.int64)
    rows = np.concatenate([r for r, _ in windows]) if windows else np.zeros(0, np.int64)
    cols = np.concatenate([c for _, c in windows]) if windows else np.zeros(0, np.int64)
    boxes = shapely.box(x0 + cols * p, y1 - (rows + 1) * p, x0 + (cols + 1) * p, y1 - rows * p)
    areas = shapely.area(shapely.intersection(boxes, np.repeat(geoms, counts)))
    out = []
    starts = np.concatenate([[0], np.cumsum(counts)])
    for i, (geom, label) in enumerate(zip(geoms, labels, strict=True)):
        part = slice(starts[i], starts[i + 1])
        a = areas[part]
        keep = a > 0
        inside = float(a.sum())
        if inside <= 0:
            raise InputDataError(
                f"plot {label!r} lies wholly outside the analysis grid {grid.bounds}",
                fix="check the plot coordinates and their CRS, or widen the scope extent",
            )
        share = min(1.0, inside / geom.area)
        if share < 1.0 - _OUTSIDE_TOLERANCE:
            warn(
                f"plot {label!r}: only {share:.1%} of its area lies inside the analysis grid; "
                "its features use that part",
                UserWarning,
                stacklevel=2,
            )
        out.append(PlotCoverage(label, rows[part][keep], cols[part][keep], a[keep] / inside, share))
    return out


def extract_plot_features(
    stack: xr.Dataset,
    plots: gpd.GeoDataFrame,
    grid: AnalysisGrid,
    *,
    id_column: str = "plot_id",
    min_valid_fraction: float = 0.5,
    drop_invalid: bool = False,
    allow_empty: bool = False,
    what: str = "the plots",
) -> pd.DataFrame:
    """Area-weighted mean of every feature over every plot.

    Parameters
    ----------
    stack
        Features on ``grid``: variables with dims ``("y", "x")``, numpy- or dask-backed. Only
        the pixels the plots touch are read (one gather, computed once).
    plots
        Plot polygons with an id column.
    grid
        The analysis grid the stack lies on.
    id_column
        Column of ``plots`` with unique plot identifiers.
    min_valid_fraction
        Least share of a plot's area that must fall on valid (non-NaN, inside the grid) pixels
        of a feature; below it the feature is NaN for that plot.
    drop_invalid
        Leave out (with a warning naming them) the plots inside the grid whose features are all
        NaN — outside the valid area of the stack (the scope extent, clouds never filled).
        Default False: such a plot gets a row of NaN.
    allow_empty
        When every plot is left out, return an empty table instead of raising.
    what
        How messages name the plots, e.g. ``"plots of plots.csv surveyed in 2020"``.

    Returns
    -------
    pandas.DataFrame
        One row per plot kept, in the order of ``plots``: the id column, one column per feature
        (the mean over the valid pixels, weights renormalised to them) and ``valid_fraction``,
        the smallest over the features of the share of the plot's whole area on valid pixels.

    Warns
    -----
    UserWarning
        Naming the plots wholly outside the grid (left out), partly outside it (the part
        inside is used) and, with ``drop_invalid``, those with no valid feature (left out).

    Raises
    ------
    InputDataError
        For a missing or repeated plot id, a plot without area, a feature not on ``("y",
        "x")``, or (unless ``allow_empty``) when no plot is left; the message names ``what``.
    GridMismatchError
        If ``stack`` is not on ``grid``.

    """
    if id_column not in plots.columns:
        raise InputDataError(
            f"plots have no {id_column!r} column (columns: {list(plots.columns)})",
            fix=f"name the plot identifier column {id_column!r} or pass id_column=",
        )
    ids = plots[id_column]
    if ids.isna().any() or ids.duplicated().any():
        dup = ids[ids.duplicated(keep=False) | ids.isna()].tolist()
        raise InputDataError(
            f"plot ids in {id_column!r} must be unique and present; offending: {dup}",
            fix="give every plot its own identifier",
        )
    if not 0.0 <= min_valid_fraction <= 1.0:
        raise InputDataError(
            f"min_valid_fraction = {min_valid_fraction} is outside 0–1", fix="use e.g. 0.5"
        )
    assert_on_grid(stack, grid, "feature stack")
    names = [str(n) for n in stack.data_vars]
    for name in names:
        if set(stack[name].dims) != {"y", "x"}:
            raise InputDataError(
                f"feature {name!r} has dims {stack[name].dims}, expected ('y', 'x')",
                fix="split the band or year dimension into separate variables",
            )
    empty = pd.DataFrame(columns=[id_column, *names, "valid_fraction"])
    if len(plots) == 0:
        return empty
    geoms, labels = _geometries(plots.geometry, grid, ids.tolist())
    on_grid = shapely.area(shapely.intersection(geoms, shapely.box(*grid.bounds))) > 0
    if not on_grid.all():
        _left_out([labels[i] for i in np.flatnonzero(~on_grid)],
                  f"lie wholly outside the analysis grid {grid.bounds}", what,
                  none_left=not (on_grid.any() or allow_empty),
                  fix="check the plot coordinates and their CRS column against the project "
                  "CRS, or widen the scope extent")
        if not on_grid.any():
            return empty
    ids = ids[on_grid]
    covers = coverage_weights(list(geoms[on_grid]), grid, ids=ids.tolist())
    inside = np.array([c.inside_fraction for c in covers])
    if not names:
        return pd.DataFrame({id_column: ids.to_numpy(), "valid_fraction": inside})
    rows = np.concatenate([c.rows for c in covers])
    cols = np.concatenate([c.cols for c in covers])
    weights = np.concatenate([c.fraction for c in covers])
    pixel, inverse = np.unique(rows * grid.width + cols, return_inverse=True)
    gathered = (
        stack[names]
        .isel(
            y=xr.DataArray(pixel // grid.width, dims="pixel"),
            x=xr.DataArray(pixel % grid.width, dims="pixel"),
        )
        .compute()
    )
    values = np.column_stack(
        [np.asarray(gathered[n].values, dtype=np.float64) for n in names]
    ).reshape(len(pixel), len(names))[inverse]
    valid = ~np.isnan(values)
    starts = np.cumsum([0] + [len(c.rows) for c in covers])[:-1]
    weighted = np.where(valid, weights[:, None] * values, 0.0)
    total = np.add.reduceat(weighted, starts, axis=0)
    covered = np.add.reduceat(weights[:, None] * valid, starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = total / covered
    share = covered * inside[:, None]
    means[(share < min_valid_fraction - 1e-9) | (covered <= 0)] = np.nan
    table = pd.DataFrame(means, columns=names)
    table.insert(0, id_column, ids.to_numpy())
    table["valid_fraction"] = share.min(axis=1)
    no_value = np.isnan(means).all(axis=1)
    if drop_invalid and no_value.any():
        _left_out(ids.to_numpy()[no_value].tolist(),
                  "have no valid pixel for any feature (outside the valid area of the feature "
                  "stack)", what, none_left=bool(no_value.all()) and not allow_empty,
                  fix="check that the plots lie inside the scope extent and that the year's "
                  "composite is clear (or gap-filled) there")
        table = table.loc[~no_value].reset_index(drop=True)
    return table


def _left_out(labels: list[Any], why: str, what: str, *, none_left: bool, fix: str) -> None:
    """Warn that plots ``labels`` are left out, or raise when ``none_left``."""
    shown = ", ".join(map(repr, labels[:_SHOWN])) + (
        f" … and {len(labels) - _SHOWN} more" if len(labels) > _SHOWN else "")
    if none_left:
        raise InputDataError(f"{what}: all {len(labels)} plots {why} ({shown})", fix=fix)
    warn(f"{what}: {len(labels)} plots {why} and are left out: {shown}", UserWarning,
         stacklevel=3)


def sample_points(stack: xr.Dataset, points: Any, grid: AnalysisGrid, *,
                  id_column: str = "sample_id",
                  location_column: str | None = None) -> pd.DataFrame:
    """Feature values of the pixel under each point (training samples of the classifiers).

    ``points`` is a GeoDataFrame of points in the grid's CRS (or one that reprojects to it).
    Returns one row per point: the id column, then one column per feature variable (NaN where
    the stack is NaN). Only the pixels under the points are computed. A point outside the grid
    raises :class:`InputDataError` naming it. ``location_column`` adds a column of that name
    with the pixel's index (row × width + column), which names the point's place.
    """
    assert_on_grid(stack, grid, "the feature stack")
    frame = points
    if getattr(frame, "crs", None) is not None and str(frame.crs) != str(grid.crs):
        frame = frame.to_crs(grid.crs)
    if id_column not in frame.columns:
        raise InputDataError(f"the samples have no {id_column!r} column",
                             fix=f"name each sample in a {id_column!r} column")
    x = np.asarray(frame.geometry.x, float)
    y = np.asarray(frame.geometry.y, float)
    row, col, inside = grid.cells(x, y)
    outside = ~inside
    if outside.any():
        ids = frame[id_column].to_numpy()[outside].tolist()
        raise InputDataError(f"samples {ids[:10]} lie outside the project grid",
                             fix="drop them, or check their coordinates and CRS")
    names = [str(n) for n in stack.data_vars]
    rows_da = xr.DataArray(row, dims="sample")
    cols_da = xr.DataArray(col, dims="sample")
    picked = stack.isel(y=rows_da, x=cols_da).compute()
    out = pd.DataFrame({id_column: frame[id_column].to_numpy()})
    if location_column is not None:
        out[location_column] = row.astype(np.int64) * grid.width + col
    for name in names:
        out[name] = np.asarray(picked[name].values, float)
    return out
