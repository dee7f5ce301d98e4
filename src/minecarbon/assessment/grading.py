"""Jenks natural breaks and grading of a map into classes (requirement A3, five effect grades).

:func:`natural_breaks` finds the ``k`` classes of a set of values that minimise the within-class
sum of squared deviations (Fisher–Jenks); :func:`jenks_breaks` returns just its ``k + 1`` edges
(minimum, the largest value of each of classes 1 … k − 1, maximum: the convention of jenkspy;
mapclassify's ``bins`` are ``edges[1:]``). :func:`grade` turns a map into classes 1 … k by those
edges (upper edges inclusive, 0 where the map is NaN) and :func:`grade_cumulative_effect` gives
the five cumulative-effect grades of the guide (:class:`EffectGrade`).

Two methods, reported in :class:`JenksResult`:

``"exact"``
    The dynamic programme over the distinct values (weighted by their counts), used when there
    are at most ``max_exact`` valid values and no ``precision`` was given. Same breaks as
    ``jenkspy.jenks_breaks``.
``"histogram"``
    For more values (or when ``precision`` is given): the values are binned by rounding to a
    multiple of ``precision`` and the same programme runs over the bins, each carrying the
    count, sum and sum of squares of its *original* values. The result is the exact optimum among
    the partitions whose breaks fall between bins; when every bin holds a single distinct value
    (data already at the precision) it is the exact optimum (``JenksResult.exact``). Edges are the
    largest original value of each class, so :func:`grade` reproduces the classes. The default
    precision is the finest step 1, 2 or 5 × 10ⁿ giving at most ``max_bins`` bins over the range.

Dask input is read twice, chunk by chunk (range and count, then the per-chunk bin statistics
merged by addition); the whole array is never held in memory. docs/grading.md has the details.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dask
import dask.array as da
import numpy as np
import numpy.typing as npt
import xarray as xr
from dask.delayed import delayed

from minecarbon.assessment._jenks_kernel import bin_stats, class_ssd, fisher_starts
from minecarbon.errors import InputDataError, warn
from minecarbon.types import _Labelled

Stats = tuple[npt.NDArray[Any], ...]


class EffectGrade(_Labelled):
    """Cumulative-effect grades (累积效应等级), classes 1 … 5 of the natural breaks (A3)."""

    HIGH_NEGATIVE = 1, "高度负向", "high negative"
    LOW_NEGATIVE = 2, "低度负向", "low negative"
    NOT_OBVIOUS = 3, "无明显", "not obvious"
    LOW_POSITIVE = 4, "低度正向", "low positive"
    HIGH_POSITIVE = 5, "高度正向", "high positive"


@dataclass(frozen=True)
class JenksResult:
    """Natural breaks and how they were found.

    Attributes
    ----------
    breaks
        ``k + 1`` edges: minimum, the largest value of classes 1 … k − 1, maximum.
    counts
        Number of values in each class.
    method
        ``"exact"`` or ``"histogram"``.
    precision
        Bin width of the histogram method (``None`` for exact).
    exact
        Whether the breaks are the exact optimum for the data (always for ``"exact"``; for
        ``"histogram"`` when every bin held a single distinct value).
    n_values
        Valid (non-NaN) values used.
    n_items
        Distinct values (exact) or non-empty bins (histogram) the programme ran over.
    sdcm, sdam
        Within-class and total sum of squared deviations; ``gvf = 1 − sdcm / sdam``.

    """

    breaks: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]
    method: Literal["exact", "histogram"]
    precision: float | None
    exact: bool
    n_values: int
    n_items: int
    sdcm: float
    sdam: float

    @property
    def k(self) -> int:
        """Number of classes."""
        return int(self.breaks.size - 1)

    @property
    def gvf(self) -> float:
        """Goodness of variance fit, 1 − sdcm / sdam (Jenks 1977)."""
        return 1.0 - self.sdcm / self.sdam if self.sdam > 0 else 1.0


def jenks_breaks(values: Any, k: int = 5, *, max_exact: int = 1_000_000,
                 precision: float | None = None, max_bins: int = 100_000,
                 name: str = "values") -> npt.NDArray[np.float64]:
    """The ``k + 1`` Jenks natural-break edges of ``values`` (NaN dropped).

    Same parameters as :func:`natural_breaks`, of which this returns ``.breaks``.
    """
    return natural_breaks(values, k, max_exact=max_exact, precision=precision,
                          max_bins=max_bins, name=name).breaks


def natural_breaks(values: Any, k: int = 5, *, max_exact: int = 1_000_000,
                   precision: float | None = None, max_bins: int = 100_000,
                   name: str = "values") -> JenksResult:
    """Fisher–Jenks natural breaks of ``values`` into ``k`` classes.

    Parameters
    ----------
    values
        Numbers of any shape: a sequence, numpy or dask array, or xarray DataArray (numpy- or
        dask-backed). NaN means no data and is dropped; ±inf is refused.
    k
        Number of classes, 2 … 127.
    max_exact
        Largest number of valid values for the exact method (when ``precision`` is ``None``).
    precision
        Bin width of the histogram method, in the unit of the values; forces that method.
        ``None``: exact up to ``max_exact`` values, else the default width (``max_bins``).
    max_bins
        Largest number of bins of the default histogram width.
    name
        Name of the input in error messages (a DataArray's own name is used when it has one).

    Returns
    -------
    JenksResult
        Breaks, class counts, the method and precision used, and the goodness of variance fit.

    Raises
    ------
    InputDataError
        ``k`` out of range; ±inf values; fewer than ``k`` distinct values (or bins).

    """
    if isinstance(values, xr.DataArray):
        name = str(values.name) if values.name is not None else name
        values = values.data
    _check_k(k, name)
    if precision is not None and not (math.isfinite(precision) and precision > 0):
        raise InputDataError(f"precision {precision!r} for {name} is not a positive number",
                             fix="give a positive bin width, e.g. 0.01, or None")
    arr: Any = values if isinstance(values, da.Array) else np.asarray(values)
    if arr.dtype.kind not in "f":
        arr = arr.astype(np.float64)
    lo, hi, n = _range(arr, name)
    if precision is None and n <= max_exact:
        if isinstance(arr, da.Array):  # at most max_exact values come into memory
            flat = np.asarray(arr[~da.isnan(arr)].compute())  # type: ignore[no-untyped-call, unused-ignore]
        else:
            flat = arr[~np.isnan(arr)]
        return _exact(flat, k, name)
    step = precision if precision is not None else default_precision(lo, hi, max_bins)
    return _histogram(arr, k, lo, hi, n, step, name)


def default_precision(lo: float, hi: float, max_bins: int = 100_000) -> float:
    """The finest bin width 1, 2 or 5 × 10ⁿ giving at most ``max_bins`` bins over [lo, hi]."""
    span = (hi - lo) / max(max_bins - 2, 1)  # rounding the ends can add one bin at each end
    if span <= 0:
        return 1.0
    exponent = math.floor(math.log10(span))
    for exp in (exponent, exponent + 1):
        for mantissa in (1.0, 2.0, 5.0):
            step = mantissa * 10.0**exp
            if step >= span * (1 - 1e-12):
                return step
    return 10.0 ** (exponent + 1)  # pragma: no cover - the loop always returns


def _check_k(k: int, name: str) -> None:
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or not 2 <= k <= 127:
        raise InputDataError(f"k = {k!r} classes for the natural breaks of {name}",
                             fix="ask for 2 … 127 classes (the guide's grades use k = 5)")


def _range(arr: Any, name: str) -> tuple[float, float, int]:
    """Minimum, maximum and number of non-NaN values (one pass over dask input)."""
    valid = ~(da.isnan(arr) if isinstance(arr, da.Array) else np.isnan(arr))
    n_expr = valid.sum()
    if isinstance(arr, da.Array):
        lo, hi, n = dask.compute(  # type: ignore[attr-defined, no-untyped-call, unused-ignore]
            da.nanmin(arr), da.nanmax(arr), n_expr)
    elif arr.size and n_expr:
        lo, hi, n = np.nanmin(arr), np.nanmax(arr), n_expr
    else:
        lo = hi = math.nan
        n = 0
    if int(n) == 0:
        raise InputDataError(f"{name} holds no valid (non-NaN) value for the natural breaks",
                             fix="check the input map and its forest mask")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputDataError(f"{name} holds infinite values",
                             fix="replace ±inf by NaN (no data) or a finite value")
    return float(lo), float(hi), int(n)


def _exact(flat: npt.NDArray[np.float64], k: int, name: str) -> JenksResult:
    unique, count = np.unique(flat.astype(np.float64, copy=False), return_counts=True)
    _enough(unique.size, k, name, "distinct values")
    centre = 0.5 * (unique[0] + unique[-1])
    d = unique - centre
    w = count.astype(np.float64)
    return _result((w, w * d, w * d * d, unique, unique), k, "exact", None, True, flat.size)


def _histogram(arr: Any, k: int, lo: float, hi: float, n: int, step: float,
               name: str) -> JenksResult:
    base = math.floor(lo / step + 0.5)
    nbins = math.floor(hi / step + 0.5) - base + 1
    if nbins > 50_000_000:
        raise InputDataError(
            f"precision {step} gives {nbins} bins over the range of {name} [{lo}, {hi}]",
            fix="choose a coarser precision or leave it None")
    centre = 0.5 * (lo + hi)
    if isinstance(arr, da.Array):
        blocks = arr.to_delayed().ravel()  # type: ignore[no-untyped-call, unused-ignore]
        parts = [delayed(_block_stats, pure=True)(b, base, step, nbins, centre) for b in blocks]
        while len(parts) > 1:  # pairwise tree merge, so partial histograms stay few
            parts = [delayed(_merge, pure=True)(*parts[i:i + 2])
                     for i in range(0, len(parts), 2)]
        (stats,) = dask.compute(parts[0])  # type: ignore[attr-defined, no-untyped-call, unused-ignore]
    else:
        stats = _block_stats(arr, base, step, nbins, centre)
    count, s, q, vmin, vmax = stats
    keep = count > 0
    count, s, q, vmin, vmax = count[keep], s[keep], q[keep], vmin[keep], vmax[keep]
    _enough(count.size, k, name, f"non-empty bins at precision {step}")
    single = bool(np.all(vmin == vmax))
    return _result((count.astype(np.float64), s, q, vmin, vmax), k, "histogram", step,
                   single, n)


def _block_stats(block: Any, base: int, step: float, nbins: int, centre: float) -> Stats:
    flat = np.ascontiguousarray(np.asarray(block)).ravel()
    if flat.dtype not in (np.float32, np.float64):
        flat = flat.astype(np.float64)
    return tuple(bin_stats(flat, base, step, nbins, centre))


def _merge(a: Stats, b: Stats | None = None) -> Stats:
    if b is None:
        return a
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], np.minimum(a[3], b[3]),
            np.maximum(a[4], b[4]))


def _enough(n_items: int, k: int, name: str, what: str) -> None:
    if n_items < k:
        raise InputDataError(
            f"{name} has {n_items} {what}, fewer than the k = {k} classes asked for",
            fix="ask for fewer classes, or a finer precision for the histogram method")


def _result(items: Stats, k: int, method: Literal["exact", "histogram"],
            precision: float | None, exact: bool, n: int) -> JenksResult:
    w, s, q, vmin, vmax = items
    starts = fisher_starts(w, s, q, k)
    ends = np.append(starts[1:], w.size)
    breaks = np.concatenate([[vmin[0]], vmax[starts[1:] - 1], [vmax[-1]]]).astype(np.float64)
    counts = np.array([w[a:e].sum() for a, e in zip(starts, ends, strict=True)], dtype=np.int64)
    whole = np.zeros(1, dtype=np.int64)
    return JenksResult(breaks=breaks, counts=counts, method=method, precision=precision,
                       exact=exact, n_values=n, n_items=int(w.size),
                       sdcm=class_ssd(w, s, q, starts), sdam=class_ssd(w, s, q, whole))


# ------------------------------------------------------------------------------------ grading
def grade(da_in: xr.DataArray, breaks: npt.ArrayLike | JenksResult, *,
          labels: Sequence[str] | None = None) -> xr.DataArray:
    """Classes 1 … k of a map by break edges; 0 where the map is NaN.

    Class ``i`` holds ``edges[i − 1] < v ≤ edges[i]`` (class 1 also ``v ≤ edges[1]``); the two
    outer classes are open, so values below the minimum edge fall in class 1 and values above
    the maximum in class k (another year's map graded by fixed edges).

    Parameters
    ----------
    da_in
        The map, numpy- or dask-backed (lazy on dask); coordinates are kept.
    breaks
        ``k + 1`` non-decreasing edges with strictly increasing inner edges, or a
        :class:`JenksResult`.
    labels
        ``k`` class names for the ``flag_meanings`` attribute (default ``class_1 …``).

    Returns
    -------
    xarray.DataArray
        int8 classes, attrs ``nodata = 0``, ``flag_values``, ``flag_meanings``, ``breaks``.

    """
    name = str(da_in.name) if da_in.name is not None else "the map"
    edges = _check_breaks(breaks.breaks if isinstance(breaks, JenksResult) else breaks, name)
    k = edges.size - 1
    if labels is not None and len(labels) != k:
        raise InputDataError(f"{len(labels)} labels for the {k} classes of {name}",
                             fix="give one label per class")
    out: xr.DataArray = xr.apply_ufunc(_grade_block, da_in, dask="parallelized",
                                       output_dtypes=[np.int8], kwargs={"inner": edges[1:-1]})
    meanings = [s.replace(" ", "_") for s in labels] if labels else [f"class_{i}" for i in
                                                                     range(1, k + 1)]
    return out.rename(f"{da_in.name}_grade" if da_in.name is not None else "grade").assign_attrs(
        long_name=f"natural-breaks class of {name} (0 = no data)", nodata=0,
        flag_values=list(range(1, k + 1)), flag_meanings=" ".join(meanings),
        breaks=edges.tolist())


def grade_cumulative_effect(effect: xr.DataArray, breaks: npt.ArrayLike | JenksResult | None
                            = None, **kwargs: Any) -> xr.DataArray:
    """The five cumulative-effect grades (:class:`EffectGrade`) of an effect map (A3).

    ``breaks`` default to :func:`natural_breaks` of ``effect`` with k = 5 (``kwargs`` are passed
    on). The labels follow the order of the classes; a warning says when the middle class
    ("not obvious") does not contain 0, since the negative/positive names then do not match the
    sign of the effect.
    """
    if breaks is None:
        breaks = natural_breaks(effect, 5, **kwargs)
    edges = _check_breaks(breaks.breaks if isinstance(breaks, JenksResult) else breaks,
                          str(effect.name))
    if edges.size != 6:
        raise InputDataError(f"{edges.size - 1} classes for the cumulative-effect grades",
                             fix="give 6 edges (5 classes)")
    if not edges[2] < 0.0 <= edges[3]:
        warn(f"cumulative effect {effect.name!r}: the 'not obvious' class ({edges[2]:.4g}, "
             f"{edges[3]:.4g}] does not contain 0, so grades named negative/positive do not "
             "match the sign of the effect", UserWarning, stacklevel=2)
    out = grade(effect, edges, labels=[g.en for g in EffectGrade])
    out.attrs.update(labels_zh=" ".join(g.zh for g in EffectGrade))
    if isinstance(breaks, JenksResult):
        out.attrs.update(method=breaks.method, precision=breaks.precision or 0.0,
                         gvf=breaks.gvf)
    return out


def _check_breaks(breaks: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    edges = np.asarray(breaks, dtype=np.float64)
    fix = "use the k + 1 edges of jenks_breaks (min, class maxima, max)"
    if edges.ndim != 1 or not 3 <= edges.size <= 128 or not np.isfinite(edges).all():
        raise InputDataError(f"breaks for {name} must be 3 … 128 finite edges", fix=fix)
    if np.any(np.diff(edges) < 0) or np.any(np.diff(edges[1:-1]) <= 0):
        raise InputDataError(f"breaks for {name} are not increasing: {edges.tolist()}", fix=fix)
    return edges


def _grade_block(block: npt.NDArray[Any], inner: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    cls = np.searchsorted(inner, block, side="left").astype(np.int8) + np.int8(1)
    cls[np.isnan(block)] = 0
    return cls
