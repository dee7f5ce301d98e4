"""GeoTIFF reading and writing on the project grid (rasterio / rioxarray).

The block writer and the Cloud-Optimized GeoTIFF rules are in :mod:`minecarbon.io.block_writer`
(re-exported here).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rioxarray
import xarray as xr

from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.grid import AnalysisGrid, require_projected
from minecarbon.io.block_writer import (
    COG_BLOCK_PX,
    COG_MIN_PX,
    BlockWriter,
    overview_resampling,
)

__all__ = ["COG_BLOCK_PX", "COG_MIN_PX", "RASTER_SUFFIXES", "BlockWriter", "RasterBands",
           "SpatialInfo", "check_raster_crs", "describe_raster", "is_raster", "on_grid",
           "overview_resampling", "raster_bands", "read_on_grid", "read_raster", "read_stack",
           "to_grid_dataarray", "write_cube", "write_cubes", "write_geotiff", "write_stack"]

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


def read_raster(path: Path, *, chunks: int | None = 1024, band: int | None = 1,
                masked: bool = True) -> xr.DataArray:
    """Open a raster as a (dask-backed) DataArray with dims (y, x), or (band, y, x).

    ``masked`` turns nodata into NaN (float32 for integers of up to 16 bits, else float64);
    ``masked=False`` keeps the stored values. The file is always opened unmasked and masked
    here: rioxarray names its dask arrays by file name and chunks only, so a masked and an
    unmasked open of one file in the same graph would share (wrong) blocks.
    """
    check_raster_crs(path)
    # one band per chunk: a band of a multi-band scene must not read the others' pixels
    da = rioxarray.open_rasterio(
        path, chunks={"band": 1, "y": chunks, "x": chunks} if chunks else None, masked=False)
    assert isinstance(da, xr.DataArray)
    if band is not None:
        da = da.sel(band=band, drop=True)
    if masked:
        nodata = da.rio.nodata
        if np.issubdtype(da.dtype, np.integer):
            dtype = "float32" if da.dtype.itemsize <= 2 else "float64"
            da = da.astype(dtype)
        if nodata is not None and not np.isnan(nodata):
            da = da.where(da != nodata)
        da = da.rio.write_nodata(np.nan, encoded=False)
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
    (threads, processes or a distributed cluster) and written window by window
    (:func:`write_cube`), so the whole raster never sits in memory.
    """
    if da.ndim != 2 or da.dims != ("y", "x"):
        raise InputDataError(f"cannot write {path}: dims {da.dims} are not (y, x)",
                             fix="select one band or year first")
    if da.rio.crs is None:
        raise InputDataError(f"cannot write {path}: the array has no CRS", fix="attach the grid")
    if nodata is None and np.issubdtype(da.dtype, np.floating):
        nodata = float("nan")
    write_cube(da.expand_dims(slice=[0]), {0: path}, nodata=nodata, dim="slice")


def read_on_grid(path: Path, grid: AnalysisGrid, *, resampling: str = "nearest",
                 chunks: int = 1024, band: int = 1, masked: bool = True) -> xr.DataArray:
    """One band of a raster on the project grid, lazily.

    As it is when it already lies on the grid, else reprojected (odc-geo, chunk by chunk)
    with ``resampling`` ("nearest", "bilinear", "average", …). ``masked=False`` keeps the
    stored values (for quality bands whose nodata value is a flag).
    """
    da = read_raster(path, chunks=chunks, band=band, masked=masked)
    return on_grid(da, grid, str(path), resampling=resampling)


def on_grid(da: xr.DataArray, grid: AnalysisGrid, what: str, *,
            resampling: str = "nearest") -> xr.DataArray:
    """``da`` as it is when it lies on ``grid``, else reprojected onto it (lazily)."""
    from minecarbon.errors import GridMismatchError
    from minecarbon.grid import assert_on_grid

    try:
        assert_on_grid(da, grid, what)
    except GridMismatchError:
        from odc.geo.xr import xr_reproject

        da = xr_reproject(da, grid.geobox(), resampling=resampling)
        da = da.rename({k: v for k, v in (("longitude", "x"), ("latitude", "y")) if k in da.dims})
    # the exact pixel centres, so that layers read from different files align in xarray
    return da.assign_coords(x=grid.x_coords(), y=grid.y_coords())


@dataclass(frozen=True)
class RasterBands:
    """What a raster file says about its bands, without reading pixels."""

    count: int
    descriptions: tuple[str, ...]
    dtypes: tuple[str, ...]
    nodata: float | None
    tags: dict[str, str]
    resolution: tuple[float, float]
    band_tags: tuple[dict[str, str], ...] = ()


def raster_bands(path: Path) -> RasterBands:
    """Band count, descriptions, dtypes, nodata, dataset and band tags of a raster."""
    with _open(path) as src:
        return RasterBands(src.count, tuple(d or "" for d in src.descriptions),
                           tuple(src.dtypes), src.nodata, dict(src.tags()),
                           (abs(src.res[0]), abs(src.res[1])),
                           tuple(dict(src.tags(i)) for i in range(1, src.count + 1)))


def _offsets(sizes: tuple[int, ...]) -> list[int]:
    return [int(v) for v in np.concatenate([[0], np.cumsum(sizes)[:-1]])]


def write_stack(stack: xr.Dataset, path: Path, *, tags: dict[str, str] | None = None,
                band_tags: dict[str, dict[str, str]] | None = None,
                max_batch_bytes: int = 512 * 2**20) -> None:
    """Write the (y, x) variables of a Dataset as the bands of one float32 GeoTIFF.

    Band descriptions are the variable names (so :func:`read_stack` gives the Dataset back),
    ``band_tags`` per variable are stored as band metadata (e.g. units, description). Computed
    a few blocks at a time (as many as there are cores, at most ``max_batch_bytes`` of
    output), all variables of a block together, on the current dask scheduler; written to a
    temporary file and renamed, so memory is bounded by the block size whatever the area, and
    a failure leaves no file.
    """
    from dask.base import compute

    names = [str(n) for n in stack.data_vars]
    if not names:
        raise InputDataError(f"cannot write {path}: the stack has no variables",
                             fix="compute at least one feature")
    first = stack[names[0]]
    ny, nx = first.sizes["y"], first.sizes["x"]
    xs, ys = first["x"].values, first["y"].values
    pixel = float(abs(xs[1] - xs[0])) if nx > 1 else float(abs(ys[0] - ys[1]))
    crs = stack.rio.crs or first.rio.crs
    if crs is None:
        raise InputDataError(f"cannot write {path}: the stack has no CRS", fix="attach the grid")
    grid = AnalysisGrid(str(crs), pixel, float(xs[0] - pixel / 2), float(ys[0] + pixel / 2),
                        nx, ny)
    chunked = stack.chunks if stack.chunks else {}
    row_chunks = tuple(chunked.get("y", (ny,)))
    col_chunks = tuple(chunked.get("x", (nx,)))
    writer = BlockWriter(path, grid, "float32", tuple(names), float("nan"), tags, band_tags)
    # blocks computed together: as many as the thread pool can use, within a byte budget, so
    # memory depends on the block size and the number of bands, never on the area
    block_bytes = max(row_chunks) * max(col_chunks) * len(names) * 4
    per_batch = max(1, min(max(2, os.cpu_count() or 1), max_batch_bytes // max(block_bytes, 1)))
    windows = [(r0, c0, rows, cols)
               for r0, rows in zip(_offsets(row_chunks), row_chunks, strict=True)
               for c0, cols in zip(_offsets(col_chunks), col_chunks, strict=True)]
    try:
        for i in range(0, len(windows), per_batch):
            batch = windows[i:i + per_batch]
            jobs = []
            for r0, c0, rows, cols in batch:
                block = stack.isel(y=slice(r0, r0 + rows), x=slice(c0, c0 + cols))
                jobs.append([block[n].data for n in names])
            computed = compute(*jobs)  # type: ignore[no-untyped-call]
            for (r0, c0, _, _), values in zip(batch, computed, strict=True):
                writer.write(r0, c0, np.stack([np.asarray(v, np.float32) for v in values]))
    except BaseException:
        writer.abort()
        raise
    writer.close()


def read_stack(path: Path, *, chunks: int | None = 1024) -> xr.Dataset:
    """A multi-band GeoTIFF written by :func:`write_stack` as a Dataset, lazily."""
    info = raster_bands(path)
    if not all(info.descriptions) or len(set(info.descriptions)) != info.count:
        raise InputDataError(f"{path} has unnamed or repeated band descriptions",
                             fix="write feature stacks with minecarbon (band names = features)")
    da = read_raster(path, chunks=chunks, band=None)  # one band per chunk, nodata masked
    out = xr.Dataset({name: da.isel(band=i, drop=True)
                      for i, name in enumerate(info.descriptions)})
    for name, tags in zip(info.descriptions, info.band_tags, strict=True):
        out[name].attrs = {k: v for k, v in tags.items()
                           if k in ("units", "long_name", "description", "group")}
    return out


def write_cube(cube: xr.DataArray, paths: dict[Any, Path], *, nodata: float | None = None,
               dim: str = "year") -> None:
    """Write each slice of a (dim, y, x) cube to its own GeoTIFF (see :func:`write_cubes`)."""
    write_cubes({"cube": cube}, {"cube": paths}, nodata=nodata, dim=dim)


def write_cubes(cubes: dict[str, xr.DataArray], paths: dict[str, dict[Any, Path]], *,
                nodata: float | Mapping[str, float | None] | None = None,
                dim: str = "year") -> None:
    """Write every slice of several (dim, y, x) cubes on one grid, computing each block once.

    The cubes are computed together one row of spatial chunks at a time — all slices of a
    block at once, so a per-pixel time series and any graph the cubes share are evaluated
    once — and written window by window into one :class:`BlockWriter` per slice. Files appear
    only when all are complete (Cloud-Optimized GeoTIFFs when large); on failure none does.

    ``nodata`` is one value for every cube or a value per cube name; None (or a name left out)
    means NaN for a floating-point cube and no nodata value for an integer one.
    """
    from dask.base import compute

    from minecarbon.grid import AnalysisGrid as _Grid

    first = next(iter(cubes.values()))
    ny, nx = first.sizes["y"], first.sizes["x"]
    xs, ys = first["x"].values, first["y"].values
    pixel = float(abs(xs[1] - xs[0])) if nx > 1 else float(abs(ys[0] - ys[1]))
    grid = _Grid(str(first.rio.crs), pixel, float(xs[0] - pixel / 2),
                 float(ys[0] + pixel / 2), nx, ny)

    def nodata_of(name: str, cube: xr.DataArray) -> float | None:
        value = nodata.get(name) if isinstance(nodata, Mapping) else nodata
        if value is None and np.issubdtype(cube.dtype, np.floating):
            return float("nan")
        return value

    writers: dict[tuple[str, Any], BlockWriter] = {}
    try:
        for name, cube in cubes.items():
            for k in cube[dim].values:
                writers[(name, k)] = BlockWriter(paths[name][k], grid, cube.dtype.name,
                                                 (str(cube.name or Path(paths[name][k]).stem
                                                      if name == "cube" else cube.name or name),),
                                                 nodata_of(name, cube))
        data = first.data
        chunked = getattr(data, "chunks", None)
        row_chunks = chunked[1] if chunked else (ny,)
        col_chunks = chunked[2] if chunked else (nx,)
        r0 = 0
        for rows in row_chunks:
            c0, jobs = 0, []
            for cols in col_chunks:
                for name, cube in cubes.items():
                    jobs.append((name, c0, cube.data[:, r0:r0 + rows, c0:c0 + cols]))
                c0 += cols
            computed = compute(*[j[2] for j in jobs])  # type: ignore[no-untyped-call]
            for (name, col, _), values in zip(jobs, computed, strict=True):
                for i, k in enumerate(cubes[name][dim].values):
                    writers[(name, k)].write(r0, col, np.asarray(values[i]))
            r0 += rows
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    closed: list[BlockWriter] = []
    try:
        for w in writers.values():
            w.close()
            closed.append(w)
    except BaseException:
        for w in writers.values():
            w.abort()
        for w in closed:
            w.path.unlink(missing_ok=True)
        raise
