"""Zonal statistics of assessment layers per assessment unit or polygon (requirement A4).

For every zone and layer: ``count``, ``area_ha``, ``mean``, ``min``, ``max``, ``variance``
(population), ``std`` and ``total``, in one long table (one row per zone × layer). Zones are
either a raster of integer unit codes on the layers' grid (0 = outside) or polygons, whose cells
are weighted by the fraction of the cell each polygon covers (exactextract reduces each block).

The work is block by block: each dask chunk (or 2048-px tile of a NumPy array) is reduced to
small per-zone partials — weight sum W, weighted mean and weighted sum of squared deviations from
that mean (two passes over the block), min and max — which are merged with the parallel-variance
formula of Chan, Golub & LeVeque (1983). No raster is held in memory as a whole, and values far
from zero (1e4 ± 1e-4) lose no precision to cancellation. See ``docs/zonal-statistics.md``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import shapely
import xarray as xr
from dask.base import compute
from dask.delayed import delayed
from pyproj import CRS

from minecarbon.errors import (
    GridMismatchError,
    InputDataError,
    MissingCRSError,
    MissingDependencyError,
    warn,
)
from minecarbon.grid import require_projected

#: Columns of the table :func:`zonal_stats` returns, in order.
COLUMNS = ("zone_id", "zone_name_zh", "zone_name_en", "layer", "units", "count", "area_ha",
           "mean", "min", "max", "variance", "std", "total")

_DENSE_CODES = 1 << 20  # non-negative zone codes below this are counted with one bincount
_TILE = 2048  # NumPy input is reduced in tiles of this many pixels a side


@dataclass
class _Partial:
    """Per-zone partial statistics of one block: ``ids`` (k,), the others (layers, k)."""

    ids: np.ndarray
    cells: np.ndarray  # zone cells in the block, valid or not (k,)
    weight: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray


def _group(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct zone ids and each cell's index into them."""
    if z.size and z.min() >= 0 and z.max() < _DENSE_CODES:
        present = np.flatnonzero(np.bincount(z))
        lookup = np.zeros(int(present[-1]) + 1, dtype=np.int64)
        lookup[present] = np.arange(present.size)
        return present.astype(np.int64), lookup[z]
    ids, inverse = np.unique(z, return_inverse=True)
    return ids.astype(np.int64), inverse.ravel()


def _reduce(z: np.ndarray, values: Sequence[np.ndarray]) -> _Partial:
    """Partials of the cells ``z`` (zone ids) with one array of values per layer.

    Two passes per block: the mean, then Σ(x − mean)² (no cancellation).
    """
    ids, inv = _group(z)
    k, n_layers = ids.size, len(values)
    shape = (n_layers, k)
    weight, mean, m2 = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    low, high = np.full(shape, np.inf), np.full(shape, -np.inf)
    for i, raw in enumerate(values):
        v = raw.astype(np.float64, copy=False)
        ok = np.isfinite(v)
        v0 = np.where(ok, v, 0.0)
        weight[i] = np.bincount(inv, weights=ok.astype(np.float64), minlength=k)
        sums = np.bincount(inv, weights=v0, minlength=k)
        np.divide(sums, weight[i], out=mean[i], where=weight[i] > 0)
        dev = np.where(ok, v0 - mean[i][inv], 0.0)
        m2[i] = np.bincount(inv, weights=dev * dev, minlength=k)
        np.minimum.at(low[i], inv, np.where(ok, v, np.inf))
        np.maximum.at(high[i], inv, np.where(ok, v, -np.inf))
    cells = np.bincount(inv, minlength=k).astype(np.float64)
    return _Partial(ids, cells, weight, mean, m2, low, high)


def _merge(parts: Sequence[_Partial], n_layers: int) -> _Partial:
    """Combine block partials: M2 = Σ M2_b + Σ W_b (mean_b − mean)² (Chan et al. 1983)."""
    if not parts:
        empty = np.empty((n_layers, 0))
        return _Partial(np.empty(0, np.int64), np.empty(0), empty, empty, empty, empty, empty)
    ids, inv = np.unique(np.concatenate([p.ids for p in parts]), return_inverse=True)
    k = ids.size

    def cat(field: str) -> np.ndarray:
        return np.concatenate([getattr(p, field) for p in parts], axis=-1)

    weight_b, mean_b = cat("weight"), cat("mean")
    shape = (n_layers, k)
    weight, mean, m2 = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    low, high = np.full(shape, np.inf), np.full(shape, -np.inf)
    m2_b, low_b, high_b = cat("m2"), cat("low"), cat("high")
    for i in range(n_layers):
        weight[i] = np.bincount(inv, weights=weight_b[i], minlength=k)
        sums = np.bincount(inv, weights=weight_b[i] * mean_b[i], minlength=k)
        np.divide(sums, weight[i], out=mean[i], where=weight[i] > 0)
        between = weight_b[i] * (mean_b[i] - mean[i][inv]) ** 2
        m2[i] = np.bincount(inv, weights=m2_b[i] + between, minlength=k)
        np.minimum.at(low[i], inv, low_b[i])
        np.maximum.at(high[i], inv, high_b[i])
    cells = np.bincount(inv, weights=cat("cells"), minlength=k)
    return _Partial(ids.astype(np.int64), cells, weight, mean, m2, low, high)


# ------------------------------------------------------------------------------ block tasks
def _raster_block(what: str, zones: np.ndarray, *layers: np.ndarray) -> _Partial:
    """Partials of one block of a zone-code raster (0 = outside)."""
    z = np.asarray(zones)
    if z.dtype.kind == "f":
        z = np.where(np.isnan(z), 0.0, z)
        if np.any(z != np.round(z)):
            raise InputDataError(f"{what} holds non-integer zone codes",
                                 fix="pass integer unit codes (0 = outside)")
    elif z.dtype.kind not in "iub":
        raise InputDataError(f"{what} has dtype {z.dtype}, not integer zone codes",
                             fix="pass integer unit codes (0 = outside)")
    z = z.astype(np.int64).ravel()
    inside = z != 0
    values = [np.asarray(layer).ravel()[inside] for layer in layers]
    return _reduce(z[inside], values)


def _polygon_block(geoms: np.ndarray, zone_idx: np.ndarray,
                   extent: tuple[float, float, float, float], *layers: np.ndarray) -> _Partial:
    """Partials of one block for the polygons ``geoms``, weighted by exact cell coverage.

    exactextract reduces the block: per polygon and layer Σc (its ``count``), the weighted mean,
    the population variance (West 1979, so M2 = variance × Σc), min and max; NaN is no data.
    """
    from exactextract import exact_extract
    from exactextract.feature import JSONFeatureSource
    from exactextract.raster import NumPyRasterSource

    features = [{"type": "Feature", "properties": {"zone": int(i)},
                 "geometry": shapely.geometry.mapping(g)}
                for g, i in zip(geoms, zone_idx, strict=True)]
    arrays = [np.asarray(layer) for layer in layers]
    sources = [NumPyRasterSource(a if a.dtype.kind == "f" else a.astype(np.float64), *extent,
                                 nodata=np.nan, name=f"l{i}") for i, a in enumerate(arrays)]
    table = exact_extract(sources, JSONFeatureSource(features),
                          ["count", "mean", "variance", "min", "max"],
                          include_cols=["zone"], output="pandas")

    def field(stat: str) -> np.ndarray:
        if len(layers) == 1 and stat in table.columns:
            return np.asarray(table[stat], dtype=np.float64)[None, :]
        return np.stack([np.asarray(table[f"l{i}_{stat}"], dtype=np.float64)
                         for i in range(len(layers))])

    weight = field("count")
    empty = ~(weight > 0)
    mean = np.where(empty, 0.0, field("mean"))
    m2 = np.where(empty, 0.0, field("variance") * weight)
    low = np.where(empty, np.inf, field("min"))
    high = np.where(empty, -np.inf, field("max"))
    return _Partial(np.asarray(table["zone"], dtype=np.int64), weight[0], weight, mean, m2,
                    low, high)


# ------------------------------------------------------------------------------ inputs
def _as_layers(layers: Mapping[str, xr.DataArray] | xr.Dataset) -> dict[str, xr.DataArray]:
    """The layers as a dict of north-up (y, x) DataArrays on one grid."""
    items = ({str(k): v for k, v in layers.data_vars.items()} if isinstance(layers, xr.Dataset)
             else {str(k): v for k, v in layers.items()})
    if not items:
        raise InputDataError("zonal_stats got no layers",
                             fix="pass a dict name → DataArray (y, x) or a Dataset")
    for name, layer in items.items():
        if not isinstance(layer, xr.DataArray) or set(layer.dims) != {"y", "x"}:
            dims = getattr(layer, "dims", type(layer).__name__)
            raise InputDataError(f"layer {name!r} has dims {dims}, zonal_stats needs (y, x)",
                                 fix="select one date, e.g. agc.sel(year=2020)")
    out = {name: _north_up(layer.transpose("y", "x")) for name, layer in items.items()}
    ref_name, ref = next(iter(out.items()))
    for name, layer in out.items():
        _check_same_grid(ref, f"layer {ref_name!r}", layer, f"layer {name!r}")
    return out


def _check_same_grid(a: xr.DataArray, a_what: str, b: xr.DataArray, b_what: str) -> None:
    """Raise :class:`GridMismatchError` unless ``a`` and ``b`` share shape, CRS and pixels."""
    if (a.sizes["y"], a.sizes["x"]) != (b.sizes["y"], b.sizes["x"]):
        raise GridMismatchError(
            f"{b_what} is {b.sizes['y']} × {b.sizes['x']} pixels, {a_what} is "
            f"{a.sizes['y']} × {a.sizes['x']}", fix="put both on the project grid")
    crs_a, crs_b = a.rio.crs, b.rio.crs
    if crs_a is not None and crs_b is not None and CRS(crs_a) != CRS(crs_b):
        raise GridMismatchError(f"{b_what} is in {crs_b}, {a_what} in {crs_a}",
                                fix="reproject it onto the project grid")
    for dim in ("x", "y"):
        if dim in a.coords and dim in b.coords:
            ca, cb = np.asarray(a[dim], float), np.asarray(b[dim], float)
            step = abs(ca[1] - ca[0]) if ca.size > 1 else 1.0
            if not np.allclose(ca, cb, rtol=0.0, atol=step * 1e-3):
                raise GridMismatchError(f"{b_what} is offset from {a_what} (pixel centres differ)",
                                        fix="resample it onto the project grid")


def _north_up(layer: xr.DataArray) -> xr.DataArray:
    """Flip an array so that y falls and x rises along its axes (lazy)."""
    for dim, rising in (("y", False), ("x", True)):
        c = np.asarray(layer[dim]) if dim in layer.coords else np.arange(2.0)
        if c.size > 1 and (c[1] > c[0]) != rising:
            layer = layer.isel({dim: slice(None, None, -1)})
    return layer


def _spacing(layer: xr.DataArray, dim: str, what: str) -> float:
    c = np.asarray(layer[dim], dtype=float) if dim in layer.coords else np.empty(0)
    if c.size > 1:
        return float(abs(c[1] - c[0]))
    try:
        res = layer.rio.resolution()
    except Exception:  # rioxarray raises its own errors when it cannot tell
        raise InputDataError(f"{what} has no {dim} coordinates to tell its pixel size",
                             fix="pass rasters with x/y coordinates on the project grid") from None
    return float(abs(res[0] if dim == "x" else res[1]))


def _density_units(units: str) -> bool:
    """Whether a layer is a density per hectare (its total over a zone makes sense)."""
    return units.replace(" ", "").lower().endswith("/ha")


@dataclass
class _Tiles:
    """The blocks of aligned arrays: dask blocks (delayed) or tiles of NumPy arrays."""

    rows: np.ndarray  # row offsets, len = blocks down + 1
    cols: np.ndarray
    blocks: list[Any]  # per array, a 2-D object array of blocks
    lazy: bool

    def __call__(self, fn: Callable[..., _Partial],
                 block_args: Callable[[int, int], tuple[Any, ...] | None]) -> list[_Partial]:
        """``fn(*block_args(i, j), *blocks)`` for every block (i, j) whose args are not None."""
        out: list[Any] = []
        for i, j in np.ndindex(self.blocks[0].shape):
            head = block_args(i, j)
            if head is None:
                continue
            arrays = [b[i, j] for b in self.blocks]
            out.append(delayed(fn, pure=True)(*head, *arrays) if self.lazy else fn(*head, *arrays))
        if self.lazy:
            out = list(compute(*out))  # type: ignore[no-untyped-call, unused-ignore]
        return out


def _tiles(arrays: Sequence[xr.DataArray]) -> _Tiles:
    """Split aligned (y, x) arrays into blocks.

    The dask chunks of the first dask-backed array (the others are rechunked to match), or, when
    all are NumPy-backed, tiles of ``_TILE`` px, which bound the temporary arrays.
    """
    chunked = [a.data for a in arrays if isinstance(a.data, da.Array)]
    ny, nx = arrays[0].shape
    if chunked:
        chunks = chunked[0].chunks
    else:
        chunks = tuple(tuple(min(_TILE, n - k) for k in range(0, n, _TILE)) for n in (ny, nx))
    rows = np.concatenate([[0], np.cumsum(chunks[0])]).astype(int)
    cols = np.concatenate([[0], np.cumsum(chunks[1])]).astype(int)
    blocks = []
    for a in arrays:
        if not chunked:
            grid = np.empty((rows.size - 1, cols.size - 1), dtype=object)
            values = np.asarray(a.data)
            for i, j in np.ndindex(grid.shape):
                grid[i, j] = values[rows[i]:rows[i + 1], cols[j]:cols[j + 1]]
            blocks.append(grid)
            continue
        arr = (a.data.rechunk(chunks) if isinstance(a.data, da.Array)  # type: ignore[no-untyped-call, unused-ignore]
               else da.from_array(np.asarray(a.data), chunks=chunks))  # type: ignore[no-untyped-call, unused-ignore]
        blocks.append(arr.to_delayed())
    return _Tiles(rows, cols, blocks, bool(chunked))


# ------------------------------------------------------------------------------ zones
def _raster_partial(zones: xr.DataArray, layers: list[xr.DataArray], what: str) -> _Partial:
    tiles = _tiles([zones, *layers])
    return _merge(tiles(_raster_block, lambda i, j: (what,)), len(layers))


def _polygon_partial(geoms: np.ndarray, layers: list[xr.DataArray],
                     dx: float, dy: float) -> _Partial:
    ref = layers[0]
    x_left = float(ref["x"][0]) - dx / 2 if "x" in ref.coords else 0.0
    y_top = float(ref["y"][0]) + dy / 2 if "y" in ref.coords else dy * ref.sizes["y"]
    tiles = _tiles(layers)
    tree = shapely.STRtree(geoms)

    def block_args(i: int, j: int) -> tuple[Any, ...] | None:
        extent = (float(x_left + tiles.cols[j] * dx), float(y_top - tiles.rows[i + 1] * dy),
                  float(x_left + tiles.cols[j + 1] * dx), float(y_top - tiles.rows[i] * dy))
        hit = np.sort(tree.query(shapely.box(*extent), predicate="intersects"))
        return (geoms[hit], hit, extent) if hit.size else None

    return _merge(tiles(_polygon_block, block_args), len(layers))


def _polygons(zones: Any, id_column: str | None, ref: xr.DataArray) -> tuple[list[Any], np.ndarray]:
    """Zone ids and shapely geometries (in the layers' CRS) of a GeoDataFrame."""
    if id_column is None:
        ids = zones.index.tolist()
    elif id_column not in zones.columns:
        raise InputDataError(f"zone polygons have no column {id_column!r} "
                             f"(columns: {', '.join(map(str, zones.columns))})",
                             fix="name the id column with id_column=")
    else:
        ids = zones[id_column].tolist()
    if len(set(ids)) != len(ids):
        dup = ids[int(np.flatnonzero(pd.Series(ids).duplicated())[0])]
        raise InputDataError(f"zone polygons repeat the id {dup!r} ({id_column or 'index'})",
                             fix="give each polygon its own id, or dissolve them by id first")
    crs = ref.rio.crs
    if crs is not None:
        if zones.crs is None:
            raise MissingCRSError("the zone polygons have no coordinate reference system",
                                  fix=f"set it: gdf.set_crs(...); the layers are in {crs}")
        if CRS(zones.crs) != CRS(crs):
            zones = zones.to_crs(crs)
    geoms = np.asarray(zones.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = ~(shapely.is_missing(geoms) | np.isin(kinds, [3, 6]))  # Polygon, MultiPolygon
    if bad.any():
        raise InputDataError(f"zone polygon {ids[int(np.flatnonzero(bad)[0])]!r} is a "
                             f"{geoms[bad][0].geom_type} geometry, not a polygon",
                             fix="pass Polygon or MultiPolygon zones (buffer points or lines)")
    return ids, geoms


def _table(merged: _Partial, zone_ids: Sequence[Hashable], positions: np.ndarray,
           names: Mapping[Any, tuple[str, str]], layers: Mapping[str, xr.DataArray],
           pixel_area_ha: float, integer_count: bool) -> pd.DataFrame:
    """The long table: one row per zone (in order) × layer (in order)."""
    index = {int(z): n for n, z in enumerate(merged.ids)}
    rows: list[tuple[Any, ...]] = []
    for zone, pos in zip(zone_ids, positions, strict=True):
        n = index.get(int(pos))
        zh, en = names.get(zone, (None, None))
        for i, (name, layer) in enumerate(layers.items()):
            units = str(layer.attrs.get("units", ""))
            w = float(merged.weight[i, n]) if n is not None else 0.0
            if w > 0 and n is not None:
                mean, var = float(merged.mean[i, n]), float(merged.m2[i, n]) / w
                low, high = float(merged.low[i, n]), float(merged.high[i, n])
            else:
                mean = var = low = high = float("nan")
            total = mean * w * pixel_area_ha if _density_units(units) else float("nan")
            if w == 0 and _density_units(units):
                total = 0.0
            count: float | int = round(w) if integer_count else w
            rows.append((zone, zh, en, name, units, count, w * pixel_area_ha, mean, low, high,
                         var, np.sqrt(var), total))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def zonal_stats(
    layers: Mapping[str, xr.DataArray] | xr.Dataset,
    zones: xr.DataArray | Any,
    *,
    id_column: str | None = None,
    names: Mapping[Any, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Mean, min, max, variance, std, count, area and total of each layer in each zone (A4).

    Parameters
    ----------
    layers
        Name → DataArray (y, x) on one grid (e.g. ``{"agc_2020": ..., "change_2000_2020":
        ...}``), or a Dataset of (y, x) variables; NumPy- or dask-backed. NaN cells are "no forest
        / no data" and are left out. ``attrs["units"]`` is copied to the table.
    zones
        Either a DataArray (y, x) of integer unit codes on the same grid — level-1 or level-2
        assessment units; **0 means outside / no unit** and is not reported (NaN in a float
        raster also counts as 0) — or a GeoDataFrame of polygons (reprojected to the layers' CRS;
        polygons may overlap, each is reduced on its own).
    id_column
        Column of the polygons that holds their ids (default: the GeoDataFrame's index). Ids
        must be unique. Ignored for raster zones (the id is the code).
    names
        Optional zone id → (Chinese name, English name) for ``zone_name_zh``/``zone_name_en``.

    Returns
    -------
    pandas.DataFrame
        One row per zone × layer (zones in code order for rasters and in row order for polygons,
        layers in the given order) with columns :data:`COLUMNS`: ``count`` is the number of valid
        cells (raster zones, int) or the sum of the covered fractions of valid cells (polygons,
        float, like exactextract's ``count``); ``area_ha`` = count × pixel area; ``mean``,
        ``min``, ``max``; ``variance`` is the **population** variance Σw(x − x̄)²/Σw (w = 1 or
        the covered fraction, like exactextract's ``variance``), ``std`` its square root;
        ``total`` = Σ w·x × pixel area in ha, in the layer's units times ha (t C for a layer in
        t C/ha), given only for layers whose units end in ``/ha`` (NaN otherwise). Zones with no
        valid cell of a layer have count 0 and NaN statistics.

    Raises
    ------
    GridMismatchError
        When layers, or the zone raster and the layers, are not on one grid.
    InputDataError
        When the zone raster is all 0 or no polygon overlaps the grid, or the inputs are
        malformed.

    """
    grid_layers = _as_layers(layers)
    ref_name, ref = next(iter(grid_layers.items()))
    if ref.rio.crs is not None:
        require_projected(ref.rio.crs, f"layer {ref_name!r}")
    dx, dy = _spacing(ref, "x", f"layer {ref_name!r}"), _spacing(ref, "y", f"layer {ref_name!r}")
    pixel_area_ha = dx * dy / 10_000.0
    names = names or {}
    stack = list(grid_layers.values())
    if isinstance(zones, xr.DataArray):
        what = f"zone raster {zones.name!r}" if zones.name is not None else "zone raster"
        if set(zones.dims) != {"y", "x"}:
            raise InputDataError(f"{what} has dims {zones.dims}, zonal_stats needs (y, x)",
                                 fix="select one year, e.g. units.l2.sel(year=2020)")
        zones = _north_up(zones.transpose("y", "x"))
        _check_same_grid(ref, f"layer {ref_name!r}", zones, what)
        merged = _raster_partial(zones, stack, what)
        if merged.ids.size == 0:
            raise InputDataError(f"{what} holds no zone: every cell is 0 (outside)",
                                 fix="pass the unit raster of the assessed year (0 = outside)")
        codes = [int(c) for c in merged.ids]
        return _table(merged, codes, merged.ids, names, grid_layers, pixel_area_ha, True)
    if not hasattr(zones, "geometry"):
        raise InputDataError(f"zones is a {type(zones).__name__}",
                             fix="pass a DataArray of unit codes or a GeoDataFrame of polygons")
    if importlib.util.find_spec("exactextract") is None:
        raise MissingDependencyError("polygon zones need exactextract for the cell coverage",
                                     fix="pip install exactextract")
    ids, geoms = _polygons(zones, id_column, ref)
    x_left = float(ref["x"].min()) - dx / 2 if "x" in ref.coords else 0.0
    y_low = float(ref["y"].min()) - dy / 2 if "y" in ref.coords else 0.0
    frame = shapely.box(x_left, y_low, x_left + dx * ref.sizes["x"], y_low + dy * ref.sizes["y"])
    overlaps = shapely.intersects(geoms, frame) & ~shapely.touches(geoms, frame)
    if not overlaps.any():
        raise InputDataError(f"none of the {len(ids)} zone polygons overlaps the layers' grid",
                             fix="check the polygons' CRS and that they cover the study area")
    if not overlaps.all():
        outside = [ids[i] for i in np.flatnonzero(~overlaps)]
        warn(f"{len(outside)} zone polygon(s) do not overlap the layers' grid "
             f"(ids {outside[:5]}{' …' if len(outside) > 5 else ''}); their count is 0",
             UserWarning, stacklevel=2)
    keep = np.flatnonzero(overlaps)
    merged = _polygon_partial(geoms[keep], stack, dx, dy)
    merged.ids = keep[merged.ids]
    return _table(merged, ids, np.arange(len(ids)), names, grid_layers, pixel_area_ha, False)
