"""GeoTIFF reading and writing on the project grid (rasterio / rioxarray)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rioxarray
import xarray as xr

from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.grid import AnalysisGrid, require_projected
from minecarbon.io.files import atomic_path

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2")


@dataclass(frozen=True)
class SpatialInfo:
    """What the catalogue records of a spatial dataset."""

    crs: str | None
    bounds: tuple[float, float, float, float] | None


def is_raster(path: Path) -> bool:
    """Whether the file name says raster."""
    return path.suffix.lower() in RASTER_SUFFIXES


def _open(path: Path) -> Any:
    import rasterio
    from rasterio.errors import RasterioIOError

    if not path.exists():
        raise PathNotFoundError(f"raster {path} does not exist", fix="check the path")
    try:
        return rasterio.open(path)
    except RasterioIOError as error:
        raise InputDataError(
            f"{path} is not a readable raster ({error})", fix="export it as GeoTIFF"
        ) from None


def describe_raster(path: Path) -> SpatialInfo:
    """CRS and bounds of a raster file, without reading its pixels."""
    with _open(path) as src:
        crs = src.crs.to_string() if src.crs else None
        return SpatialInfo(crs, tuple(src.bounds) if src.crs else None)


def check_raster_crs(path: Path, *, allow_geographic: bool = False) -> SpatialInfo:
    """Refuse a raster without a CRS, or (unless allowed) in a geographic CRS.

    The message for a geographic raster names a projected CRS suited to its location.
    """
    info = describe_raster(path)
    if info.crs is not None and allow_geographic:
        return info
    lonlat = None
    if info.crs is not None and info.bounds is not None:
        from pyproj import CRS

        if CRS.from_user_input(info.crs).is_geographic:
            b = info.bounds
            lonlat = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    require_projected(info.crs, f"raster {path}", lonlat)
    return info


def read_raster(path: Path, *, chunks: int | None = 1024, band: int | None = 1) -> xr.DataArray:
    """Open a raster as a (dask-backed) DataArray with dims (y, x), or (band, y, x)."""
    check_raster_crs(path)
    da = rioxarray.open_rasterio(path, chunks=chunks, masked=True)
    assert isinstance(da, xr.DataArray)
    if band is not None:
        da = da.sel(band=band, drop=True)
    return da


def to_grid_dataarray(values: Any, grid: AnalysisGrid, name: str) -> xr.DataArray:
    """Wrap a (y, x) array as a DataArray on ``grid`` with its CRS and transform attached."""
    from affine import Affine

    da = xr.DataArray(
        values, dims=("y", "x"), coords={"y": grid.y_coords(), "x": grid.x_coords()}, name=name
    )
    out: xr.DataArray = da.rio.write_crs(grid.crs).rio.write_transform(
        Affine(*grid.transform)
    )
    return out


def write_geotiff(da: xr.DataArray, path: Path, *, nodata: float | None = None) -> None:
    """Write a (y, x) DataArray on a grid to a tiled, compressed GeoTIFF, atomically.

    A dask-backed array is computed one row of chunks at a time on the current dask scheduler
    (threads, processes or a distributed cluster) and written window by window, so the whole
    raster never sits in memory and nothing but the small blocks crosses process boundaries.
    """
    import rasterio
    from rasterio.windows import Window

    if da.ndim != 2 or da.dims != ("y", "x"):
        raise InputDataError(f"cannot write {path}: dims {da.dims} are not (y, x)",
                             fix="select one band or year first")
    if da.rio.crs is None:
        raise InputDataError(f"cannot write {path}: the array has no CRS", fix="attach the grid")
    if nodata is None and np.issubdtype(da.dtype, np.floating):
        nodata = float("nan")
    height, width = da.shape
    profile = {
        "driver": "GTiff", "height": height, "width": width, "count": 1, "dtype": da.dtype.name,
        "crs": da.rio.crs, "transform": da.rio.transform(), "nodata": nodata,
        "tiled": True, "blockxsize": 256, "blockysize": 256, "compress": "deflate",
        "BIGTIFF": "IF_SAFER",
    }
    if width < 256 or height < 256:
        profile.update(tiled=False, blockxsize=None, blockysize=None)
        profile = {k: v for k, v in profile.items() if v is not None}
    row_chunks = da.chunks[0] if da.chunks is not None else (height,)
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        row = 0
        for rows in row_chunks:
            block = np.asarray(da.isel(y=slice(row, row + rows)).values)
            dst.write(block, 1, window=Window(0, row, width, rows))
            row += rows
        if da.name:
            dst.update_tags(1, name=str(da.name))
