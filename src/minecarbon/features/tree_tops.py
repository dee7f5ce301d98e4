"""Tree tops from a canopy height model, and their honest check against reference trees.

* :func:`find_tree_tops` — local maxima of the model within a window whose size grows with the
  height of the cell tested (the variable window of Popescu & Wynne 2004: tall trees have wide
  crowns, so a window fitted to them would merge small trees, and one fitted to small trees
  splits big crowns into several tops). :func:`linear_window` gives the window radius as a
  straight line of the height, clipped; :data:`DEFAULT_WINDOW` is the one validated in
  docs/als-validation.md.
* :func:`match_trees` — an optimal one-to-one matching of reference trees (a field tally, a
  segmented cloud) with detected tops: the largest number of pairs within a distance and
  height tolerance, and among those the smallest total distance (the Hungarian algorithm,
  :func:`scipy.optimize.linear_sum_assignment`). A greedy matching (tallest tree first, nearest
  free top) depends on the order of the trees and gives other figures for the same trees.
* :func:`detection_scores` — detection rate, commission, omission, F-score, height bias and
  RMSE of a matching.
* :func:`chm_max_near` — the highest model value near known stem positions.

References
----------
Popescu, S. C., Wynne, R. H. (2004). Seeing the trees in the forest: using lidar and multispectral
data fusion with local filtering and variable window size for estimating tree height. PE&RS
70(5), 589–604.
Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval Research Logistics
Quarterly 2, 83–97.
Goutte, C., Gaussier, E. (2005). A probabilistic interpretation of precision, recall and F-score.
ECIR 2005, LNCS 3408, 345–359.

"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.matching import match_trees as match_trees

FloatArray = npt.NDArray[np.float64]

#: A window radius (m) as a function of the height (m) of the cell tested.
WindowFunction = Callable[[FloatArray], FloatArray]


def chm_max_near(chm: xr.DataArray, x: Any, y: Any, radius_m: float) -> FloatArray:
    """Highest canopy-model value within ``radius_m`` of each position.

    A cell counts when its centre lies within the radius; NaN cells are ignored, and a position
    with no valid cell near it (off the model) gives NaN.

    Parameters
    ----------
    chm
        A canopy height model from :func:`~minecarbon.features.chm.canopy_height_model`
        (square cells, north up).
    x, y
        Positions (m), e.g. the stem positions of a field tally.
    radius_m
        Search radius (m); it absorbs position errors and the offset between the stem base and
        the top of a leaning tree.

    """
    xs = np.asarray(chm["x"].values, dtype=np.float64)
    ys = np.asarray(chm["y"].values, dtype=np.float64)
    if xs.size < 2 or ys.size < 2:
        raise InputDataError(
            f"the canopy height model has {ys.size} × {xs.size} cells, at least 2 × 2 are needed",
            fix="build the model over a larger box or with smaller cells",
        )
    size = float(xs[1] - xs[0])
    x_min = float(xs[0] - size / 2)
    y_max = float(ys[0] + size / 2)
    values = np.asarray(chm.values, dtype=np.float64)
    height, width = values.shape
    px = np.atleast_1d(np.asarray(x, dtype=np.float64))
    py = np.atleast_1d(np.asarray(y, dtype=np.float64))
    k = math.ceil(radius_m / size) + 1
    offsets = np.arange(-k, k + 1)
    dr, dc = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    row0 = np.floor((y_max - py) / size).astype(np.int64)
    col0 = np.floor((px - x_min) / size).astype(np.int64)
    rows = row0[:, None] + dr[None, :]
    cols = col0[:, None] + dc[None, :]
    cx = x_min + (cols + 0.5) * size
    cy = y_max - (rows + 0.5) * size
    near = np.hypot(cx - px[:, None], cy - py[:, None]) <= radius_m
    valid = near & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    picked = np.where(
        valid, values[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)], np.nan
    )
    out = np.full(px.shape, np.nan)
    any_valid = np.isfinite(picked).any(axis=1)
    out[any_valid] = np.nanmax(picked[any_valid], axis=1)
    return out


@dataclass(frozen=True)
class LinearWindow:
    """A window radius growing linearly with height: ``intercept_m + per_m * h``, clipped.

    Called with an array of heights (m), it returns the radii (m).
    """

    intercept_m: float
    per_m: float
    min_m: float
    max_m: float

    def __call__(self, height_m: FloatArray) -> FloatArray:
        """Radius (m) of the window for cells of ``height_m``."""
        radius = self.intercept_m + self.per_m * np.asarray(height_m, dtype=np.float64)
        return np.asarray(np.clip(radius, self.min_m, self.max_m), dtype=np.float64)


def linear_window(
    intercept_m: float, per_m: float, *, min_m: float = 1.0, max_m: float = 4.0
) -> LinearWindow:
    """A variable window whose radius is ``intercept_m + per_m · height``, within [min, max]."""
    if not (0 < min_m <= max_m) or per_m < 0:
        raise InputDataError(
            f"window radius bounds {min_m}–{max_m} m with slope {per_m} are not usable",
            fix="give 0 < min_m ≤ max_m and a slope ≥ 0",
        )
    return LinearWindow(float(intercept_m), float(per_m), float(min_m), float(max_m))


#: The default tree-top window: radius 1 m + 5 % of the height, between 1 and 4 m (2 m for a
#: 20 m tree). Chosen on lidR's MixedConifer tile and checked on the Chablais 3 tally
#: (docs/als-validation.md, which shows the alternatives tried).
DEFAULT_WINDOW = linear_window(1.0, 0.05, min_m=1.0, max_m=4.0)

#: Lowest canopy height (m) a tree top may have.
MIN_TOP_HEIGHT_M = 2.0


def find_tree_tops(
    chm: xr.DataArray,
    *,
    window_radius_m: float | WindowFunction = DEFAULT_WINDOW,
    min_height_m: float = MIN_TOP_HEIGHT_M,
    smooth_sigma_m: float = 0.0,
) -> pd.DataFrame:
    """Tree tops as local maxima of a canopy height model, in a fixed or variable window.

    A cell is a top when no cell within ``window_radius_m`` of it is higher and it is at least
    ``min_height_m`` high. ``window_radius_m`` is a radius (m) or a function of the cell's
    height giving the radius (:func:`linear_window`; the default :data:`DEFAULT_WINDOW`). A
    flat top spread over several touching cells gives one top, at its first cell in row-major
    order. Empty (NaN) cells are never tops and never hide one; fill them first
    (:func:`~minecarbon.features.chm.canopy_height_model` does by default).

    Parameters
    ----------
    chm
        Canopy height model (square cells, north up).
    window_radius_m
        Window radius (m), or a function of the height (m) giving it.
    min_height_m
        Lowest top (m).
    smooth_sigma_m
        When positive, the maxima are sought on the model smoothed by a Gaussian of this σ (m)
        (empty cells read as 0 for the smoothing only); heights are still the unsmoothed model's.

    Returns
    -------
    pandas.DataFrame
        One row per top: ``x_m``, ``y_m`` (cell centre), ``height_m`` and ``window_m`` (the
        radius used), highest first.

    """
    from scipy import ndimage

    xs = np.asarray(chm["x"].values, dtype=np.float64)
    ys = np.asarray(chm["y"].values, dtype=np.float64)
    size = float(abs(xs[1] - xs[0])) if xs.size > 1 else 1.0
    raw = np.asarray(chm.values, dtype=np.float64)
    empty = ~np.isfinite(raw)
    surface = np.where(empty, 0.0, raw)
    if smooth_sigma_m > 0:
        surface = ndimage.gaussian_filter(surface, smooth_sigma_m / size, mode="nearest")
    surface = np.where(empty, -np.inf, surface)
    high = surface >= min_height_m
    rows, cols = np.nonzero(high)
    heights = surface[rows, cols]
    if callable(window_radius_m):
        radius = np.asarray(window_radius_m(heights), dtype=np.float64)
    else:
        radius = np.full(heights.shape, float(window_radius_m))
    if radius.shape != heights.shape or not np.all(radius > 0):
        raise InputDataError(
            "the tree-top window must be a positive radius (m) for every height",
            fix="pass a positive number or a function such as linear_window(1.0, 0.05)",
        )
    if rows.size:
        # candidates: maxima within the smallest window used (every top is one of them)
        k = math.isqrt(int(np.floor((radius.min() / size) ** 2 + 1e-9)))
        off = np.arange(-k, k + 1)
        disc = np.hypot(*np.meshgrid(off, off, indexing="ij")) <= radius.min() / size + 1e-9
        local = (surface == ndimage.maximum_filter(surface, footprint=disc, mode="nearest"))
        cand = local[rows, cols]
        rows, cols, heights, radius = rows[cand], cols[cand], heights[cand], radius[cand]
    keep = _no_higher_within(surface, rows, cols, heights, radius / size)
    r, c = _one_per_plateau(surface, rows[keep], cols[keep])
    if r.size == 0:
        return pd.DataFrame({"x_m": [], "y_m": [], "height_m": [], "window_m": []})
    window = np.zeros(surface.shape)
    window[rows[keep], cols[keep]] = radius[keep]
    tops = pd.DataFrame(
        {"x_m": xs[c], "y_m": ys[r], "height_m": raw[r, c], "window_m": window[r, c]}
    )
    return tops.sort_values("height_m", ascending=False, ignore_index=True)


def _one_per_plateau(
    surface: FloatArray, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One cell of each group of touching tops of equal height, the first in row-major order.

    Touching tops of different heights (possible when the window does not reach the diagonal
    neighbours) stay separate tops.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = rows.size
    if n == 0:
        return rows, cols
    order = np.lexsort((cols, rows))  # row-major
    rows, cols = rows[order], cols[order]
    height, width = surface.shape
    index = np.full((height + 2, width + 2), -1, dtype=np.int64)  # padded: no edge checks
    index[rows + 1, cols + 1] = np.arange(n)
    level = np.full((height + 2, width + 2), np.nan)
    level[rows + 1, cols + 1] = surface[rows, cols]
    a_parts, b_parts = [], []
    for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
        j = index[rows + 1 + dr, cols + 1 + dc]
        same = (j >= 0) & (level[rows + 1 + dr, cols + 1 + dc] == surface[rows, cols])
        a_parts.append(np.flatnonzero(same))
        b_parts.append(j[same])
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    first = np.unique(label, return_index=True)[1]  # the lowest index is the row-major first
    return rows[first], cols[first]


def _no_higher_within(
    surface: FloatArray,
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    heights: FloatArray,
    radius_cells: FloatArray,
) -> npt.NDArray[np.bool_]:
    """Whether each candidate is the highest cell within its radius (in cells).

    A cell offset (dr, dc) lies in the disc when dr² + dc² ≤ radius², and dr² + dc² is a
    whole number, so candidates are grouped by ⌊radius²⌋ and each group is tested at once.
    """
    keep = np.zeros(rows.size, dtype=bool)
    if rows.size == 0:
        return keep
    reach = np.floor(radius_cells**2 + 1e-9).astype(np.int64)
    pad = math.isqrt(int(reach.max()))
    padded = np.pad(surface, pad, mode="constant", constant_values=-np.inf)
    for m in np.unique(reach):
        k = math.isqrt(int(m))
        off = np.arange(-k, k + 1)
        dr, dc = (a.ravel() for a in np.meshgrid(off, off, indexing="ij"))
        inside = dr * dr + dc * dc <= m
        dr, dc = dr[inside], dc[inside]
        sel = np.nonzero(reach == m)[0]
        around = padded[rows[sel, None] + pad + dr[None, :], cols[sel, None] + pad + dc[None, :]]
        keep[sel] = around.max(axis=1) <= heights[sel]
    return keep


@dataclass(frozen=True)
class DetectionScores:
    """How well detected tops reproduce reference trees (from :func:`detection_scores`)."""

    n_reference: int
    n_detected: int
    n_matched: int
    #: matched / reference trees (recall)
    detection_rate: float
    #: reference trees without a top / reference trees (1 − detection rate)
    omission_rate: float
    #: tops without a tree / tops (1 − precision)
    commission_rate: float
    #: harmonic mean of recall and precision
    f_score: float
    #: mean height difference detected − reference (m)
    bias_m: float
    #: root mean square height difference (m)
    rmse_m: float

    def as_dict(self) -> dict[str, float]:
        """The scores as a plain dictionary."""
        return {k: float(v) for k, v in self.__dict__.items()}


def detection_scores(matches: pd.DataFrame, n_reference: int, n_detected: int) -> DetectionScores:
    """Detection, omission, commission, F-score, height bias and RMSE of a matching.

    ``matches`` is :func:`match_trees`' result for ``n_reference`` trees and ``n_detected``
    tops. Rates of an empty side are NaN, as are bias and RMSE without a pair.
    """
    m = len(matches)
    if m > min(n_reference, n_detected):
        raise InputDataError(
            f"{m} pairs for {n_reference} reference trees and {n_detected} tops",
            fix="pass the counts the matching was made on",
        )
    diff = np.asarray(matches["height_difference_m"], dtype=np.float64)
    recall = m / n_reference if n_reference else math.nan
    precision = m / n_detected if n_detected else math.nan
    total = n_reference + n_detected
    return DetectionScores(
        n_reference=int(n_reference),
        n_detected=int(n_detected),
        n_matched=int(m),
        detection_rate=recall,
        omission_rate=1.0 - recall,
        commission_rate=1.0 - precision,
        f_score=2.0 * m / total if total else math.nan,
        bias_m=float(diff.mean()) if m else math.nan,
        rmse_m=float(np.sqrt(np.mean(diff**2))) if m else math.nan,
    )
