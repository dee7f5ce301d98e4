"""Unit names, the units' areas per year and the unit of each plot (requirement S3).

Tables read from the unit maps that :func:`minecarbon.scope.units.assessment_units` makes:
:func:`unit_names` (Chinese and English, both levels), :func:`unit_areas` (pixels and hectares
of every unit and year, one dask pass) and :func:`plot_units` (the unit under each plot's
centre and the share of its square in that unit).
"""

import math
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import shapely
import xarray as xr
from dask.base import compute
from pyproj import CRS

from minecarbon.errors import GridMismatchError, InputDataError, MissingCRSError
from minecarbon.types import AssessmentUnit, DamageForm

__all__ = ["plot_units", "unit_areas", "unit_names"]

_UNITS = {int(u): u for u in AssessmentUnit}
_FORMS = {int(f): f for f in DamageForm}


def _compute(*lazy: Any) -> tuple[Any, ...]:
    """Compute dask collections together on the current scheduler (NumPy passes through)."""
    out: tuple[Any, ...] = compute(*lazy)  # type: ignore[no-untyped-call, unused-ignore]
    return out



# ------------------------------------------------------------------------------ areas
def unit_names(level: int, code: int) -> tuple[str, str]:
    """Chinese and English names of a level-1 or level-2 unit code.

    Examples
    --------
    >>> unit_names(2, 31)
    ('已损毁森林-挖损', 'damaged forest – excavation')

    """
    if level == 1 and code in _UNITS:
        return _UNITS[code].zh, _UNITS[code].en
    if level == 2 and code // 10 in _UNITS and (code % 10 == 0 or code % 10 in _FORMS):
        unit = _UNITS[code // 10]
        if code % 10 == 0:
            return unit.zh, unit.en
        form = _FORMS[code % 10]
        return f"{unit.zh}-{form.zh}", f"{unit.en} – {form.en}"
    raise InputDataError(f"{code} is not a level-{level} assessment unit code",
                         fix="use codes made by assessment_units")


def _year_counts(block: np.ndarray) -> np.ndarray:
    """Pixel counts of each code (0–255) per year in one (year, y, x) block → (year, 1, 1, 256)."""
    arr = np.asarray(block)
    if not np.issubdtype(arr.dtype, np.integer):
        arr = np.nan_to_num(arr, nan=0.0)
    values = np.clip(arr, 0, 255).astype(np.int64).reshape(arr.shape[0], -1)
    offsets = values + 256 * np.arange(arr.shape[0])[:, np.newaxis]
    counts = np.bincount(offsets.ravel(), minlength=256 * arr.shape[0])
    return counts.reshape(arr.shape[0], 1, 1, 256)


def _code_counts(var: xr.DataArray) -> Any:
    data = var.transpose("year", "y", "x").data
    if not isinstance(data, da.Array):
        return _year_counts(data)[:, 0, 0, :]
    per_block = da.map_blocks(  # type: ignore[no-untyped-call, unused-ignore]
        _year_counts,
        data,
        new_axis=3,
        chunks=(data.chunks[0], (1,) * data.numblocks[1], (1,) * data.numblocks[2], (256,)),
        dtype=np.int64,
        meta=np.empty((0, 0, 0, 0), dtype=np.int64),
    )
    return per_block.sum(axis=(1, 2))


def unit_areas(units: xr.Dataset, pixel_area_ha: float) -> pd.DataFrame:
    """Number of pixels and area of every unit present, per year and level.

    Computed by per-chunk counts summed by dask, so the cube is never loaded whole.

    Returns
    -------
    A DataFrame with columns ``year``, ``level`` (1 or 2), ``code``, ``zh``, ``en``,
    ``n_pixels``, ``area_ha`` (= n_pixels × pixel_area_ha); non-objects (code 0) and absent
    units are left out.

    """
    if not (math.isfinite(pixel_area_ha) and pixel_area_ha > 0):
        raise InputDataError(f"pixel area {pixel_area_ha!r} ha is not positive",
                             fix="pass grid.pixel_area_ha")
    lazy = {level: _code_counts(units[var]) for level, var in ((1, "l1"), (2, "l2"))}
    computed = dict(zip(lazy, _compute(*lazy.values()), strict=True))
    years = np.asarray(units["year"].values)
    rows = []
    for level, counts in computed.items():
        for k, year in enumerate(years):
            for code in np.flatnonzero(counts[k]):
                if code == 0:
                    continue
                zh, en = unit_names(level, int(code))
                n = int(counts[k, code])
                rows.append((int(year), level, int(code), zh, en, n, n * pixel_area_ha))
    columns = ["year", "level", "code", "zh", "en", "n_pixels", "area_ha"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["year", "level", "code"], ignore_index=True)


# ------------------------------------------------------------------------------ plots
def _plot_ids(plots: Any) -> list[str]:
    lower = {str(c).strip().lower(): c for c in plots.columns if c != plots.geometry.name}
    column = next((lower[k] for k in ("plot_id", "id", "name") if k in lower), None)
    if column is None:
        return [f"row {n + 1}" for n in range(len(plots))]
    return [str(v) for v in plots[column]]


def plot_units(plots: Any, units: xr.Dataset, year: int, side_m: float) -> pd.DataFrame:
    """The assessment unit of each plot in ``year``, and whether the plot straddles units.

    Parameters
    ----------
    plots
        GeoDataFrame of plot centres (points) or plot squares (polygons), in the units' CRS;
        the plot id comes from a ``plot_id``, ``id`` or ``name`` column, else ``row N``.
    units
        The output of :func:`assessment_units`.
    year
        The year to read.
    side_m
        Plot side in metres.

    Returns
    -------
    A DataFrame with ``plot_id``, ``unit_l1`` and ``unit_l2`` (at the pixel under the plot
    centre), ``crosses_border`` (the pixels whose centres lie inside or on the plot's square,
    or the centre pixel when there are none, carry more than one level-2 code) and
    ``smaller_than_pixel`` (the side is below the pixel size).

    """
    if year not in set(np.asarray(units["year"].values).tolist()):
        raise InputDataError(
            f"year {year} is not among the unit years {units['year'].values.tolist()}",
            fix="choose a year the forest masks cover",
        )
    if not (math.isfinite(side_m) and side_m > 0):
        raise InputDataError(f"plot side {side_m!r} m is not positive",
                             fix="set survey.plot_side_m")
    if plots.crs is None:
        raise MissingCRSError("the plots have no CRS", fix="assign the CRS of the GNSS survey")
    crs = units.rio.crs
    if crs is not None and CRS.from_user_input(plots.crs) != CRS.from_user_input(crs):
        raise GridMismatchError(
            f"the plots are in {CRS.from_user_input(plots.crs).to_string()}, the units in "
            f"{CRS.from_user_input(crs).to_string()}",
            fix="reproject the plots to the project CRS (GeoDataFrame.to_crs)",
        )
    l1 = units["l1"].sel(year=year).transpose("y", "x")
    l2 = units["l2"].sel(year=year).transpose("y", "x")
    transform = units.rio.transform()
    pixel = float(abs(transform.a))
    x0, y_top = float(transform.c), float(transform.f)
    height, width = l2.shape
    ids = _plot_ids(plots)

    geoms = list(plots.geometry)
    missing = [ids[n] for n, g in enumerate(geoms) if g is None or g.is_empty]
    if missing:
        raise InputDataError(f"plots {', '.join(missing)} have no geometry",
                             fix="give every plot its centre coordinates")
    centres = [g if g.geom_type == "Point" else g.centroid for g in geoms]
    cx = np.array([c.x for c in centres])
    cy = np.array([c.y for c in centres])
    cols = np.floor((cx - x0) / pixel).astype(np.int64)
    rows = np.floor((y_top - cy) / pixel).astype(np.int64)
    outside = (cols < 0) | (cols >= width) | (rows < 0) | (rows >= height)
    if outside.any():
        names = ", ".join(ids[n] for n in np.flatnonzero(outside))
        raise InputDataError(f"plots {names} lie outside the project grid",
                             fix="check their coordinates and CRS")

    tol = 1e-9
    windows: list[tuple[slice, slice, np.ndarray | None]] = []
    for n, geom in enumerate(geoms):
        if geom.geom_type == "Point":
            half = side_m / 2
            bx0, by0, bx1, by1 = cx[n] - half, cy[n] - half, cx[n] + half, cy[n] + half
        else:
            bx0, by0, bx1, by1 = geom.bounds
        c_lo = max(0, math.ceil((bx0 - x0) / pixel - 0.5 - tol))
        c_hi = min(width - 1, math.floor((bx1 - x0) / pixel - 0.5 + tol))
        r_lo = max(0, math.ceil((y_top - by1) / pixel - 0.5 - tol))
        r_hi = min(height - 1, math.floor((y_top - by0) / pixel - 0.5 + tol))
        inside: np.ndarray | None = None
        if c_lo <= c_hi and r_lo <= r_hi and geom.geom_type != "Point":
            xs = x0 + (np.arange(c_lo, c_hi + 1) + 0.5) * pixel
            ys = y_top - (np.arange(r_lo, r_hi + 1) + 0.5) * pixel
            gx, gy = np.meshgrid(xs, ys)
            inside = shapely.intersects_xy(geom, gx, gy)
        if c_lo > c_hi or r_lo > r_hi or (inside is not None and not inside.any()):
            c_lo = c_hi = int(cols[n])
            r_lo = r_hi = int(rows[n])
            inside = None
        windows.append((slice(r_lo, r_hi + 1), slice(c_lo, c_hi + 1), inside))

    row_idx = xr.DataArray(rows, dims="plot")
    col_idx = xr.DataArray(cols, dims="plot")
    lazy = [l1.isel(y=row_idx, x=col_idx).data, l2.isel(y=row_idx, x=col_idx).data]
    lazy += [l2.data[r, c] for r, c, _ in windows]
    values = _compute(*lazy)
    centre_l1, centre_l2 = np.asarray(values[0]), np.asarray(values[1])
    crosses = []
    for (_, _, inside), block in zip(windows, values[2:], strict=True):
        codes = np.asarray(block)
        if inside is not None:
            codes = codes[inside]
        crosses.append(bool(np.unique(codes).size > 1))
    return pd.DataFrame(
        {
            "plot_id": ids,
            "unit_l1": centre_l1.astype(np.uint8),
            "unit_l2": centre_l2.astype(np.uint8),
            "crosses_border": crosses,
            "smaller_than_pixel": [bool(side_m < pixel)] * len(ids),
        }
    )
