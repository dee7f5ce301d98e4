"""Robust circle fitting for stem slices.

:func:`fit_circle` draws ``draws`` triples of points (RANSAC), takes the circle through the
triple that has the most points within ``inlier_m`` of it, then refines it by a geometric
least-squares fit (Gauss–Newton on the distances to the circle) with Tukey-biweight weights,
reweighted at each step, so that branches, foliage and mixed-pixel ghosts in the slice have no
pull. The inliers' angular coverage (share of ``sectors`` equal sectors around the centre that
hold an inlier) tells a full ring from a short arc, on which the radius is poorly determined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CircleFit:
    """A circle in a slice's plane.

    Centre, radius, RMS residual of the inliers, their count and the share of angular sectors
    they cover.
    """

    x: float
    y: float
    radius_m: float
    rms_m: float
    n_inliers: int
    coverage: float


def _circumcircles(p: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Centres and radii of the circles through point triples ``p`` (k, 3, 2)."""
    ax, ay, bx, by, cx, cy = (p[:, i, j] for i in range(3) for j in range(2))
    d = 2.0 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    with np.errstate(divide="ignore", invalid="ignore"):
        a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
        ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
        uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    return ux, uy, np.hypot(ax - ux, ay - uy)


def _geometric(xy: FloatArray, a: float, b: float, r: float, scale: float
               ) -> tuple[float, float, float]:
    """Geometric circle fit by Gauss–Newton with Tukey-biweight weights (scale: cut-off)."""
    for _ in range(20):
        dx, dy = xy[:, 0] - a, xy[:, 1] - b
        d = np.maximum(np.hypot(dx, dy), 1e-12)
        res = d - r
        u = res / scale
        w = np.where(np.abs(u) < 1.0, (1.0 - u * u) ** 2, 0.0)
        if w.sum() < 3:
            break
        jac = np.column_stack([-dx / d, -dy / d, -np.ones_like(d)])
        jw = jac * w[:, None]
        try:
            step = np.linalg.solve(jw.T @ jac + 1e-9 * np.eye(3), -(jw.T @ res))
        except np.linalg.LinAlgError:
            break
        a, b, r = a + step[0], b + step[1], r + step[2]
        if np.abs(step).max() < 1e-6:
            break
    return float(a), float(b), float(abs(r))


def fit_circle(
    xy: FloatArray, *, inlier_m: float, draws: int, rng: np.random.Generator,
    max_radius_m: float, sectors: int = 16,
) -> CircleFit | None:
    """Robust circle through 2-D points: RANSAC, then an iteratively reweighted geometric fit."""
    m = len(xy)
    if m < 3:
        return None
    shift = xy.mean(axis=0)
    p = xy - shift
    triples = rng.integers(0, m, size=(draws, 3))
    ux, uy, r = _circumcircles(p[triples])
    good = np.isfinite(r) & (r <= max_radius_m) & (r > 0.005)
    if not good.any():
        return None
    ux, uy, r = ux[good], uy[good], r[good]
    dist = np.abs(np.hypot(p[None, :, 0] - ux[:, None], p[None, :, 1] - uy[:, None]) - r[:, None])
    best = int(np.argmax((dist < inlier_m).sum(axis=1)))
    a, b, rad = float(ux[best]), float(uy[best]), float(r[best])
    for _ in range(2):
        a, b, rad = _geometric(p, a, b, rad, 3.0 * inlier_m)
    res = np.hypot(p[:, 0] - a, p[:, 1] - b) - rad
    inl = np.abs(res) < inlier_m
    if inl.sum() < 3 or not 0 < rad <= max_radius_m:
        return None
    angle = np.arctan2(p[inl, 1] - b, p[inl, 0] - a)
    sector = np.floor((angle + np.pi) / (2 * np.pi) * sectors).astype(np.int64) % sectors
    return CircleFit(
        x=a + float(shift[0]), y=b + float(shift[1]), radius_m=rad,
        rms_m=float(np.sqrt(np.mean(res[inl] ** 2))), n_inliers=int(inl.sum()),
        coverage=np.unique(sector).size / sectors,
    )
