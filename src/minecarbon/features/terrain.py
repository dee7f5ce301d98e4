"""Terrain from a digital elevation model (requirement F6).

Slope, aspect, northness and eastness, local relief, topographic position (TPI), terrain
ruggedness (TRI) and Zevenbergen–Thorne curvature, each computed from a DEM on a projected
metric grid. docs/terrain.md gives the formulas, units and how the conventions compare with
GDAL ``gdaldem``, ArcGIS and xarray-spatial.

Conventions, in short:

* x grows east and y north whatever the order of the coordinates; the pixel spacing is read from
  the coordinates (signed), so a south-up array gives the same answers as a north-up one.
* Gradients are Horn's (1981) 3 × 3 weighted differences, as in ``gdaldem`` and ArcGIS
  ``Slope``/``Aspect``. Curvatures use the Zevenbergen & Thorne (1987) coefficients, as ArcGIS
  ``Curvature`` does, with ArcGIS's signs and its 1/100 scaling.
* Aspect is the azimuth the slope faces (downslope), clockwise from north in [0, 360); flat cells
  (slope exactly 0) have no aspect (NaN) and northness = eastness = 0.
* Outside the raster is NaN: a measure whose window reaches past an edge, or covers a NaN, is NaN
  (the outer ring for 3 × 3 measures, ``window // 2`` rings for relief and TPI).

Every function works on numpy- or dask-backed DataArrays; on dask it stays lazy
(``map_overlap`` with the window's half-size as depth and NaN as the boundary). Arithmetic is in
float64; results are float32.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import dask.array as dsa
import numpy as np
import numpy.typing as npt
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from minecarbon.errors import GeographicCRSError, InputDataError
from minecarbon.grid import require_projected

FloatArray = npt.NDArray[np.float64]
Kernel = Callable[[FloatArray], FloatArray]
TriMethod = Literal["riley", "wilson"]

#: Output variables of :func:`terrain_features`: description and units.
VARIABLES: dict[str, tuple[str, str]] = {
    "elevation_m": ("elevation", "m"),
    "slope_deg": ("slope, Horn (1981)", "degree"),
    "aspect_deg": ("azimuth of the downslope direction, clockwise from north", "degree"),
    "northness": ("cosine of the aspect (0 on flat cells)", "1"),
    "eastness": ("sine of the aspect (0 on flat cells)", "1"),
    "relief_m": ("local relief: maximum minus minimum in the window", "m"),
    "tpi_m": ("topographic position index, Weiss (2001): elevation minus the window mean", "m"),
    "tri_m": ("terrain ruggedness index", "m"),
    "curvature": ("total curvature, Zevenbergen & Thorne (1987) as ArcGIS", "1/(100 m)"),
    "profile_curvature": ("curvature along the slope (ArcGIS sign)", "1/(100 m)"),
    "plan_curvature": ("curvature across the slope (ArcGIS sign)", "1/(100 m)"),
}

#: Largest relative difference allowed between the x and y pixel sizes.
SQUARE_TOLERANCE = 0.01


# ----------------------------------------------------------------------------- input checks
def pixel_spacing(dem: xr.DataArray) -> tuple[float, float]:
    """The signed coordinate steps (dx per column, dy per row) of a DEM, after checking it.

    Raises :class:`InputDataError` unless ``dem`` has dims ``("y", "x")``, regular coordinates
    in metres and square pixels (within 1 %); :class:`GeographicCRSError` when the CRS or the
    coordinates are in degrees.
    """
    what = f"DEM {dem.name!r}" if dem.name is not None else "the DEM"
    if not isinstance(dem, xr.DataArray) or dem.dims != ("y", "x"):
        dims = getattr(dem, "dims", None)
        raise InputDataError(
            f"{what} has dims {dims}, expected ('y', 'x')",
            fix="pass one band as a 2-D DataArray, e.g. dem.squeeze('band', drop=True)",
        )
    if dem.sizes["y"] < 2 or dem.sizes["x"] < 2 or "x" not in dem.coords or "y" not in dem.coords:
        raise InputDataError(
            f"{what} needs x and y coordinates and at least 2 × 2 pixels",
            fix="read it with rioxarray or put it on the project grid",
        )
    crs = dem.rio.crs
    if crs is not None:
        require_projected(crs, what)
    steps = []
    for dim in ("x", "y"):
        diffs = np.diff(np.asarray(dem[dim].values, dtype=np.float64))
        if not np.allclose(diffs, diffs[0], rtol=1e-6, atol=0.0) or diffs[0] == 0:
            raise InputDataError(
                f"{what} has irregular {dim} coordinates", fix="resample it onto a regular grid"
            )
        steps.append(float(diffs[0]))
    dx, dy = steps
    if np.all(np.abs(dem["x"].values) <= 180.0) and abs(dx) < 0.01:
        raise GeographicCRSError(
            f"{what} looks like it is in degrees (x within ±180, pixel {abs(dx):.2g})",
            fix="reproject it to a projected metric CRS such as a CGCS2000 Gauss–Krüger zone",
        )
    if abs(abs(dx) - abs(dy)) > SQUARE_TOLERANCE * abs(dx):
        raise InputDataError(
            f"{what} has non-square pixels ({abs(dx):g} m × {abs(dy):g} m)",
            fix="resample it to square pixels (the project grid)",
        )
    return dx, dy


def _check_window(window: int, name: str) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer):
        raise InputDataError(f"{name} must be an odd integer, got {window!r}", fix="use e.g. 3")
    if window < 3 or window % 2 == 0:
        raise InputDataError(f"{name} must be odd and at least 3, got {window}", fix="use 3, 5…")
    return int(window)


# ------------------------------------------------------------------------- focal machinery
def _nb(a: FloatArray, dr: int, dc: int, h: int = 1) -> FloatArray:
    """The neighbour at row offset ``dr`` and column offset ``dc`` of every interior cell."""
    m, n = a.shape
    return a[h + dr : m - h + dr, h + dc : n - h + dc]


def _focal(data: Any, kernel: Kernel, depth: int) -> Any:
    """Apply ``kernel`` (padded block → interior) with NaN outside, to numpy or dask data."""

    def block(a: FloatArray) -> FloatArray:
        out = np.full(a.shape, np.nan)
        if a.shape[0] > 2 * depth and a.shape[1] > 2 * depth:
            with np.errstate(invalid="ignore"):
                inner = kernel(a)
            # NaN wherever the window holds a NaN, even in a cell the formula skips (Horn's
            # differences skip the centre, ZT's total curvature the diagonals)
            holes = _window(np.isnan(a), 2 * depth + 1, np.max) > 0
            out[depth:-depth, depth:-depth] = np.where(holes, np.nan, inner)
        return out

    if isinstance(data, dsa.Array):
        return data.astype(np.float64).map_overlap(  # type: ignore[no-untyped-call]
            block, depth=depth, boundary=np.nan, dtype=np.float64, meta=np.array((), np.float64)
        )
    padded = np.pad(np.asarray(data, dtype=np.float64), depth, constant_values=np.nan)
    return block(padded)[depth:-depth, depth:-depth]


def _window(a: FloatArray, w: int, reduce: Callable[..., Any]) -> FloatArray:
    """Separable ``w`` × ``w`` reduction (max, min, sum) of a padded block → its interior."""
    rows = reduce(sliding_window_view(a, w, axis=0), axis=-1)
    return np.asarray(reduce(sliding_window_view(rows, w, axis=1), axis=-1), dtype=np.float64)


def _wrap(data: Any, dem: xr.DataArray, name: str, **attrs: Any) -> xr.DataArray:
    description, units = VARIABLES[name]
    out = xr.DataArray(
        data.astype(np.float32),
        coords=dem.coords,
        dims=dem.dims,
        name=name,
        attrs={"long_name": description, "units": units, **attrs},
    )
    out.encoding.update({k: v for k, v in dem.encoding.items() if k == "grid_mapping"})
    return out


# ------------------------------------------------------------------------------ gradients
def _horn(dem: xr.DataArray) -> tuple[Any, Any]:
    """Horn (1981) gradient: dz/dx (east) and dz/dy (north), in m/m."""
    dx, dy = pixel_spacing(dem)

    def d_dx(a: FloatArray) -> FloatArray:
        east = _nb(a, -1, 1) + 2 * _nb(a, 0, 1) + _nb(a, 1, 1)
        west = _nb(a, -1, -1) + 2 * _nb(a, 0, -1) + _nb(a, 1, -1)
        return (east - west) / (8 * dx)

    def d_dy(a: FloatArray) -> FloatArray:
        below = _nb(a, 1, -1) + 2 * _nb(a, 1, 0) + _nb(a, 1, 1)  # next row: y + dy
        above = _nb(a, -1, -1) + 2 * _nb(a, -1, 0) + _nb(a, -1, 1)
        return (below - above) / (8 * dy)

    return _focal(dem.data, d_dx, 1), _focal(dem.data, d_dy, 1)


def slope(dem: xr.DataArray) -> xr.DataArray:
    """Slope in degrees from Horn's (1981) gradient: ``atan(sqrt(p² + q²))``.

    The same finite differences as ``gdaldem slope`` (default algorithm) and ArcGIS ``Slope``
    (planar): ``p = ((c + 2f + i) - (a + 2d + g)) / (8 Δx)``, likewise ``q`` along y.

    Examples
    --------
    ArcGIS's "How Slope works" example (cell 5 m, rows 50 45 50 / 30 30 30 / 8 10 10) gives
    75.25762° in the centre.

    """
    p, q = _horn(dem)
    return _wrap(np.degrees(np.arctan(np.hypot(p, q))), dem, "slope_deg", method="Horn 1981")


def _direction(dem: xr.DataArray) -> tuple[Any, Any, Any]:
    """Unit downslope vector (east, north components) and the gradient norm."""
    p, q = _horn(dem)
    norm = np.hypot(p, q)
    safe = np.where(norm == 0, 1.0, norm)
    return -p / safe, -q / safe, norm


def aspect(dem: xr.DataArray) -> xr.DataArray:
    """Aspect: azimuth (degrees clockwise from north, [0, 360)) of the downslope direction.

    ``atan2(-p, -q)`` with ``p = dz/dx`` (east) and ``q = dz/dy`` (north) from Horn's
    differences: 0 = the slope faces north, 90 = east. Flat cells (both differences exactly 0)
    are NaN, where ``gdaldem aspect`` writes -9999 (or 0 with ``-zero_for_flat``) and ArcGIS and
    xarray-spatial write -1.
    """
    east, north, norm = _direction(dem)
    azimuth = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
    azimuth = np.where(azimuth >= 360.0, 0.0, azimuth)  # mod of a tiny negative number
    return _wrap(np.where(norm == 0, np.nan, azimuth), dem, "aspect_deg")


def northness(dem: xr.DataArray) -> xr.DataArray:
    """cos(aspect): 1 on a north-facing slope, -1 facing south, 0 on flat cells."""
    _, north, norm = _direction(dem)
    return _wrap(np.where(norm == 0, 0.0, north), dem, "northness")


def eastness(dem: xr.DataArray) -> xr.DataArray:
    """sin(aspect): 1 on an east-facing slope, -1 facing west, 0 on flat cells."""
    east, _, norm = _direction(dem)
    return _wrap(np.where(norm == 0, 0.0, east), dem, "eastness")


# ------------------------------------------------------------------- windowed statistics
def relief(dem: xr.DataArray, window: int = 3) -> xr.DataArray:
    """Local relief (m): maximum minus minimum elevation in a ``window`` × ``window`` square."""
    pixel_spacing(dem)
    w = _check_window(window, "window")

    def kernel(a: FloatArray) -> FloatArray:
        nan = np.isnan(a)
        hi = _window(np.where(nan, -np.inf, a), w, np.max)
        lo = _window(np.where(nan, np.inf, a), w, np.min)
        return hi - lo  # windows with a NaN are masked by _focal

    return _wrap(_focal(dem.data, kernel, w // 2), dem, "relief_m", window=w)


def tpi(dem: xr.DataArray, window: int = 3) -> xr.DataArray:
    """Topographic position index (Weiss 2001), m: elevation minus its neighbours' mean.

    The neighbourhood is the ``window`` × ``window`` square *without* the centre cell (as
    ``gdaldem TPI`` for ``window=3``); positive on ridges and hilltops, negative in valleys.
    """
    pixel_spacing(dem)
    w = _check_window(window, "tpi_window")

    def kernel(a: FloatArray) -> FloatArray:
        nan = np.isnan(a)
        total = _window(np.where(nan, 0.0, a), w, np.sum)
        centre = _nb(a, 0, 0, w // 2)
        return centre - (total - centre) / (w * w - 1)

    return _wrap(_focal(dem.data, kernel, w // 2), dem, "tpi_m", window=w)


def tri(dem: xr.DataArray, method: TriMethod = "riley") -> xr.DataArray:
    """Terrain ruggedness index (m) over the 8 neighbours of each cell.

    ``"riley"`` (default; Riley et al. 1999): ``sqrt(Σ (z_i - z_0)²)``. ``"wilson"`` (Wilson
    et al. 2007, the mean absolute difference): ``Σ |z_i - z_0| / 8``. ``gdaldem TRI`` has both
    (``-alg Riley|Wilson``).
    """
    pixel_spacing(dem)
    if method not in ("riley", "wilson"):
        raise InputDataError(f"unknown TRI method {method!r}", fix="use 'riley' or 'wilson'")
    offsets = [(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if (r, c) != (0, 0)]

    def kernel(a: FloatArray) -> FloatArray:
        diffs = [_nb(a, r, c) - _nb(a, 0, 0) for r, c in offsets]
        if method == "riley":
            return np.asarray(np.sqrt(sum(d * d for d in diffs)), dtype=np.float64)
        return np.asarray(sum(np.abs(d) for d in diffs), dtype=np.float64) / 8.0

    return _wrap(_focal(dem.data, kernel, 1), dem, "tri_m", method=method)


# ------------------------------------------------------------------------------ curvature
def _zt_terms(dem: xr.DataArray) -> dict[str, Any]:
    """Zevenbergen & Thorne (1987) coefficients D, E, F, G, H (x east, y north)."""
    dx, dy = pixel_spacing(dem)
    kernels: dict[str, Kernel] = {
        "D": lambda a: ((_nb(a, 0, -1) + _nb(a, 0, 1)) / 2 - _nb(a, 0, 0)) / dx**2,
        "E": lambda a: ((_nb(a, -1, 0) + _nb(a, 1, 0)) / 2 - _nb(a, 0, 0)) / dy**2,
        "F": lambda a: (
            (_nb(a, 1, 1) - _nb(a, 1, -1) - _nb(a, -1, 1) + _nb(a, -1, -1)) / (4 * dx * dy)
        ),
        "G": lambda a: (_nb(a, 0, 1) - _nb(a, 0, -1)) / (2 * dx),
        "H": lambda a: (_nb(a, 1, 0) - _nb(a, -1, 0)) / (2 * dy),
    }
    return {k: _focal(dem.data, f, 1) for k, f in kernels.items()}


def curvature(dem: xr.DataArray) -> xr.DataArray:
    """Total curvature as ArcGIS ``Curvature``: ``-2 (D + E) · 100``, in 1/(100 m).

    Positive where the surface is upwardly convex (hilltops), negative where concave (hollows).
    Equals ``plan_curvature - profile_curvature``.
    """
    t = _zt_terms(dem)
    return _wrap(-200.0 * (t["D"] + t["E"]), dem, "curvature")


def _directional(t: dict[str, Any], kind: str) -> Any:
    d, e, f, g, h = (t[k] for k in "DEFGH")
    g2h2 = g * g + h * h
    safe = np.where(g2h2 == 0, 1.0, g2h2)
    if kind == "profile":
        value = 200.0 * (d * g * g + e * h * h + f * g * h) / safe
    else:
        value = -200.0 * (d * h * h + e * g * g - f * g * h) / safe
    return np.where(g2h2 == 0, 0.0, value)


def profile_curvature(dem: xr.DataArray) -> xr.DataArray:
    """Curvature along the slope, 1/(100 m), ArcGIS sign: negative = upwardly convex.

    ``200 (D G² + E H² + F G H) / (G² + H²)``: the Zevenbergen & Thorne (1987) profile
    curvature with ArcGIS's sign (negative where flow decelerates). 0 where G = H = 0.
    """
    return _wrap(_directional(_zt_terms(dem), "profile"), dem, "profile_curvature")


def plan_curvature(dem: xr.DataArray) -> xr.DataArray:
    """Curvature across the slope, 1/(100 m), ArcGIS sign: positive = sidewardly convex.

    ``-200 (D H² + E G² - F G H) / (G² + H²)``: the Zevenbergen & Thorne (1987) planform
    curvature with ArcGIS's sign (positive where flow diverges). 0 where G = H = 0.
    """
    return _wrap(_directional(_zt_terms(dem), "plan"), dem, "plan_curvature")


# ---------------------------------------------------------------------------- all at once
def terrain_features(
    dem: xr.DataArray,
    *,
    window: int = 3,
    tpi_window: int | None = None,
    tri_method: TriMethod = "riley",
) -> xr.Dataset:
    """All terrain measures of a DEM as one Dataset on the DEM's grid (see :data:`VARIABLES`).

    Parameters
    ----------
    dem
        Elevation in metres, dims ``("y", "x")``, coordinates in metres of a projected CRS,
        numpy- or dask-backed (the result is lazy for dask).
    window
        Odd side, in pixels, of the square window of ``relief_m`` (and of ``tpi_m`` unless
        ``tpi_window`` is given).
    tpi_window
        Odd side of the TPI window; defaults to ``window``.
    tri_method
        ``"riley"`` (default) or ``"wilson"``; see :func:`tri`.

    Returns
    -------
    xarray.Dataset
        float32 variables ``elevation_m``, ``slope_deg``, ``aspect_deg``, ``northness``,
        ``eastness``, ``relief_m``, ``tpi_m``, ``tri_m``, ``curvature``,
        ``profile_curvature`` and ``plan_curvature`` with the DEM's coordinates (and CRS).

    """
    pixel_spacing(dem)
    w = _check_window(window, "window")
    tw = _check_window(tpi_window if tpi_window is not None else w, "tpi_window")
    east, north, norm = _direction(dem)
    azimuth = np.mod(np.degrees(np.arctan2(east, north)), 360.0)
    azimuth = np.where(azimuth >= 360.0, 0.0, azimuth)
    zt = _zt_terms(dem)
    variables = [
        _wrap(dem.data, dem, "elevation_m"),
        _wrap(np.degrees(np.arctan(norm)), dem, "slope_deg", method="Horn 1981"),
        _wrap(np.where(norm == 0, np.nan, azimuth), dem, "aspect_deg"),
        _wrap(np.where(norm == 0, 0.0, north), dem, "northness"),
        _wrap(np.where(norm == 0, 0.0, east), dem, "eastness"),
        relief(dem, w),
        tpi(dem, tw),
        tri(dem, tri_method),
        _wrap(-200.0 * (zt["D"] + zt["E"]), dem, "curvature"),
        _wrap(_directional(zt, "profile"), dem, "profile_curvature"),
        _wrap(_directional(zt, "plan"), dem, "plan_curvature"),
    ]
    return xr.Dataset({v.name: v for v in variables}, attrs={"source": "minecarbon terrain"})
