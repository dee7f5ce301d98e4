"""Per-pixel AGC trajectories: penalised piecewise-linear segmentation of annual predictions.

Annual AGC predicted year by year is noisy, has holes (cloudy years) and flattens trends. The
idea of LandTrendr (Kennedy et al. 2010) is that a forest pixel's history is a few straight
segments — slow growth, an abrupt loss, regrowth — and that fitting them to the annual series
keeps the real trend and the abrupt breaks while removing the year-to-year noise.

:func:`fit_trajectories` fits, within each forest span of each pixel (a maximal run of forest
years; never across a non-forest gap), a *discontinuous* piecewise-linear trajectory (each
segment its own intercept and slope, so a drop in a disturbance year stays a drop). The
segmentation is the exact minimiser of ``SSE + β · (segments − 1)`` over all break positions
(optimal partitioning by dynamic programming, Jackson et al. 2005; the penalised cost of PELT,
Killick et al. 2012) with at most ``max_segments`` segments of at least ``min_obs`` valid
observations each; ``β = penalty_factor · 3 σ̂² ln n`` (a BIC-like price of three parameters per
extra segment: intercept, slope and break), σ̂ a robust noise SD from the first differences of
the observations. A documented disturbance (mining damage, fire) lowers the price of a segment
starting in its year to ``β/3`` (only the intercept and slope are new; the break year is
known). Years without observation inside a span take the value of their segment's line.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.mapping._segment_kernel import segment_block

__all__ = ["fit_trajectories", "segment_series"]


def _check_options(max_segments: int, min_obs: int, penalty_factor: float) -> None:
    for name, value, least in (("max_segments", max_segments, 1), ("min_obs", min_obs, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InputDataError(f"{name} = {value!r} is not an integer >= {least}",
                                 fix=f"pass {name} >= {least}")
    if max_segments > 255:
        raise InputDataError(f"max_segments = {max_segments} is more than the 255 that the "
                             "uint8 n_segments can count", fix="pass max_segments <= 255")
    if isinstance(penalty_factor, bool) or not isinstance(penalty_factor, (int, float)) \
            or not math.isfinite(penalty_factor) or penalty_factor < 0:
        raise InputDataError(f"penalty_factor = {penalty_factor!r} is not a finite number >= 0",
                             fix="pass e.g. penalty_factor=1.0 (larger: fewer breaks)")


def _time_coordinate(values: xr.DataArray, dim: str) -> npt.NDArray[np.float64]:
    if dim not in values.coords:
        return np.arange(values.sizes[dim], dtype=np.float64)
    coord = values[dim].values
    if coord.dtype.kind not in "iuf":
        raise InputDataError(
            f"the coordinate {dim!r} of values has dtype {coord.dtype}, not numeric years",
            fix=f"give {dim!r} integer years, e.g. values.assign_coords({dim}=values['{dim}']"
                ".dt.year) for dates")
    t = coord.astype(np.float64)
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputDataError(
            f"the coordinate {dim!r} of values is not strictly increasing: {coord.tolist()}",
            fix=f"sort the inputs by {dim!r} (values.sortby({dim!r})) with one layer per year")
    return t


def _validate(values: Any, forest: Any, free_break: Any, dim: str) -> None:
    named = {"values": values, "forest": forest}
    if free_break is not None:
        named["free_break"] = free_break
    for name, array in named.items():
        if not isinstance(array, xr.DataArray):
            raise InputDataError(f"{name} must be an xarray.DataArray, got "
                                 f"{type(array).__name__}",
                                 fix=f"pass {name} as a DataArray with dims ({dim}, y, x)")
    if dim not in values.dims:
        raise InputDataError(
            f"values has no dimension {dim!r} (its dimensions are {list(values.dims)})",
            fix=f"pass dim= one of {list(values.dims)} or rename the time dimension to {dim!r}")
    if values.dtype.kind != "f":
        raise InputDataError(f"values has dtype {values.dtype}, not floating point",
                             fix="pass AGC as float32 (t C/ha) with NaN for no observation")
    for name, array in named.items():
        if name == "values":
            continue
        if array.dims != values.dims or array.shape != values.shape:
            raise InputDataError(
                f"{name} has dims {array.dims} and shape {array.shape}; values has "
                f"{values.dims} and {values.shape}",
                fix=f"give {name} the same dims, order and shape as values "
                    f"({name}.transpose(*values.dims) on the same grid and years)")
        if array.dtype.kind != "b":
            raise InputDataError(f"{name} has dtype {array.dtype}, not bool",
                                 fix=f"pass a boolean mask, e.g. {name} == code or "
                                     f"{name}.astype(bool)")


def _ufunc(values: npt.NDArray[Any], forest: npt.NDArray[Any], free: npt.NDArray[Any], *,
           t: npt.NDArray[np.float64], max_segments: int, min_obs: int, penalty_factor: float,
           parallel: bool) -> tuple[npt.NDArray[Any], ...]:
    """Kernel over arrays with the time axis last."""
    shape = values.shape
    n_t = shape[-1]
    fitted, n_seg, n_valid, filled, _ = segment_block(
        values.reshape(-1, n_t), forest.reshape(-1, n_t), free.reshape(-1, n_t), t,
        max_segments=max_segments, min_obs=min_obs, penalty_factor=penalty_factor,
        parallel=parallel)
    return (fitted.reshape(shape), n_seg.reshape(shape[:-1]), n_valid.reshape(shape[:-1]),
            filled.reshape(shape))


def fit_trajectories(values: xr.DataArray, forest: xr.DataArray,
                     free_break: xr.DataArray | None = None, *, dim: str = "year",
                     max_segments: int = 3, min_obs: int = 3,
                     penalty_factor: float = 1.0) -> xr.Dataset:
    """Fit a piecewise-linear AGC trajectory to every pixel, forest span by forest span.

    Parameters
    ----------
    values
        Annual predicted AGC (t C/ha), dims e.g. ``(year, y, x)``, float; NaN where a year has
        no observation (cloud, no data). numpy- or dask-backed. With a coordinate on ``dim``
        (numeric, strictly increasing) it is the time of the lines; without one, 0 … n−1.
    forest
        Boolean, same dims and shape: the pixel is forest that year (the land-cover series).
    free_break
        Boolean, same dims and shape, or None: a documented disturbance (mining damage, fire)
        in that year at that pixel; a segment may start there at a third of the price.
    dim
        The time dimension.
    max_segments
        Most segments per forest span (≥ 1).
    min_obs
        Fewest valid observations per segment (≥ 2); a span with fewer gets their mean.
    penalty_factor
        Multiplies the price β of a break (≥ 0; larger, fewer breaks; 0, always the most
        segments the observations allow).

    Returns
    -------
    xarray.Dataset
        ``fitted`` (dims of ``values``, float32, t C/ha): the trajectory, NaN outside forest;
        ``n_segments`` (uint8): segments summed over the pixel's spans (a span fitted by its
        mean counts one, a span without observation none); ``n_valid`` (int16): valid
        observations inside forest; ``filled`` (bool, dims of ``values``): a forest year
        whose value had no observation of its own. Lazy when an input is dask-backed
        (``dim`` rechunked to one chunk).

    Raises
    ------
    InputDataError
        If an input is not a DataArray, ``dim`` is missing, ``forest`` or ``free_break``
        differ from ``values`` in dims or shape or are not boolean, ``values`` is not float,
        the coordinate of ``dim`` is not numeric and strictly increasing, or an option is out
        of range.

    Notes
    -----
    Per span of n years with m valid observations (m ≥ ``min_obs``): minimise over the
    segmentations into k ≤ ``max_segments`` segments of consecutive years, each holding at
    least ``min_obs`` valid observations, Σ SSE_j + Σ_{j>1} β_j, SSE_j the residual sum of
    squares of segment j's own least-squares line, β_j = β/3 if segment j starts at a
    ``free_break`` year else β, β = ``penalty_factor`` · 3 σ̂² ln m, σ̂ = 1.4826 · median|Δv|/√2
    over the first differences of the span's consecutive valid observations (a tiny floor when
    0). It is solved exactly by dynamic programming over break positions, O(k n²) per span
    (Jackson et al. 2005, "An algorithm for optimal partitioning of data on an interval",
    IEEE Signal Processing Letters 12(2): 105–108; the penalised cost as in Killick et al.
    2012, "Optimal detection of changepoints with a linear computational cost", JASA 107:
    1590–1598). The trajectory model follows LandTrendr (Kennedy et al. 2010, "Detecting
    trends in forest disturbance and recovery using yearly Landsat time series: 1.
    LandTrendr — Temporal segmentation algorithms", Remote Sensing of Environment 114:
    2897–2910) but with discontinuous segments, so an abrupt loss is not spread over the
    segments around it. Years without observation between two segments belong to the earlier
    one unless a ``free_break`` year lies among them. A span with 0 < m < ``min_obs`` gets the
    mean of its observations; a span with m = 0 takes, year by year, the fitted value of the
    nearest year (earlier on a tie) of a span with observations, else NaN.

    """
    _check_options(max_segments, min_obs, penalty_factor)
    _validate(values, forest, free_break, dim)
    t = _time_coordinate(values, dim)
    free = free_break if free_break is not None else xr.zeros_like(forest)
    inputs = [values, forest, free]
    lazy = [a for a in inputs if a.chunks is not None]
    is_dask = bool(lazy)
    if is_dask:
        chunks: dict[Any, Any] = {d: c for d, c in lazy[0].chunksizes.items() if d != dim}
        chunks[dim] = -1
        inputs = [a.chunk(chunks) for a in inputs]
    fitted, n_seg, n_valid, filled = xr.apply_ufunc(
        _ufunc, *inputs, input_core_dims=[[dim]] * 3,
        output_core_dims=[[dim], [], [], [dim]],
        dask="parallelized", output_dtypes=[np.float32, np.uint8, np.int16, np.bool_],
        kwargs={"t": t, "max_segments": int(max_segments), "min_obs": int(min_obs),
                "penalty_factor": float(penalty_factor), "parallel": not is_dask},
        keep_attrs=False,
    )
    order = values.dims
    fitted = fitted.transpose(*order)
    filled = filled.transpose(*order)
    units = values.attrs.get("units", "t C/ha")
    variables = {
        "fitted": fitted.rename("fitted").assign_attrs(
            units=units, long_name="piecewise-linear AGC trajectory (NaN outside forest)"),
        "n_segments": n_seg.rename("n_segments").assign_attrs(
            long_name="linear segments, summed over the forest spans"),
        "n_valid": n_valid.rename("n_valid").assign_attrs(
            long_name="valid observations inside forest"),
        "filled": filled.rename("filled").assign_attrs(
            long_name="forest year without an observation of its own"),
    }
    # apply_ufunc drops the attrs of coordinates (the CRS WKT of ``spatial_ref``): put back
    # the inputs' own coordinates
    kept = {name: values.coords[name] for name in values.coords}
    variables = {name: var.assign_coords({k: c for k, c in kept.items()
                                          if set(c.dims) <= set(var.dims)})
                 for name, var in variables.items()}
    return xr.Dataset(variables, attrs={
        "method": "penalised piecewise-linear segmentation per forest span (optimal "
                  "partitioning; LandTrendr-like discontinuous segments)",
        "time_dim": dim, "max_segments": int(max_segments), "min_obs": int(min_obs),
        "penalty_factor": float(penalty_factor),
    })


def segment_series(v: npt.NDArray[np.floating], forest: npt.NDArray[np.bool_],
                   free: npt.NDArray[np.bool_] | None = None, *,
                   t: npt.NDArray[np.floating] | None = None, max_segments: int = 3,
                   min_obs: int = 3, penalty_factor: float = 1.0,
                   n_segments: int | None = None) -> tuple[npt.NDArray[np.float32], list[int]]:
    """Fit one pixel's series as :func:`fit_trajectories` does.

    Parameters
    ----------
    v
        The annual values (1-D, NaN = no observation).
    forest
        Boolean forest mask of the same length.
    free
        Boolean documented-disturbance mask of the same length, or None.
    t
        Time of each value (strictly increasing); default 0 … n−1.
    max_segments, min_obs, penalty_factor
        As :func:`fit_trajectories`.
    n_segments
        If given, fit exactly that many segments in each span with observations (no penalty,
        ``max_segments`` ignored), fewer where the observations do not allow that many: the
        least-squares optimum for a fixed number of breaks.

    Returns
    -------
    fitted : ndarray of float32
        The trajectory (NaN outside forest).
    starts : list of int
        Indices of the years where a segment starts (the first year of every fitted span
        included).

    Raises
    ------
    InputDataError
        If the arrays are not 1-D of one length, or an option is out of range.

    """
    _check_options(max_segments, min_obs, penalty_factor)
    values = np.asarray(v, dtype=np.float64)
    mask = np.asarray(forest)
    disturbed = np.zeros(values.shape, dtype=bool) if free is None else np.asarray(free)
    time = np.arange(values.size, dtype=np.float64) if t is None else np.asarray(t, np.float64)
    if values.ndim != 1 or any(a.shape != values.shape for a in (mask, disturbed, time)):
        raise InputDataError(
            f"segment_series needs 1-D v, forest, free and t of one length; got shapes "
            f"{values.shape}, {mask.shape}, {disturbed.shape}, {time.shape}",
            fix="pass one pixel's series (e.g. stack[:, row, col].values)")
    if n_segments is not None and (isinstance(n_segments, bool) or n_segments < 1):
        raise InputDataError(f"n_segments = {n_segments!r} is not an integer >= 1",
                             fix="pass n_segments >= 1 or None (penalised choice)")
    fitted, _, _, _, starts = segment_block(
        values[None, :], mask.astype(bool)[None, :], disturbed.astype(bool)[None, :], time,
        max_segments=max_segments, min_obs=min_obs, penalty_factor=penalty_factor,
        parallel=False, forced=0 if n_segments is None else int(n_segments), with_starts=True)
    return fitted[0], [int(i) for i in np.flatnonzero(starts[0])]
