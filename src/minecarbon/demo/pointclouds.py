"""Synthetic point clouds of the simulated site: multi-scan TLS plots and airborne LiDAR tiles.

TLS (:func:`simulate_tls`)
    A square plot (``side_m`` plus a :data:`TLS_MARGIN_M` margin on every side) scanned from
    several tripod positions (:data:`SCANNER_HEIGHT_M` above the ground). Each scan samples the
    same fixed scene:

    * ground: the tilted plane ``z0 + slope_x·(x − cx) + slope_y·(y − cy)`` plus microrelief of at
      most a few centimetres (:data:`MICRORELIEF_M` times fractal noise);
    * stems: straight tapered cylinders along a leaning axis (``lean_deg`` from the vertical,
      towards ``lean_azimuth_deg``, clockwise from grid north). The diameter perpendicular to the
      axis, at the axis point 1.3 m (vertically) above the ground at the stem base, is exactly the
      DBH. Taper is linear in the length along the axis: conifers (excurrent) narrow to zero at
      the top, ``DBH / (L − 1.3/cos lean)`` per metre of axis (about 1–2 cm/m);
      broadleaves lose :data:`BROADLEAF_TAPER_CM_PER_M` cm of diameter per metre (never more
      than 45 % of the DBH) up to the fork at about 55 % of the height, where 3–5 limbs branch
      off. No buttresses and no root flare;
    * crowns: conifers a cone from the crown base to the top with whorls of drooping branches;
      broadleaves an ellipsoid from the crown base to the top, with limbs, secondary branches
      and lower branches. Foliage points are clumped around the branches and the crown shell,
      never outside the crown envelope, so the highest point of a tree lies just below its
      height;
    * a few low shrubs (at most :data:`SHRUB_MAX_HEIGHT_M`), kept away from stems.

    Point density falls with range like a real scanner: ``points_per_m2_at_10m · (10 / r)²``
    per m² of surface facing the scanner (times the cosine of the incidence angle on stems and
    branches, times :data:`GROUND_DENSITY_FACTOR` on the ground for the grazing incidence), capped
    at the density at :data:`MIN_RANGE_M`. A stem surface facing away from the scanner is not
    seen, and a point is dropped when the 2-D ray from the scanner to it crosses a nearer stem's
    cross-section at the height where the ray passes (occlusion by stems only; foliage occludes
    crudely by thinning the far side of each crown to :data:`FAR_SIDE_KEEP`). Every point is
    displaced along its ray by Gaussian range noise (σ = :data:`RANGE_NOISE_M`), and about
    :data:`NOISE_FRACTION` of the points are added as noise (class 7): mixed-pixel ghosts behind
    edges, stray points in the air and multipath points below the ground.

ALS (:func:`simulate_als`)
    Nadir pulses at random positions over a raster's extent. A pulse hits the canopy with the
    probability given by the canopy cover (:func:`canopy_cover`, derived from the canopy height
    unless given); its first return lies below the pixel's canopy height with a crown-shaped
    depth distribution, then up to two returns inside the canopy, then a ground return with the
    probability of a gap (1 − cover). Pulses that miss the canopy return from the ground (or
    from low vegetation where the canopy height is 0.5–2 m).

All randomness comes from ``numpy.random.default_rng((seed, stream))``, so the same seed gives
the same clouds. The clouds are not chunk-independent: a plot or tile is built whole.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from minecarbon.demo._als import canopy_cover, simulate_als
from minecarbon.demo._pointcloud_params import (
    _STREAM_GEOMETRY,
    _STREAM_SCAN,
    _STREAM_SHRUBS,
    _STREAM_SUBSAMPLE,
    _STREAM_TREES,
    BREAST_HEIGHT_M,
    BROADLEAF_TAPER_CM_PER_M,
    CLASS_GROUND,
    CLASS_HIGH_VEGETATION,
    CLASS_LOW_VEGETATION,
    CLASS_MEDIUM_VEGETATION,
    CLASS_NOISE,
    CLASS_UNCLASSIFIED,
    DEFAULT_SCANNER_OFFSETS,
    FAR_SIDE_KEEP,
    GROUND_DENSITY_FACTOR,
    LEAF_FILL,
    MICRORELIEF_M,
    MIN_RANGE_M,
    NOISE_FRACTION,
    RANGE_NOISE_M,
    SCANNER_HEIGHT_M,
    SHRUB_DENSITY_PER_M2,
    SHRUB_MAX_HEIGHT_M,
    TLS_MARGIN_M,
    TRUTH_COLUMNS,
    BoolArray,
    FloatArray,
    IntArray,
    UInt8Array,
    _rng,
)
from minecarbon.demo._tls_crowns import _build_parts, _unit
from minecarbon.demo._tls_scan import (
    _noise_points,
    _occluded,
    _scan_branches,
    _scan_foliage,
    _scan_ground,
    _scan_shrubs,
    _scan_stems,
)
from minecarbon.demo._tls_stand import (
    _build_stand,
    _complete_trees,
    _Ground,
    _Stand,
    _validate_trees,
)
from minecarbon.errors import InputDataError

# The names of the split-out modules are re-exported here.
__all__ = ["BREAST_HEIGHT_M", "BROADLEAF_TAPER_CM_PER_M", "CLASS_GROUND", "CLASS_HIGH_VEGETATION",
           "CLASS_LOW_VEGETATION", "CLASS_MEDIUM_VEGETATION", "CLASS_NOISE", "CLASS_UNCLASSIFIED",
           "DEFAULT_SCANNER_OFFSETS", "FAR_SIDE_KEEP", "GROUND_DENSITY_FACTOR", "LEAF_FILL",
           "MICRORELIEF_M", "MIN_RANGE_M", "NOISE_FRACTION", "RANGE_NOISE_M", "SCANNER_HEIGHT_M",
           "SHRUB_DENSITY_PER_M2", "SHRUB_MAX_HEIGHT_M", "TLS_MARGIN_M", "TRUTH_COLUMNS",
           "BoolArray", "FloatArray", "IntArray", "UInt8Array", "canopy_cover", "simulate_als",
           "simulate_tls", "synthetic_stand", "tls_scanner_positions"]


# ------------------------------------------------------------------------------ public API


def simulate_tls(
    trees: pd.DataFrame,
    centre_xy: tuple[float, float],
    side_m: float,
    ground: tuple[float, float, float],
    seed: int,
    *,
    scanner_offsets: Sequence[tuple[float, float]] = DEFAULT_SCANNER_OFFSETS,
    points_per_m2_at_10m: float = 400.0,
    max_points: int = 4_000_000,
) -> tuple[FloatArray, UInt8Array, pd.DataFrame]:
    """Simulate a multi-scan terrestrial laser-scanning cloud of a square plot.

    Parameters
    ----------
    trees
        One row per tree with ``tree_id``, ``x_m``, ``y_m`` (stem position on the ground, map
        coordinates in metres), ``dbh_cm``, ``height_m`` (≥ 2.5 m) and ``species_code`` (the
        codes of ``standard/data/species_groups.csv``; the group chooses conifer or broadleaf
        form), optionally ``lean_deg``, ``lean_azimuth_deg`` (clockwise from grid north) and
        ``crown_radius_m``; missing or NaN ones are drawn (lean ``|N(0, 2.5°)|`` ≤ 8°,
        crown radius from DBH). Trees whose base is outside the scanned square are ignored.
    centre_xy
        Plot centre (map coordinates, m).
    side_m
        Side of the plot square (m); the scan covers it plus :data:`TLS_MARGIN_M` on every side.
    ground
        ``(z0, slope_x, slope_y)``: the ground is ``z0 + slope_x·(x − cx) + slope_y·(y − cy)``
        plus microrelief of a few centimetres.
    seed
        Seed of every random draw; the same seed gives the same cloud.
    scanner_offsets
        Scanner positions as fractions of ``side_m`` from the centre. A position closer than
        0.5 m to a stem is moved away from it.
    points_per_m2_at_10m
        Point density on a surface facing a scanner at 10 m, per scan.
    max_points
        If the cloud has more points, a random subset of this size is kept.

    Returns
    -------
    xyz
        Coordinates (n, 3), float64, map coordinates in metres.
    classification
        uint8 per point: 2 ground, 1 vegetation (stems, branches, foliage, shrubs), 7 noise.
    truth
        One row per simulated tree: ``tree_id``, ``x_m``, ``y_m`` (stem base on the ground),
        ``dbh_cm``, ``height_m``, ``lean_deg``, ``species_code``, plus ``lean_azimuth_deg``,
        ``crown_radius_m``, ``ground_z_m`` (ground at the stem base) and ``in_plot`` (the
        base lies in the ``side_m`` square).

    """
    if side_m <= 0:
        raise InputDataError(f"plot side {side_m} m is not positive", fix="give side_m > 0")
    if points_per_m2_at_10m <= 0 or max_points <= 0:
        raise InputDataError(
            "points_per_m2_at_10m and max_points must be positive", fix="give positive values"
        )
    cx, cy = float(centre_xy[0]), float(centre_xy[1])
    half_plot = side_m / 2
    half = half_plot + TLS_MARGIN_M
    extent = (cx - half, cy - half, cx + half, cy + half)
    surface = _Ground(float(ground[0]), float(ground[1]), float(ground[2]), cx, cy, int(seed))

    df = _validate_trees(trees)
    df = _complete_trees(df, _rng(seed, _STREAM_TREES))
    inside = (
        (df["x_m"] >= extent[0]) & (df["x_m"] <= extent[2])
        & (df["y_m"] >= extent[1]) & (df["y_m"] <= extent[3])
    )
    df = df[inside].reset_index(drop=True)
    stand = _build_stand(df, surface, _rng(seed, _STREAM_GEOMETRY))

    scanners = _place_scanners(cx, cy, side_m, scanner_offsets, stand, surface)
    parts = _build_parts(
        stand, surface, extent, scanners[:, :2],
        _rng(seed, _STREAM_GEOMETRY + 10), _rng(seed, _STREAM_SHRUBS),
    )
    z_top = float(stand.base[:, 2].max() + stand.height.max()) if stand.n else surface.z0 + 5
    d10 = float(points_per_m2_at_10m)

    clouds: list[FloatArray] = []
    classes: list[UInt8Array] = []
    for k, scanner in enumerate(scanners):
        rng = _rng(seed, _STREAM_SCAN + k)
        g = _scan_ground(scanner, extent, surface, d10, rng)
        stem, stem_tree = _scan_stems(scanner, stand, surface, d10, rng)
        veg = np.vstack(
            [
                _scan_branches(scanner, parts, d10, rng),
                _scan_foliage(scanner, stand, parts, d10, rng),
                _scan_shrubs(scanner, parts, d10, rng),
            ]
        )
        p = np.vstack([g, stem, veg])
        cls = np.concatenate(
            [
                np.full(len(g), CLASS_GROUND, np.uint8),
                np.full(len(stem) + len(veg), CLASS_UNCLASSIFIED, np.uint8),
            ]
        )
        owner = np.concatenate(
            [np.full(len(g), -1, np.int64), stem_tree, np.full(len(veg), -1, np.int64)]
        )
        visible = ~_occluded(scanner, p, owner, stand)
        p, cls = p[visible], cls[visible]
        ray = _unit(p - scanner)
        p = p + rng.normal(0.0, RANGE_NOISE_M, len(p))[:, None] * ray
        noise = _noise_points(scanner, p, cls, extent, z_top, surface, rng)
        clouds += [p, noise]
        classes += [cls, np.full(len(noise), CLASS_NOISE, np.uint8)]

    xyz = np.vstack(clouds).astype(np.float64)
    classification = np.concatenate(classes).astype(np.uint8)
    if len(xyz) > max_points:
        pick = np.sort(_rng(seed, _STREAM_SUBSAMPLE).choice(len(xyz), max_points, replace=False))
        xyz, classification = xyz[pick], classification[pick]

    truth = pd.DataFrame(
        {
            "tree_id": df["tree_id"].to_numpy(),
            "x_m": df["x_m"].to_numpy(dtype=float),
            "y_m": df["y_m"].to_numpy(dtype=float),
            "dbh_cm": df["dbh_cm"].to_numpy(dtype=float),
            "height_m": df["height_m"].to_numpy(dtype=float),
            "lean_deg": df["lean_deg"].to_numpy(dtype=float),
            "species_code": df["species_code"].to_numpy(),
            "lean_azimuth_deg": df["lean_azimuth_deg"].to_numpy(dtype=float),
            "crown_radius_m": df["crown_radius_m"].to_numpy(dtype=float),
            "ground_z_m": stand.base[:, 2],
            "in_plot": (
                (np.abs(df["x_m"].to_numpy(dtype=float) - cx) <= half_plot)
                & (np.abs(df["y_m"].to_numpy(dtype=float) - cy) <= half_plot)
            ),
        },
        columns=list(TRUTH_COLUMNS),
    )
    return xyz, classification, truth


def tls_scanner_positions(
    trees: pd.DataFrame,
    centre_xy: tuple[float, float],
    side_m: float,
    ground: tuple[float, float, float],
    seed: int,
    *,
    scanner_offsets: Sequence[tuple[float, float]] = DEFAULT_SCANNER_OFFSETS,
) -> FloatArray:
    """The scanner centres (k, 3) that :func:`simulate_tls` uses for the same arguments."""
    cx, cy = float(centre_xy[0]), float(centre_xy[1])
    half = side_m / 2 + TLS_MARGIN_M
    extent = (cx - half, cy - half, cx + half, cy + half)
    surface = _Ground(float(ground[0]), float(ground[1]), float(ground[2]), cx, cy, int(seed))
    df = _complete_trees(_validate_trees(trees), _rng(seed, _STREAM_TREES))
    inside = (
        (df["x_m"] >= extent[0]) & (df["x_m"] <= extent[2])
        & (df["y_m"] >= extent[1]) & (df["y_m"] <= extent[3])
    )
    stand = _build_stand(
        df[inside].reset_index(drop=True), surface, _rng(seed, _STREAM_GEOMETRY)
    )
    return _place_scanners(cx, cy, side_m, scanner_offsets, stand, surface)


def _place_scanners(
    cx: float, cy: float, side_m: float, offsets: Sequence[tuple[float, float]],
    stand: _Stand, ground: _Ground,
) -> FloatArray:
    if len(offsets) == 0:
        raise InputDataError("no scanner positions were given", fix="give scanner_offsets")
    xy = np.array([[cx + fx * side_m, cy + fy * side_m] for fx, fy in offsets], dtype=np.float64)
    if stand.n:
        clearance = stand.r_bh * 1.2 + 0.5
        for _ in range(5):
            rel = xy[:, None, :] - stand.base[None, :, :2]
            dist = np.linalg.norm(rel, axis=2)
            deficit = clearance[None, :] - dist
            if (deficit <= 0).all():
                break
            for k, j in zip(*np.nonzero(deficit > 0), strict=True):
                direction = rel[k, j] / max(float(dist[k, j]), 1e-6)
                if dist[k, j] < 1e-6:
                    direction = np.array([1.0, 0.0])
                xy[k] += direction * (deficit[k, j] + 0.05)
    z = ground.z(xy[:, 0], xy[:, 1]) + SCANNER_HEIGHT_M
    return np.column_stack([xy, z])


def synthetic_stand(seed: int, n: int, centre_xy: tuple[float, float], side_m: float, *,
                    min_gap_m: float = 1.8) -> pd.DataFrame:
    """A test stand for :func:`simulate_tls`: n trees over the scanned square (side + 2 × 2.5 m).

    Stems at least ``min_gap_m`` apart, DBH 8–45 cm, heights 8–22 m from a height–diameter
    curve (± 1 m), a sixth of them leaning 5–15°, species codes 1–7. Seeded.
    """
    rng = np.random.default_rng(seed)
    half = side_m / 2 + 2.5
    xy: list[tuple[float, float]] = []
    while len(xy) < n:
        x, y = rng.uniform(-half, half, 2)
        if all(np.hypot(x - a, y - b) > min_gap_m for a, b in xy):
            xy.append((float(x), float(y)))
    pos = np.array(xy)
    dbh = rng.uniform(8, 45, n)
    height = np.clip(1.3 + 24 * (1 - np.exp(-0.05 * dbh)) + rng.normal(0, 1, n), 8, 22)
    lean = np.full(n, np.nan)
    azimuth = np.full(n, np.nan)
    leaning = rng.choice(n, n // 6, replace=False)
    lean[leaning] = rng.uniform(5, 15, leaning.size)
    azimuth[leaning] = rng.uniform(0, 360, leaning.size)
    return pd.DataFrame({
        "tree_id": np.arange(n), "x_m": centre_xy[0] + pos[:, 0],
        "y_m": centre_xy[1] + pos[:, 1], "dbh_cm": dbh, "height_m": height,
        "species_code": rng.integers(1, 8, n), "lean_deg": lean, "lean_azimuth_deg": azimuth,
    })
