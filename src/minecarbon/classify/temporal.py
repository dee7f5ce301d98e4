"""Temporally consistent land-cover series: a hidden Markov model over each pixel's years.

A classifier applied year by year makes a pixel flicker between confusable classes (sparse
forest and shrubland) from one year to the next, and a year without a clear observation has no
class at all. Both are read by a map user as change. Following Abercrombie & Friedl (2016,
*IEEE Transactions on Geoscience and Remote Sensing* 54(2): 703–713), each pixel's series of
class probabilities is decoded as a hidden Markov model whose hidden states are the classes: a
change of class costs ``log(stay / ((1 − stay)/(K − 1)))`` and must be paid for by the evidence
of the years after it, so a one-year flicker (two changes) needs far stronger evidence than a
lasting change (one). Years without observation take the class of the most probable path — the
pixel's own neighbouring years — and a change in a year recorded as disturbed (mining damage)
is free, so documented abrupt transitions stay abrupt at their year. The annual China land-cover
dataset (CLCD; Yang & Huang 2021, *Earth System Science Data* 13: 3907–3925) applies the same
idea with a spatio-temporal filter and logical rules; the HMM states it as one probability model.

:func:`probabilities_to_uint8` packs a year's class probabilities for storage,
:func:`smooth_class_series` decodes the whole series block by block (numba, one task per
spatial block holding every year).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import xarray as xr

from minecarbon.classify._hmm_kernel import MISSING, span_mode_block, viterbi_block
from minecarbon.errors import InputDataError

#: uint8 probabilities are stored as ``round(p × SCALE)``.
SCALE = 250.0


def probabilities_to_uint8(proba: xr.DataArray) -> xr.DataArray:
    """Class probabilities (class, y, x; NaN where not classified) → uint8 for storage.

    ``round(p × 250)``; :data:`~minecarbon.classify._hmm_kernel.MISSING` (255) in every class
    where the pixel has no probability.
    """
    missing = proba.isnull().any("class")
    packed = (proba.clip(0.0, 1.0) * SCALE).round().fillna(MISSING)
    return packed.where(~missing, MISSING).astype("uint8")


def _block(proba: npt.NDArray[np.uint8], free: npt.NDArray[np.bool_], *, codes:
           npt.NDArray[np.uint8], stay: float, mixing: float,
           max_fill_years: int) -> npt.NDArray[np.uint8]:
    """(y, x, year, class) uint8 → (y, x, year) class codes, 0 = none."""
    ny, nx, n_t, n_k = proba.shape
    flat = np.ascontiguousarray(proba.reshape(ny * nx, n_t, n_k))
    free_flat = np.ascontiguousarray(free.reshape(ny * nx, n_t))
    index = viterbi_block(flat, free_flat, stay, mixing, SCALE)
    out = np.where(index >= 0, codes[np.clip(index, 0, None)], 0).astype(np.uint8)
    observed = flat[:, :, 0] != MISSING
    if max_fill_years >= 0 and not observed.all():
        years = np.arange(n_t)
        far = np.full(observed.shape, n_t + 1, dtype=np.int64)
        for t in range(n_t):  # distance to the nearest observed year (n_t ≤ ~50)
            has = observed[:, t]
            far[has] = np.minimum(far[has], np.abs(years - t)[None, :])
        out[far > max_fill_years] = 0
    return out.reshape(ny, nx, n_t)


def smooth_class_series(
    proba: xr.DataArray,
    classes: Sequence[int],
    *,
    free: xr.DataArray | None = None,
    stay: float = 0.95,
    mixing: float = 0.05,
    max_fill_years: int = 3,
    dim: str = "year",
) -> xr.DataArray:
    """The most probable class series of every pixel (Viterbi decoding of a per-pixel HMM).

    Parameters
    ----------
    proba
        (``dim``, class, y, x) uint8 class probabilities × 250 as written by
        :func:`probabilities_to_uint8` (255 = no observation that year); dask-backed blocks must
        hold every year and every class (they are rechunked if not).
    classes
        The class code of each entry of the ``class`` dimension (1 … 255).
    free
        Optional (``dim``, y, x) bool: a documented disturbance in that year makes the change
        into it free.
    stay
        Probability that a pixel keeps its class from one year to the next (0.5 < stay < 1);
        higher suppresses more flicker and delays real changes that are not documented.
    mixing
        Share of uniform probability mixed into every year's probabilities (0 ≤ mixing < 1),
        so one over-confident year cannot veto the others.
    max_fill_years
        A year without observation takes a class only within this many years of an observed
        one (else 0, "unclassified").
    dim
        The time dimension.

    Returns
    -------
    xarray.DataArray
        (``dim``, y, x) uint8 class codes, 0 where the pixel has no observation near that year.

    Raises
    ------
    InputDataError
        Bad dims, class count or parameters.

    """
    if proba.dims != (dim, "class", "y", "x"):
        raise InputDataError(f"class probabilities with dims {proba.dims}",
                             fix=f"pass ({dim}, class, y, x) probabilities")
    if proba.sizes["class"] != len(classes) or len(classes) < 2:
        raise InputDataError(f"{proba.sizes['class']} probability bands for classes "
                             f"{list(classes)}", fix="give one class code per probability band")
    if not 0.5 < stay < 1.0 or not 0.0 <= mixing < 1.0:
        raise InputDataError(f"stay={stay}, mixing={mixing}",
                             fix="use 0.5 < stay < 1 and 0 ≤ mixing < 1")
    codes = np.asarray(classes, dtype=np.int64)
    if codes.min() < 1 or codes.max() > 255:
        raise InputDataError(f"class codes {list(classes)} outside 1 … 255",
                             fix="use uint8 class codes; 0 means unclassified")
    if free is None:
        free = xr.zeros_like(proba.isel({"class": 0}), dtype=bool)
    elif free.dims != (dim, "y", "x") or free.shape != proba.isel({"class": 0}).shape:
        raise InputDataError(f"free transitions of dims {free.dims} and shape {free.shape}",
                             fix=f"pass ({dim}, y, x) on the grid of the probabilities")
    if proba.chunks is not None:
        proba = proba.chunk({dim: -1, "class": -1})
        blocks = proba.chunks
        assert blocks is not None
        free = free.chunk({dim: -1, "y": blocks[2], "x": blocks[3]})
    free = free.assign_coords(y=proba["y"], x=proba["x"])
    out: xr.DataArray = xr.apply_ufunc(
        _block, proba, free, input_core_dims=[[dim, "class"], [dim]],
        output_core_dims=[[dim]], dask="parallelized", output_dtypes=[np.uint8],
        kwargs={"codes": codes.astype(np.uint8), "stay": float(stay), "mixing": float(mixing),
                "max_fill_years": int(max_fill_years)})
    return out.transpose(dim, "y", "x").rename("landcover")


def _mode_block(codes: npt.NDArray[np.uint8], inside: npt.NDArray[np.bool_]
                ) -> npt.NDArray[np.uint8]:
    shape = codes.shape
    flat = np.ascontiguousarray(codes.reshape(-1, shape[-1]), dtype=np.uint8)
    mask = np.ascontiguousarray(inside.reshape(-1, shape[-1]), dtype=np.bool_)
    return np.asarray(span_mode_block(flat, mask)).reshape(shape)


def span_mode(codes: xr.DataArray, inside: xr.DataArray, *, dim: str = "year") -> xr.DataArray:
    """One code per span: each run of consecutive ``inside`` years takes its most frequent code.

    Forest type and species do not change while a stand stands; a map that gives a pixel
    another forest type from one phenology year to the next would switch its AGC model and
    read as change. Within a forest span (consecutive forest years of the land-cover series)
    every year takes the span's most frequent non-zero code (the lowest on a tie); a new span
    (after a clearing, a reclamation) may take another.

    Parameters
    ----------
    codes
        (``dim``, y, x) uint8 class codes, 0 = none.
    inside
        (``dim``, y, x) bool: the years the pixel belongs to the class (e.g. forest).
    dim
        The time dimension.

    Returns
    -------
    xarray.DataArray
        (``dim``, y, x) uint8; 0 outside ``inside``.

    Raises
    ------
    InputDataError
        ``codes`` and ``inside`` differ in dims or shape.

    """
    if codes.dims != inside.dims or codes.shape != inside.shape or dim not in codes.dims:
        raise InputDataError(f"codes {codes.dims} {codes.shape} and mask {inside.dims} "
                             f"{inside.shape}", fix=f"pass both as ({dim}, y, x) on one grid")
    if codes.chunks is not None:
        codes = codes.chunk({dim: -1})
        blocks = codes.chunks
        assert blocks is not None
        inside = inside.chunk(dict(zip(codes.dims, blocks, strict=True)))
    inside = inside.assign_coords({c: codes[c] for c in codes.coords if c in inside.dims})
    out: xr.DataArray = xr.apply_ufunc(
        _mode_block, codes.astype(np.uint8), inside.astype(bool), input_core_dims=[[dim], [dim]],
        output_core_dims=[[dim]], dask="parallelized", output_dtypes=[np.uint8])
    return out.transpose(*codes.dims).rename(codes.name)
