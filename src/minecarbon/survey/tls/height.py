"""Tree height: the highest point of the tree's crown above the ground at its stem base.

Crown points (the coarse voxels left after outlier removal, so stray points in the air do not
count) are shared among the stems by a weighted nearest-axis rule in 2-D, a Voronoi partition
in which every stem claims space in proportion to its expected crown radius:

* each stem's axis is extended upwards along its fitted direction, so the crown of a leaning tree
  is looked for where it is, not above the stem base; the distance of a point is taken to the
  axis at the point's own height;
* each stem claims space with the weight ``R = crown_weight_base_m + crown_weight_per_cm2 · DBH²``
  (at most ``max_crown_radius_m``; stems without a DBH get the plot's 10th-percentile DBH). R grows
  with the basal area rather than like a crown radius, so that where crowns overlap the larger
  tree — usually the taller one, whose crown is on top — claims the points;
* a point goes to the stem with the smallest ``distance / R``, and to none when that is above 1.

Overlapping crowns make the height of a suppressed tree uncertain: its cell may hold points of a
neighbour's crown above its own top. ``height_quality`` says so: ``'overtopped'`` when the tree's
top lies within the nominal crown radius (``0.8 + 0.1 · DBH`` m) of a thicker neighbour's axis
*and* that neighbour's top is more than ``overtop_margin_m`` (0.5 m) higher — the top is then
likely a point on the neighbour's crown; ``'missing'`` when no crown point was found, otherwise
``'ok'``. Neighbours of about the same height do not overtop each other: in an even-aged pine
plot (TreeLS, 15 trees on 10 × 10 m) the rule without the height condition flagged 12 trees of
15, with it 6, and on the simulated stands it flags fewer sound trees for the same overtopped
ones. On simulated stands the heights flagged 'ok' are within about 1 m; 'overtopped' ones can
be several metres too high.

The height of a tree is the highest of its points above the ground at its stem base (the field
convention: a hypsometer reads the top's height above the stem foot), or NaN when it has no crown
point above 1.3 m.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from minecarbon.survey.tls.params import TlsParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _filled(dbh_cm: FloatArray) -> FloatArray:
    """DBH with the gaps set to the plot's 10th percentile.

    Failed fits are mostly thin or hidden stems; a low stand-in keeps them from claiming their
    neighbours' crowns.
    """
    dbh = np.asarray(dbh_cm, dtype=np.float64)
    fill = float(np.nanpercentile(dbh, 10)) if np.isfinite(dbh).any() else 10.0
    return np.asarray(np.where(np.isfinite(dbh), dbh, fill), dtype=np.float64)


def crown_weight(dbh_cm: FloatArray, params: TlsParams) -> FloatArray:
    """Weight (m) with which each stem claims crown points (see the module docstring)."""
    dbh = _filled(dbh_cm)
    radius = params.crown_weight_base_m + params.crown_weight_per_cm2 * dbh**2
    return np.asarray(np.minimum(radius, params.max_crown_radius_m), dtype=np.float64)


def nominal_crown_radius(dbh_cm: FloatArray) -> FloatArray:
    """A typical crown radius (m) for a DBH (cm): 0.8 + 0.1 · DBH."""
    return np.asarray(0.8 + 0.1 * _filled(dbh_cm), dtype=np.float64)


def assign_crowns(
    points: FloatArray, bases: FloatArray, directions: FloatArray, radii: FloatArray,
    *, min_height_m: float = 1.3,
) -> IntArray:
    """The stem (row of ``bases``) each point belongs to, or −1.

    ``points`` (n, 3) and ``bases`` (k, 3) are map coordinates; ``directions`` (k, 3) are unit
    axes pointing up; ``radii`` (k,) the expected crown radii.
    """
    n, k = len(points), len(bases)
    owner = np.full(n, -1, dtype=np.int64)
    if n == 0 or k == 0:
        return owner
    best = np.full(n, np.inf)
    tree = cKDTree(points[:, :2])
    z_top = float(points[:, 2].max())
    for j in range(k):
        u = directions[j]
        rise = max(z_top - bases[j, 2], 0.0)
        drift = rise * float(np.hypot(u[0], u[1])) / max(float(u[2]), 1e-6)
        centre = bases[j, :2] + 0.5 * drift * u[:2] / max(float(np.hypot(u[0], u[1])), 1e-12)
        idx = np.asarray(tree.query_ball_point(centre, radii[j] + 0.5 * drift), dtype=np.int64)
        if idx.size == 0:
            continue
        dz = points[idx, 2] - bases[j, 2]
        axis = bases[j, :2] + (dz / u[2])[:, None] * u[:2]
        score = np.hypot(points[idx, 0] - axis[:, 0], points[idx, 1] - axis[:, 1]) / radii[j]
        score[(dz < min_height_m) | (score > 1.0)] = np.inf
        better = score < best[idx]
        best[idx[better]] = score[better]
        owner[idx[better]] = j
    return owner


def _axis_distance(p: FloatArray, base: FloatArray, u: FloatArray) -> float:
    axis = base[:2] + ((p[2] - base[2]) / u[2]) * u[:2]
    return float(np.hypot(p[0] - axis[0], p[1] - axis[1]))


def tree_heights(
    points: FloatArray, bases: FloatArray, directions: FloatArray, dbh_cm: FloatArray,
    params: TlsParams,
) -> tuple[FloatArray, list[str]]:
    """Height (m) and height quality of each stem.

    The height is the highest assigned point above the stem's base (NaN without points); the
    quality is 'ok', 'overtopped' or 'missing' (see the module docstring).
    """
    k = len(bases)
    heights = np.full(k, np.nan)
    if k == 0:
        return heights, []
    owner = assign_crowns(points, bases, directions, crown_weight(dbh_cm, params))
    top_point = np.full(k, -1, dtype=np.int64)
    mine = np.flatnonzero(owner >= 0)
    if mine.size:
        rise = points[mine, 2] - bases[owner[mine], 2]
        order = np.lexsort((-rise, owner[mine]))
        first = np.ones(order.size, dtype=bool)
        first[1:] = owner[mine][order][1:] != owner[mine][order][:-1]
        top_point[owner[mine][order][first]] = mine[order][first]
        heights[owner[mine][order][first]] = rise[order][first]
    top_z = np.full(k, -np.inf)
    top_z[top_point >= 0] = points[top_point[top_point >= 0], 2]
    dbh = _filled(dbh_cm)
    nominal = nominal_crown_radius(dbh_cm)
    quality: list[str] = []
    for j in range(k):
        if top_point[j] < 0:
            quality.append("missing")
            continue
        p = points[top_point[j]]
        over = any(
            dbh[i] > dbh[j] and top_z[i] > p[2] + params.overtop_margin_m
            and _axis_distance(p, bases[i], directions[i]) <= nominal[i]
            for i in range(k) if i != j and np.hypot(*(bases[i, :2] - bases[j, :2]))
            <= nominal[i] + 2 * float(heights[j])
        )
        quality.append("overtopped" if over else "ok")
    return heights, quality
