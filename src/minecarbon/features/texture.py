"""Grey-level co-occurrence (GLCM, Haralick) texture in a moving window (requirement F5).

For every pixel, the co-occurrence matrix of the quantised grey levels in a window centred on
it gives eight measures (:data:`MEASURES`); with several displacements the measures are averaged
over them. Two conventions choose which pixel pairs a window counts:

``"envi"`` (default)
    ENVI's "Co-occurrence Measures": every window pixel is paired with the pixel one shift
    away, which may lie outside the window; not symmetric. Reproduces ENVI's output to 1e-6
    (tests/features/test_texture.py, ENVI reference images from the R package glcm).
``"skimage"``
    The matrix :func:`skimage.feature.graycomatrix` builds from the window alone: both pixels
    of a pair lie inside the window; symmetric by default.

With p(i, j) the normalised matrix (grey levels counted from 0), the measures are the
scikit-image :func:`~skimage.feature.graycoprops` formulas: mean Σ i·p, variance
Σ p (i − mean)², homogeneity Σ p/(1 + (i − j)²), contrast Σ p (i − j)², dissimilarity
Σ p |i − j|, entropy −Σ p ln p, second moment Σ p² (scikit-image's ASM) and correlation
Σ p (i − μi)(j − μj)/(σi σj) (1 where σi or σj is 0). With ENVI's pairs the row marginal of p is
the window's histogram, so mean and variance equal the plain mean and (population) variance of
the window's grey levels, ENVI's "mean" and "variance". docs/texture.md has the details.

The work is done by a numba kernel (:mod:`._glcm_kernel`) that slides the window along each row
and updates a count table and integer running sums, O(window rows) per pixel; dask input is
processed lazily block by block with :func:`dask.array.overlap.overlap`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, overload

import dask.array as da
import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.features._glcm_kernel import glcm_block, quantise_array

#: The eight measures, in ENVI's order; output variables are named ``glcm_<measure>``.
MEASURES: tuple[str, ...] = (
    "mean", "variance", "homogeneity", "contrast", "dissimilarity", "entropy",
    "second_moment", "correlation",
)

_LONG_NAMES = {
    "mean": "GLCM mean Σ i·p(i,j)",
    "variance": "GLCM variance Σ p(i,j)·(i − mean)²",
    "homogeneity": "GLCM homogeneity Σ p(i,j)/(1 + (i − j)²)",
    "contrast": "GLCM contrast Σ p(i,j)·(i − j)²",
    "dissimilarity": "GLCM dissimilarity Σ p(i,j)·|i − j|",
    "entropy": "GLCM entropy −Σ p(i,j)·ln p(i,j)",
    "second_moment": "GLCM angular second moment Σ p(i,j)²",
    "correlation": "GLCM correlation Σ p(i,j)·(i − μi)(j − μj)/(σi·σj)",
}
_UNITS = {"mean": "grey level", "variance": "grey level²", "contrast": "grey level²",
          "dissimilarity": "grey level"}

#: Largest number of grey levels (the count table has levels² cells per thread).
MAX_LEVELS = 1024

#: Directions averaged when neither ``shifts`` nor ``directions`` is given (degrees).
DEFAULT_DIRECTIONS_DEG: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0)

Convention = Literal["envi", "skimage"]
Edge = Literal["nan", "zero"]


def _check_levels(levels: int) -> None:
    if isinstance(levels, bool) or not isinstance(levels, int | np.integer) \
            or not 2 <= levels <= MAX_LEVELS:
        raise InputDataError(
            f"GLCM levels = {levels!r} is not an integer from 2 to {MAX_LEVELS}",
            fix="pass levels as an integer, e.g. levels=32",
        )


def _check_value_range(value_range: Sequence[float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value_range)
    except (TypeError, ValueError):  # not two numbers
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputDataError(
            f"GLCM value_range = {value_range!r} is not two finite numbers lo < hi",
            fix="pass value_range=(lo, hi), e.g. the reflectance range shared by all years",
        )
    return lo, hi


def _quantise_numpy(x: Any, lo: Any, hi: Any, levels: int) -> npt.NDArray[np.int16]:
    return quantise_array(np.asarray(x), float(lo), float(hi), levels)


@overload
def quantise(
    values: xr.DataArray, levels: int, value_range: Sequence[float] | None = None
) -> xr.DataArray: ...


@overload
def quantise(
    values: npt.ArrayLike, levels: int, value_range: Sequence[float] | None = None
) -> npt.NDArray[np.int16]: ...


def quantise(
    values: npt.ArrayLike | xr.DataArray,
    levels: int,
    value_range: Sequence[float] | None = None,
) -> npt.NDArray[np.int16] | xr.DataArray:
    """Grey levels 0 … ``levels`` − 1 in equal-width bins over a value range; −1 where missing.

    Level k = floor(levels · (v − lo)/(hi − lo)), the top value ``hi`` in the last level and
    values outside the range clipped to it. NaN and ±inf are missing (−1).

    Parameters
    ----------
    values
        numpy, dask or xarray array of any shape.
    levels
        Number of grey levels (2 … :data:`MAX_LEVELS`).
    value_range
        (lo, hi). Default: the minimum and maximum of the finite values (ENVI's default); on
        dask input a lazy reduction, evaluated once when the result is computed. Give a fixed
        range to make textures comparable between images (years).

    Returns
    -------
    int16 array of the same kind (numpy, dask, or a DataArray with the same coords).

    """
    _check_levels(levels)
    fixed = None if value_range is None else _check_value_range(value_range)
    if isinstance(values, xr.DataArray):
        return values.copy(data=quantise(values.data, levels, fixed))
    if isinstance(values, da.Array):
        if fixed is None:
            finite = da.isfinite(values)
            lo = da.where(finite, values, np.inf).min()
            hi = da.where(finite, values, -np.inf).max()
        else:
            lo, hi = fixed
        lazy: npt.NDArray[np.int16] = da.map_blocks(  # type: ignore[no-untyped-call, unused-ignore]
            _quantise_numpy, values, lo, hi, levels, dtype=np.int16)
        return lazy
    x = np.asarray(values)
    if x.dtype.kind not in "biuf":
        x = x.astype(np.float64)
    if fixed is None:
        finite = x if x.dtype.kind in "biu" else x[np.isfinite(x)]
        fixed = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return _quantise_numpy(x, fixed[0], fixed[1], levels)


def direction_shift(angle_deg: float, distance: int) -> tuple[int, int]:
    """The (dy, dx) shift of a direction, as :func:`skimage.feature.graycomatrix` takes it.

    dy = round(distance · sin θ), dx = round(distance · cos θ) (halves away from zero), with y the
    row index (downwards): 0° pairs a pixel with its right neighbour, 45° with the lower-right
    one, 90° with the one below and 135° with the lower-left one.
    """
    theta = math.radians(angle_deg)

    def rnd(v: float) -> int:
        v = round(v, 9)  # sin(180°) = 1e-16
        return int(math.copysign(math.floor(abs(v) + 0.5), v))

    return rnd(distance * math.sin(theta)), rnd(distance * math.cos(theta))


def _window(window: int | Sequence[int], name: str) -> tuple[int, int]:
    size = (window, window) if isinstance(window, int | np.integer) else tuple(window)
    if len(size) != 2 or not all(
        isinstance(s, int | np.integer) and s >= 1 and s % 2 == 1 for s in size
    ):
        raise InputDataError(
            f"GLCM window {window!r} for {name} is not an odd size (rows, cols)",
            fix="use odd sizes so the window has a centre pixel, e.g. window=7 or (5, 7)",
        )
    return int(size[0]), int(size[1])


def _shifts(
    shifts: Sequence[tuple[int, int]] | None,
    directions: Sequence[float] | None,
    distance: int,
    name: str,
) -> list[tuple[int, int]]:
    if shifts is not None and directions is not None:
        raise InputDataError(
            f"GLCM of {name}: both shifts and directions given",
            fix="give either shifts=[(dy, dx), …] or directions=[…] with distance",
        )
    if shifts is None:
        if isinstance(distance, bool) or not isinstance(distance, int | np.integer) \
                or distance < 1:
            raise InputDataError(f"GLCM distance = {distance!r} for {name} is not a positive "
                                 "integer", fix="pass distance=1 or more (pixels)")
        angles = DEFAULT_DIRECTIONS_DEG if directions is None else tuple(directions)
        shifts = [direction_shift(float(a), int(distance)) for a in angles]
    out = []
    for shift in shifts:
        try:
            dy, dx = shift
            ok = all(isinstance(v, int | np.integer) for v in (dy, dx)) and (dy, dx) != (0, 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputDataError(f"GLCM shift {shift!r} for {name} is not a non-zero pair of "
                                 "integers (dy, dx)", fix="e.g. shifts=[(1, 1)]")
        out.append((int(dy), int(dx)))
    if not out:
        raise InputDataError(f"GLCM of {name}: no shift or direction given",
                             fix="omit shifts/directions for the four directions averaged")
    return out


def _geometry(shifts: list[tuple[int, int]], window: tuple[int, int],
              convention: Convention, shape: tuple[int, ...], name: str) -> npt.NDArray[np.int64]:
    """Per shift: anchor rows a0…a1 and cols b0…b1 around the centre, and (dy, dx)."""
    hr, hc = window[0] // 2, window[1] // 2
    rows = []
    for dy, dx in shifts:
        if abs(dy) >= shape[0] or abs(dx) >= shape[1]:
            raise InputDataError(
                f"GLCM shift ({dy}, {dx}) is larger than {name} ({shape[0]} × {shape[1]} px)",
                fix="use a shift smaller than the image",
            )
        if convention == "envi":
            rows.append((-hr, hr, -hc, hc, dy, dx))
            continue
        if abs(dy) >= window[0] or abs(dx) >= window[1]:
            raise InputDataError(
                f"GLCM shift ({dy}, {dx}) leaves no pair inside the {window[0]} × {window[1]} "
                f"window of {name} (convention 'skimage' counts pairs inside the window only)",
                fix="use a larger window or a smaller shift",
            )
        rows.append((-hr + max(0, -dy), hr - max(0, dy), -hc + max(0, -dx), hc - max(0, dx),
                     dy, dx))
    return np.array(rows, dtype=np.int64)


def _reach(geometry: npt.NDArray[np.int64]) -> tuple[int, int, int, int]:
    """How far (up, down, left, right) the pairs of a pixel reach from it."""
    up = int(max(0, *(-min(g[0], g[0] + g[4]) for g in geometry)))
    down = int(max(0, *(max(g[1], g[1] + g[4]) for g in geometry)))
    left = int(max(0, *(-min(g[2], g[2] + g[5]) for g in geometry)))
    right = int(max(0, *(max(g[3], g[3] + g[5]) for g in geometry)))
    return up, down, left, right


def _dask_block(block: npt.NDArray[np.int16], *, extra: tuple[int, int],
                **kwargs: Any) -> npt.NDArray[np.float32]:
    if any(extra):  # an axis held in one chunk and padded here rather than by overlap
        block = np.pad(block, ((extra[0], extra[0]), (extra[1], extra[1])), constant_values=-1)
    return glcm_block(block, parallel=False, **kwargs)


def _textures(codes: Any, pad: tuple[int, int], **kwargs: Any) -> Any:
    """The kernel over a numpy array (numba threads) or a dask array (block by block)."""
    if not isinstance(codes, da.Array):
        padded = np.pad(codes, ((pad[0], pad[0]), (pad[1], pad[1])), constant_values=-1)
        return glcm_block(padded, pad, parallel=True, **kwargs)
    depth, extra, chunks = [0, 0], [0, 0], list(codes.chunks)
    for axis in (0, 1):
        if pad[axis] >= codes.shape[axis]:  # deeper than the image: one chunk, padded in place
            chunks[axis] = (codes.shape[axis],)
            extra[axis] = pad[axis]
        elif pad[axis] > 0:
            chunks[axis] = da.overlap.ensure_minimum_chunksize(  # type: ignore[no-untyped-call, unused-ignore]
                pad[axis], chunks[axis])
            depth[axis] = pad[axis]
    codes = codes.rechunk(tuple(chunks))  # type: ignore[no-untyped-call, unused-ignore]
    overlapped = da.overlap.overlap(  # type: ignore[no-untyped-call, unused-ignore]
        codes, depth={0: depth[0], 1: depth[1]}, boundary={0: -1, 1: -1})
    n_out = len(kwargs["select"])
    return da.map_blocks(  # type: ignore[no-untyped-call, unused-ignore]
        _dask_block, overlapped, extra=(extra[0], extra[1]), pad=pad, dtype=np.float32,
        chunks=((n_out,), *codes.chunks), new_axis=0,
        meta=np.empty((0, 0, 0), dtype=np.float32), **kwargs,
    )


def glcm_texture(
    band: xr.DataArray,
    *,
    window: int | Sequence[int] = 7,
    levels: int = 32,
    shifts: Sequence[tuple[int, int]] | None = None,
    directions: Sequence[float] | None = None,
    distance: int = 1,
    convention: Convention = "envi",
    symmetric: bool | None = None,
    value_range: Sequence[float] | None = None,
    measures: Sequence[str] = MEASURES,
    edge: Edge = "nan",
    min_valid_fraction: float = 1.0,
) -> xr.Dataset:
    """GLCM texture measures of a band in a moving window centred on every pixel.

    Parameters
    ----------
    band
        2-D raster (rows, cols), numpy- or dask-backed; NaN where missing.
    window
        Window size in pixels, odd: one size or (rows, cols).
    levels
        Number of grey levels the band is quantised to (see :func:`quantise`).
    shifts
        Displacements (dy, dx) in pixels, dy along the rows (down), dx along the columns
        (right). ENVI's "Y shift" is dy and its "X shift" dx. The measures are averaged over
        the shifts.
    directions
        Instead of ``shifts``: angles in degrees (0, 45, 90, 135 …), each turned into a shift
        of ``distance`` pixels as scikit-image does (:func:`direction_shift`). Default (neither
        given): the four directions 0°, 45°, 90°, 135° averaged.
    distance
        Pixel distance used with ``directions``.
    convention
        ``"envi"``: pairs (window pixel, window pixel + shift), the partner may lie outside the
        window. ``"skimage"``: pairs with both pixels inside the window, as
        :func:`skimage.feature.graycomatrix` applied to the window.
    symmetric
        Count every pair also as (j, i). Default: False for ``"envi"`` (as ENVI), True for
        ``"skimage"``.
    value_range
        (lo, hi) of the quantisation, values outside are clipped. Default: the band's min–max
        (ENVI); give a fixed range to compare textures between years.
    measures
        Subset of :data:`MEASURES` to return.
    edge
        Pixels whose pairs reach beyond the image: ``"nan"`` treats the missing pairs like NaN
        pixels (so NaN unless ``min_valid_fraction`` allows partial windows); ``"zero"`` writes
        0, as ENVI does.
    min_valid_fraction
        Share (0 < f ≤ 1) of a window's pairs that must be valid (no NaN pixel, inside the
        image) for a value; otherwise NaN. Default 1: every pair.

    Returns
    -------
    Dataset of float32 variables ``glcm_<measure>`` on the band's coordinates (CRS included),
    dask-backed (lazy) when the band is; the parameters are in the attrs.

    """
    name = f"band {band.name!r}" if band.name is not None else "the band"
    if band.ndim != 2:
        raise InputDataError(f"GLCM texture needs a 2-D raster, {name} has dims {band.dims}",
                             fix="select one band/time first, e.g. band.isel(time=0)")
    size = _window(window, name)
    _check_levels(levels)
    if convention not in ("envi", "skimage"):
        raise InputDataError(f"GLCM convention {convention!r} is unknown",
                             fix="use convention='envi' or 'skimage'")
    if edge not in ("nan", "zero"):
        raise InputDataError(f"GLCM edge {edge!r} is unknown", fix="use edge='nan' or 'zero'")
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise InputDataError(f"unknown GLCM measure(s) {unknown or list(measures)}",
                             fix=f"choose from {', '.join(MEASURES)}")
    if not 0.0 < float(min_valid_fraction) <= 1.0:
        raise InputDataError(f"GLCM min_valid_fraction = {min_valid_fraction!r} is not in (0, 1]",
                             fix="e.g. 1.0 (every pair valid) or 0.5")
    shift_list = _shifts(shifts, directions, distance, name)
    geometry = _geometry(shift_list, size, convention, band.shape, name)
    sym = (convention == "skimage") if symmetric is None else bool(symmetric)
    anchors = (geometry[:, 1] - geometry[:, 0] + 1) * (geometry[:, 3] - geometry[:, 2] + 1)
    need = np.maximum(1, np.ceil(anchors * float(min_valid_fraction) - 1e-9)).astype(np.int64)
    up, down, left, right = _reach(geometry)
    select = np.array([MEASURES.index(m) for m in measures], dtype=np.int64)

    codes = quantise(band.data, levels, value_range)
    data = _textures(codes, (max(up, down), max(left, right)), geometry=geometry, need=need,
                     levels=int(levels), symmetric=sym, select=select)
    attrs: dict[str, Any] = {
        "glcm_window_rows_cols": [size[0], size[1]],
        "glcm_levels": int(levels),
        "glcm_shifts_dy_dx": [v for s in shift_list for v in s],
        "glcm_directions_deg": ([] if shifts is not None else
                                [float(a) for a in (directions or DEFAULT_DIRECTIONS_DEG)]),
        "glcm_distance": int(distance),
        "glcm_convention": convention,
        "glcm_symmetric": int(sym),
        "glcm_value_range": (list(_check_value_range(value_range)) if value_range is not None
                             else "min-max of the band"),
        "glcm_quantisation": "level = floor(levels * (v - lo) / (hi - lo)), clipped to "
                             "0 … levels - 1; grey levels counted from 0",
        "glcm_edge": edge,
        "glcm_min_valid_fraction": float(min_valid_fraction),
    }
    grid_mapping = band.attrs.get("grid_mapping", band.encoding.get("grid_mapping"))
    variables = {}
    for k, measure in enumerate(measures):
        var_attrs = {"long_name": _LONG_NAMES[measure], "units": _UNITS.get(measure, "1"),
                     **attrs}
        if grid_mapping is not None:
            var_attrs["grid_mapping"] = grid_mapping
        variables[f"glcm_{measure}"] = xr.DataArray(data[k], dims=band.dims, coords=band.coords,
                                                    attrs=var_attrs)
    out = xr.Dataset(variables, attrs=attrs)
    if edge == "zero":  # ENVI: 0 where the window or the shifted window leaves the image
        ydim, xdim = band.dims
        iy, ix = np.arange(band.shape[0]), np.arange(band.shape[1])
        inside_y = xr.DataArray((iy >= up) & (iy < band.shape[0] - down), dims=(ydim,))
        inside_x = xr.DataArray((ix >= left) & (ix < band.shape[1] - right), dims=(xdim,))
        zero = np.float32(0.0)
        out = out.where(inside_y, zero).where(inside_x, zero).astype(np.float32)
    return out
