"""The change of stable forest as its stand's: a window mean of the change, within a zone.

A pixel's mapped AGC in a year is its level in the plots' (reference) year plus its change
since then. The level comes straight from the model at the plots' year; the change comes from
the pixel's own spectral series, rescaled by ``1/b`` (decision 34), and is noisier than the
stand's real growth: the composites' noise and the trajectory's drift differ from one pixel to
the next, while stands grow together. For pixels that are mapped forest in every year, the
change relative to the reference year is replaced by its mean over the pixel's window of such
pixels of the same zone (the reference year's forest type and the last year's level-1
assessment unit), as object-based change estimation takes a stand's change rather than a
pixel's (Desclée, Bogaert & Defourny 2006, *Remote Sensing of Environment* 102: 1–11). The
level of every pixel in the reference year is kept as it is; pixels with a gap, a clearing,
a reclamation or another change of class in the series are left out of every mean and keep
their own series, so that disturbances stay abrupt and local (decision 56).

:func:`zone_window_mean` is the kernel (numba; ``scipy.ndimage.uniform_filter`` per zone is
its oracle in the tests); :func:`smooth_block` applies it to one (year, y, x) block, and
:func:`smooth_change` to an xarray cube lazily with ``map_overlap``.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import xarray as xr
from numba import njit

__all__ = ["smooth_block", "smooth_change", "stable_forest", "zone_window_mean"]

Array = npt.NDArray[Any]


def zone_window_mean(values: Array, zone: Array, valid: Array, size: int) -> Array:
    """Mean of ``values`` over each pixel's ``size`` × ``size`` window, within its zone.

    Parameters
    ----------
    values
        (..., y, x) floats; only pixels where ``valid`` enter a mean.
    zone
        (y, x) integer zone of every pixel.
    valid
        (y, x) bool: the pixels that take and give a mean.
    size
        Odd window width in pixels (1 returns ``values`` where valid).

    Returns
    -------
    ndarray
        Floating like ``values`` (float32 stays float32, others float64): at a valid pixel
        the mean of ``values`` over the valid pixels of its zone in its window (the window
        clipped at the array's edge; the pixel itself always counts, so the mean is defined),
        NaN elsewhere. Sums are accumulated in float64.

    Notes
    -----
    A numba loop over the window's offsets, whatever the number of zones (one
    ``scipy.ndimage.uniform_filter`` per zone, the tests' oracle, costs a full pass per zone).

    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"the window must be an odd number of pixels, not {size}")
    values = np.asarray(values)
    values = values.astype(np.result_type(values.dtype, np.float32), copy=False)
    zone, valid = np.asarray(zone), np.asarray(valid, bool)
    if values.shape[-2:] != zone.shape or zone.shape != valid.shape:
        raise ValueError(f"values {values.shape}, zone {zone.shape} and valid "
                         f"{valid.shape} must share their last two dimensions")
    flat = np.ascontiguousarray(values.reshape(-1, *zone.shape))
    out = _zone_window_mean(flat, np.ascontiguousarray(zone, np.int64),
                            np.ascontiguousarray(valid), size // 2)
    return out.reshape(values.shape)


@njit(cache=True, nogil=True)
def _zone_window_mean(values: Array, zone: Array, valid: Array, half: int) -> Array:
    n_t, ny, nx = values.shape
    out = np.full(values.shape, np.nan, values.dtype)
    count = np.zeros((ny, nx), np.int64)
    for i in range(ny):
        for j in range(nx):
            if valid[i, j]:
                z = zone[i, j]
                for a in range(max(i - half, 0), min(i + half + 1, ny)):
                    for b in range(max(j - half, 0), min(j + half + 1, nx)):
                        if valid[a, b] and zone[a, b] == z:
                            count[i, j] += 1
    for t in range(n_t):
        for i in range(ny):
            for j in range(nx):
                if count[i, j] == 0:
                    continue
                z = zone[i, j]
                total = 0.0
                for a in range(max(i - half, 0), min(i + half + 1, ny)):
                    for b in range(max(j - half, 0), min(j + half + 1, nx)):
                        if valid[a, b] and zone[a, b] == z:
                            total += values[t, a, b]
                out[t, i, j] = total / count[i, j]
    return out


def stable_forest(agc: xr.DataArray) -> xr.DataArray:
    """(y, x) bool: mapped (finite AGC) in every year of ``agc`` (year, y, x)."""
    return agc.notnull().all("year")


def smooth_change(agc: xr.DataArray, reference_year: int, zone: xr.DataArray,
                  size: int, exclude: xr.DataArray | None = None) -> xr.DataArray:
    """``agc`` with stable forest's change since ``reference_year`` averaged in its zone.

    Parameters
    ----------
    agc
        (year, y, x) t C/ha, NaN where unmapped; dask-backed or in memory, one chunk in
        ``year``.
    reference_year
        The plots' year, whose levels stay as they are.
    zone
        (y, x) integer zones on the same grid (forest type × level-1 unit).
    size
        Odd window width in pixels; 1 returns ``agc`` unchanged.
    exclude
        Optional (y, x) bool: pixels that keep their own series and give no change to others
        (the mapping step's pixels whose change was borrowed, decision 45).

    Returns
    -------
    xarray.DataArray
        Like ``agc``: at pixels mapped in every year and not excluded, ``agc(reference_year)``
        plus the window mean (:func:`zone_window_mean`) of ``agc − agc(reference_year)``,
        at least 0; elsewhere ``agc``.

    """
    if size == 1:
        return agc
    if reference_year not in agc["year"].values:
        raise ValueError(f"the reference year {reference_year} is not one of the maps' years")
    index = int(np.flatnonzero(agc["year"].values == reference_year)[0])
    data, zones = _dask(agc.data), _dask(zone.data)
    if data.chunks[0] != (data.shape[0],):
        data = data.rechunk({0: -1})
    zones = zones.rechunk(data.chunks[1:])
    excluded = (_dask(exclude.data) if exclude is not None
                else da.zeros(zones.shape, bool, chunks=zones.chunks))
    excluded = excluded.rechunk(zones.chunks)
    # each block with a halo from its neighbours; dask may hold neighbouring blocks for their
    # halos, so the peak grows with the area: the mapping stage has every block read its own
    # window and halo from the staged files instead (pipeline.change_smoothing_steps)
    smoothed = da.map_overlap(  # type: ignore[no-untyped-call, unused-ignore]
        lambda v, z, e: smooth_block(v, z[0], index, size, e[0]),
        data, zones[None], excluded[None], depth={0: 0, 1: size // 2, 2: size // 2},
        boundary="none", dtype=data.dtype, meta=np.array((), data.dtype))
    return xr.DataArray(smoothed, coords=agc.coords, dims=agc.dims, name=agc.name,
                        attrs=agc.attrs)


def smooth_block(values: Array, zone: Array, index: int, size: int,
                 exclude: Array | None = None) -> Array:
    """:func:`smooth_change` on one in-memory (year, y, x) block; ``index``: the reference."""
    valid = np.asarray(np.isfinite(values).all(axis=0))
    if exclude is not None:
        valid &= ~np.asarray(exclude, bool)
    level = values[index]
    change = np.where(valid, values - level, 0.0).astype(values.dtype, copy=False)
    mean = zone_window_mean(change, zone, valid, size)
    # a pixel whose own level is far below its neighbours' can take more loss going back in
    # time than it holds: carbon is not negative (as after the residual offsets)
    return np.where(valid, np.maximum(level + mean, 0.0), values).astype(values.dtype,
                                                                          copy=False)


def _dask(array: Any) -> Any:
    if isinstance(array, da.Array):
        return array
    return da.from_array(np.asarray(array))  # type: ignore[no-untyped-call, unused-ignore]
