"""Crown geometry of the TLS scene: branches, foliage clusters and shrubs.

:func:`_build_parts` draws, once per plot, the fixed parts inside the crown envelopes of a
:class:`~minecarbon.demo._tls_stand._Stand`: conifer whorls of drooping branches, broadleaf limbs
with secondary and lower branches, foliage clusters along them and over the crown shell, and low
shrubs kept away from stems and scanners. Every scan then samples the same :class:`_Parts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from minecarbon.demo._pointcloud_params import (
    SHRUB_DENSITY_PER_M2,
    SHRUB_MAX_HEIGHT_M,
    FloatArray,
    IntArray,
)
from minecarbon.demo._tls_stand import _Ground, _Stand


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
