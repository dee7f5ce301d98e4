"""Loess-Plateau relief: broad loess ridges (梁) and hills (峁) cut by dendritic gullies."""

from __future__ import annotations

import numpy as np

from minecarbon.demo.noise import fbm, ridged


def elevation_m(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Elevation (m) at map coordinates: 1,050–1,600 m, gullies 50–150 m deep.

    Ridged multifractal noise gives sharp-crested ridges; its inverse, sharpened, cuts narrow
    V-shaped gullies; a broad fBm field and a gentle south-eastward tilt set the regional level.
    """
    regional = 1320.0 + 120.0 * fbm(x, y, 12_000.0, seed, octaves=3, stream=1)
    tilt = -0.002 * (x - 585_000.0) + 0.001 * (y - 4_100_010.0)  # gentle fall to the SE
    ridges = 200.0 * ridged(x, y, 2_200.0, seed, octaves=5, stream=2)
    gully_field = ridged(x + 777.0, y - 333.0, 1_100.0, seed, octaves=4, stream=3)
    gullies = -140.0 * np.clip((gully_field - 0.5) / 0.5, 0.0, 1.0) ** 1.3
    return (regional + ridges + gullies + tilt).astype(np.float32)


def slope_aspect(dem: np.ndarray, pixel_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Slope (degrees) and aspect (degrees clockwise from north) by central differences.

    Used by the simulator only (for species placement and illumination); the features stage
    has its own Horn-method terrain derivatives.
    """
    gy, gx = np.gradient(dem.astype(np.float64), pixel_size_m)
    # rows go south, so the northward gradient is -gy
    dz_dx, dz_dy = gx, -gy
    slope = np.degrees(np.arctan(np.hypot(dz_dx, dz_dy)))
    aspect = (np.degrees(np.arctan2(-dz_dx, -dz_dy)) + 360.0) % 360.0
    return slope.astype(np.float32), aspect.astype(np.float32)


def illumination(slope_deg: np.ndarray, aspect_deg: np.ndarray, sun_elevation_deg: float = 60.0,
                 sun_azimuth_deg: float = 135.0) -> np.ndarray:
    """cos(incidence)/cos(solar zenith): terrain illumination factor, clipped to 0.4–1.3."""
    zen = np.radians(90.0 - sun_elevation_deg)
    s, a = np.radians(slope_deg), np.radians(aspect_deg)
    cos_i = np.cos(zen) * np.cos(s) + np.sin(zen) * np.sin(s) * np.cos(np.radians(
        sun_azimuth_deg) - a)
    return np.asarray(np.clip(cos_i / np.cos(zen), 0.4, 1.3), dtype=np.float32)
