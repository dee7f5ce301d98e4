"""Numba kernel of :mod:`minecarbon.classify.temporal`: per-pixel Viterbi decoding of classes.

Every pixel is a hidden Markov model whose states are the land-cover classes and whose
observations are the classifier's class probabilities of each year (Abercrombie & Friedl 2016):

* emission of class k in year t: the tempered probability ``(1 − α) p_tk + α / K`` (``α`` the
  ``mixing`` share, since a random forest's tree shares are over-confident); a year without an
  observation (all probabilities NaN) emits 1 for every class;
* transition: stay with probability ``stay``, else move to any other class with
  ``(1 − stay) / (K − 1)``; into a year flagged ``free`` (a documented disturbance, such as
  mining damage in that year) every class is equally likely (``1 / K``), so an abrupt change
  recorded on the ground costs nothing;
* start: uniform (the land-cover forest is trained with balanced class weights, so its shares
  already assume equal priors).

The most probable path is found by the Viterbi recursion in log space (Rabiner 1989, eq. 30–35);
ties go to the lower class index. Probabilities arrive as uint8 (``value / scale``, 255 = no
observation), so a block of 25 years × 7 classes stays small in memory.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit, prange

#: uint8 code of a missing probability.
MISSING = 255


@njit(cache=True, nogil=True)
def _viterbi_pixel(proba, free, log_stay, log_move, log_free, mixing, scale,  # type: ignore[no-untyped-def]
                   delta, new, back, path):
    """Decode one pixel: ``proba`` (T, K) uint8, ``free`` (T,) bool; path (T,) int8 (−1: none)."""
    n_t, n_k = proba.shape
    observed = 0
    for t in range(n_t):
        if proba[t, 0] != MISSING:
            observed += 1
    if observed == 0:
        for t in range(n_t):
            path[t] = -1
        return
    uniform = mixing / n_k
    for t in range(n_t):
        for k in range(n_k):
            if proba[t, 0] == MISSING:
                emit = 0.0
            else:
                emit = math.log((1.0 - mixing) * proba[t, k] / scale + uniform)
            if t == 0:
                new[k] = emit
                back[t, k] = k
                continue
            if free[t]:
                best_j = 0
                for j in range(1, n_k):
                    if delta[j] > delta[best_j]:
                        best_j = j
                new[k] = delta[best_j] + log_free + emit
                back[t, k] = best_j
                continue
            best_j = k
            best = delta[k] + log_stay
            for j in range(n_k):
                if j != k:
                    value = delta[j] + log_move
                    if value > best or (value == best and j < best_j):
                        best = value
                        best_j = j
            new[k] = best + emit
            back[t, k] = best_j
        for k in range(n_k):
            delta[k] = new[k]
    best_k = 0
    for k in range(1, n_k):
        if delta[k] > delta[best_k]:
            best_k = k
    path[n_t - 1] = best_k
    for t in range(n_t - 1, 0, -1):
        path[t - 1] = back[t, path[t]]


@njit(cache=True, nogil=True, parallel=True)
def viterbi_block(proba: npt.NDArray[np.uint8], free: npt.NDArray[np.bool_], stay: float,
                  mixing: float, scale: float) -> npt.NDArray[np.int8]:
    """Most probable class index series of every pixel.

    Parameters
    ----------
    proba
        (n_pixels, T, K) uint8 class probabilities times ``scale``; :data:`MISSING` in the first
        class marks a year without observation.
    free
        (n_pixels, T) bool: the transition into year t is free (uniform).
    stay, mixing, scale
        Probability of keeping the class from one year to the next, the tempering share and the
        scale of the uint8 probabilities.

    Returns
    -------
    numpy.ndarray
        (n_pixels, T) int8 class indices; −1 for a pixel with no observation in any year.

    """
    n_px, n_t, n_k = proba.shape
    out = np.empty((n_px, n_t), dtype=np.int8)
    log_stay = math.log(stay)
    log_move = math.log((1.0 - stay) / (n_k - 1)) if n_k > 1 else -math.inf
    log_free = math.log(1.0 / n_k)
    n_threads = 64
    step = (n_px + n_threads - 1) // n_threads
    for part in prange(n_threads):
        delta = np.empty(n_k)
        new = np.empty(n_k)
        back = np.empty((n_t, n_k), dtype=np.int8)
        path = np.empty(n_t, dtype=np.int8)
        for i in range(part * step, min(n_px, (part + 1) * step)):
            _viterbi_pixel(proba[i], free[i], log_stay, log_move, log_free, mixing, scale,
                           delta, new, back, path)
            for t in range(n_t):
                out[i, t] = path[t]
    return out


@njit(cache=True, nogil=True, parallel=True)
def span_mode_block(codes: npt.NDArray[np.uint8], inside: npt.NDArray[np.bool_]
                    ) -> npt.NDArray[np.uint8]:
    """Each run of consecutive ``inside`` years takes its most frequent non-zero code.

    ``codes`` and ``inside`` are (n_pixels, T); ties go to the lowest code; a run without a
    non-zero code keeps its codes; years outside every run get 0.
    """
    n_px, n_t = codes.shape
    out = np.zeros((n_px, n_t), dtype=np.uint8)
    for i in prange(n_px):
        counts = np.zeros(256, dtype=np.int64)
        t = 0
        while t < n_t:
            if not inside[i, t]:
                t += 1
                continue
            end = t
            while end < n_t and inside[i, end]:
                end += 1
            counts[:] = 0
            for k in range(t, end):
                counts[codes[i, k]] += 1
            best = 0
            for c in range(1, 256):
                if counts[c] > counts[best] or (best == 0 and counts[c] > 0):
                    best = c
            for k in range(t, end):
                out[i, k] = best if best > 0 else codes[i, k]
            t = end
    return out
