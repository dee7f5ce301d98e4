"""Numba kernels of :mod:`minecarbon.assessment.grading`: Fisher's optimal 1-D partition.

**Items.** The kernels work on *items* sorted by value: the distinct values of the data (exact
mode) or the non-empty bins of a histogram (histogram mode). Item ``i`` carries the number of
values ``w[i]``, their sum ``s[i]`` and their sum of squares ``q[i]`` (values minus a centre,
to keep the sums small). The within-class sum of squared deviations of the items ``a … b`` is

    SSD(a, b) = Q − S² / W,   W = Σ w,  S = Σ s,  Q = Σ q  over a … b,

read from prefix sums in O(1).

**Dynamic programme** (Fisher 1958, "On grouping for maximum homogeneity", JASA 53:789–798;
Jenks 1977): ``F[j, b]`` is the least SSD of the items ``0 … b`` split into ``j + 1``
contiguous classes,

    F[0, b] = SSD(0, b),   F[j, b] = min over a in [j, b] of F[j − 1, a − 1] + SSD(a, b),

and the arg-min ``a`` (the first item of the last class) is kept for the backtrack. Among
equal costs the smallest ``a`` is kept, as Hartigan's ``fish.f`` and jenkspy do.

**Divide and conquer.** The SSD of sorted 1-D data satisfies the quadrangle (Monge) inequality,
so the arg-min is non-decreasing in ``b`` (Wang & Song 2011, "Ckmeans.1d.dp", The R Journal
3(2):29–33; Grønlund et al. 2017, "Fast exact k-means, k-medians and Bregman divergence
clustering in 1D", arXiv:1701.07204). Each column is then filled by evaluating the middle row over
its whole admissible range and recursing on both halves with the narrowed ranges: O(n log n)
per column instead of O(n²), the same optimum.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit


@njit(cache=True)
def bin_stats(values, base, step, nbins, centre):  # type: ignore[no-untyped-def]
    """Count, sum, sum of squares (about ``centre``), min and max of the values in each bin.

    The bin of ``v`` is ``floor(v / step + 0.5) − base`` (``v`` rounded to a multiple of
    ``step``); NaN values are skipped. Codes outside ``[0, nbins)`` are clipped to the ends.
    """
    count = np.zeros(nbins, dtype=np.int64)
    s = np.zeros(nbins, dtype=np.float64)
    q = np.zeros(nbins, dtype=np.float64)
    vmin = np.full(nbins, np.inf)
    vmax = np.full(nbins, -np.inf)
    for i in range(values.size):
        v = float(values[i])
        if v != v:
            continue
        c = math.floor(v / step + 0.5) - base
        c = min(max(c, 0), nbins - 1)
        d = v - centre
        count[c] += 1
        s[c] += d
        q[c] += d * d
        if v < vmin[c]:
            vmin[c] = v
        if v > vmax[c]:
            vmax[c] = v
    return count, s, q, vmin, vmax


@njit(cache=True, inline="always")
def _ssd(pw, ps, pq, a, b):  # type: ignore[no-untyped-def]
    """SSD of the items a … b (inclusive) from the prefix sums."""
    w = pw[b + 1] - pw[a]
    s = ps[b + 1] - ps[a]
    return (pq[b + 1] - pq[a]) - s * s / w


@njit(cache=True)
def _fisher(w, s, q, k):  # type: ignore[no-untyped-def]
    n = w.size
    pw = np.zeros(n + 1)
    ps = np.zeros(n + 1)
    pq = np.zeros(n + 1)
    for i in range(n):
        pw[i + 1] = pw[i] + w[i]
        ps[i + 1] = ps[i] + s[i]
        pq[i + 1] = pq[i] + q[i]
    prev = np.empty(n)
    cur = np.empty(n)
    for b in range(n):
        prev[b] = _ssd(pw, ps, pq, 0, b)
    arg = np.zeros((k, n), dtype=np.int64)
    stack = np.empty((256, 4), dtype=np.int64)
    for j in range(1, k):
        cur[:] = np.inf
        lo_b = n - 1 if j == k - 1 else j  # the last column is only needed at the last item
        stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = lo_b, n - 1, j, n - 1
        top = 1
        while top > 0:
            top -= 1
            bl, br, ol, orr = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
            if bl > br:
                continue
            mid = (bl + br) // 2
            best = np.inf
            best_a = ol
            for a in range(ol, min(orr, mid) + 1):
                val = prev[a - 1] + _ssd(pw, ps, pq, a, mid)
                if val < best:
                    best = val
                    best_a = a
            cur[mid] = best
            arg[j, mid] = best_a
            stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = bl, mid - 1, ol, best_a
            stack[top + 1, 0], stack[top + 1, 1] = mid + 1, br
            stack[top + 1, 2], stack[top + 1, 3] = best_a, orr
            top += 2
        prev, cur = cur, prev
    starts = np.zeros(k, dtype=np.int64)
    b = n - 1
    for j in range(k - 1, 0, -1):
        starts[j] = arg[j, b]
        b = starts[j] - 1
    return starts


def fisher_starts(w: npt.NDArray[np.float64], s: npt.NDArray[np.float64],
                  q: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.int64]:
    """First item of each of the ``k`` classes of the optimal partition (``starts[0] == 0``)."""
    out: npt.NDArray[np.int64] = _fisher(np.ascontiguousarray(w, dtype=np.float64),
                                         np.ascontiguousarray(s, dtype=np.float64),
                                         np.ascontiguousarray(q, dtype=np.float64), int(k))
    return out


def class_ssd(w: npt.NDArray[np.float64], s: npt.NDArray[np.float64],
              q: npt.NDArray[np.float64], starts: npt.NDArray[np.int64]) -> float:
    """Within-class SSD of the partition given by ``starts`` (numpy, for the report)."""
    ends = [*starts[1:].tolist(), w.size]
    total = 0.0
    for a, e in zip(starts.tolist(), ends, strict=True):
        ww, ss, qq = w[a:e].sum(), s[a:e].sum(), q[a:e].sum()
        total += float(qq - ss * ss / ww)
    return max(total, 0.0)
