"""Optimal one-to-one matching of reference trees with detected ones (TLS stems, ALS tops).

Shared by :mod:`minecarbon.survey.tls.matching` (TLS trees against the tally) and
:mod:`minecarbon.features.tree_tops` (ALS tree tops against reference trees).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError


def match_trees(
    reference_xy: Any,
    reference_height_m: Any,
    detected_xy: Any,
    detected_height_m: Any,
    *,
    max_distance_m: float = 3.0,
    max_height_difference_m: float | None = None,
) -> pd.DataFrame:
    """Optimal one-to-one matching of reference trees with detected tops.

    A pair is admissible when the tops lie within ``max_distance_m`` horizontally and (when
    given) their heights differ by at most ``max_height_difference_m``. Among the matchings of
    admissible pairs, the one with the most pairs and, for that number, the smallest total
    distance is returned (Hungarian algorithm on each connected group of admissible pairs).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``reference`` and ``detected`` (positional indices), ``distance_m``
        and ``height_difference_m`` (detected − reference), in the order of ``reference``.

    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    rxy = np.asarray(reference_xy, dtype=np.float64).reshape(-1, 2)
    dxy = np.asarray(detected_xy, dtype=np.float64).reshape(-1, 2)
    rh = np.asarray(reference_height_m, dtype=np.float64).reshape(-1)
    dh = np.asarray(detected_height_m, dtype=np.float64).reshape(-1)
    if rh.size != rxy.shape[0] or dh.size != dxy.shape[0]:
        raise InputDataError(
            f"{rxy.shape[0]} reference positions with {rh.size} heights, {dxy.shape[0]} "
            f"detected positions with {dh.size} heights",
            fix="give one height per tree",
        )
    columns: dict[str, list[float]] = {
        "reference": [],
        "detected": [],
        "distance_m": [],
        "height_difference_m": [],
    }
    if rh.size == 0 or dh.size == 0:
        return pd.DataFrame(columns).astype({"reference": int, "detected": int})
    near = cKDTree(rxy).query_ball_tree(cKDTree(dxy), max_distance_m)
    i = np.array([a for a, hits in enumerate(near) for _ in hits], dtype=np.int64)
    j = np.array([b for hits in near for b in hits], dtype=np.int64)
    d = np.hypot(*(dxy[j] - rxy[i]).T) if i.size else np.zeros(0)
    if max_height_difference_m is not None:
        ok = np.abs(dh[j] - rh[i]) <= max_height_difference_m
        i, j, d = i[ok], j[ok], d[ok]
    n_r, n_d = rh.size, dh.size
    graph = coo_matrix((np.ones(i.size), (i, n_r + j)), shape=(n_r + n_d, n_r + n_d))
    _, component = connected_components(graph, directed=False)
    big = (max_distance_m + 1.0) * (min(n_r, n_d) + 1)
    out_i: list[int] = []
    out_j: list[int] = []
    for comp in np.unique(component[i]):
        sel = component[i] == comp
        ri, dj = np.unique(i[sel]), np.unique(j[sel])
        cost = np.full((ri.size, dj.size), big)
        cost[np.searchsorted(ri, i[sel]), np.searchsorted(dj, j[sel])] = d[sel]
        a, b = linear_sum_assignment(cost)
        real = cost[a, b] < big
        out_i.extend(ri[a[real]].tolist())
        out_j.extend(dj[b[real]].tolist())
    mi, mj = np.asarray(out_i, dtype=np.int64), np.asarray(out_j, dtype=np.int64)
    order = np.argsort(mi, kind="stable")
    mi, mj = mi[order], mj[order]
    return pd.DataFrame(
        {
            "reference": mi,
            "detected": mj,
            "distance_m": np.hypot(*(dxy[mj] - rxy[mi]).T) if mi.size else np.zeros(0),
            "height_difference_m": dh[mj] - rh[mi],
        }
    )
