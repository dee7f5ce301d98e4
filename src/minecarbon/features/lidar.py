"""Forest structure from airborne LiDAR (requirement F7), gridded onto the project grid.

Heights above ground and per-pixel height percentiles and canopy cover.
The steps, each a pure function of in-memory arrays:

1. :func:`normalise_heights` — a digital terrain model from the ground points (ASPRS class 2),
   interpolated linearly over their Delaunay triangulation (nearest ground point outside its
   convex hull), subtracted from every point's elevation.
2. :func:`structure_metrics` — per pixel of the project grid: maximum, mean and percentiles of
   the point heights, canopy cover (share of first returns above 2 m) and the point count, as
   an :class:`xarray.Dataset` with the grid's coordinates and CRS.

The canopy height model is in :mod:`minecarbon.features.chm`, tree tops and their matching with
reference trees in :mod:`minecarbon.features.tree_tops`.

Metrics are computed with one sort of the points by (cell, height) and arithmetic on the cell
boundaries, so the cost is that of the sort, whatever the number of cells. Percentiles use
numpy's default (linear interpolation between order statistics), so they equal
``np.percentile`` of each cell's heights.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import to_grid_dataarray

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: ASPRS class of ground points.
GROUND_CLASS = 2

#: Height above which a first return counts as canopy (m), for canopy cover.
COVER_THRESHOLD_M = 2.0

#: Percentiles reported by :func:`structure_metrics`.
PERCENTILES = (25, 50, 75, 95)

#: Variables of :func:`structure_metrics`, with their descriptions and units.
METRICS: dict[str, tuple[str, str]] = {
    "als_h_max_m": ("highest point above ground", "m"),
    "als_h_mean_m": ("mean height of all returns above ground", "m"),
    **{
        f"als_h_p{q}_m": (f"{q}th percentile of the heights of all returns", "m")
        for q in PERCENTILES
    },
    "als_cover": ("canopy cover: share of first returns higher than the cover threshold", "1"),
    "als_n_points": ("number of returns in the pixel", "1"),
}

#: A horizontal box (x_min, y_min, x_max, y_max).
Box = tuple[float, float, float, float]


def _xyz(points: Any, what: str) -> FloatArray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise InputDataError(
            f"{what} has shape {arr.shape}, expected (n, 3)", fix="pass x, y, z columns"
        )
    return arr


def ground_elevation(ground_xyz: Any, xy: Any) -> FloatArray:
    """Ground elevation at ``xy`` (m, n × 2), interpolated from ground points (m × 3).

    Linear interpolation on the Delaunay triangulation of the ground points; outside their
    convex hull (or when they are too few or collinear to triangulate) the nearest ground
    point's elevation. Ground points sharing a horizontal position are averaged. Dense ground
    (more than :data:`MAX_GROUND_POINTS`) is first thinned to the lowest point of each cell of
    a square lattice just fine enough to keep that many, so that triangulating stays fast
    (a 1 M-ground-point ALS tile in seconds, not minutes) while every kept point is a real one.
    """
    from scipy.interpolate import LinearNDInterpolator
    from scipy.spatial import QhullError, cKDTree

    ground = _xyz(ground_xyz, "ground points")
    if ground.shape[0] == 0:
        raise InputDataError(
            "no ground points to build a terrain model from",
            fix="classify the ground (ASPRS class 2) before normalising heights",
        )
    where = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    ground = _thin_lowest(ground, MAX_GROUND_POINTS)
    gxy, inverse = np.unique(ground[:, :2], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    gz = np.bincount(inverse, weights=ground[:, 2]) / np.bincount(inverse)
    z = np.full(where.shape[0], np.nan)
    if gxy.shape[0] >= 3:
        with contextlib.suppress(QhullError):  # collinear ground points: nearest only
            # query in a serpentine order of 2 m cells: each point's triangle search starts
            # next to the previous one's (30× faster than random order on a 2 M-point tile)
            order = _serpentine(where, 2.0)
            z[order] = LinearNDInterpolator(gxy, gz)(where[order])
    missing = ~np.isfinite(z)
    if missing.any():
        _, nearest = cKDTree(gxy).query(where[missing])
        z[missing] = gz[nearest]
    return np.asarray(z, dtype=np.float64)


#: Ground points above which :func:`ground_elevation` thins to the lowest point per cell.
MAX_GROUND_POINTS = 200_000


def _serpentine(xy: FloatArray, cell_m: float) -> IntArray:
    """An order of the points row by row of ``cell_m`` cells, alternating direction."""
    if xy.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    col = np.floor((xy[:, 0] - xy[:, 0].min()) / cell_m).astype(np.int64)
    row = np.floor((xy[:, 1] - xy[:, 1].min()) / cell_m).astype(np.int64)
    width = int(col.max()) + 1
    key = row * width + np.where(row % 2 == 0, col, width - 1 - col)
    return np.argsort(key, kind="stable").astype(np.int64)


def _thin_lowest(ground: FloatArray, limit: int) -> FloatArray:
    """The lowest point of each cell of a lattice sized so that about ``limit`` cells hold one."""
    if ground.shape[0] <= limit:
        return ground
    x0, y0 = ground[:, 0].min(), ground[:, 1].min()
    area = max(float(np.ptp(ground[:, 0]) * np.ptp(ground[:, 1])), 1e-6)
    size = float(np.sqrt(area / limit))
    col = np.floor((ground[:, 0] - x0) / size).astype(np.int64)
    row = np.floor((ground[:, 1] - y0) / size).astype(np.int64)
    cell = row * (int(col.max()) + 1) + col
    order = np.lexsort((ground[:, 2], cell))  # by cell, lowest first
    first = np.ones(order.size, bool)
    first[1:] = cell[order][1:] != cell[order][:-1]
    return ground[order[first]]


def normalise_heights(
    xyz: Any, classification: Any, *, ground_class: int = GROUND_CLASS
) -> FloatArray:
    """Replace each point's elevation by its height above the ground.

    Parameters
    ----------
    xyz
        Points (n, 3) with raw elevations (m).
    classification
        ASPRS class per point; ``ground_class`` (2) marks the ground.
    ground_class
        The class of ground points.

    Returns
    -------
    numpy.ndarray
        A new (n, 3) array: x, y, height above the terrain model (ground points ≈ 0).

    Raises
    ------
    InputDataError
        If the shapes do not match or there is no ground point.

    """
    pts = _xyz(xyz, "points")
    cls = np.asarray(classification)
    if cls.shape != (pts.shape[0],):
        raise InputDataError(
            f"classification has shape {cls.shape}, expected ({pts.shape[0]},)",
            fix="give one class per point",
        )
    ground = pts[cls == ground_class]
    if ground.shape[0] == 0:
        raise InputDataError(
            f"no ground points (class {ground_class}) among {pts.shape[0]} points",
            fix="classify the ground (e.g. PDAL filters.smrf or filters.csf) before normalising",
        )
    out = pts.copy()
    out[:, 2] = pts[:, 2] - ground_elevation(ground, pts[:, :2])
    return out


def cell_index(
    x: FloatArray, y: FloatArray, x_min: float, y_max: float, size: float, width: int, height: int
) -> tuple[IntArray, BoolArray]:
    """Flat cell index (row-major, north row first) of each point, and which points fall inside.

    Cells are half-open: a point on a cell's west or north edge belongs to it.
    """
    col = np.floor((x - x_min) / size).astype(np.int64)
    row = np.floor((y_max - y) / size).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    return row * width + col, inside


def _percentile_sorted(
    values: FloatArray, starts: IntArray, counts: IntArray, q: float
) -> FloatArray:
    """Numpy's default ('linear') percentile of each run ``values[start:start + count]``.

    ``values`` are sorted within each run; runs with ``count == 0`` give NaN.
    """
    out = np.full(starts.shape, np.nan)
    has = counts > 0
    pos = (counts[has] - 1) * (q / 100.0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    frac = pos - lo
    v_lo = values[starts[has] + lo]
    v_hi = values[starts[has] + hi]
    out[has] = v_lo + frac * (v_hi - v_lo)
    return out


def structure_metrics(
    points: Any,
    grid: AnalysisGrid,
    *,
    first_returns: Any = None,
    cover_threshold_m: float = COVER_THRESHOLD_M,
) -> xr.Dataset:
    """Forest-structure metrics per pixel of the project grid from a normalised ALS cloud.

    Parameters
    ----------
    points
        Points (n, 3) in the grid's CRS with heights above ground (:func:`normalise_heights`).
        Points outside the grid are ignored.
    grid
        The project grid; a pixel's metrics use the points inside it (west and north edges
        included).
    first_returns
        Boolean mask of first returns (``return_number == 1``), for canopy cover. ``None``
        counts every point as a first return (which overstates cover where the pulses have
        several returns).
    cover_threshold_m
        Height above which a first return counts as canopy (m).

    Returns
    -------
    xarray.Dataset
        On the grid (y, x), with the grid's CRS: ``als_h_max_m``, ``als_h_mean_m``,
        ``als_h_p25_m``, ``als_h_p50_m``, ``als_h_p75_m``, ``als_h_p95_m`` (heights of all
        returns, m; NaN in pixels without points), ``als_cover`` (0–1; NaN without first
        returns) and ``als_n_points`` (int32, 0 without points).

    """
    pts = _xyz(points, "normalised points")
    n = pts.shape[0]
    if first_returns is None:
        first = np.ones(n, dtype=bool)
    else:
        first = np.asarray(first_returns, dtype=bool)
        if first.shape != (n,):
            raise InputDataError(
                f"first-returns mask has shape {first.shape}, expected ({n},)",
                fix="pass return_number == 1 for the same points",
            )
    n_cells = grid.width * grid.height
    cell, inside = cell_index(
        pts[:, 0],
        pts[:, 1],
        grid.x_min_m,
        grid.y_max_m,
        grid.pixel_size_m,
        grid.width,
        grid.height,
    )
    cell, z, first = cell[inside], pts[inside, 2], first[inside]

    counts = np.bincount(cell, minlength=n_cells).astype(np.int64)
    order = np.lexsort((z, cell))
    z_sorted = z[order]
    starts = np.cumsum(counts) - counts
    has = counts > 0

    values: dict[str, FloatArray] = {}
    h_max = np.full(n_cells, np.nan)
    h_max[has] = z_sorted[starts[has] + counts[has] - 1]
    values["als_h_max_m"] = h_max
    sums = np.bincount(cell, weights=z, minlength=n_cells)
    values["als_h_mean_m"] = np.divide(sums, counts, out=np.full(n_cells, np.nan), where=has)
    for q in PERCENTILES:
        values[f"als_h_p{q}_m"] = _percentile_sorted(z_sorted, starts, counts, q)
    n_first = np.bincount(cell[first], minlength=n_cells)
    n_canopy = np.bincount(cell[first & (z > cover_threshold_m)], minlength=n_cells)
    values["als_cover"] = np.divide(
        n_canopy, n_first, out=np.full(n_cells, np.nan), where=n_first > 0
    )

    shape = grid.shape
    data_vars = {
        name: to_grid_dataarray(v.reshape(shape), grid, name) for name, v in values.items()
    }
    data_vars["als_n_points"] = to_grid_dataarray(
        counts.astype(np.int32).reshape(shape), grid, "als_n_points"
    )
    for name, da in data_vars.items():
        description, units = METRICS[name]
        da.attrs.update(long_name=description, units=units)
    data_vars["als_cover"].attrs["cover_threshold_m"] = float(cover_threshold_m)
    ds = xr.Dataset(data_vars)
    out: xr.Dataset = ds.rio.write_crs(grid.crs)
    return out
