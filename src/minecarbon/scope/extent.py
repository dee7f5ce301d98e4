"""The monitoring extent (监测评估范围) and the project grid over it, requirement S1.

The extent is the mining-right boundary (采矿权范围) buffered by 100–500 m (default 500 m), or a
user-drawn influence boundary (影响范围) that replaces boundary + buffer. Everything here is
pure: it takes GeoDataFrames and shapely geometries and returns shapely geometries, an
:class:`~minecarbon.grid.AnalysisGrid` or lazy (dask-backed) rasters; files are read by
:mod:`minecarbon.io`.

Rasterisation follows the pixel-centre rule throughout (GDAL's default, ``all_touched=False``): a
pixel belongs to a polygon when its centre lies inside it. :func:`rasterize_polygons` does it chunk
by chunk, each chunk burning only the polygons whose bounding boxes meet its window, so a grid of
any size never sits in memory whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import shapely
import xarray as xr
from dask.delayed import delayed
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from minecarbon.errors import InputDataError, MissingCRSError, warn
from minecarbon.grid import AnalysisGrid, require_projected
from minecarbon.io.raster import to_grid_dataarray

#: The guide's range for the buffer around the mining-right boundary, in metres.
BUFFER_RANGE_M = (100.0, 500.0)

#: Default buffer (decision, requirement S1).
DEFAULT_BUFFER_M = 500.0

#: Extent bounds closer than this to a pixel edge are taken to lie on it (floating error).
SNAP_TOLERANCE_M = 1e-4

Chunks = int | tuple[int, int]


def _polygonal_parts(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygonal part of a geometry (from ``make_valid``), or None if it has none."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [
        g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon) and g.area
    ]
    if not parts:
        return None
    return shapely.union_all(parts)


def _layer_union(gdf: Any, what: str, crs: CRS | None) -> tuple[BaseGeometry, CRS]:
    """Union of a polygon layer's geometries in ``crs`` (or its own CRS when ``crs`` is None)."""
    if gdf is None or len(gdf) == 0 or gdf.geometry.isna().all() or gdf.geometry.is_empty.all():
        raise InputDataError(
            f"{what} has no polygons",
            fix="import a polygon file of the mining-right boundary (minecarbon import boundary …)",
        )
    if gdf.crs is None:
        raise MissingCRSError(
            f"{what} has no coordinate reference system",
            fix="assign the CRS it was drawn in (e.g. in QGIS: Layer ▸ Set CRS) and re-export it",
        )
    layer_crs = CRS.from_user_input(gdf.crs)
    if crs is not None and layer_crs != crs:
        warn(
            f"{what} is in {layer_crs.to_string()}; reprojected to the project CRS "
            f"{crs.to_string()}",
            UserWarning,
            stacklevel=3,
        )
        gdf = gdf.to_crs(crs)
        layer_crs = crs
    geoms = [g for g in gdf.geometry if g is not None and not g.is_empty]
    bad = [type(g).__name__ for g in geoms if not isinstance(g, Polygon | MultiPolygon)]
    if bad:
        raise InputDataError(
            f"{what} holds {len(bad)} non-polygon geometr{'y' if len(bad) == 1 else 'ies'} "
            f"({', '.join(sorted(set(bad)))})",
            fix="keep only the boundary polygons (a line must be closed into a polygon)",
        )
    fixed: list[BaseGeometry] = []
    for g in geoms:
        if g.is_valid:
            fixed.append(g)
            continue
        repaired = _polygonal_parts(shapely.make_valid(g))
        warn(
            f"{what} holds an invalid polygon ({shapely.is_valid_reason(g)}); repaired with "
            "make_valid",
            UserWarning,
            stacklevel=3,
        )
        if repaired is not None:
            fixed.append(repaired)
    if not fixed:
        raise InputDataError(f"{what} has no polygons of non-zero area", fix="check the file")
    return shapely.union_all(fixed), layer_crs


def monitoring_extent(
    boundary: Any,
    buffer_m: float = DEFAULT_BUFFER_M,
    influence: Any | None = None,
    crs: Any = None,
    *,
    boundary_name: str = "the mining-right boundary (采矿权范围)",
    influence_name: str = "the influence boundary (影响范围)",
) -> Polygon | MultiPolygon:
    """The monitoring extent: the mining-right boundary plus its buffer, or the influence boundary.

    Parameters
    ----------
    boundary
        GeoDataFrame of the mining-right boundary polygons (采矿权范围). Required even when an
        influence boundary is given (it must be known and non-empty).
    buffer_m
        Buffer around the boundary in metres; the guide asks for 100–500 m (a value outside is
        allowed but warned about). Ignored when ``influence`` is given.
    influence
        GeoDataFrame of a user-drawn influence boundary (影响范围); its union replaces
        boundary + buffer.
    crs
        The project CRS (projected, metric). Layers in another CRS are reprojected to it with a
        warning. None: the boundary's own CRS, which must then be projected.
    boundary_name, influence_name
        How messages name the two layers (e.g. their file names).

    Returns
    -------
    The extent as one shapely Polygon or MultiPolygon in ``crs``.

    Raises
    ------
    InputDataError
        If a layer is empty or holds non-polygon geometries.
    MissingCRSError
        If a layer carries no CRS.
    GeographicCRSError
        If the analysis CRS (``crs`` or the boundary's) is not projected.

    """
    target = CRS.from_user_input(crs) if crs is not None else None
    if target is not None:
        require_projected(target, "the project CRS")
    union, layer_crs = _layer_union(boundary, boundary_name, target)
    if target is None:
        c = union.centroid
        lonlat = (c.x, c.y) if layer_crs.is_geographic else None
        target = require_projected(layer_crs, boundary_name, lonlat)
    if influence is not None:
        extent, _ = _layer_union(influence, influence_name, target)
    else:
        if not math.isfinite(buffer_m) or buffer_m < 0:
            raise InputDataError(
                f"buffer of {buffer_m} m around {boundary_name} is not a distance",
                fix="set scope.buffer_m to a value in the guide's 100–500 m",
            )
        low, high = BUFFER_RANGE_M
        if not low <= buffer_m <= high:
            warn(
                f"buffer of {buffer_m:g} m around {boundary_name} is outside the guide's "
                f"{low:g}–{high:g} m",
                UserWarning,
                stacklevel=2,
            )
        extent = union.buffer(buffer_m) if buffer_m > 0 else union
    extent = _polygonal_parts(extent)
    if extent is None or extent.is_empty:
        raise InputDataError("the monitoring extent is empty", fix="check the boundary polygons")
    assert isinstance(extent, Polygon | MultiPolygon)
    return extent


def _snap(value: float, pixel: float) -> float:
    """``value`` moved onto the nearest pixel edge when it lies within floating error of it."""
    edge = round(value / pixel) * pixel
    return edge if abs(value - edge) <= SNAP_TOLERANCE_M else value


def project_grid(extent: BaseGeometry, crs: Any, pixel_size_m: float) -> AnalysisGrid:
    """The project's analysis grid covering ``extent``, corners snapped outward to the pixel size.

    Bounds within :data:`SNAP_TOLERANCE_M` of a pixel edge count as on it, so an extent that is an
    exact multiple of the pixel size (up to floating error) gains no extra row or column.

    Raises
    ------
    InputDataError
        If the extent is empty or the pixel size is not positive.
    GeographicCRSError
        If ``crs`` is geographic (the message suggests a projected CRS for the extent).

    """
    if extent is None or extent.is_empty:
        raise InputDataError("cannot build the analysis grid: the extent is empty",
                             fix="check the boundary polygons")
    if not (math.isfinite(pixel_size_m) and pixel_size_m > 0):
        raise InputDataError(
            f"pixel size {pixel_size_m!r} m is not positive", fix="set scope.pixel_size_m > 0"
        )
    parsed = CRS.from_user_input(crs) if crs is not None else None
    if parsed is None or parsed.is_geographic:
        # let the grid name a projected CRS for the extent's own location
        return AnalysisGrid.from_extent(extent, crs, pixel_size_m)
    x0, y0, x1, y1 = (_snap(v, pixel_size_m) for v in extent.bounds)
    return AnalysisGrid.from_extent(box(x0, y0, x1, y1), parsed, pixel_size_m)


def _chunk_sizes(chunks: Chunks, shape: tuple[int, int]) -> tuple[tuple[int, ...], ...]:
    size = (chunks, chunks) if isinstance(chunks, int) else tuple(chunks)
    if len(size) != 2 or min(size) < 1:
        raise InputDataError(f"chunks {chunks!r} must be a positive size", fix="e.g. chunks=1024")
    sizes: tuple[tuple[int, ...], ...] = da.core.normalize_chunks(size, shape)  # type: ignore[no-untyped-call, unused-ignore]
    return sizes


def _burn_block(
    geoms: np.ndarray,
    values: np.ndarray,
    transform: tuple[float, ...],
    shape: tuple[int, int],
    fill: int,
    dtype: str,
) -> np.ndarray:
    """Rasterise polygons onto one block; later polygons overwrite earlier ones."""
    from affine import Affine
    from rasterio.features import rasterize

    out: np.ndarray = rasterize(
        zip(geoms, values.tolist(), strict=True),
        out_shape=shape,
        transform=Affine(*transform),
        fill=fill,
        dtype=dtype,
        all_touched=False,
    )
    return out


def rasterize_polygons(
    geoms: Sequence[BaseGeometry] | np.ndarray,
    values: Sequence[int] | np.ndarray,
    grid: AnalysisGrid,
    *,
    fill: int = 0,
    dtype: str = "uint8",
    chunks: Chunks = 1024,
) -> da.Array:
    """Burn polygons onto ``grid`` chunk by chunk, by the pixel-centre rule.

    Each chunk is one task that rasterises, on the chunk's window transform, only the polygons
    whose bounding boxes meet the chunk. Where polygons overlap, the later one in ``geoms`` wins.

    Parameters
    ----------
    geoms
        Polygons in the grid's CRS.
    values
        The value to burn for each polygon.
    grid
        The analysis grid.
    fill
        Value of pixels whose centre lies in no polygon.
    dtype
        Output dtype (one rasterio can write: uint8, int16, int32, …).
    chunks
        Chunk size in pixels (one number for both axes, or (rows, columns)).

    Returns
    -------
    A lazy dask array of shape ``grid.shape``.

    """
    geom_arr = np.asarray(geoms, dtype=object)
    val_arr = np.asarray(values)
    if geom_arr.shape != val_arr.shape or geom_arr.ndim != 1:
        raise ValueError("rasterize_polygons needs one value per geometry")
    keep = ~(shapely.is_missing(geom_arr) | shapely.is_empty(geom_arr))
    geom_arr, val_arr = geom_arr[keep], val_arr[keep]
    bounds = shapely.bounds(geom_arr) if len(geom_arr) else np.empty((0, 4))
    row_sizes, col_sizes = _chunk_sizes(chunks, grid.shape)
    p = grid.pixel_size_m
    rows: list[list[da.Array]] = []
    r0 = 0
    for nr in row_sizes:
        row: list[da.Array] = []
        top = grid.y_max_m - r0 * p
        bottom = top - nr * p
        c0 = 0
        for nc in col_sizes:
            left = grid.x_min_m + c0 * p
            right = left + nc * p
            sel = (
                (bounds[:, 0] < right)
                & (bounds[:, 2] > left)
                & (bounds[:, 1] < top)
                & (bounds[:, 3] > bottom)
            )
            if not sel.any():
                row.append(da.full((nr, nc), fill, dtype=dtype, chunks=(nr, nc)))  # type: ignore[no-untyped-call, unused-ignore]
            else:
                transform = (p, 0.0, left, 0.0, -p, top)
                task = delayed(_burn_block, pure=True)(
                    geom_arr[sel], val_arr[sel], transform, (nr, nc), fill, dtype
                )
                row.append(da.from_delayed(task, (nr, nc), dtype=dtype))  # type: ignore[no-untyped-call, unused-ignore]
            c0 += nc
        rows.append(row)
        r0 += nr
    out: da.Array = da.block(rows)  # type: ignore[no-untyped-call, unused-ignore]
    return out


def extent_mask(extent: BaseGeometry, grid: AnalysisGrid, chunks: Chunks = 1024) -> xr.DataArray:
    """Boolean (y, x) mask on ``grid``: true where the pixel centre lies inside ``extent``.

    Lazy and chunked (see :func:`rasterize_polygons`), with the grid's coordinates and CRS.
    """
    geoms = [] if extent is None or extent.is_empty else [extent]
    burnt = rasterize_polygons(geoms, [1] * len(geoms), grid, fill=0, chunks=chunks)
    mask = burnt.astype(bool)  # type: ignore[no-untyped-call, unused-ignore]
    return to_grid_dataarray(mask, grid, "extent")
