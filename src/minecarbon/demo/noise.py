"""Chunk-independent pseudo-random fields: every value is a function of map coordinates and seed.

Because nothing depends on the chunk a pixel falls in, a field computed block by block (dask)
equals the field computed whole — the large site is generated chunk by chunk this way.

Speed: the hashes work in place on a few uint64 buffers, and :func:`value_noise` hashes every
lattice node once (not once per pixel corner). On a separable grid — ``x`` varying only along the
last axis and ``y`` only along the first of a 2-D array, as pixel-centre grids do; rows/columns
``x[None, :]``, ``y[:, None]`` work too — it interpolates along x once per lattice row and then
along y per pixel. Every path performs the same floating-point operations on the same operands as
the plain formula, so the values do not depend on the array layout.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_53 = float(1 << 53)

U64 = NDArray[np.uint64]
Float = NDArray[np.float64]


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (Steele, Lea & Flood 2014): a bijective avalanche on uint64."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * _M2
        h = (h ^ (h >> np.uint64(27))) * _M3
        out: np.ndarray = h ^ (h >> np.uint64(31))
        return out


def _mix_inplace(h: U64, tmp: U64) -> None:
    """:func:`_mix` overwriting ``h`` (``tmp``: a scratch buffer of the same shape)."""
    np.right_shift(h, _S30, out=tmp)
    h ^= tmp
    h *= _M2
    np.right_shift(h, _S27, out=tmp)
    h ^= tmp
    h *= _M3
    np.right_shift(h, _S31, out=tmp)
    h ^= tmp


def _as_u64(a: ArrayLike) -> U64:
    """Integer coordinates as uint64 (two's complement), as ``int64 → uint64`` casting does."""
    out: U64 = np.asarray(a, dtype=np.int64).astype(np.uint64)
    return out


def _coordinate_hash(ix: ArrayLike, iy: ArrayLike) -> tuple[U64, U64]:
    """The seed-independent first stage ``mix(ix·M1 ^ (iy + M2))`` and a scratch buffer."""
    ux, uy = _as_u64(ix), _as_u64(iy)
    shape = np.broadcast_shapes(ux.shape, uy.shape)
    h: U64 = np.empty(shape, dtype=np.uint64)
    tmp: U64 = np.empty(shape, dtype=np.uint64)
    with np.errstate(over="ignore"):
        # Row and column vectors are multiplied before broadcasting (same values, less work).
        if ux.shape == shape:
            np.multiply(ux, _M1, out=h)
        else:
            np.copyto(h, ux * _M1)
        if uy.shape == shape:
            np.add(uy, _M2, out=tmp)
        else:
            np.copyto(tmp, uy + _M2)
        h ^= tmp
        _mix_inplace(h, tmp)
    return h, tmp


def _stream_key(seed: int, stream: int) -> np.uint64:
    return np.uint64((seed * 1_000_003 + stream * 7919) & 0xFFFFFFFFFFFFFFFF)


def _finish(base: U64, tmp: U64, seed: int, stream: int, *, keep_base: bool) -> Float:
    """Second stage of :func:`hash_uniform` from the coordinate hash, as float64 in [0, 1)."""
    h = np.empty_like(base) if keep_base else base
    np.bitwise_xor(base, _stream_key(seed, stream), out=h)
    with np.errstate(over="ignore"):
        _mix_inplace(h, tmp)
    h >>= _S11
    out: Float = h.astype(np.float64)
    out /= _TWO_53
    return out


def _scalar(a: Float) -> Float:
    """0-d results as numpy scalars, like the arithmetic of the plain formulas returns them."""
    return a if a.ndim else a[()]


def hash_uniform(ix: np.ndarray, iy: np.ndarray, seed: int, stream: int = 0) -> np.ndarray:
    """Uniform [0, 1) values from integer lattice coordinates, a seed and a stream number."""
    base, tmp = _coordinate_hash(ix, iy)
    return _scalar(_finish(base, tmp, seed, stream, keep_base=False))


def _box_muller(u1: Float, u2: Float) -> Float:
    """``sqrt(−2 log(1 − u1)) · cos(2π u2)`` computed in place (overwrites both inputs)."""
    np.negative(u1, out=u1)
    np.log1p(u1, out=u1)
    u1 *= -2.0
    np.sqrt(u1, out=u1)
    u2 *= 2.0 * np.pi
    np.cos(u2, out=u2)
    u1 *= u2
    return u1


def hash_normal(ix: np.ndarray, iy: np.ndarray, seed: int, stream: int = 0) -> np.ndarray:
    """Standard normal values from lattice coordinates (Box–Muller on two hashed uniforms)."""
    base, tmp = _coordinate_hash(ix, iy)
    u1 = _finish(base, tmp, seed, 2 * stream + 1, keep_base=True)
    u2 = _finish(base, tmp, seed, 2 * stream + 2, keep_base=False)
    return _scalar(_box_muller(u1, u2))


def hash_normals(ix: ArrayLike, iy: ArrayLike, seed: int, streams: Iterable[int]) -> list[Float]:
    """``[hash_normal(ix, iy, seed, s) for s in streams]``, hashing the coordinates only once."""
    base, tmp = _coordinate_hash(ix, iy)
    out = []
    for stream in streams:
        u1 = _finish(base, tmp, seed, 2 * stream + 1, keep_base=True)
        u2 = _finish(base, tmp, seed, 2 * stream + 2, keep_base=True)
        out.append(_scalar(_box_muller(u1, u2)))
    return out


def _quintic(t: np.ndarray) -> np.ndarray:
    out: np.ndarray = t * t * t * (t * (t * 6 - 15) + 10)
    return out


def _axis(coord: np.ndarray, scale_m: float) -> tuple[np.ndarray, NDArray[np.int64]]:
    """Blend weights and lower lattice index of coordinates (``value_noise``'s first lines)."""
    g = coord / scale_m
    c0 = np.floor(g)
    return _quintic(g - c0), c0.astype(np.int64)


def _separable(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(x per column, y per row) if the broadcast 2-D grid is separable, else None."""
    shape = np.broadcast_shapes(x.shape, y.shape)
    if len(shape) != 2 or 0 in shape or x.ndim > 2 or y.ndim > 2:
        return None
    x2 = x.reshape((1,) * (2 - x.ndim) + x.shape)
    y2 = y.reshape((1,) * (2 - y.ndim) + y.shape)
    if x2.shape[0] > 1 and not (x2 == x2[:1]).all():
        return None
    if y2.shape[1] > 1 and not (y2 == y2[:, :1]).all():
        return None
    return np.broadcast_to(x2[0], shape[1:]), np.broadcast_to(y2[:, 0], shape[:1])


def _lattice(i0: NDArray[np.int64], j0: NDArray[np.int64], seed: int, stream: int,
             budget: int, row_len: int = 0) -> tuple[Float, int, int] | None:
    """Hashed lattice values covering the cells of (i0, j0): (table, i_min, j_min), or None.

    None when that table would have more than ``budget`` nodes, or its rows times ``row_len``
    (the per-row blend of the grid path) would.
    """
    if i0.size == 0 or j0.size == 0:
        return None
    imin, imax, jmin, jmax = int(i0.min()), int(i0.max()), int(j0.min()), int(j0.max())
    ni, nj = imax - imin + 2, jmax - jmin + 2
    if max(ni, row_len) * nj > budget or imax >= 2**62 or jmax >= 2**62:
        return None
    ii = np.arange(imin, imax + 2, dtype=np.int64)
    jj = np.arange(jmin, jmax + 2, dtype=np.int64)
    table = hash_uniform(ii[None, :], jj[:, None], seed, stream)
    return table, imin, jmin


def _value_noise_grid(xc: np.ndarray, yr: np.ndarray, scale_m: float, seed: int,
                      stream: int) -> Float:
    """value_noise on the grid (yr[r], xc[c]): x-blend per lattice row, then y-blend per pixel."""
    sx, i0 = _axis(xc, scale_m)
    sy, j0 = _axis(yr, scale_m)
    lat = _lattice(i0, j0, seed, stream, 2 * i0.size * j0.size + 64, row_len=i0.size)
    if lat is None:  # Lattice finer than the pixels, or far-apart coordinates: hash corners.
        ii, jj = i0[None, :], j0[:, None]
        v00 = hash_uniform(ii, jj, seed, stream)
        v10 = hash_uniform(ii + 1, jj, seed, stream)
        v01 = hash_uniform(ii, jj + 1, seed, stream)
        v11 = hash_uniform(ii + 1, jj + 1, seed, stream)
        top = v00 + (v10 - v00) * sx
        bottom = v01 + (v11 - v01) * sx
        out: Float = 2.0 * (top + (bottom - top) * sy[:, None]) - 1.0
        return out
    table, imin, jmin = lat
    ci = i0 - imin
    v0 = table[:, ci]  # value at (i0, j) for every lattice row j
    v1 = table[:, ci + 1]
    v1 -= v0
    v1 *= sx
    v0 += v1  # rows[j] = v(i0, j) + (v(i0 + 1, j) − v(i0, j)) · sx
    rj = j0 - jmin
    top = v0[rj]
    bottom = v0[rj + 1]
    bottom -= top
    bottom *= sy[:, None]
    top += bottom
    top *= 2.0
    top -= 1.0
    return top


def _value_noise_points(x: np.ndarray, y: np.ndarray, scale_m: float, seed: int,
                        stream: int) -> Float:
    """value_noise at arbitrary points (hashing each lattice node once when they cluster)."""
    sx, i0 = _axis(x, scale_m)
    sy, j0 = _axis(y, scale_m)
    i0, j0 = np.broadcast_arrays(i0, j0)
    lat = _lattice(i0, j0, seed, stream, 2 * i0.size + 64)
    if lat is None:
        v00 = hash_uniform(i0, j0, seed, stream)
        v10 = hash_uniform(i0 + 1, j0, seed, stream)
        v01 = hash_uniform(i0, j0 + 1, seed, stream)
        v11 = hash_uniform(i0 + 1, j0 + 1, seed, stream)
    else:
        table, imin, jmin = lat
        flat = table.ravel()
        k = (j0 - jmin) * table.shape[1] + (i0 - imin)
        v00, v10 = flat[k], flat[k + 1]
        k += table.shape[1]
        v01, v11 = flat[k], flat[k + 1]
    top = v00 + (v10 - v00) * sx
    bottom = v01 + (v11 - v01) * sx
    out: Float = np.asarray(2.0 * (top + (bottom - top) * sy) - 1.0)
    return out


class _Grid:
    """Coordinates prepared once for several noise evaluations."""

    def __init__(self, x: ArrayLike, y: ArrayLike) -> None:
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.shape = np.broadcast_shapes(self.x.shape, self.y.shape)
        self.axes = _separable(self.x, self.y)

    def value_noise(self, scale_m: float, seed: int, stream: int) -> Float:
        if self.axes is not None:
            return _value_noise_grid(self.axes[0], self.axes[1], scale_m, seed, stream)
        return _value_noise_points(self.x, self.y, scale_m, seed, stream)


def value_noise(
    x: np.ndarray, y: np.ndarray, scale_m: float, seed: int, stream: int = 0
) -> np.ndarray:
    """Smooth noise in [-1, 1]: hashed lattice values every ``scale_m`` metres, quintic blend."""
    return _scalar(_Grid(x, y).value_noise(scale_m, seed, stream))


def fbm(x: np.ndarray, y: np.ndarray, scale_m: float, seed: int, *, octaves: int = 5,
        gain: float = 0.5, stream: int = 0) -> np.ndarray:
    """Fractal Brownian motion: octaves of value noise, halving the scale each octave."""
    grid = _Grid(x, y)
    total = np.zeros(grid.shape)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        n = grid.value_noise(scale_m / 2**octave, seed, stream * 31 + octave)
        n *= amplitude
        total += n
        norm += amplitude
        amplitude *= gain
    total /= norm
    return _scalar(total)


def ridged(x: np.ndarray, y: np.ndarray, scale_m: float, seed: int, *, octaves: int = 5,
           stream: int = 0) -> np.ndarray:
    """Ridged multifractal in [0, 1]: sharp crests and V-shaped valleys (1 − |noise|)."""
    grid = _Grid(x, y)
    total = np.zeros(grid.shape)
    amplitude, norm = 1.0, 0.0
    for octave in range(octaves):
        n = grid.value_noise(scale_m / 2**octave, seed, stream * 37 + octave)
        np.abs(n, out=n)
        np.subtract(1.0, n, out=n)
        np.square(n, out=n)
        n *= amplitude
        total += n
        norm += amplitude
        amplitude *= 0.5
    total /= norm
    return _scalar(total)
