"""Forest structure from airborne LiDAR (requirement F7), gridded onto the project grid.

Heights above ground, a canopy height model, and per-pixel height percentiles and canopy cover.
The steps, each a pure function of in-memory arrays:

1. :func:`normalise_heights` — a digital terrain model from the ground points (ASPRS class 2),
   interpolated linearly over their Delaunay triangulation (nearest ground point outside its
   convex hull), subtracted from every point's elevation.
2. :func:`canopy_height_model` — the highest normalised point per cell (no pit filling).
3. :func:`structure_metrics` — per pixel of the project grid: maximum, mean and percentiles of
   the point heights, canopy cover (share of first returns above 2 m) and the point count, as
   an :class:`xarray.Dataset` with the grid's coordinates and CRS.
4. :func:`chm_max_near` and :func:`find_tree_tops` — heights of known trees and tree tops from a
   canopy height model, used to check the model against a field tally (docs/als-validation.md).

Metrics are computed with one sort of the points by (cell, height) and arithmetic on the cell
boundaries, so the cost is that of the sort, whatever the number of cells. Percentiles use
numpy's default (linear interpolation between order statistics), so they equal
``np.percentile`` of each cell's heights.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
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


def _cells(
    x: FloatArray, y: FloatArray, x_min: float, y_max: float, size: float, width: int, height: int
) -> tuple[IntArray, BoolArray]:
    """Flat cell index (row-major, north row first) of each point, and which points fall inside.

    Cells are half-open: a point on a cell's west or north edge belongs to it.
    """
    col = np.floor((x - x_min) / size).astype(np.int64)
    row = np.floor((y_max - y) / size).astype(np.int64)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    return row * width + col, inside


def _raster(
    values: FloatArray, x_min: float, y_max: float, size: float, name: str, crs: Any
) -> xr.DataArray:
    """A (y, x) array with pixel-centre coordinates, transform and (if known) CRS."""
    height, width = values.shape
    if crs is not None:
        grid = AnalysisGrid(str(crs), float(size), float(x_min), float(y_max), width, height)
        return to_grid_dataarray(values, grid, name)
    from affine import Affine

    da = xr.DataArray(
        values,
        dims=("y", "x"),
        coords={
            "y": y_max - (np.arange(height) + 0.5) * size,
            "x": x_min + (np.arange(width) + 0.5) * size,
        },
        name=name,
    )
    out: xr.DataArray = da.rio.write_transform(Affine(size, 0.0, x_min, 0.0, -size, y_max))
    return out


def canopy_height_model(
    xyz_normalised: Any,
    grid_or_bounds: AnalysisGrid | Sequence[float],
    resolution_m: float,
    *,
    classification: Any = None,
    ground_class: int = GROUND_CLASS,
    crs: Any = None,
) -> xr.DataArray:
    """Canopy height model: the highest normalised point in each cell (no pit filling).

    Parameters
    ----------
    xyz_normalised
        Points (n, 3) with heights above ground (:func:`normalise_heights`).
    grid_or_bounds
        An :class:`~minecarbon.grid.AnalysisGrid` (its extent, its top-left corner and its CRS
        are used; the cells are ``resolution_m``, not the grid's pixels) or a box
        (x_min, y_min, x_max, y_max).
    resolution_m
        Cell size (m), e.g. 0.5 for single trees, 1–2 for stands.
    classification
        ASPRS classes; when given, the model is the highest non-ground point, and a cell with
        ground points only is 0. Without it, every point counts.
    ground_class
        The class of ground points.
    crs
        CRS to attach when ``grid_or_bounds`` is a box (the grid's otherwise).

    Returns
    -------
    xarray.DataArray
        ``als_chm_m`` (y, x), float64, metres; negative heights clipped to 0; NaN in cells
        without points.

    """
    pts = _xyz(xyz_normalised, "normalised points")
    if not resolution_m > 0:
        raise InputDataError(
            f"CHM resolution must be positive, got {resolution_m}", fix="pass e.g. 0.5"
        )
    if isinstance(grid_or_bounds, AnalysisGrid):
        x0, y0, x1, y1 = grid_or_bounds.bounds
        crs = grid_or_bounds.crs
    else:
        x0, y0, x1, y1 = (float(v) for v in grid_or_bounds)
        if not (x1 > x0 and y1 > y0):
            raise InputDataError(
                f"CHM bounds {(x0, y0, x1, y1)} are empty",
                fix="pass (x_min, y_min, x_max, y_max)",
            )
    width = max(1, math.ceil((x1 - x0) / resolution_m - 1e-9))
    height = max(1, math.ceil((y1 - y0) / resolution_m - 1e-9))
    cell, inside = _cells(pts[:, 0], pts[:, 1], x0, y1, resolution_m, width, height)
    z = pts[:, 2]
    chm = np.full(width * height, -np.inf)
    if classification is None:
        np.maximum.at(chm, cell[inside], z[inside])
    else:
        cls = np.asarray(classification)
        if cls.shape != z.shape:
            raise InputDataError(
                f"classification has shape {cls.shape}, expected {z.shape}",
                fix="give one class per point",
            )
        is_ground = cls == ground_class
        np.maximum.at(chm, cell[inside & ~is_ground], z[inside & ~is_ground])
        has_ground = np.bincount(cell[inside & is_ground], minlength=chm.size) > 0
        chm[has_ground & ~np.isfinite(chm)] = 0.0
    chm[~np.isfinite(chm)] = np.nan
    chm = np.where(chm < 0, 0.0, chm)
    da = _raster(chm.reshape(height, width), x0, y1, resolution_m, "als_chm_m", crs)
    da.attrs.update(long_name="canopy height model (highest point per cell)", units="m")
    return da


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
    cell, inside = _cells(
        pts[:, 0], pts[:, 1], grid.x_min_m, grid.y_max_m, grid.pixel_size_m, grid.width,
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
    values["als_h_mean_m"] = np.divide(
        sums, counts, out=np.full(n_cells, np.nan), where=has
    )
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


def chm_max_near(chm: xr.DataArray, x: Any, y: Any, radius_m: float) -> FloatArray:
    """Highest canopy-model value within ``radius_m`` of each position.

    A cell counts when its centre lies within the radius; NaN cells are ignored, and a position
    with no valid cell near it (off the model) gives NaN.

    Parameters
    ----------
    chm
        A canopy height model from :func:`canopy_height_model` (square cells, north up).
    x, y
        Positions (m), e.g. the stem positions of a field tally.
    radius_m
        Search radius (m); it absorbs position errors and the offset between the stem base and
        the top of a leaning tree.

    """
    xs = np.asarray(chm["x"].values, dtype=np.float64)
    ys = np.asarray(chm["y"].values, dtype=np.float64)
    if xs.size < 2 or ys.size < 2:
        raise InputDataError(
            f"the canopy height model has {ys.size} × {xs.size} cells, at least 2 × 2 are needed",
            fix="build the model over a larger box or with smaller cells",
        )
    size = float(xs[1] - xs[0])
    x_min = float(xs[0] - size / 2)
    y_max = float(ys[0] + size / 2)
    values = np.asarray(chm.values, dtype=np.float64)
    height, width = values.shape
    px = np.atleast_1d(np.asarray(x, dtype=np.float64))
    py = np.atleast_1d(np.asarray(y, dtype=np.float64))
    k = math.ceil(radius_m / size) + 1
    offsets = np.arange(-k, k + 1)
    dr, dc = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    row0 = np.floor((y_max - py) / size).astype(np.int64)
    col0 = np.floor((px - x_min) / size).astype(np.int64)
    rows = row0[:, None] + dr[None, :]
    cols = col0[:, None] + dc[None, :]
    cx = x_min + (cols + 0.5) * size
    cy = y_max - (rows + 0.5) * size
    near = np.hypot(cx - px[:, None], cy - py[:, None]) <= radius_m
    valid = near & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    picked = np.where(
        valid, values[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)], np.nan
    )
    out = np.full(px.shape, np.nan)
    any_valid = np.isfinite(picked).any(axis=1)
    out[any_valid] = np.nanmax(picked[any_valid], axis=1)
    return out


def find_tree_tops(
    chm: xr.DataArray,
    *,
    window_radius_m: float = 1.5,
    min_height_m: float = 5.0,
    smooth_sigma_m: float = 0.0,
) -> pd.DataFrame:
    """Tree tops as local maxima of a canopy height model.

    A cell is a top when it is the highest within a disc of ``window_radius_m`` around it (on
    the model smoothed by a Gaussian of ``smooth_sigma_m`` when positive, NaN counted as 0) and
    at least ``min_height_m`` high. A flat top spread over several touching cells gives one top,
    at its first cell in row-major order.

    Returns
    -------
    pandas.DataFrame
        One row per top: ``x_m``, ``y_m`` (cell centre) and ``height_m`` (the unsmoothed model's
        value there), highest first.

    """
    from scipy import ndimage

    xs = np.asarray(chm["x"].values, dtype=np.float64)
    ys = np.asarray(chm["y"].values, dtype=np.float64)
    size = float(abs(xs[1] - xs[0])) if xs.size > 1 else 1.0
    raw = np.asarray(chm.values, dtype=np.float64)
    surface = np.nan_to_num(raw, nan=0.0)
    if smooth_sigma_m > 0:
        surface = ndimage.gaussian_filter(surface, smooth_sigma_m / size, mode="nearest")
    k = max(1, math.floor(window_radius_m / size))
    offsets = np.arange(-k, k + 1)
    disc = np.hypot(*np.meshgrid(offsets, offsets, indexing="ij")) * size <= window_radius_m
    peak = (surface == ndimage.maximum_filter(surface, footprint=disc, mode="nearest")) & (
        surface >= min_height_m
    )
    labels, n_tops = ndimage.label(peak, structure=np.ones((3, 3), dtype=bool))
    if n_tops == 0:
        return pd.DataFrame({"x_m": [], "y_m": [], "height_m": []})
    flat = labels.ravel()
    first = np.unique(flat, return_index=True)[1][1:]  # label 0 is the background
    rows, cols = np.unravel_index(first, labels.shape)
    heights = np.where(np.isfinite(raw[rows, cols]), raw[rows, cols], surface[rows, cols])
    tops = pd.DataFrame({"x_m": xs[cols], "y_m": ys[rows], "height_m": heights})
    return tops.sort_values("height_m", ascending=False, ignore_index=True)
