"""Numba kernels of :mod:`minecarbon.features.texture`: co-occurrence counts in a sliding window.

One output row at a time, the window slides from left to right: the pairs of the column that
leaves the window are removed from a ``levels × levels`` count table and those of the column that
enters are added. Alongside the table the kernel keeps integer running sums from which every
measure follows in O(1):

=======  ==========================================================
sum      running sum over the counted pairs (i, j), in the order of the tuples
=======  ==========================================================
``N``    number of counted pairs (twice the valid pairs when symmetric)
``SI``   Σ i, ``SJ`` Σ j, ``SI2`` Σ i², ``SJ2`` Σ j², ``SIJ`` Σ i·j
``SCON`` Σ (i − j)², ``SDIS`` Σ |i − j|
``SHOM`` Σ w[|i − j|], w[d] = round(hom_scale / (1 + d²))  (fixed point)
``SC2``  Σ over the table of c², kept up to date when a count c changes by ±1
``SENT`` Σ over the table of t[c], t[c] = round(ent_scale · c ln c)  (fixed point)
=======  ==========================================================

All sums are integers, so a result does not depend on where a row or a dask chunk starts:
numpy and dask give bit-identical textures. The two fixed-point sums are off by at most half a
unit (2⁻⁴¹ at the default scale) per table cell (entropy) or per pair (homogeneity).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit, prange

#: Number of measures the kernel computes, in the order of ``texture.MEASURES``.
N_MEASURES = 8


@njit(cache=True, inline="always")
def _column(codes, table, y0, y1, x, dy, dx, delta, levels, symmetric, ent, hom):  # type: ignore[no-untyped-def]
    """Add (delta = 1) or remove (−1) the pairs anchored in column x, rows y0…y1.

    Returns the changes of the running sums (N, SI, SJ, SI2, SJ2, SIJ, SCON, SDIS, SHOM, SC2,
    SENT); the count table is updated in place.
    """
    n = si = sj = si2 = sj2 = sij = scon = sdis = shom = sc2 = sent = 0
    reps = 2 if symmetric else 1
    for y in range(y0, y1 + 1):
        i = int(codes[y, x])
        j = int(codes[y + dy, x + dx])
        if i < 0 or j < 0:
            continue
        for rep in range(reps):
            k = i * levels + j if rep == 0 else j * levels + i
            c = table[k]
            if delta > 0:
                sc2 += 2 * c + 1
                sent += ent[c + 1] - ent[c]
            else:
                sc2 -= 2 * c - 1
                sent += ent[c - 1] - ent[c]
            table[k] = c + delta
        d = abs(i - j)
        n += 1
        si += i
        sj += j
        si2 += i * i
        sj2 += j * j
        sij += i * j
        scon += d * d
        sdis += d
        shom += hom[d]
    if symmetric:  # (i, j) and (j, i): both marginals get i + j
        si = sj = si + sj
        si2 = sj2 = si2 + sj2
        n, sij, scon, sdis, shom = 2 * n, 2 * sij, 2 * scon, 2 * sdis, 2 * shom
    return (delta * n, delta * si, delta * sj, delta * si2, delta * sj2, delta * sij,
            delta * scon, delta * sdis, delta * shom, sc2, sent)


@njit(cache=True, inline="always")
def _measures(st, vals, ent_scale, hom_scale):  # type: ignore[no-untyped-def]
    n_, si_, sj_, si2, sj2, sij, scon, sdis, shom, sc2, sent = st
    n = float(n_)
    var_i = float(n_ * si2 - si_ * si_)  # exact integers, then one rounding
    var_j = float(n_ * sj2 - sj_ * sj_)
    cov = float(n_ * sij - si_ * sj_)
    vals[0] += si_ / n
    vals[1] += var_i / (n * n)
    vals[2] += shom / hom_scale / n
    vals[3] += scon / n
    vals[4] += sdis / n
    vals[5] += max(0.0, math.log(n) - sent / ent_scale / n)  # ≥ 0; fixed point: ±1e-13
    vals[6] += sc2 / (n * n)
    if var_i == 0.0 or var_j == 0.0:
        vals[7] += 1.0  # scikit-image's convention for a zero standard deviation
    else:
        vals[7] += cov / math.sqrt(var_i * var_j)


@njit(cache=True, inline="always")
def _add(a, b):  # type: ignore[no-untyped-def]
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5],
            a[6] + b[6], a[7] + b[7], a[8] + b[8], a[9] + b[9], a[10] + b[10])


@njit(cache=True)
def _row(codes, r, pad_y, pad_x, width, geometry, need, levels, symmetric,  # type: ignore[no-untyped-def]
         ent, hom, ent_scale, hom_scale, table, acc, bad):
    """Textures of output row ``r`` for every shift, summed into ``acc`` (width × 8)."""
    acc[:, :] = 0.0
    bad[:] = False
    zero = np.int64(0)
    for s in range(geometry.shape[0]):
        a0, a1, b0, b1, dy, dx = geometry[s]
        y0 = r + pad_y + a0
        y1 = r + pad_y + a1
        st = (zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, zero)
        for x in range(pad_x + b0, pad_x + b1 + 1):
            st = _add(st, _column(codes, table, y0, y1, x, dy, dx, 1, levels, symmetric, ent,
                                  hom))
        for c in range(width):
            if c > 0:
                st = _add(st, _column(codes, table, y0, y1, c - 1 + pad_x + b0, dy, dx, -1,
                                      levels, symmetric, ent, hom))
                st = _add(st, _column(codes, table, y0, y1, c + pad_x + b1, dy, dx, 1, levels,
                                      symmetric, ent, hom))
            pairs = st[0] // 2 if symmetric else st[0]
            if pairs < need[s] or pairs == 0:
                bad[c] = True
            elif not bad[c]:
                _measures(st, acc[c], ent_scale, hom_scale)
        for x in range(width - 1 + pad_x + b0, width + pad_x + b1):  # back to an empty table
            _column(codes, table, y0, y1, x, dy, dx, -1, levels, symmetric, ent, hom)


@njit(cache=True)
def _rows(codes, r_start, r_stop, pad_y, pad_x, width, geometry, need, levels, symmetric,  # type: ignore[no-untyped-def]
          ent, hom, ent_scale, hom_scale, select, out):
    table = np.zeros(levels * levels, dtype=np.int64)
    acc = np.zeros((width, N_MEASURES), dtype=np.float64)
    bad = np.zeros(width, dtype=np.bool_)
    n_shifts = geometry.shape[0]
    for r in range(r_start, r_stop):
        _row(codes, r, pad_y, pad_x, width, geometry, need, levels, symmetric, ent, hom,
             ent_scale, hom_scale, table, acc, bad)
        for k in range(select.shape[0]):
            m = select[k]
            for c in range(width):
                out[k, r, c] = np.nan if bad[c] else acc[c, m] / n_shifts


@njit(cache=True, parallel=True)
def _glcm_parallel(codes, pad_y, pad_x, geometry, need, levels, symmetric,  # type: ignore[no-untyped-def]
                   ent, hom, ent_scale, hom_scale, select, out):
    height = out.shape[1]
    n_blocks = min(height, 64)
    for b in prange(n_blocks):
        _rows(codes, b * height // n_blocks, (b + 1) * height // n_blocks, pad_y, pad_x,
              out.shape[2], geometry, need, levels, symmetric, ent, hom, ent_scale, hom_scale,
              select, out)


@njit(cache=True)
def _glcm_serial(codes, pad_y, pad_x, geometry, need, levels, symmetric,  # type: ignore[no-untyped-def]
                 ent, hom, ent_scale, hom_scale, select, out):
    _rows(codes, 0, out.shape[1], pad_y, pad_x, out.shape[2], geometry, need, levels, symmetric,
          ent, hom, ent_scale, hom_scale, select, out)


@njit(cache=True)
def _quantise_flat(values, lo, hi, levels, out):  # type: ignore[no-untyped-def]
    width = hi - lo
    for k in range(values.shape[0]):
        v = np.float64(values[k])
        if not np.isfinite(v):
            out[k] = -1
        elif width > 0.0:
            v = min(max(v, lo), hi)
            out[k] = min(math.floor((v - lo) / width * levels), levels - 1)
        else:
            out[k] = 0


def quantise_array(values: npt.NDArray[Any], lo: float, hi: float,
                   levels: int) -> npt.NDArray[np.int16]:
    """Grey level floor(levels · (v − lo)/(hi − lo)) clipped to 0 … levels − 1; −1 if not finite."""
    flat = np.ascontiguousarray(values).reshape(-1)
    out = np.empty(flat.shape[0], dtype=np.int16)
    _quantise_flat(flat, float(lo), float(hi), int(levels), out)
    return out.reshape(np.shape(values))


def fixed_point_tables(
    max_count: int, levels: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], float, float]:
    """Tables t[c] = round(s_e · c ln c) and w[d] = round(s_h / (1 + d²)) and their scales.

    The scales are the largest powers of two (at most 2⁴⁰) for which no running sum over a
    table of ``max_count`` pairs can overflow an int64.
    """
    worst_ent = max_count * math.log(max(max_count, 2)) + 1.0
    ent_scale = 2.0 ** min(40, math.floor(math.log2(2.0**62 / worst_ent)))
    hom_scale = 2.0 ** min(40, math.floor(math.log2(2.0**62 / (max_count + 1.0))))
    c = np.arange(max_count + 2, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        clnc = np.where(c > 0, c * np.log(np.maximum(c, 1.0)), 0.0)
    ent = np.round(clnc * ent_scale).astype(np.int64)
    d = np.arange(levels, dtype=np.float64)
    hom = np.round(hom_scale / (1.0 + d * d)).astype(np.int64)
    return ent, hom, ent_scale, hom_scale


def glcm_block(
    codes: npt.NDArray[np.int16],
    pad: tuple[int, int],
    geometry: npt.NDArray[np.int64],
    need: npt.NDArray[np.int64],
    levels: int,
    symmetric: bool,
    select: npt.NDArray[np.int64],
    *,
    parallel: bool,
) -> npt.NDArray[np.float32]:
    """Textures of the interior of ``codes`` (``pad`` rows/cols of margin on every side).

    Parameters
    ----------
    codes
        Grey levels 0 … levels − 1, −1 where missing, with a margin wide enough for every
        window and shift (missing beyond the image).
    pad
        Margin (rows, cols) on each side; the output has the shape of the interior.
    geometry
        One row per shift: anchor rows a0, a1 and cols b0, b1 relative to the centre pixel
        (inclusive) and the shift dy, dx; a pair is (anchor, anchor + shift).
    need
        Per shift, the minimum number of valid pairs for a value (else NaN).
    levels, symmetric
        Number of grey levels; whether each pair also counts as (j, i).
    select
        Indices (into the kernel's 8 measures) to return, in order.
    parallel
        Use numba threads over rows (numpy input); dask blocks run serially in dask's threads.

    Returns
    -------
    float32 array (len(select), rows, cols): measures averaged over the shifts.

    """
    pad_y, pad_x = pad
    codes = np.ascontiguousarray(codes, dtype=np.int16)
    height, width = codes.shape[0] - 2 * pad_y, codes.shape[1] - 2 * pad_x
    out = np.empty((select.shape[0], max(height, 0), max(width, 0)), dtype=np.float32)
    if out.size == 0:
        return out
    per_pair = 2 if symmetric else 1
    max_pairs = int(max((g[1] - g[0] + 1) * (g[3] - g[2] + 1) for g in geometry)) * per_pair
    ent, hom, ent_scale, hom_scale = fixed_point_tables(max_pairs, levels)
    kernel = _glcm_parallel if parallel else _glcm_serial
    kernel(codes, pad_y, pad_x, geometry, need, levels, symmetric, ent, hom, ent_scale,
           hom_scale, select, out)
    return out
