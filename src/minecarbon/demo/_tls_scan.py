"""One TLS scan of the fixed scene: range-dependent sampling, stem occlusion and noise points.

Each ``_scan_*`` function samples one kind of surface (ground, stems, branches, foliage, shrubs)
from one scanner position with a density that falls with range (:func:`_density`), culling
surfaces that face away; :func:`_occluded` drops points hidden behind nearer stems, and
:func:`_noise_points` adds the class-7 ghosts, stray and multipath points. The draws of a scan
come from the one generator handed in, in a fixed order.
"""

from __future__ import annotations

import math

import numpy as np

from minecarbon.demo._pointcloud_params import (
    _SEGMENT_M,
    CLASS_GROUND,
    FAR_SIDE_KEEP,
    GROUND_DENSITY_FACTOR,
    LEAF_FILL,
    MIN_RANGE_M,
    NOISE_FRACTION,
    BoolArray,
    FloatArray,
    IntArray,
    UInt8Array,
)
from minecarbon.demo._tls_crowns import _Parts, _unit
from minecarbon.demo._tls_stand import _Ground, _Stand


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
