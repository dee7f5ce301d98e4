"""Numba kernels of :mod:`minecarbon.assessment.trend`: Sen's slope and Mann–Kendall per pixel.

The kernels take a ``(n_pixels, n_times)`` float64 block and the time coordinate ``t`` (float64,
strictly increasing) and write, per pixel, the eight outputs in the order of :data:`OUTPUTS`
(the last one, the trend class, as an int8 code in a separate array). Non-finite values are
skipped; a pixel with fewer than ``min_count`` finite values gets NaN and class ``nodata``.

Formulas (Mann 1945; Kendall 1975; Gilbert 1987, ch. 16; Sen 1968), as pymannkendall 1.4
``original_test`` and ``sens_slope`` compute them, with ``n`` the number of valid values:

* S = Σ_{i<j} sign(v_j − v_i), in time order;
* Var(S) = [n(n−1)(2n+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18, t_g the size of the g-th group of
  tied values;
* Z = (S − 1)/√Var(S) if S > 0, 0 if S = 0, (S + 1)/√Var(S) if S < 0 (continuity correction);
* p = 2 [1 − Φ(|Z|)] = erfc(|Z| / √2) (two-sided);
* τ = S / [n(n−1)/2] (tau-a, pymannkendall's ``Tau``);
* slope = median over valid pairs i < j of (v_j − v_i)/(t_j − t_i);
* intercept = median(v) − slope · median(t − t₀) over the valid values, t₀ = ``t[0]``.

Medians are found by quickselect in scratch buffers allocated once per run of pixels, so the
parallel kernel allocates nothing inside the pixel loop.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

#: Float outputs of the kernel, in column order.
OUTPUTS = ("slope", "intercept", "s", "var_s", "z", "p", "tau")

#: Class code of pixels with fewer than ``min_count`` valid values.
NODATA = -128

_SQRT2 = math.sqrt(2.0)


@njit(cache=True, nogil=True, inline="always")
def _mid(a, b, c):  # type: ignore[no-untyped-def]
    """Median of three values."""
    return max(min(a, b), min(max(a, b), c))


@njit(cache=True, nogil=True, inline="always")
def _median3(buf, i, j, k):  # type: ignore[no-untyped-def]
    return _mid(buf[i], buf[j], buf[k])


@njit(cache=True, nogil=True)
def _select(buf, n, k):  # type: ignore[no-untyped-def]
    """Rearrange ``buf[:n]`` so that ``buf[k]`` holds the k-th smallest (0-based) and return it.

    Quickselect with branch-free Lomuto partitions (a swap per element and a comparison added to
    the index, which the CPU runs without mispredicted jumps): the first pass moves the values
    below the pivot (median of three, or of three medians of three) to the left; when none is
    below, a second pass gathers the values equal to it, so runs of ties (common among pairwise
    slopes of rounded data) cannot stall the search.
    Afterwards ``buf[i] <= buf[k]`` for i < k and ``buf[i] >= buf[k]`` for i > k.
    """
    lo, hi = 0, n
    while hi - lo > 1:
        pivot = _median3(buf, lo, (lo + hi) // 2, hi - 1)
        if hi - lo > 40:  # Tukey's ninther: a median of three medians of three
            step = (hi - lo) // 8
            pivot = _mid(_median3(buf, lo, lo + step, lo + 2 * step), pivot,
                         _median3(buf, hi - 1 - 2 * step, hi - 1 - step, hi - 1))
        i = lo
        for j in range(lo, hi):
            x = buf[j]
            buf[j] = buf[i]
            buf[i] = x
            i += x < pivot
        if k < i:
            hi = i
            continue
        if i > lo:
            lo = i
            continue
        e = i  # the pivot is the smallest value left: gather the values equal to it
        for j in range(i, hi):
            x = buf[j]
            buf[j] = buf[e]
            buf[e] = x
            e += x <= pivot
        if k < e:
            return pivot
        lo = e
    return buf[k]


@njit(cache=True, nogil=True)
def _median(buf, n):  # type: ignore[no-untyped-def]
    """Median of ``buf[:n]`` (mean of the two middle values when n is even); reorders buf."""
    half = n // 2
    upper = _select(buf, n, half)
    if n % 2 == 1:
        return upper
    lower = buf[0]
    for i in range(1, half):
        lower = max(lower, buf[i])
    return (lower + upper) / 2.0


@njit(cache=True, nogil=True)
def _pixel(row, t, min_count, alpha, out, vbuf, tbuf, sbuf):  # type: ignore[no-untyped-def]
    """Outputs of one pixel into ``out`` (length 7); returns the trend class code."""
    m = 0
    for k in range(row.shape[0]):
        v = row[k]
        if math.isfinite(v):
            vbuf[m] = v
            tbuf[m] = t[k] - t[0]
            m += 1
    if m < min_count:
        for k in range(out.shape[0]):
            out[k] = np.nan
        return NODATA
    # Mann-Kendall S and the pairwise slopes, in one pass over the pairs
    # (branch-free inner loop: sbuf[base + j] is pair (i, j))
    s_int = 0
    n_pairs = 0
    for i in range(m - 1):
        vi = vbuf[i]
        ti = tbuf[i]
        base = n_pairs - i - 1
        for j in range(i + 1, m):
            d = vbuf[j] - vi
            s_int += (d > 0) - (d < 0)
            sbuf[base + j] = d / (tbuf[j] - ti)
        n_pairs += m - 1 - i
    s = float(s_int)
    slope = _median(sbuf, n_pairs)
    # tie correction: insertion-sort a copy of the values and count runs of equal values
    for k in range(m):
        v = vbuf[k]
        j = k - 1
        while j >= 0 and sbuf[j] > v:
            sbuf[j + 1] = sbuf[j]
            j -= 1
        sbuf[j + 1] = v
    ties = 0.0
    run = 1.0
    for k in range(1, m + 1):
        if k < m and sbuf[k] == sbuf[k - 1]:
            run += 1.0
        else:
            if run > 1.0:
                ties += run * (run - 1.0) * (2.0 * run + 5.0)
            run = 1.0
    n = float(m)
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - ties) / 18.0
    if s > 0:
        z = (s - 1.0) / math.sqrt(var_s)
    elif s < 0:
        z = (s + 1.0) / math.sqrt(var_s)
    else:
        z = 0.0
    p = math.erfc(abs(z) / _SQRT2)
    intercept = _median(vbuf, m) - _median(tbuf, m) * slope
    out[0] = slope
    out[1] = intercept
    out[2] = s
    out[3] = var_s
    out[4] = z
    out[5] = p
    out[6] = s / (0.5 * n * (n - 1.0))
    if slope == 0.0 or s == 0.0 or (slope > 0.0) != (s > 0.0):
        return 0
    level = 2 if p < alpha else 1
    return level if slope > 0.0 else -level


@njit(cache=True, nogil=True)
def _run(values, t, min_count, alpha, out, codes, start, stop):  # type: ignore[no-untyped-def]
    n_t = values.shape[1]
    vbuf = np.empty(n_t)
    tbuf = np.empty(n_t)
    sbuf = np.empty(max(n_t * (n_t - 1) // 2, n_t))
    for i in range(start, stop):
        codes[i] = _pixel(values[i], t, min_count, alpha, out[i], vbuf, tbuf, sbuf)


@njit(cache=True, nogil=True)
def _serial(values, t, min_count, alpha, out, codes):  # type: ignore[no-untyped-def]
    _run(values, t, min_count, alpha, out, codes, 0, values.shape[0])


@njit(cache=True, parallel=True)
def _parallel(values, t, min_count, alpha, out, codes, n_runs):  # type: ignore[no-untyped-def]
    n = values.shape[0]
    for r in prange(n_runs):
        _run(values, t, min_count, alpha, out, codes, r * n // n_runs, (r + 1) * n // n_runs)


def sen_mk_block(values: npt.NDArray[np.float64], t: npt.NDArray[np.float64], min_count: int,
                 alpha: float, *, parallel: bool
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8]]:
    """Sen's slope and Mann–Kendall for each row of ``values`` (pixels × times).

    Parameters
    ----------
    values
        ``(n_pixels, n_times)`` array; non-finite values are skipped.
    t
        Time coordinate of the columns (strictly increasing).
    min_count
        Fewest valid values for a result; fewer gives NaN and class :data:`NODATA`.
    alpha
        Significance level of the trend classes (p < alpha is significant).
    parallel
        Use numba's threads (numpy input) or one thread (inside a dask task).

    Returns
    -------
    out : ndarray of float64, shape (n_pixels, 7)
        Columns in the order of :data:`OUTPUTS`.
    codes : ndarray of int8, shape (n_pixels,)
        Trend class codes.

    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    t = np.ascontiguousarray(t, dtype=np.float64)
    n_pixels = values.shape[0]
    out = np.empty((n_pixels, len(OUTPUTS)), dtype=np.float64)
    codes = np.empty(n_pixels, dtype=np.int8)
    if n_pixels == 0:
        return out, codes
    if parallel:
        import numba

        n_runs = min(n_pixels, 8 * numba.get_num_threads())
        _parallel(values, t, min_count, alpha, out, codes, n_runs)
    else:
        _serial(values, t, min_count, alpha, out, codes)
    return out, codes
