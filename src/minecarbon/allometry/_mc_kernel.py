"""The per-tree errors of the Monte Carlo: the perturbed AGB of the trees, block by block.

Part of :mod:`minecarbon.allometry.uncertainty`. For one random-stream block of
``STREAM_TREES`` trees, :func:`_block` draws the DBH, height and residual errors, evaluates the
perturbed AGB of each run of trees of one model (:func:`_segment_agb`, on float32
``(trees × draws)`` arrays) and sums it per plot; :func:`_chunk` does so for consecutive
blocks, one task of the thread pool.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from minecarbon.allometry._mc_prepare import _Context, _Group
from minecarbon.allometry._mc_streams import (
    _DBH,
    _HEIGHT,
    _RESIDUAL,
    STREAM_TREES,
    _stream,
    normal_draws,
)

Float32Array = NDArray[np.float32]
IntArray = NDArray[np.intp]


_Z_MAX: Final = 5.7  # |z| of normal_draws is below sqrt(−2 ln 2⁻²³) = 5.65


def _log_ratio(z: Float32Array, rel_sd: Float32Array, floor: Float32Array,
               keep_ratio: bool) -> tuple[Float32Array, Float32Array | None]:
    """ln(x'/x) with x'/x = max(1 + z · sd/x, floor/x), and x'/x itself if ``keep_ratio``."""
    r = np.multiply(z, rel_sd[:, None])
    if not keep_ratio and bool(np.all(1.0 - _Z_MAX * rel_sd > floor)):  # no clipping possible
        return np.log1p(r, out=r), None
    np.add(r, np.float32(1.0), out=r)
    np.maximum(r, floor[:, None], out=r)
    if keep_ratio:
        return np.log(r), r
    return np.log(r, out=r), None


def _segment_agb(ctx: _Context, group: _Group, lo: int, hi: int, z_dbh: Float32Array | None,
                 z_height: Float32Array | None, z_res: Float32Array | None) -> Float32Array:
    """(hi − lo, n_draws) perturbed AGB (kg, float32) of trees lo..hi of one model."""
    shape = (hi - lo, ctx.n_draws)
    keep = bool(group.quadratic) or group.power is None
    log_dbh = r_dbh = log_height = r_height = None
    if z_dbh is not None and ctx.dbh_rel_sd is not None:
        log_dbh, r_dbh = _log_ratio(z_dbh, ctx.dbh_rel_sd[lo:hi], ctx.dbh_floor[lo:hi], keep)
    if z_height is not None and ctx.height_rel_sd is not None:
        log_height, r_height = _log_ratio(z_height, ctx.height_rel_sd[lo:hi],
                                          ctx.height_floor[lo:hi], group.power is None)
    res = None
    if z_res is not None and group.sigma > 0:
        res = np.multiply(z_res, np.float32(group.sigma))

    if group.power is None:  # generic: the model's own agb_kg on perturbed float64 arrays
        d = ctx.dbh[lo:hi, None] * (r_dbh if r_dbh is not None else np.ones(shape))
        h = ctx.height[lo:hi, None] * (r_height if r_height is not None else np.ones(shape))
        with np.errstate(invalid="ignore"):
            w = np.asarray(group.model.agb_kg(d, h), dtype=np.float64) * group.bias
        if res is not None:
            w *= np.exp(res)
        return w.astype(np.float32)

    i0, i1 = lo - group.start, hi - group.start
    # every power term's exponent is β · ln(D'/D) + γ · ln(H'/H); where all terms share one
    # ratio ρ = γ/β (the D²H forms: ρ = 1/2) it is β · L with L = ln(D'/D) + ρ · ln(H'/H).
    common: Float32Array | None = None
    if group.ratio is not None:
        common = log_dbh
        if log_height is not None and group.ratio != 0.0:
            log_height *= np.float32(group.ratio)
            common = log_height if common is None else np.add(common, log_height, out=common)
    fold = res is not None and len(group.power) == 1 and not group.quadratic
    total: Float32Array | None = None
    for beta, gamma, weight in group.power:
        exponent: Float32Array | None = None
        if group.ratio is not None:
            if common is not None:
                exponent = np.multiply(common, np.float32(beta))
        else:
            if log_dbh is not None and beta != 0.0:
                exponent = np.multiply(log_dbh, np.float32(beta))
            if log_height is not None and gamma != 0.0:
                if exponent is None:
                    exponent = np.multiply(log_height, np.float32(gamma))
                else:
                    exponent += np.float32(gamma) * log_height
        if fold and res is not None:
            exponent = res if exponent is None else np.add(exponent, res, out=exponent)
        if exponent is None:
            term = np.repeat(weight[i0:i1, None], ctx.n_draws, axis=1)
        else:
            term = np.exp(exponent, out=exponent)
            term *= weight[i0:i1, None]
        if total is None:
            total = term
        else:
            total += term
    for a, b_d2 in group.quadratic:
        if r_dbh is None:
            term = np.repeat(b_d2[i0:i1, None], ctx.n_draws, axis=1)
        else:
            term = np.multiply(r_dbh, r_dbh)
            term *= b_d2[i0:i1, None]
        term += np.float32(a)
        if total is None:
            total = term
        else:
            total += term
    if total is None:
        total = np.zeros(shape, dtype=np.float32)
    if res is not None and not fold:
        total *= np.exp(res, out=res)
    return total


_Partial = tuple[int, IntArray, Float32Array]  # group index, plot indices, (n_u, n_draws) sums


def _block(ctx: _Context, block: int) -> list[_Partial]:
    """Per-plot partial AGB sums of the trees of one random-stream block."""
    lo = block * STREAM_TREES
    hi = min(lo + STREAM_TREES, ctx.plot.size)
    rows = hi - lo
    group_of = ctx.group_of[lo:hi]
    cuts = np.flatnonzero(np.diff(group_of)) + 1
    starts = np.concatenate(([0], cuts))
    stops = np.concatenate((cuts, [rows]))
    seg_groups = [ctx.groups[int(group_of[s])] for s in starts]

    def draws(source: int, wanted: bool) -> Float32Array | None:
        if not wanted:
            return None
        return normal_draws(_stream(ctx.seed, source, block), rows, ctx.n_draws)

    z_dbh = draws(_DBH, ctx.dbh_rel_sd is not None)
    z_height = draws(_HEIGHT, ctx.height_rel_sd is not None
                     and any(g.uses_height for g in seg_groups))
    z_res = draws(_RESIDUAL, any(g.sigma > 0 for g in seg_groups))

    out: list[_Partial] = []
    for s, e, group in zip(starts.tolist(), stops.tolist(), seg_groups, strict=True):
        agb = _segment_agb(
            ctx, group, lo + s, lo + e,
            None if z_dbh is None else z_dbh[s:e],
            None if z_height is None or not group.uses_height else z_height[s:e],
            None if z_res is None else z_res[s:e],
        )
        plots = ctx.plot[lo + s : lo + e]
        first = np.flatnonzero(np.concatenate(([True], plots[1:] != plots[:-1])))
        out.append((int(group_of[s]), plots[first], np.add.reduceat(agb, first, axis=0)))
    return out


def _chunk(ctx: _Context, blocks: range) -> list[_Partial]:
    partials: list[_Partial] = []
    for block in blocks:
        partials.extend(_block(ctx, block))
    return partials
