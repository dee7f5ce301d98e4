"""Array types, random-stream bases and pixel-grid helpers shared by the imagery simulator.

Every noise field of :mod:`minecarbon.demo.imagery` is hashed from map coordinates with a stream
number; the ``_S_*`` bases here keep the fields of different purposes independent, and
:func:`_scene_stream` gives each scene (year, month) its own stream. On a north-up pixel grid the
noise functions are handed the row and column vectors (:func:`_noise_coords`), which gives the
same values as the full coordinate arrays at a fraction of the cost.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Float = NDArray[np.float64]
Bool = NDArray[np.bool_]

# Noise streams (distinct bases so fields are independent).
_S_SOIL, _S_BRIGHT, _S_COVER, _S_CROP, _S_MINE, _S_WATER, _S_BUILT = range(1, 8)
_S_NOISE, _S_RADIO, _S_CLOUD, _S_CLOUD_SPEC, _S_SHADOW = 1_000, 2_000, 3_000, 4_000, 5_000
_BLOCK_PIXELS = 32_768  # pixels per piece of the per-pixel arithmetic (keeps it in cache)


def _lattice(coord: Float) -> NDArray[np.int64]:
    """Integer lattice of 1/8 m from map coordinates, for per-pixel hashing."""
    return np.rint(coord * 8.0).astype(np.int64)


def _scene_stream(base: int, year: int, month: int) -> int:
    return base * 100_000 + (year % 5000) * 13 + month


def _grid_axes(xs: Float, ys: Float) -> tuple[Float, Float] | None:
    """(x of each column, y of each row) of a north-up pixel grid, else None.

    A grid here: ``x`` varies along rows only and ``y`` along columns only. Noise of the row and
    column vectors broadcast against each other equals noise of the full arrays, at a fraction of
    the cost (see :mod:`minecarbon.demo.noise`).
    """
    if xs.ndim != 2 or xs.shape != ys.shape or xs.size == 0:
        return None
    if not ((xs == xs[:1]).all() and (ys == ys[:, :1]).all()):
        return None
    return xs[0], ys[:, 0]


def _noise_coords(xs: Float, ys: Float) -> tuple[Float, Float]:
    """Coordinates to hand to the noise functions: row/column vectors on a grid, else as given."""
    axes = _grid_axes(xs, ys)
    return (xs, ys) if axes is None else (axes[0][None, :], axes[1][:, None])
