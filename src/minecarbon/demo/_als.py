"""Airborne LiDAR tiles: discrete-return pulses over a canopy-height raster.

:func:`simulate_als` draws nadir pulses at random positions over the raster; whether a pulse hits
the canopy follows the canopy cover (:func:`canopy_cover` of the canopy height unless given), and
its returns lie in the crown, below it and on the ground (:func:`_bilinear` interpolates the
DEM). Re-exported by :mod:`minecarbon.demo.pointclouds`.
"""

from __future__ import annotations

import numpy as np

from minecarbon.demo._pointcloud_params import (
    CLASS_GROUND,
    CLASS_HIGH_VEGETATION,
    CLASS_LOW_VEGETATION,
    CLASS_MEDIUM_VEGETATION,
    FloatArray,
    UInt8Array,
)
from minecarbon.errors import InputDataError


def canopy_cover(canopy_height_m: FloatArray) -> FloatArray:
    """Canopy cover (share of the ground under crowns above 2 m) implied by a canopy height.

    ``closure(h) · f``: ``closure`` rises from 0.4 just above 2 m to 0.9 in tall stands
    (``0.9 − 0.5·exp(−(h − 2)/6)``), and ``f`` is the share of the pixel's 3×3 neighbourhood
    with canopy above 2 m (so that stand edges are open). Zero where the canopy is ≤ 2 m or NaN.
    """
    h = np.nan_to_num(np.asarray(canopy_height_m, dtype=np.float64), nan=0.0)
    tall = (h > 2.0).astype(np.float64)
    padded = np.pad(tall, 1, mode="edge")
    ny, nx = h.shape
    share = sum(
        padded[dy : dy + ny, dx : dx + nx] for dy in range(3) for dx in range(3)
    ) / 9.0
    closure = 0.9 - 0.5 * np.exp(-(np.maximum(h, 2.0) - 2.0) / 6.0)
    return np.asarray(np.where(h > 2.0, closure * share, 0.0), dtype=np.float64)


def _bilinear(grid: FloatArray, col: FloatArray, row: FloatArray) -> FloatArray:
    """Bilinear interpolation at fractional pixel-centre coordinates, clamped at the edges."""
    ny, nx = grid.shape
    c = np.clip(col, 0, nx - 1)
    r = np.clip(row, 0, ny - 1)
    c0 = np.minimum(np.floor(c).astype(np.int64), max(nx - 2, 0))
    r0 = np.minimum(np.floor(r).astype(np.int64), max(ny - 2, 0))
    c1 = np.minimum(c0 + 1, nx - 1)
    r1 = np.minimum(r0 + 1, ny - 1)
    fc, fr = c - c0, r - r0
    top = grid[r0, c0] * (1 - fc) + grid[r0, c1] * fc
    bottom = grid[r1, c0] * (1 - fc) + grid[r1, c1] * fc
    return np.asarray(top * (1 - fr) + bottom * fr, dtype=np.float64)


def simulate_als(
    canopy_height_m: FloatArray,
    dem: FloatArray,
    x0: float,
    y_max: float,
    pixel_size_m: float,
    seed: int,
    pulses_per_m2: float = 4.0,
    *,
    cover: FloatArray | None = None,
) -> tuple[FloatArray, UInt8Array, UInt8Array, UInt8Array]:
    """Simulate an airborne LiDAR tile (discrete returns) over a canopy-height raster.

    Parameters
    ----------
    canopy_height_m
        Canopy height (ny, nx), metres above the ground; NaN counts as 0.
    dem
        Ground elevation (ny, nx), metres; interpolated bilinearly between pixel centres.
    x0, y_max
        West and north edges of the rasters (map coordinates, m).
    pixel_size_m
        Pixel size (m).
    seed
        Seed of every random draw.
    pulses_per_m2
        Pulse density; pulses fall at uniform random positions.
    cover
        Canopy cover per pixel (0–1); default :func:`canopy_cover` of the canopy height.

    Returns
    -------
    xyz
        Coordinates (n, 3), float64, ordered by pulse and then by return.
    return_number, number_of_returns
        uint8 per point (1-based).
    classification
        uint8: 2 ground; vegetation by height above ground: 3 below 0.5 m, 4 from 0.5 to 2 m,
        5 from 2 m.

    """
    chm = np.nan_to_num(np.asarray(canopy_height_m, dtype=np.float64), nan=0.0)
    ground = np.asarray(dem, dtype=np.float64)
    if chm.ndim != 2 or chm.shape != ground.shape:
        raise InputDataError(
            f"canopy height {chm.shape} and DEM {ground.shape} must be 2-D of the same shape",
            fix="give both rasters on the same grid",
        )
    if pixel_size_m <= 0 or pulses_per_m2 <= 0:
        raise InputDataError(
            "pixel_size_m and pulses_per_m2 must be positive", fix="give positive values"
        )
    cov = canopy_cover(chm) if cover is None else np.clip(np.asarray(cover, np.float64), 0, 1)
    if cov.shape != chm.shape:
        raise InputDataError(
            f"cover {cov.shape} does not match the canopy height {chm.shape}",
            fix="give cover on the same grid",
        )
    ny, nx = chm.shape
    rng = np.random.default_rng((int(seed), 1))
    area = nx * ny * pixel_size_m**2
    n = int(rng.poisson(pulses_per_m2 * area))
    x = x0 + rng.uniform(0, nx * pixel_size_m, n)
    y = y_max - rng.uniform(0, ny * pixel_size_m, n)
    col_f = (x - x0) / pixel_size_m
    row_f = (y_max - y) / pixel_size_m
    col = np.minimum(col_f.astype(np.int64), nx - 1)
    row = np.minimum(row_f.astype(np.int64), ny - 1)
    h = chm[row, col]
    c = cov[row, col]
    z_ground = _bilinear(ground, col_f - 0.5, row_f - 0.5)

    # Heights above ground of up to four returns per pulse (NaN: no return).
    slots = np.full((n, 4), np.nan)
    canopy = rng.uniform(0, 1, n) < c
    depth = 0.35 * rng.beta(1.0, 2.5, n)
    first = h * (1 - depth)
    slots[canopy, 0] = first[canopy]
    n_mid = rng.choice(3, size=n, p=[0.45, 0.4, 0.15])
    room1 = canopy & (n_mid >= 1) & (first > 3.0)
    mid1 = 1.5 + rng.uniform(0, 1, n) * (first - 3.0)
    slots[room1, 1] = mid1[room1]
    room2 = room1 & (n_mid >= 2) & (mid1 > 3.0)
    mid2 = 1.5 + rng.uniform(0, 1, n) * (mid1 - 3.0)
    slots[room2, 2] = mid2[room2]
    reaches = rng.uniform(0, 1, n) < 1 - c
    low = ~canopy & (h > 0.5) & (h <= 2.0) & (rng.uniform(0, 1, n) < 0.5)
    slots[low, 0] = (h * rng.uniform(0.5, 1.0, n))[low]
    ground_return = np.where(canopy, reaches, ~low | (rng.uniform(0, 1, n) < 0.3))
    slots[ground_return, 3] = 0.0

    present = ~np.isnan(slots)
    number = present.sum(axis=1)
    rank = np.cumsum(present, axis=1)
    pulse, _slot = np.nonzero(present)
    hag = slots[present]
    z_noise = rng.normal(0.0, 0.05, hag.size)
    is_ground = hag == 0.0
    zz = z_ground[pulse] + hag + z_noise
    xyz = np.column_stack([x[pulse], y[pulse], zz])
    classification = np.where(
        is_ground,
        CLASS_GROUND,
        np.where(
            hag < 0.5,
            CLASS_LOW_VEGETATION,
            np.where(hag < 2.0, CLASS_MEDIUM_VEGETATION, CLASS_HIGH_VEGETATION),
        ),
    ).astype(np.uint8)
    return (
        xyz.astype(np.float64),
        rank[present].astype(np.uint8),
        number[pulse].astype(np.uint8),
        classification,
    )
