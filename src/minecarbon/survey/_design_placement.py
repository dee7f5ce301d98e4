"""Plot allocation and placement for :func:`minecarbon.survey.design.plan_plots`.

:func:`_allocate` sets every unit's target (its minimum, plus a share by area of what a total
leaves over, by largest remainder); :func:`_candidates` finds every unit's admissible centres on
the pixel lattice (:func:`_lattice`, :class:`_Centres`) by one grey erosion and one grey
dilation; :func:`_draw` takes centres in a seeded random order, keeping the spacing from every
plot placed so far (:func:`_clear`). The rules are in the module docstring of
:mod:`minecarbon.survey.design`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from minecarbon.errors import warn
from minecarbon.grid import AnalysisGrid
from minecarbon.survey._design_common import _TOL

_SPACING_TOL_M = 1e-6
_BATCH = 1024  # candidates screened against the placed plots at a time


def _lattice(side: float, pixel: float) -> tuple[bool, int]:
    """(centres on pixel corners?, size in pixels of the window to erode with).

    The window holds the pixels whose centres lie within ``side`` (half a side plus half a side
    to spare) of a centre, in x and in y.
    """
    s = side / pixel
    on_corners = math.floor(s + 0.5) % 2 == 0
    if on_corners:  # pixels C − m … C + m − 1 around the corner at the top left of pixel C
        return True, 2 * math.floor(s + 0.5 + _TOL)
    return False, 2 * math.floor(s + _TOL) + 1


@dataclass(frozen=True)
class _Centres:
    """Plot centres on the pixel lattice: pixel centres, or pixel corners (top left of a pixel)."""

    grid: AnalysisGrid
    on_corners: bool

    def xy(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates of the centres at flat pixel indices."""
        rows, cols = np.divmod(flat, self.grid.width)
        shift = 0.0 if self.on_corners else 0.5
        p = self.grid.pixel_size_m
        return (self.grid.x_min_m + (cols + shift) * p, self.grid.y_max_m - (rows + shift) * p)


def _candidates(
    l2: np.ndarray, codes: Iterable[int], grid: AnalysisGrid, side: float
) -> tuple[_Centres, dict[int, np.ndarray]]:
    """Admissible plot centres (flat indices) of every unit, by one erosion and one dilation."""
    on_corners, size = _lattice(side, grid.pixel_size_m)
    low = ndimage.minimum_filter(l2, size=size, mode="constant", cval=0)
    high = ndimage.maximum_filter(l2, size=size, mode="constant", cval=0)
    inside = np.where(low == high, low, np.uint8(0)).ravel()
    return _Centres(grid, on_corners), {c: np.flatnonzero(inside == c) for c in codes}


def _clear(
    bx: np.ndarray, by: np.ndarray, px: np.ndarray, py: np.ndarray, spacing: float, side: float
) -> np.ndarray:
    """Whether each candidate keeps the spacing from, and does not overlap, every placed plot."""
    if px.size == 0:
        return np.ones(bx.size, dtype=bool)
    dx = np.abs(bx[:, np.newaxis] - px[np.newaxis, :])
    dy = np.abs(by[:, np.newaxis] - py[np.newaxis, :])
    far = np.hypot(dx, dy) >= spacing - _SPACING_TOL_M
    apart = np.maximum(dx, dy) >= side - _SPACING_TOL_M
    return np.asarray((far & apart).all(axis=1))


def _draw(
    candidates: np.ndarray,
    centres: _Centres,
    need: int,
    rng: np.random.Generator,
    placed: tuple[list[float], list[float]],
    spacing: float,
    side: float,
) -> list[tuple[float, float]]:
    """Up to ``need`` centres drawn in a random order from the candidates, keeping the spacing.

    Candidates are screened in batches against the plots already placed (vectorised); the
    Python loop runs once per plot kept. Kept centres are appended to ``placed``.
    """
    chosen: list[tuple[float, float]] = []
    if need <= 0 or candidates.size == 0:
        return chosen
    order = rng.permutation(candidates.size)
    for start in range(0, order.size, _BATCH):
        if len(chosen) >= need:
            break
        bx, by = centres.xy(candidates[order[start:start + _BATCH]])
        keep = _clear(bx, by, np.asarray(placed[0]), np.asarray(placed[1]), spacing, side)
        bx, by = bx[keep], by[keep]
        while bx.size and len(chosen) < need:
            x, y = float(bx[0]), float(by[0])
            chosen.append((x, y))
            placed[0].append(x)
            placed[1].append(y)
            keep = _clear(bx[1:], by[1:], np.array([x]), np.array([y]), spacing, side)
            bx, by = bx[1:][keep], by[1:][keep]
    return chosen


def _allocate(minimum: dict[int, int], area: dict[int, int], total: int | None) -> dict[int, int]:
    """Per-unit targets: the minimums plus ``total − Σ minimums`` shared in proportion to area.

    The share is rounded by the largest-remainder method (ties: the lower code).
    """
    target = dict(minimum)
    if total is None:
        return target
    remaining = total - sum(minimum.values())
    if remaining < 0:
        warn(
            f"the total of {total} plots is below the {sum(minimum.values())} the units need "
            "at least; planning the minimums",
            UserWarning,
            stacklevel=3,
        )
        return target
    codes = sorted(minimum)
    if remaining == 0 or not codes:
        return target
    weights = np.array([area[c] for c in codes], dtype=float)
    shares = remaining * weights / weights.sum()
    base = np.floor(shares).astype(np.int64)
    left = remaining - int(base.sum())
    fraction_order = sorted(range(len(codes)), key=lambda i: (-(shares[i] - base[i]), codes[i]))
    for i in fraction_order[:left]:
        base[i] += 1
    for code, extra in zip(codes, base, strict=True):
        target[code] += int(extra)
    return target
