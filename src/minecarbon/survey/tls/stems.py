"""Stem detection in a stripe of normalised height (by default 1–3 m above the ground).

1. **Verticality** of every stripe point from a local PCA: the eigenvector of the smallest
   eigenvalue of its ``pca_neighbours`` nearest neighbours is the surface normal; verticality is
   ``1 − |n_z|`` (1 on a vertical surface such as a stem, 0 on the ground or a flat leaf). Points
   below ``min_verticality`` are dropped. The eigen-decompositions run batched, no Python loop.
2. **Clustering** of the remaining points with DBSCAN (radius ``cluster_eps_m``, which scales with
   the point spacing, and ``cluster_min_samples`` core neighbours), written on a k-d tree.
3. **A stem axis per cluster** by a line fit (the first principal axis of the cluster's points),
   so that a leaning stem keeps its lean. Clusters with too few points (``min_stem_points``), too
   short along their axis (``min_stem_extent_m``) or leaning more than ``max_lean_deg`` are not
   stems (branches, shrubs, noise).
4. **Fragments** of one stem (split by an occluding neighbour) whose axes pass within
   ``max(merge_distance_m, r₁ + r₂)`` of each other at breast height are merged and refitted.

:mod:`~minecarbon.survey.tls.dbh` then refines each axis from circle centres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from minecarbon.survey.tls.params import TlsParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BREAST_HEIGHT_M = 1.3


@dataclass(frozen=True)
class StemCandidate:
    """A cluster taken for a stem: a point on its axis, the axis direction (up) and its size."""

    centre: FloatArray
    centre_h: float
    direction: FloatArray
    radius_m: float
    extent_m: float
    n_points: int

    def axis_xy_at(self, h: float) -> FloatArray:
        """Horizontal position of the axis at normalised height ``h`` (planar ground assumed)."""
        t = (h - self.centre_h) / self.direction[2]
        return np.asarray(self.centre[:2] + t * self.direction[:2], dtype=np.float64)

    @property
    def lean_deg(self) -> float:
        """Angle of the axis from the vertical (degrees)."""
        return float(np.degrees(np.arccos(np.clip(self.direction[2], -1.0, 1.0))))


def measure_spacing(points: FloatArray, *, max_queries: int = 50_000) -> float:
    """Median distance from a point to its nearest neighbour.

    At most ``max_queries`` points, evenly picked, are queried, each among all points.
    """
    if len(points) < 2:
        return float("nan")
    step = max(1, len(points) // max_queries)
    dist, _ = cKDTree(points).query(points[::step], k=2)
    return float(np.median(dist[:, 1]))


def verticality(points: FloatArray, k: int) -> FloatArray:
    """``1 − |n_z|`` of each point's local surface normal from its ``k`` nearest neighbours."""
    n = len(points)
    if n == 0:
        return np.zeros(0)
    k = int(min(max(k, 3), n))
    _, idx = cKDTree(points).query(points, k=k)
    out = np.empty(n)
    for start in range(0, n, 200_000):  # bounded temporaries: (chunk, k, 3)
        nb = points[idx[start : start + 200_000]]
        nb = nb - nb.mean(axis=1, keepdims=True)
        cov = np.einsum("nki,nkj->nij", nb, nb) / k
        _, vecs = np.linalg.eigh(cov)
        out[start : start + len(nb)] = 1.0 - np.abs(vecs[:, 2, 0])
    return out


def dbscan(points: FloatArray, eps: float, min_samples: int) -> IntArray:
    """DBSCAN labels (−1: noise).

    Core points have ``min_samples`` points (themselves included) within ``eps``; clusters are
    the connected core points plus the border points they reach.
    """
    n = len(points)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    pairs = cKDTree(points).query_pairs(eps, output_type="ndarray")
    degree = np.bincount(pairs.ravel(), minlength=n) + 1
    core = degree >= min_samples
    both = core[pairs[:, 0]] & core[pairs[:, 1]]
    cp = pairs[both]
    graph = coo_matrix((np.ones(len(cp)), (cp[:, 0], cp[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    _, core_label = np.unique(comp[core], return_inverse=True)
    labels[core] = core_label.ravel()
    # border points: a non-core point within eps of a core point joins that core's cluster
    one = core[pairs[:, 0]] & ~core[pairs[:, 1]]
    two = core[pairs[:, 1]] & ~core[pairs[:, 0]]
    labels[pairs[one, 1]] = labels[pairs[one, 0]]
    labels[pairs[two, 0]] = labels[pairs[two, 1]]
    return labels


def _line_fit(points: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Centroid, unit direction (z ≥ 0) and eigenvalues (descending) of a point set."""
    centre = points.mean(axis=0)
    vals, vecs = np.linalg.eigh(np.cov((points - centre).T))
    direction = vecs[:, 2]
    if direction[2] < 0:
        direction = -direction
    return centre, direction, vals[::-1]


def _candidate(points: FloatArray, h: FloatArray) -> StemCandidate:
    centre, direction, _ = _line_fit(points)
    rel = points - centre
    along = rel @ direction
    perp = rel - along[:, None] * direction
    return StemCandidate(
        centre=centre,
        centre_h=float(h.mean()),
        direction=direction,
        radius_m=float(np.median(np.linalg.norm(perp, axis=1))),
        extent_m=float(np.ptp(along)),
        n_points=len(points),
    )


def detect_stems(points: FloatArray, h: FloatArray, params: TlsParams) -> list[StemCandidate]:
    """Stem candidates among stripe points ``points`` (n, 3) with normalised heights ``h``."""
    in_stripe = (h >= params.stripe_low_m) & (h <= params.stripe_high_m)
    pts, hh = points[in_stripe], h[in_stripe]
    if len(pts) < params.cluster_min_samples:
        return []
    vert = verticality(pts, params.pca_neighbours)
    upright = vert >= params.min_verticality
    pts, hh = pts[upright], hh[upright]
    labels = dbscan(pts, params.cluster_eps_m, params.cluster_min_samples)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g for g in np.split(order, bounds) if len(g) and labels[g[0]] >= 0]
    groups = [g for g in groups if len(g) >= max(params.cluster_min_samples, 5)]
    cands = [(g, _candidate(pts[g], hh[g])) for g in groups]
    cands = [(g, c) for g, c in cands if c.lean_deg <= max(params.max_lean_deg, 45.0)]
    merged = _merge(cands, params)
    out: list[StemCandidate] = []
    for g in merged:
        c = _candidate(pts[g], hh[g])
        if (c.n_points >= params.min_stem_points and c.extent_m >= params.min_stem_extent_m
                and c.lean_deg <= params.max_lean_deg):
            out.append(c)
    return out


def _merge(cands: list[tuple[IntArray, StemCandidate]], params: TlsParams) -> list[IntArray]:
    """Union the point groups of candidates whose axes meet at breast height."""
    if not cands:
        return []
    # a short fragment's direction is unreliable: take it as vertical
    xy = np.array([c.axis_xy_at(BREAST_HEIGHT_M) if c.extent_m >= 0.5 else c.centre[:2]
                   for _, c in cands])
    radius = np.array([c.radius_m for _, c in cands])
    tree = cKDTree(xy)
    reach = max(params.merge_distance_m, 2.0 * float(radius.max()))
    pairs = tree.query_pairs(reach, output_type="ndarray")
    if len(pairs):
        d = np.linalg.norm(xy[pairs[:, 0]] - xy[pairs[:, 1]], axis=1)
        limit = np.maximum(params.merge_distance_m, radius[pairs[:, 0]] + radius[pairs[:, 1]])
        pairs = pairs[d <= limit]
    n = len(cands)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    return [np.concatenate([cands[i][0] for i in np.flatnonzero(comp == k)])
            for k in range(int(comp.max()) + 1)]
