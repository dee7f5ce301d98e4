"""Clouds and cloud shadows of the simulated scenes.

The cloud mask is thresholded fbm noise (:func:`cloud_and_shadow`, a cover of about
``cloud_fraction``); its shadow is the same field at coordinates shifted away from the sun
(:func:`shadow_offset_m`) and its dilation the field at neighbouring pixels
(:func:`dilated_cloud`), so every mask stays chunk-independent. :func:`apply_clouds` puts a bright
cloud spectrum on cloud pixels and darkens shadow pixels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.demo._imagery_grid import (
    _S_CLOUD,
    _S_CLOUD_SPEC,
    _S_SHADOW,
    Bool,
    Float,
    _grid_axes,
    _noise_coords,
    _scene_stream,
)
from minecarbon.demo._spectra import _EM, _table
from minecarbon.demo.noise import fbm, hash_uniform, value_noise

CLOUD_SCALE_M = 500.0  # largest cell scale of the cloud fbm (fair-weather cumulus, 0.1–1 km)


@lru_cache(maxsize=1)
def _cloud_quantiles() -> Float:
    """Sorted sample of the cloud fbm at 40 000 far-apart points (its distribution function)."""
    i = np.arange(40_000)
    px = hash_uniform(i, np.zeros_like(i), 7, 1) * 1e7
    py = hash_uniform(i, np.zeros_like(i), 7, 2) * 1e7
    return np.sort(fbm(px, py, CLOUD_SCALE_M, 7, octaves=4, stream=3))


def _cloud_threshold(cloud_fraction: float) -> float:
    if not 0.0 <= cloud_fraction <= 1.0:
        raise ValueError(f"cloud_fraction must be in 0–1, got {cloud_fraction}")
    if cloud_fraction == 0.0:
        return np.inf
    if cloud_fraction == 1.0:
        return -np.inf
    return float(np.quantile(_cloud_quantiles(), 1.0 - cloud_fraction))


def _cloud_mask(x: Float, y: Float, seed: int, year: int, month: int, threshold: float) -> Bool:
    field = fbm(x, y, CLOUD_SCALE_M, seed, octaves=4, stream=_scene_stream(_S_CLOUD, year, month))
    mask: Bool = field > threshold
    return mask


def _shifted_cloud_masks(xs: Float, ys: Float, shifts: list[tuple[float, float]], seed: int,
                         year: int, month: int, threshold: float) -> list[Bool]:
    """``[_cloud_mask(xs + dx, ys + dy, ...) for dx, dy in shifts]``, evaluated in one go.

    On a pixel grid the shifted grids overlap: the field is computed once on the union of the
    shifted column and row coordinates (each coordinate computed exactly as ``xs + dx``, so every
    value equals the direct evaluation and stays chunk-independent) and every mask is a window of
    it — a slice when the shift is a whole number of pixels.
    """
    axes = _grid_axes(xs, ys)
    if axes is None or not (np.isfinite(axes[0]).all() and np.isfinite(axes[1]).all()):
        return [_cloud_mask(xs + dx, ys + dy, seed, year, month, threshold) for dx, dy in shifts]
    if threshold in (np.inf, -np.inf):  # no cloud at all / all cloud: fbm is finite here
        return [np.full(xs.shape, threshold < 0) for _ in shifts]
    xr, yc = axes
    cols = [xr + dx for dx, _ in shifts]
    rows = [yc + dy for _, dy in shifts]
    ux, uy = np.unique(np.concatenate(cols)), np.unique(np.concatenate(rows))
    union = _cloud_mask(ux[None, :], uy[:, None], seed, year, month, threshold)
    out = []
    for col, row in zip(cols, rows, strict=True):
        window = union[_positions(uy, row)][:, _positions(ux, col)]
        out.append(np.ascontiguousarray(window))
    return out


def _positions(sorted_values: Float, values: Float) -> slice | NDArray[np.intp]:
    """Where ``values`` (all present) sit in ``sorted_values``: a slice when they are a run."""
    pos = np.searchsorted(sorted_values, values)
    if pos.size > 1:
        step = int(pos[1] - pos[0])
        if step in (1, -1) and np.array_equal(np.diff(pos), np.full(pos.size - 1, step)):
            stop = int(pos[-1]) + step
            return slice(int(pos[0]), None if stop < 0 else stop, step)
    return pos


def shadow_offset_m(sun_azimuth_deg: float = 135.0, sun_elevation_deg: float = 60.0,
                    cloud_height_m: float = 1500.0, pixel_size_m: float = 30.0
                    ) -> tuple[float, float]:
    """Ground offset (east, north) in metres from a cloud to its shadow, whole pixels.

    The shadow lies ``height / tan(elevation)`` away from the cloud, opposite to the sun.
    """
    d = cloud_height_m / np.tan(np.radians(sun_elevation_deg))
    az = np.radians(sun_azimuth_deg)
    east = -round(d * np.sin(az) / pixel_size_m) * pixel_size_m
    north = -round(d * np.cos(az) / pixel_size_m) * pixel_size_m
    return float(east), float(north)


def cloud_and_shadow(x: ArrayLike, y: ArrayLike, seed: int, year: int, month: int,
                     cloud_fraction: float, pixel_size_m: float = 30.0,
                     sun_azimuth_deg: float = 135.0, cloud_height_m: float = 1500.0,
                     sun_elevation_deg: float = 60.0) -> tuple[Bool, Bool]:
    """Cumulus-like cloud mask (thresholded fbm, ≈ ``cloud_fraction`` of an area) and its shadow.

    The shadow is the cloud field evaluated at coordinates shifted towards the sun (so it stays
    chunk-independent), excluding cloud pixels.
    """
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    thr = _cloud_threshold(cloud_fraction)
    east, north = shadow_offset_m(sun_azimuth_deg, sun_elevation_deg, cloud_height_m,
                                  pixel_size_m)
    # x − east is x + (−east) exactly (IEEE subtraction adds the negation).
    cloud, shifted = _shifted_cloud_masks(xs, ys, [(0.0, 0.0), (-east, -north)], seed, year,
                                          month, thr)
    shadow = shifted & ~cloud
    return cloud, shadow


def dilated_cloud(x: ArrayLike, y: ArrayLike, seed: int, year: int, month: int,
                  cloud_fraction: float, pixel_size_m: float = 30.0, radius_px: int = 1) -> Bool:
    """The cloud mask dilated by ``radius_px`` pixels: the noise at neighbouring coordinates."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    thr = _cloud_threshold(cloud_fraction)
    shifts = [(di * pixel_size_m, dj * pixel_size_m)
              for di in range(-radius_px, radius_px + 1)
              for dj in range(-radius_px, radius_px + 1)
              if di * di + dj * dj <= radius_px * radius_px + radius_px]
    out = np.zeros(xs.shape, dtype=bool)
    for mask in _shifted_cloud_masks(xs, ys, shifts, seed, year, month, thr):
        out |= mask
    return out


def apply_clouds(reflectance: ArrayLike, cloud: ArrayLike, shadow: ArrayLike, x: ArrayLike,
                 y: ArrayLike, seed: int, year: int, month: int, *,
                 sensor: str = "oli") -> NDArray[np.float32]:
    """Replace cloud pixels by a bright cloud spectrum and darken shadow pixels (× 0.35–0.5)."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    cl, sh = np.asarray(cloud, dtype=bool), np.asarray(shadow, dtype=bool)
    em_cloud = _table(sensor)[_EM["cloud"]]
    rho_in = np.asarray(reflectance)
    if not (rho_in.ndim == 3 and rho_in.shape[0] == em_cloud.size
            and rho_in.shape[1:] == cl.shape == sh.shape == xs.shape == ys.shape):
        return _apply_clouds_broadcast(rho_in, cl, sh, xs, ys, seed, year, month, em_cloud)
    # Clear pixels keep their reflectance (rounding to float32 and clipping to [0, 1] commute);
    # only cloud and shadow pixels are recomputed, with the arithmetic of the general formula.
    if rho_in.dtype == np.float32:
        out: NDArray[np.float32] = np.clip(rho_in, 0.0, 1.0)
    else:
        out = np.clip(rho_in.astype(np.float64), 0.0, 1.0).astype(np.float32)
    nx_, ny_ = _noise_coords(xs, ys)
    shade = sh & ~cl
    if shade.any():
        noise = value_noise(nx_, ny_, 300.0, seed, _scene_stream(_S_SHADOW, year, month))
        dark = 0.425 + 0.075 * np.broadcast_to(noise, cl.shape)[shade]
        darkened = rho_in[:, shade].astype(np.float64) * dark
        out[:, shade] = np.clip(darkened, 0.0, 1.0)
    if cl.any():
        noise = value_noise(nx_, ny_, 200.0, seed, _scene_stream(_S_CLOUD_SPEC, year, month))
        bright = 0.9 + 0.1 * np.broadcast_to(noise, cl.shape)[cl]
        out[:, cl] = np.clip(em_cloud[:, None] * bright, 0.0, 1.0)
    return out


def _apply_clouds_broadcast(rho_in: np.ndarray, cl: Bool, sh: Bool, xs: Float, ys: Float,
                            seed: int, year: int, month: int, em_cloud: Float
                            ) -> NDArray[np.float32]:
    """:func:`apply_clouds` for arrays of other shapes, by plain broadcasting."""
    rho = np.asarray(rho_in, dtype=np.float64)
    stream = _scene_stream(_S_CLOUD_SPEC, year, month)
    bright = 0.9 + 0.1 * value_noise(xs, ys, 200.0, seed, stream)
    cloud_rho = em_cloud[:, None, None] * bright
    dark = 0.425 + 0.075 * value_noise(xs, ys, 300.0, seed, _scene_stream(_S_SHADOW, year, month))
    out = np.where(cl, cloud_rho, np.where(sh & ~cl, rho * dark, rho))
    return np.clip(out, 0.0, 1.0).astype(np.float32)
