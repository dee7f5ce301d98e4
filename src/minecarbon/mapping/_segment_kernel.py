"""Numba kernels of :mod:`minecarbon.mapping.trajectory`: penalised piecewise-linear segmentation.

The kernels take a ``(n_pixels, n_times)`` float64 block of annual values (NaN = no
observation), the forest mask and the documented-disturbance mask of the same shape, and the
time coordinate ``t`` (float64, strictly increasing). Per pixel they write the fitted series
(float32, NaN outside forest), the number of segments, the number of valid observations inside
forest and whether a forest year was filled (had no observation of its own).

Per forest span (a maximal run of consecutive forest years) with ``m`` valid observations:

* ``m >= min_obs``: the exact minimiser over segmentations into at most ``max_segments``
  segments of consecutive years, each with at least ``min_obs`` valid observations and its own
  least-squares line, of ``SSE + Σ_breaks β_b`` (optimal partitioning, Jackson et al. 2005; the
  penalised cost of PELT, Killick et al. 2012), ``β = penalty_factor · 3 σ̂² ln m``, ``β/3`` for
  a segment starting at a documented-disturbance year, ``σ̂ = 1.4826 · median|Δv| / √2`` over
  the first differences of the span's consecutive valid observations;
* ``0 < m < min_obs``: the mean of the observations;
* ``m == 0``: per year, the fitted value of the nearest year (earlier on a tie) in a span that
  has observations; NaN when there is none.

Segment sums of t, t², v, v², t·v come from cumulative sums over the span's years after
centring t and v on the span's valid observations (so the differences of the sums do not
cancel); the final lines are refitted in two passes per segment. Among segmentations of equal
cost the kernel keeps the one with fewer segments and, between years without observations, the
later start: the years between the last observation of one segment and the first of the next
belong to the earlier segment, unless a documented disturbance falls among them (then the new
segment starts at the latest such year). Scratch buffers are allocated once per run of pixels.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

#: Consistency constant of the median absolute deviation for Gaussian noise.
MAD_SCALE = 1.4826

_SQRT2 = math.sqrt(2.0)
_INF = np.inf


@njit(cache=True, nogil=True)
def _noise_sd(v, valid, a, b, buf):  # type: ignore[no-untyped-def]
    """Robust noise SD of the valid values in ``v[a:b]`` from their first differences."""
    m = 0
    prev = 0.0
    have = False
    for i in range(a, b):
        if valid[i]:
            if have:
                buf[m] = abs(v[i] - prev)
                m += 1
            prev = v[i]
            have = True
    if m == 0:
        return 0.0
    for k in range(1, m):  # insertion sort: m <= n_times (a few dozen)
        x = buf[k]
        j = k - 1
        while j >= 0 and buf[j] > x:
            buf[j + 1] = buf[j]
            j -= 1
        buf[j + 1] = x
    med = buf[m // 2] if m % 2 == 1 else 0.5 * (buf[m // 2 - 1] + buf[m // 2])
    return MAD_SCALE * med / _SQRT2


@njit(cache=True, nogil=True)
def _fit_line(t, v, valid, s, e, fitted):  # type: ignore[no-untyped-def]
    """Least-squares line through the valid points of years [s, e); writes it on all of them."""
    n = 0
    tm = 0.0
    vm = 0.0
    for i in range(s, e):
        if valid[i]:
            n += 1
            tm += t[i]
            vm += v[i]
    tm /= n
    vm /= n
    sxx = 0.0
    sxy = 0.0
    for i in range(s, e):
        if valid[i]:
            dt = t[i] - tm
            sxx += dt * dt
            sxy += dt * (v[i] - vm)
    slope = sxy / sxx if sxx > 0.0 else 0.0
    for i in range(s, e):
        fitted[i] = vm + slope * (t[i] - tm)


@njit(cache=True, nogil=True)
def _span(t, v, valid, free, a, b, max_segments, min_obs, penalty_factor, forced,  # type: ignore[no-untyped-def]
          fitted, starts, cs, cost, best, back, buf):
    """Fit the span of years [a, b); returns its number of segments (0 without observations).

    ``cs`` (6, n+1), ``cost`` (n+1, n+1), ``best`` and ``back`` (max_segments+1, n+1) and
    ``buf`` (n) are scratch. ``forced`` > 0 fixes the number of segments (no penalty; capped
    by what the observations allow).
    """
    m = 0
    tm = 0.0
    vm = 0.0
    for i in range(a, b):
        if valid[i]:
            m += 1
            tm += t[i]
            vm += v[i]
    if m == 0:
        return 0
    tm /= m
    vm /= m
    if m < min_obs:
        for i in range(a, b):
            fitted[i] = vm
        starts[a] = 1
        return 1
    n = b - a
    # cumulative sums over the span's years of the centred valid observations
    for r in range(6):
        cs[r, 0] = 0.0
    for p in range(n):
        i = a + p
        c = 0.0
        x = 0.0
        y = 0.0
        if valid[i]:
            c = 1.0
            x = t[i] - tm
            y = v[i] - vm
        cs[0, p + 1] = cs[0, p] + c
        cs[1, p + 1] = cs[1, p] + x
        cs[2, p + 1] = cs[2, p] + x * x
        cs[3, p + 1] = cs[3, p] + y
        cs[4, p + 1] = cs[4, p] + y * y
        cs[5, p + 1] = cs[5, p] + x * y
    # SSE of the least-squares line of every admissible segment [s, e) (local positions)
    for s in range(n):
        for e in range(s + 1, n + 1):
            cnt = cs[0, e] - cs[0, s]
            if cnt < min_obs:
                cost[s, e] = _INF
                continue
            st = cs[1, e] - cs[1, s]
            stt = cs[2, e] - cs[2, s]
            sv = cs[3, e] - cs[3, s]
            svv = cs[4, e] - cs[4, s]
            stv = cs[5, e] - cs[5, s]
            sxx = stt - st * st / cnt
            sxy = stv - st * sv / cnt
            syy = svv - sv * sv / cnt
            sse = syy - sxy * sxy / sxx if sxx > 0.0 else syy
            cost[s, e] = sse if sse > 0.0 else 0.0
    k_max = max_segments
    if forced > 0:
        k_max = forced
        beta = 0.0
    else:
        sigma = _noise_sd(v, valid, a, b, buf)
        floor = 1e-6 * (1.0 + abs(vm))
        if sigma < floor:
            sigma = floor
        beta = penalty_factor * 3.0 * sigma * sigma * math.log(m)
    # best[k, e]: least penalised cost of years [0, e) in k segments; back[k, e]: last start
    for e in range(n + 1):
        best[1, e] = cost[0, e] if e > 0 else _INF
        back[1, e] = 0
    for k in range(2, k_max + 1):
        for e in range(n + 1):
            best[k, e] = _INF
            back[k, e] = -1
            for s in range(1, e):
                prev = best[k - 1, s]
                if prev == _INF or cost[s, e] == _INF:
                    continue
                pen = beta / 3.0 if free[a + s] else beta
                total = prev + pen + cost[s, e]
                if total <= best[k, e]:  # ties: the later start
                    best[k, e] = total
                    back[k, e] = s
    k_best = 1
    if forced > 0:
        for k in range(1, k_max + 1):
            if best[k, n] < _INF:
                k_best = k
    else:
        for k in range(2, k_max + 1):
            if best[k, n] < best[k_best, n]:  # ties: fewer segments
                k_best = k
    e = n
    for k in range(k_best, 0, -1):
        s = back[k, e] if k > 1 else 0
        _fit_line(t, v, valid, a + s, a + e, fitted)
        starts[a + s] = 1
        e = s
    return k_best


@njit(cache=True, nogil=True)
def _pixel(v, forest, free, t, max_segments, min_obs, penalty_factor, forced,  # type: ignore[no-untyped-def]
           fit_out, filled_out, starts, valid, fitted, has_fit, cs, cost, best, back, buf):
    """Fit one pixel into ``fit_out``, ``filled_out``, ``starts``; returns (segments, valid)."""
    n_t = v.shape[0]
    n_valid = 0
    for i in range(n_t):
        valid[i] = forest[i] and math.isfinite(v[i])
        n_valid += valid[i]
        fitted[i] = np.nan
        has_fit[i] = False
        starts[i] = 0
        filled_out[i] = forest[i] and not valid[i]
    n_seg = 0
    empty = False
    a = 0
    while a < n_t:
        if not forest[a]:
            a += 1
            continue
        b = a + 1
        while b < n_t and forest[b]:
            b += 1
        k = _span(t, v, valid, free, a, b, max_segments, min_obs, penalty_factor, forced,
                  fitted, starts, cs, cost, best, back, buf)
        n_seg += k
        if k > 0:
            for i in range(a, b):
                has_fit[i] = True
        else:
            empty = True
        a = b
    if empty:  # spans without observations: the nearest fitted year of another span
        for i in range(n_t):
            if not forest[i] or has_fit[i]:
                continue
            j_best = -1
            d_best = _INF
            for j in range(n_t):
                if has_fit[j]:
                    d = abs(t[j] - t[i])
                    if d < d_best:  # ties: the earlier year (j ascending)
                        d_best = d
                        j_best = j
            if j_best >= 0:
                fitted[i] = fitted[j_best]
    for i in range(n_t):
        fit_out[i] = fitted[i]
    return n_seg, n_valid


@njit(cache=True, nogil=True)
def _run(values, forest, free, t, max_segments, min_obs, penalty_factor, forced,  # type: ignore[no-untyped-def]
         fit_out, seg_out, valid_out, filled_out, starts_out, start, stop):
    n_t = values.shape[1]
    k1 = max(max_segments, forced) + 1
    valid = np.empty(n_t, dtype=np.bool_)
    fitted = np.empty(n_t)
    has_fit = np.empty(n_t, dtype=np.bool_)
    cs = np.empty((6, n_t + 1))
    cost = np.empty((n_t + 1, n_t + 1))
    best = np.empty((k1, n_t + 1))
    back = np.empty((k1, n_t + 1), dtype=np.int64)
    buf = np.empty(max(n_t, 1))
    starts = np.empty(n_t, dtype=np.uint8)
    for p in range(start, stop):
        n_seg, n_valid = _pixel(values[p], forest[p], free[p], t, max_segments, min_obs,
                                penalty_factor, forced, fit_out[p], filled_out[p], starts,
                                valid, fitted, has_fit, cs, cost, best, back, buf)
        seg_out[p] = min(n_seg, 255)
        valid_out[p] = n_valid
        if starts_out.shape[0] > 0:
            for i in range(n_t):
                starts_out[p, i] = starts[i]


@njit(cache=True, nogil=True)
def _serial(values, forest, free, t, max_segments, min_obs, penalty_factor, forced,  # type: ignore[no-untyped-def]
            fit_out, seg_out, valid_out, filled_out, starts_out):
    _run(values, forest, free, t, max_segments, min_obs, penalty_factor, forced, fit_out,
         seg_out, valid_out, filled_out, starts_out, 0, values.shape[0])


@njit(cache=True, parallel=True)
def _parallel(values, forest, free, t, max_segments, min_obs, penalty_factor, forced,  # type: ignore[no-untyped-def]
              fit_out, seg_out, valid_out, filled_out, starts_out, n_runs):
    n = values.shape[0]
    for r in prange(n_runs):
        _run(values, forest, free, t, max_segments, min_obs, penalty_factor, forced, fit_out,
             seg_out, valid_out, filled_out, starts_out, r * n // n_runs, (r + 1) * n // n_runs)


def segment_block(values: npt.NDArray[np.floating], forest: npt.NDArray[np.bool_],
                  free: npt.NDArray[np.bool_], t: npt.NDArray[np.float64], *,
                  max_segments: int, min_obs: int, penalty_factor: float, parallel: bool,
                  forced: int = 0, with_starts: bool = False
                  ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8],
                             npt.NDArray[np.int16], npt.NDArray[np.bool_], npt.NDArray[np.uint8]]:
    """Penalised piecewise-linear fit of each row of ``values`` (pixels × times).

    Parameters
    ----------
    values
        ``(n_pixels, n_times)`` annual values; non-finite = no observation.
    forest, free
        Boolean masks of the same shape: forest years; documented-disturbance years.
    t
        Time coordinate of the columns (strictly increasing).
    max_segments, min_obs, penalty_factor
        As :func:`minecarbon.mapping.trajectory.fit_trajectories`.
    parallel
        Use numba's threads (numpy input) or one thread (inside a dask task).
    forced
        > 0: that many segments per span (no penalty; fewer where the observations do not
        allow it). For the tests against an exhaustive segmentation.
    with_starts
        Also return, per pixel and year, 1 where a segment starts (else an empty array).

    Returns
    -------
    fitted : ndarray of float32, shape (n_pixels, n_times)
    n_segments : ndarray of uint8, shape (n_pixels,)
    n_valid : ndarray of int16, shape (n_pixels,)
    filled : ndarray of bool, shape (n_pixels, n_times)
    starts : ndarray of uint8, shape (n_pixels, n_times) or (0, n_times)

    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    forest = np.ascontiguousarray(forest, dtype=np.bool_)
    free = np.ascontiguousarray(free, dtype=np.bool_)
    t = np.ascontiguousarray(t, dtype=np.float64)
    n_pixels, n_t = values.shape
    fitted = np.empty((n_pixels, n_t), dtype=np.float32)
    n_seg = np.empty(n_pixels, dtype=np.uint8)
    n_valid = np.empty(n_pixels, dtype=np.int16)
    filled = np.empty((n_pixels, n_t), dtype=np.bool_)
    starts = np.zeros((n_pixels if with_starts else 0, n_t), dtype=np.uint8)
    if n_pixels == 0:
        return fitted, n_seg, n_valid, filled, starts
    args = (values, forest, free, t, int(max_segments), int(min_obs), float(penalty_factor),
            int(forced), fitted, n_seg, n_valid, filled, starts)
    if parallel and n_pixels > 1:
        import numba

        _parallel(*args, min(n_pixels, 8 * numba.get_num_threads()))
    else:
        _serial(*args)
    return fitted, n_seg, n_valid, filled, starts
