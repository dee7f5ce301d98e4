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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.demo.noise import fbm
from minecarbon.errors import InputDataError
from minecarbon.standard.species import by_code

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
UInt8Array = npt.NDArray[np.uint8]

#: Height of DBH above the ground at the stem base (m).
BREAST_HEIGHT_M = 1.3
#: Height of the scanner's centre above the ground (m).
SCANNER_HEIGHT_M = 1.5
#: Margin scanned around the plot square on every side (m).
TLS_MARGIN_M = 3.0
#: Standard deviation of the range noise along each ray (m).
RANGE_NOISE_M = 0.005
#: Ranges below this get the density at this range (the density cap), m.
MIN_RANGE_M = 2.0
#: Ground density relative to a surface facing the scanner (grazing incidence).
GROUND_DENSITY_FACTOR = 0.3
#: Amplitude of the ground microrelief (m); typical deviations are a third of it.
MICRORELIEF_M = 0.03
#: Broadleaf stem taper: loss of diameter per metre of stem (cm/m).
BROADLEAF_TAPER_CM_PER_M = 0.8
#: Share of the crown envelope's area that returns foliage points at the nominal density.
LEAF_FILL = 0.4
#: Keep probability of foliage and shrub points on the side of a crown away from the scanner.
FAR_SIDE_KEEP = 0.35
#: Noise points (class 7) added per scan, as a share of the scan's points.
NOISE_FRACTION = 0.002
#: Shrubs per m² of the scanned square, and their largest height (m).
SHRUB_DENSITY_PER_M2 = 0.01
SHRUB_MAX_HEIGHT_M = 1.0
#: Smallest stem or branch radius sampled (m).
_R_FLOOR = 0.002
#: Candidate stem segments are at most this long (m), so the sampling density fits the range.
_SEGMENT_M = 1.0

#: ASPRS classes.
CLASS_UNCLASSIFIED = 1
CLASS_GROUND = 2
CLASS_LOW_VEGETATION = 3
CLASS_MEDIUM_VEGETATION = 4
CLASS_HIGH_VEGETATION = 5
CLASS_NOISE = 7

DEFAULT_SCANNER_OFFSETS: tuple[tuple[float, float], ...] = (
    (-0.35, -0.35),
    (0.35, -0.35),
    (0.35, 0.35),
    (-0.35, 0.35),
    (0.0, 0.0),
)

TRUTH_COLUMNS = (
    "tree_id",
    "x_m",
    "y_m",
    "dbh_cm",
    "height_m",
    "lean_deg",
    "species_code",
    "lean_azimuth_deg",
    "crown_radius_m",
    "ground_z_m",
    "in_plot",
)

_REQUIRED = ("tree_id", "x_m", "y_m", "dbh_cm", "height_m", "species_code")

# Random streams (one generator per purpose, so that parts do not shift each other).
_STREAM_TREES = 1
_STREAM_GEOMETRY = 2
_STREAM_SHRUBS = 3
_STREAM_SUBSAMPLE = 4
_STREAM_SCAN = 100
_STREAM_MICRORELIEF = 7


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng((int(seed), stream))


# --------------------------------------------------------------------------------- the scene


@dataclass(frozen=True)
class _Ground:
    z0: float
    slope_x: float
    slope_y: float
    cx: float
    cy: float
    seed: int

    def z(self, x: FloatArray, y: FloatArray) -> FloatArray:
        micro = MICRORELIEF_M * fbm(
            np.asarray(x, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
            4.0,
            self.seed,
            octaves=3,
            stream=_STREAM_MICRORELIEF,
        )
        plane = self.z0 + self.slope_x * (x - self.cx) + self.slope_y * (y - self.cy)
        return np.asarray(plane + micro, dtype=np.float64)


@dataclass(frozen=True)
class _Stand:
    """Per-tree geometry, arrays of length n (index j)."""

    base: FloatArray  # (n, 3) stem base on the ground
    height: FloatArray  # vertical height of the top above the base
    cos_lean: FloatArray
    lean_xy: FloatArray  # (n, 2) horizontal shift of the axis per metre of height
    u: FloatArray  # (n, 3) unit axis
    e1: FloatArray  # (n, 3) unit, perpendicular to u (horizontal)
    e2: FloatArray  # (n, 3) unit, perpendicular to u and e1
    r_bh: FloatArray  # radius at breast height (m)
    s_bh: FloatArray  # axial distance of breast height
    taper: FloatArray  # radius lost per metre of axis
    stem_len: FloatArray  # axial length of the stem (to the top or to the fork)
    stem_top_h: FloatArray  # vertical height of the stem's end above the base
    conifer: BoolArray
    crown_radius: FloatArray
    crown_base_h: FloatArray  # vertical height of the crown base above the base
    crown_centre: FloatArray  # (n, 3) broadleaf ellipsoid centre (conifers: apex)
    crown_c: FloatArray  # broadleaf ellipsoid vertical semi-axis
    envelope_area: FloatArray  # crown envelope area (m²)

    @property
    def n(self) -> int:
        return int(self.height.shape[0])

    def radius(self, j: IntArray, s: FloatArray) -> FloatArray:
        """Stem radius of trees ``j`` at axial distances ``s``."""
        r = self.r_bh[j] - self.taper[j] * (s - self.s_bh[j])
        return np.asarray(np.maximum(r, _R_FLOOR), dtype=np.float64)

    def axis_at_height(self, j: IntArray, h: FloatArray) -> FloatArray:
        """Axis points (k, 3) of trees ``j`` at vertical heights ``h`` above their bases."""
        s = h / self.cos_lean[j]
        return np.asarray(self.base[j] + s[:, None] * self.u[j], dtype=np.float64)

    def inside_crown(self, j: IntArray, p: FloatArray) -> BoolArray:
        """Whether points ``p`` (k, 3) lie inside the crown envelopes of trees ``j``."""
        h = p[:, 2] - self.base[j, 2]
        inside = np.zeros(len(j), dtype=bool)
        con = self.conifer[j]
        if con.any():
            jc, pc, hc = j[con], p[con], h[con]
            axis = self.base[jc, :2] + hc[:, None] * self.lean_xy[jc]
            rr = np.hypot(pc[:, 0] - axis[:, 0], pc[:, 1] - axis[:, 1])
            top, hcb = self.height[jc], self.crown_base_h[jc]
            below_top = np.clip(top - hc, 0.0, None)
            env = self.crown_radius[jc] * np.clip(below_top / (top - hcb), 0.0, 1.0)
            env = np.maximum(env, np.minimum(0.5 * below_top, self.crown_radius[jc]))  # round tip
            inside[con] = (rr <= env) & (hc <= top) & (hc >= hcb - 0.5)
        brd = ~con
        if brd.any():
            jb, pb = j[brd], p[brd]
            d = pb - self.crown_centre[jb]
            a, c = self.crown_radius[jb], self.crown_c[jb]
            inside[brd] = (d[:, 0] ** 2 + d[:, 1] ** 2) / a**2 + d[:, 2] ** 2 / c**2 <= 1.0
        return inside


@dataclass(frozen=True)
class _Parts:
    """Fixed crown parts: branches (thin tapered cylinders) and foliage clusters."""

    br_tree: IntArray
    br_start: FloatArray  # (m, 3)
    br_end: FloatArray  # (m, 3)
    br_r0: FloatArray
    br_r1: FloatArray
    cl_tree: IntArray
    cl_centre: FloatArray  # (k, 3)
    cl_sigma: FloatArray
    cl_weight: FloatArray
    sh_centre: FloatArray  # (q, 3) shrub base centre on the ground
    sh_radius: FloatArray
    sh_height: FloatArray


def _validate_trees(trees: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in trees.columns]
    if missing:
        raise InputDataError(
            f"tree list for the TLS simulation lacks the columns {', '.join(missing)}",
            fix=f"give the columns {', '.join(_REQUIRED)}",
        )
    df = trees.reset_index(drop=True).copy()
    for col in ("x_m", "y_m", "dbh_cm", "height_m"):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputDataError(
                f"tree list column {col!r} row {row} is missing or not a number",
                fix="give a number for every tree",
            )
        df[col] = values.astype(float)
    dbh = df["dbh_cm"].to_numpy(dtype=float)
    bad = np.flatnonzero((dbh <= 0) | (dbh > 300))
    if bad.size:
        raise InputDataError(
            f"tree {df['tree_id'].iloc[bad[0]]!r}: dbh_cm {dbh[bad[0]]:g} is outside 0–300",
            fix="give DBH in centimetres",
        )
    height = df["height_m"].to_numpy(dtype=float)
    bad = np.flatnonzero((height < 2.5) | (height > 80))
    if bad.size:
        raise InputDataError(
            f"tree {df['tree_id'].iloc[bad[0]]!r}: height_m {height[bad[0]]:g} is outside "
            "2.5–80 m",
            fix="simulate trees at least 2.5 m tall, with heights in metres",
        )
    return df


def _complete_trees(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Fill lean and crown columns that are absent or NaN with plausible values."""
    n = len(df)
    conifer = np.array([by_code(int(c)).is_conifer for c in df["species_code"]], dtype=bool)
    lean = np.minimum(np.abs(rng.normal(0.0, 2.5, n)), 8.0)
    azimuth = rng.uniform(0.0, 360.0, n)
    dbh = df["dbh_cm"].to_numpy(dtype=float)
    crown = np.where(conifer, 0.5 + 0.07 * dbh, 0.8 + 0.10 * dbh) * rng.uniform(0.85, 1.15, n)
    crown = np.clip(crown, 0.6, 7.0)
    for col, fill in (("lean_deg", lean), ("lean_azimuth_deg", azimuth), ("crown_radius_m", crown)):
        if col not in df.columns:
            df[col] = fill
        else:
            values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            df[col] = np.where(np.isnan(values), fill, values)
    if ((df["lean_deg"] < 0) | (df["lean_deg"] >= 45)).any():
        raise InputDataError(
            "tree list column 'lean_deg' has values outside 0–45°", fix="give lean in degrees"
        )
    if (df["crown_radius_m"] <= 0).any():
        raise InputDataError(
            "tree list column 'crown_radius_m' has values ≤ 0", fix="give crown radii in metres"
        )
    df["conifer"] = conifer
    return df


def _build_stand(df: pd.DataFrame, ground: _Ground, rng: np.random.Generator) -> _Stand:
    n = len(df)
    bx = df["x_m"].to_numpy(dtype=float)
    by = df["y_m"].to_numpy(dtype=float)
    bz = ground.z(bx, by)
    height = df["height_m"].to_numpy(dtype=float)
    conifer = df["conifer"].to_numpy(dtype=bool)
    theta = np.radians(df["lean_deg"].to_numpy(dtype=float))
    az = np.radians(df["lean_azimuth_deg"].to_numpy(dtype=float))
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    u = np.column_stack([sin_t * np.sin(az), sin_t * np.cos(az), cos_t])
    e1 = np.column_stack([np.cos(az), -np.sin(az), np.zeros(n)])
    e2 = np.cross(u, e1)
    lean_xy = np.column_stack([np.sin(az), np.cos(az)]) * np.tan(theta)[:, None]

    r_bh = df["dbh_cm"].to_numpy(dtype=float) / 200.0
    s_bh = BREAST_HEIGHT_M / cos_t
    crown_ratio = np.where(conifer, 0.55, 0.55) + rng.uniform(-0.05, 0.05, n)
    crown_base_h = np.maximum(height * (1.0 - crown_ratio), np.minimum(2.0, 0.6 * height))
    fork_h = np.maximum(0.55 * height, crown_base_h + 0.3)
    stem_top_h = np.where(conifer, height, fork_h)
    stem_len = stem_top_h / cos_t
    taper_con = r_bh / (stem_len - s_bh)
    taper_brd = np.minimum(
        BROADLEAF_TAPER_CM_PER_M / 200.0, 0.45 * r_bh / np.maximum(stem_len - s_bh, 0.1)
    )
    taper = np.where(conifer, taper_con, taper_brd)

    crown_radius = df["crown_radius_m"].to_numpy(dtype=float)
    crown_c = (height - crown_base_h) / 2.0
    centre_h = np.where(conifer, height, crown_base_h + crown_c)
    base = np.column_stack([bx, by, bz])
    crown_centre = base + (centre_h / cos_t)[:, None] * u
    crown_centre[:, 2] = bz + centre_h  # exact vertical placement
    cone_len = height - crown_base_h
    cone_area = np.pi * crown_radius * np.hypot(crown_radius, cone_len)
    p = 1.6075
    a, c = crown_radius, crown_c
    ell_area = 4 * np.pi * (((a * a) ** p + 2 * (a * c) ** p) / 3.0) ** (1 / p)
    return _Stand(
        base=base,
        height=height,
        cos_lean=cos_t,
        lean_xy=lean_xy,
        u=u,
        e1=e1,
        e2=e2,
        r_bh=r_bh,
        s_bh=s_bh,
        taper=taper,
        stem_len=stem_len,
        stem_top_h=stem_top_h,
        conifer=conifer,
        crown_radius=crown_radius,
        crown_base_h=crown_base_h,
        crown_centre=crown_centre,
        crown_c=crown_c,
        envelope_area=np.where(conifer, cone_area, ell_area),
    )


def _ellipsoid_exit(
    start: FloatArray, d: FloatArray, centre: FloatArray, a: FloatArray, c: FloatArray,
    scale: FloatArray,
) -> FloatArray:
    """Distance along unit directions ``d`` from ``start`` to an ellipsoid scaled by ``scale``."""
    f = start - centre
    qa = (d[:, 0] ** 2 + d[:, 1] ** 2) / a**2 + d[:, 2] ** 2 / c**2
    qb = 2 * ((f[:, 0] * d[:, 0] + f[:, 1] * d[:, 1]) / a**2 + f[:, 2] * d[:, 2] / c**2)
    qc = (f[:, 0] ** 2 + f[:, 1] ** 2) / a**2 + f[:, 2] ** 2 / c**2 - scale**2
    disc = np.maximum(qb * qb - 4 * qa * qc, 0.0)
    t = (-qb + np.sqrt(disc)) / (2 * qa)
    return np.asarray(np.maximum(t, 0.05), dtype=np.float64)


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True), dtype=np.float64)


def _build_parts(
    stand: _Stand,
    ground: _Ground,
    extent: tuple[float, float, float, float],
    scanners_xy: FloatArray,
    rng: np.random.Generator,
    shrub_rng: np.random.Generator,
) -> _Parts:
    br_tree: list[int] = []
    br_start: list[FloatArray] = []
    br_end: list[FloatArray] = []
    br_r0: list[float] = []
    br_r1: list[float] = []
    cl_tree: list[int] = []
    cl_centre: list[FloatArray] = []
    cl_sigma: list[float] = []
    cl_weight: list[float] = []

    def branch(j: int, start: FloatArray, end: FloatArray, r0: float, r1: float) -> None:
        br_tree.append(j)
        br_start.append(start)
        br_end.append(end)
        br_r0.append(r0)
        br_r1.append(r1)

    def cluster(j: int, centre: FloatArray, sigma: float, weight: float) -> None:
        cl_tree.append(j)
        cl_centre.append(centre)
        cl_sigma.append(sigma)
        cl_weight.append(weight)

    for j in range(stand.n):
        jj = np.array([j])
        top, hcb, big_r = stand.height[j], stand.crown_base_h[j], stand.crown_radius[j]
        if stand.conifer[j]:
            spacing = rng.uniform(0.5, 0.8)
            heights = np.arange(hcb, top - 0.4, spacing)
            for h in heights:
                origin = stand.axis_at_height(jj, np.array([h]))[0]
                env = big_r * (top - h) / (top - hcb)
                nb = int(rng.integers(4, 7))
                az = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(nb) / nb
                az = az + rng.normal(0, 0.2, nb)
                length = env * rng.uniform(0.7, 0.95, nb)
                droop = np.radians(rng.uniform(5, 25, nb))
                r_stem = float(stand.radius(jj, np.array([h / stand.cos_lean[j]]))[0])
                for k in range(nb):
                    horiz = length[k] * np.array([np.sin(az[k]), np.cos(az[k])])
                    end_z = max(h - length[k] * np.tan(droop[k]), hcb - 0.3)
                    end = np.array([origin[0] + horiz[0], origin[1] + horiz[1],
                                    stand.base[j, 2] + end_z])
                    r0 = min(0.4 * r_stem + 0.004, 0.01 + 0.012 * length[k])
                    branch(j, origin, end, max(r0, 0.005), 0.003)
                    for t in (0.5, 0.75, 0.97):
                        cluster(j, origin + t * (end - origin), 0.1 + 0.1 * t, length[k])
            apex = stand.axis_at_height(jj, np.array([top - 0.15]))[0]
            cluster(j, apex, 0.12, 3.0)
        else:
            fork_h = stand.stem_top_h[j]
            fork = stand.axis_at_height(jj, np.array([fork_h]))[0]
            centre = stand.crown_centre[j]
            a, c = big_r, stand.crown_c[j]
            r_fork = float(stand.radius(jj, np.array([stand.stem_len[j]]))[0])
            nl = int(rng.integers(3, 6))
            az = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(nl) / nl
            el = np.radians(rng.uniform(35, 65, nl))
            d = np.column_stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)])
            starts = np.repeat(fork[None], nl, axis=0)
            reach = _ellipsoid_exit(
                starts, d, centre[None], np.array([a]), np.array([c]), np.full(nl, 0.8)
            )
            ends = starts + reach[:, None] * d
            r_limb = r_fork * 0.55
            for k in range(nl):
                branch(j, starts[k], ends[k], r_limb, 0.02)
                cluster(j, starts[k] + 0.7 * (ends[k] - starts[k]), 0.35, 1.0)
                cluster(j, ends[k], 0.35, 1.0)
                ns = int(rng.integers(2, 4))
                t0 = rng.uniform(0.35, 0.8, ns)
                s_start = starts[k] + t0[:, None] * (ends[k] - starts[k])
                s_az = az[k] + rng.uniform(-1.2, 1.2, ns)
                s_el = np.radians(rng.uniform(0, 50, ns))
                sd = np.column_stack(
                    [np.cos(s_el) * np.sin(s_az), np.cos(s_el) * np.cos(s_az), np.sin(s_el)]
                )
                s_reach = _ellipsoid_exit(
                    s_start, sd, centre[None], np.array([a]), np.array([c]), np.full(ns, 0.9)
                )
                s_end = s_start + s_reach[:, None] * sd
                for m in range(ns):
                    branch(j, s_start[m], s_end[m], 0.045 * (1 - t0[m]) + 0.01, 0.006)
                    cluster(j, s_end[m], 0.35, 1.0)
            # a couple of lower branches from the stem below the fork
            for _ in range(int(rng.integers(0, 3))):
                h = rng.uniform(stand.crown_base_h[j], fork_h)
                start = stand.axis_at_height(jj, np.array([h]))[0]
                b_az, b_el = rng.uniform(0, 2 * np.pi), np.radians(rng.uniform(10, 35))
                bd = np.array([[np.cos(b_el) * np.sin(b_az), np.cos(b_el) * np.cos(b_az),
                                np.sin(b_el)]])
                reach_b = _ellipsoid_exit(
                    start[None], bd, centre[None], np.array([a]), np.array([c]), np.array([0.9])
                )
                end = start + reach_b[0] * bd[0]
                branch(j, start, end, 0.03, 0.006)
                cluster(j, end, 0.3, 1.0)
            # foliage clumps over the crown shell, and one at the top
            nshell = int(20 + stand.envelope_area[j] / 3.0)
            v = _unit(rng.normal(size=(nshell, 3)))
            rho = rng.uniform(0.7, 0.95, nshell)
            pts = centre + rho[:, None] * v * np.array([a, a, c])
            for k in range(nshell):
                cluster(j, pts[k], 0.4, 1.0)
            cluster(j, centre + np.array([0.0, 0.0, 0.85 * c]), 0.3, 2.0)

    # shrubs: away from stems and scanners
    x0, y0, x1, y1 = extent
    n_try = int(shrub_rng.poisson(SHRUB_DENSITY_PER_M2 * (x1 - x0) * (y1 - y0))) * 3
    sx = shrub_rng.uniform(x0, x1, n_try)
    sy = shrub_rng.uniform(y0, y1, n_try)
    radius = shrub_rng.uniform(0.3, 0.8, n_try)
    sh_h = shrub_rng.uniform(0.3, SHRUB_MAX_HEIGHT_M, n_try)
    ok = np.ones(n_try, dtype=bool)
    if stand.n:
        dist = np.hypot(sx[:, None] - stand.base[None, :, 0], sy[:, None] - stand.base[None, :, 1])
        ok &= (dist - radius[:, None] - stand.r_bh[None, :]).min(axis=1) > 0.8
    dscan = np.hypot(sx[:, None] - scanners_xy[None, :, 0], sy[:, None] - scanners_xy[None, :, 1])
    ok &= (dscan - radius[:, None]).min(axis=1) > 1.0
    keep = np.flatnonzero(ok)[: n_try // 3]
    sh_centre = np.column_stack([sx[keep], sy[keep], ground.z(sx[keep], sy[keep])])

    def arr(values: Sequence[FloatArray], width: int) -> FloatArray:
        return np.asarray(values, dtype=np.float64).reshape(-1, width)

    return _Parts(
        br_tree=np.asarray(br_tree, dtype=np.int64),
        br_start=arr(br_start, 3),
        br_end=arr(br_end, 3),
        br_r0=np.asarray(br_r0, dtype=np.float64),
        br_r1=np.asarray(br_r1, dtype=np.float64),
        cl_tree=np.asarray(cl_tree, dtype=np.int64),
        cl_centre=arr(cl_centre, 3),
        cl_sigma=np.asarray(cl_sigma, dtype=np.float64),
        cl_weight=np.asarray(cl_weight, dtype=np.float64),
        sh_centre=sh_centre,
        sh_radius=radius[keep],
        sh_height=sh_h[keep],
    )


# ------------------------------------------------------------------------------- one scan


def _density(d10: float, r: FloatArray) -> FloatArray:
    """Points per m² of a surface facing the scanner at range r."""
    return np.asarray(d10 * (10.0 / np.maximum(r, MIN_RANGE_M)) ** 2, dtype=np.float64)


def _scan_ground(
    scanner: FloatArray, extent: tuple[float, float, float, float], ground: _Ground,
    d10: float, rng: np.random.Generator,
) -> FloatArray:
    """Ground points with density ∝ 1/r² around the scanner (log-uniform radii), in the square."""
    x0, y0, x1, y1 = extent
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    r_max = float(np.max(np.hypot(corners[:, 0] - scanner[0], corners[:, 1] - scanner[1])))
    peak = GROUND_DENSITY_FACTOR * d10 * (10.0 / MIN_RANGE_M) ** 2
    n_in = int(rng.poisson(peak * np.pi * MIN_RANGE_M**2))
    scale = GROUND_DENSITY_FACTOR * d10 * 100.0
    n_out = int(rng.poisson(scale * 2 * np.pi * math.log(r_max / MIN_RANGE_M)))
    r = np.concatenate(
        [
            MIN_RANGE_M * np.sqrt(rng.uniform(0, 1, n_in)),
            MIN_RANGE_M * (r_max / MIN_RANGE_M) ** rng.uniform(0, 1, n_out),
        ]
    )
    phi = rng.uniform(0, 2 * np.pi, r.size)
    x = scanner[0] + r * np.cos(phi)
    y = scanner[1] + r * np.sin(phi)
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    x, y = x[inside], y[inside]
    return np.column_stack([x, y, ground.z(x, y)])


def _scan_stems(
    scanner: FloatArray, stand: _Stand, ground: _Ground, d10: float, rng: np.random.Generator
) -> tuple[FloatArray, IntArray]:
    """Stem surface points seen from the scanner, and the index of their tree."""
    if stand.n == 0:
        return np.empty((0, 3)), np.empty(0, dtype=np.int64)
    n_seg = np.maximum(np.ceil(stand.stem_len / _SEGMENT_M), 1).astype(np.int64)
    seg_tree = np.repeat(np.arange(stand.n), n_seg)
    first = np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    k = np.arange(seg_tree.size) - first
    seg_len = stand.stem_len[seg_tree] / n_seg[seg_tree]
    s0 = k * seg_len
    r_max = stand.radius(seg_tree, s0)
    mid = stand.base[seg_tree] + (s0 + seg_len / 2)[:, None] * stand.u[seg_tree]
    rng_min = np.linalg.norm(mid - scanner, axis=1) - seg_len / 2 - r_max
    dens = _density(d10, rng_min)
    counts = rng.poisson(2 * np.pi * r_max * seg_len * dens)
    seg = np.repeat(np.arange(seg_tree.size), counts)
    j = seg_tree[seg]
    s = s0[seg] + rng.uniform(0, 1, seg.size) * seg_len[seg]
    phi = rng.uniform(0, 2 * np.pi, seg.size)
    r = stand.radius(j, s)
    normal = np.cos(phi)[:, None] * stand.e1[j] + np.sin(phi)[:, None] * stand.e2[j]
    p = stand.base[j] + s[:, None] * stand.u[j] + r[:, None] * normal
    v = scanner - p
    dist = np.linalg.norm(v, axis=1)
    cos_inc = np.einsum("ij,ij->i", normal, v) / dist
    accept = (r / r_max[seg]) * np.clip(cos_inc, 0, None) * _density(d10, dist) / dens[seg]
    keep = rng.uniform(0, 1, seg.size) < accept
    p, j = p[keep], j[keep]
    above = p[:, 2] >= ground.z(p[:, 0], p[:, 1])
    return p[above], j[above]


def _scan_branches(
    scanner: FloatArray, parts: _Parts, d10: float, rng: np.random.Generator
) -> FloatArray:
    m = parts.br_tree.size
    if m == 0:
        return np.empty((0, 3))
    axis = parts.br_end - parts.br_start
    length = np.linalg.norm(axis, axis=1)
    d = axis / np.maximum(length, 1e-9)[:, None]
    ref = np.where(np.abs(d[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0, 0]]))
    e1 = _unit(np.cross(d, ref))
    e2 = np.cross(d, e1)
    r_max = np.maximum(parts.br_r0, parts.br_r1)
    mid = (parts.br_start + parts.br_end) / 2
    dens = _density(d10, np.linalg.norm(mid - scanner, axis=1) - length / 2)
    counts = rng.poisson(2 * np.pi * r_max * length * dens)
    b = np.repeat(np.arange(m), counts)
    t = rng.uniform(0, 1, b.size)
    phi = rng.uniform(0, 2 * np.pi, b.size)
    r = parts.br_r0[b] + (parts.br_r1[b] - parts.br_r0[b]) * t
    normal = np.cos(phi)[:, None] * e1[b] + np.sin(phi)[:, None] * e2[b]
    p = parts.br_start[b] + (t * length[b])[:, None] * d[b] + r[:, None] * normal
    v = scanner - p
    dist = np.linalg.norm(v, axis=1)
    cos_inc = np.einsum("ij,ij->i", normal, v) / dist
    accept = (r / r_max[b]) * np.clip(cos_inc, 0, None) * _density(d10, dist) / dens[b]
    return np.asarray(p[rng.uniform(0, 1, b.size) < accept], dtype=np.float64)


def _far_side_keep(
    scanner: FloatArray, p: FloatArray, centre_xy: FloatArray, rng: np.random.Generator
) -> BoolArray:
    away = p[:, :2] - centre_xy
    towards = scanner[:2] - centre_xy
    far = np.einsum("ij,ij->i", away, towards) < 0
    return np.asarray(~far | (rng.uniform(0, 1, len(p)) < FAR_SIDE_KEEP), dtype=bool)


def _scan_foliage(
    scanner: FloatArray, stand: _Stand, parts: _Parts, d10: float, rng: np.random.Generator
) -> FloatArray:
    if parts.cl_tree.size == 0:
        return np.empty((0, 3))
    tree_dist = np.linalg.norm(stand.crown_centre - scanner, axis=1)
    expected = LEAF_FILL * stand.envelope_area * _density(d10, tree_dist)
    wsum = np.bincount(parts.cl_tree, weights=parts.cl_weight, minlength=stand.n)
    lam = expected[parts.cl_tree] * parts.cl_weight / wsum[parts.cl_tree]
    c = np.repeat(np.arange(parts.cl_tree.size), rng.poisson(lam))
    j = parts.cl_tree[c]
    p = parts.cl_centre[c] + parts.cl_sigma[c][:, None] * rng.normal(size=(c.size, 3))
    keep = stand.inside_crown(j, p)
    p, j = p[keep], j[keep]
    h = p[:, 2] - stand.base[j, 2]
    axis_xy = stand.base[j, :2] + h[:, None] * stand.lean_xy[j]
    centre_xy = np.where(stand.conifer[j][:, None], axis_xy, stand.crown_centre[j, :2])
    return np.asarray(p[_far_side_keep(scanner, p, centre_xy, rng)], dtype=np.float64)


def _scan_shrubs(
    scanner: FloatArray, parts: _Parts, d10: float, rng: np.random.Generator
) -> FloatArray:
    q = parts.sh_radius.size
    if q == 0:
        return np.empty((0, 3))
    a, h = parts.sh_radius, parts.sh_height
    area = 2 * np.pi * a * np.maximum(a, h)
    dist = np.linalg.norm(parts.sh_centre - scanner, axis=1)
    s = np.repeat(np.arange(q), rng.poisson(LEAF_FILL * area * _density(d10, dist)))
    v = _unit(rng.normal(size=(s.size, 3)))
    v[:, 2] = np.abs(v[:, 2])
    rho = rng.uniform(0.6, 1.0, s.size)
    p = parts.sh_centre[s] + rho[:, None] * v * np.column_stack([a[s], a[s], h[s]])
    return np.asarray(p[_far_side_keep(scanner, p, parts.sh_centre[s, :2], rng)])


def _occluded(scanner: FloatArray, p: FloatArray, owner: IntArray, stand: _Stand) -> BoolArray:
    """Points whose ray from the scanner crosses a nearer stem (2-D ray–circle test per height).

    For each stem, only points in the azimuth wedge the stem covers (from its base to its top,
    widened by its largest radius) are tested. The stem's centre and horizontal radius are taken
    at the height where the ray passes closest to the stem's axis. Points of a stem are not
    tested against their own stem (back faces were culled when they were sampled).
    """
    n = len(p)
    occluded = np.zeros(n, dtype=bool)
    if n == 0 or stand.n == 0:
        return occluded
    dx = p[:, 0] - scanner[0]
    dy = p[:, 1] - scanner[1]
    dz = p[:, 2] - scanner[2]
    rh = np.hypot(dx, dy)
    azimuth = np.arctan2(dy, dx)
    order = np.argsort(azimuth, kind="stable")
    az_sorted = azimuth[order]
    for j in range(stand.n):
        jj = np.array([j])
        top_h = stand.stem_top_h[j]
        r_big = float(stand.radius(jj, np.array([0.0]))[0]) / stand.cos_lean[j]
        ends = np.vstack([stand.base[j, :2], stand.base[j, :2] + top_h * stand.lean_xy[j]])
        rel = ends - scanner[:2]
        dists = np.hypot(rel[:, 0], rel[:, 1])
        near = float(dists.min()) - r_big
        if near <= 0:
            continue  # the scanner stands inside this stem's footprint (never by construction)
        angles = np.arctan2(rel[:, 1], rel[:, 0])
        half_span = abs(math.remainder(float(angles[1] - angles[0]), 2 * math.pi)) / 2
        mid_angle = float(angles[0]) + math.remainder(float(angles[1] - angles[0]), 2 * math.pi) / 2
        half = half_span + math.asin(min(1.0, r_big / max(float(dists.min()), 1e-9))) + 1e-3
        lo = math.remainder(mid_angle - half, 2 * math.pi)
        hi = math.remainder(mid_angle + half, 2 * math.pi)
        if half >= math.pi:
            idx = order
        elif lo <= hi:
            idx = order[np.searchsorted(az_sorted, lo) : np.searchsorted(az_sorted, hi, "right")]
        else:
            idx = np.concatenate(
                [order[np.searchsorted(az_sorted, lo) :],
                 order[: np.searchsorted(az_sorted, hi, "right")]]
            )
        idx = idx[(rh[idx] > near) & (owner[idx] != j)]
        if idx.size == 0:
            continue
        ddx, ddy, ddz = dx[idx], dy[idx], dz[idx]
        d2 = np.maximum(ddx * ddx + ddy * ddy, 1e-12)
        h = np.full(idx.size, np.clip(scanner[2] - stand.base[j, 2], 0.0, top_h))
        for _ in range(2):
            cx = stand.base[j, 0] + h * stand.lean_xy[j, 0] - scanner[0]
            cy = stand.base[j, 1] + h * stand.lean_xy[j, 1] - scanner[1]
            t = np.clip((cx * ddx + cy * ddy) / d2, 0.0, 1.0)
            h_ray = scanner[2] + t * ddz - stand.base[j, 2]
            h = np.clip(h_ray, 0.0, top_h)
        cx = stand.base[j, 0] + h * stand.lean_xy[j, 0] - scanner[0]
        cy = stand.base[j, 1] + h * stand.lean_xy[j, 1] - scanner[1]
        t = np.clip((cx * ddx + cy * ddy) / d2, 0.0, 1.0)
        h_ray = scanner[2] + t * ddz - stand.base[j, 2]
        gap = np.hypot(t * ddx - cx, t * ddy - cy)
        rho = stand.radius(np.full(idx.size, j), np.clip(h_ray, 0, None) / stand.cos_lean[j])
        hit = (gap < rho / stand.cos_lean[j]) & (h_ray >= -0.5) & (h_ray <= top_h)
        occluded[idx[hit]] = True
    return occluded


def _noise_points(
    scanner: FloatArray, p: FloatArray, cls: UInt8Array, extent: tuple[float, float, float, float],
    z_top: float, ground: _Ground, rng: np.random.Generator,
) -> FloatArray:
    """Class-7 points: mixed-pixel ghosts behind edges, stray points in the air, multipath."""
    n_noise = int(rng.poisson(NOISE_FRACTION * len(p)))
    if n_noise == 0:
        return np.empty((0, 3))
    n_ghost = n_noise * 2 // 5
    n_air = n_noise * 2 // 5
    n_low = n_noise - n_ghost - n_air
    veg = np.flatnonzero(cls != CLASS_GROUND)
    gnd = np.flatnonzero(cls == CLASS_GROUND)
    out = []
    if veg.size and n_ghost:
        src = p[rng.choice(veg, n_ghost)]
        ray = _unit(src - scanner)
        out.append(src + rng.uniform(0.05, 1.5, n_ghost)[:, None] * ray)
    x0, y0, x1, y1 = extent
    ax = rng.uniform(x0, x1, n_air)
    ay = rng.uniform(y0, y1, n_air)
    gz = ground.z(ax, ay)
    out.append(np.column_stack([ax, ay, gz + rng.uniform(0.3, 1.0, n_air) * (z_top - gz + 3)]))
    if gnd.size and n_low:
        src = p[rng.choice(gnd, n_low)]
        out.append(src - np.column_stack([np.zeros((n_low, 2)), rng.uniform(0.2, 1.0, n_low)]))
    return np.asarray(np.vstack(out), dtype=np.float64)


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


# ------------------------------------------------------------------------------------ ALS


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
