"""Tree height: the highest point of the tree's crown above the ground at its stem base.

Crown points (the coarse voxels left after outlier removal, so stray points in the air do not
count) are shared among the stems by a weighted nearest-axis rule in 2-D, a Voronoi partition
in which every stem claims space in proportion to its expected crown radius:

* each stem's axis is extended upwards along its fitted direction, so the crown of a leaning tree
  is looked for where it is, not above the stem base; the distance of a point is taken to the
  axis at the point's own height;
* the expected crown radius is ``R = crown_radius_base_m + crown_radius_per_cm · DBH`` (at most
  ``max_crown_radius_m``; stems without a DBH get the median DBH of the plot);
* a point goes to the stem with the smallest ``distance / R``, and to none when that is above 1
  (the point is further than R from every axis).

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


def crown_radius(dbh_cm: FloatArray, params: TlsParams) -> FloatArray:
    """Expected crown radius (m) used to share crown points among stems."""
    dbh = np.asarray(dbh_cm, dtype=np.float64)
    fill = float(np.nanmedian(dbh)) if np.isfinite(dbh).any() else 20.0
    dbh = np.where(np.isfinite(dbh), dbh, fill)
    radius = params.crown_radius_base_m + params.crown_radius_per_cm * dbh
    return np.asarray(np.minimum(radius, params.max_crown_radius_m), dtype=np.float64)


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


def tree_heights(
    points: FloatArray, bases: FloatArray, directions: FloatArray, dbh_cm: FloatArray,
    params: TlsParams,
) -> FloatArray:
    """Height (m) of each stem: its highest assigned point above its base (NaN: no points)."""
    k = len(bases)
    heights = np.full(k, np.nan)
    if k == 0:
        return heights
    owner = assign_crowns(points, bases, directions, crown_radius(dbh_cm, params))
    mine = owner >= 0
    if mine.any():
        rise = points[mine, 2] - bases[owner[mine], 2]
        top = np.full(k, -np.inf)
        np.maximum.at(top, owner[mine], rise)
        heights = np.where(np.isfinite(top), top, np.nan)
    return np.asarray(heights, dtype=np.float64)
