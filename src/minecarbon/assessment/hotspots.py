"""Getis–Ord Gi* hot- and cold-spot analysis (requirement A5).

The statistic is ArcGIS's "Hot Spot Analysis (Getis-Ord Gi*)" (Getis & Ord 1992; Ord & Getis
1995), in its z-score form, with the feature itself among its neighbours::

    z_i = (Σ_j w_ij x_j − X̄ Σ_j w_ij) / (S √[(n Σ_j w_ij² − (Σ_j w_ij)²) / (n − 1)])

where X̄ and S (population standard deviation, divisor n) are taken over all n valid values.
p is two-sided from the standard normal; ``bin`` is ±3/±2/±1 at 99/95/90 % confidence
(|z| ≥ 2.576/1.960/1.645, the ArcGIS table) and 0 when not significant. With ``fdr=True`` the
critical p-values are lowered by the Benjamini–Hochberg (1995) step-up rule, applied at each of
α = 0.01, 0.05, 0.10 over the n tests. docs/hotspots.md gives the sources and conventions.

* :func:`gi_star` — rasters: fixed-distance binary weights on the cell centres (a cell is a
  neighbour when its centre lies at most ``distance_m`` away, itself included), computed with
  moving-window sums (row box sums over a disk), lazily on dask input.
* :func:`gi_star_points` — points with the same fixed-distance weights.
* :func:`gi_star_weights` — any weights matrix (contiguity from polygons, inverse distance…).

NaN values are "no forest / no data": left out of n, X̄, S and every neighbour sum; their z and
p are NaN and their bin is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import dask.array as dsa
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import xarray as xr
from dask.base import compute
from scipy.spatial import cKDTree
from scipy.special import erfc

from minecarbon.errors import InputDataError
from minecarbon.grid import require_projected

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int8]

#: Confidence bin → (critical |z|, α): the ArcGIS table of critical values.
LEVELS: dict[int, tuple[float, float]] = {3: (2.576, 0.01), 2: (1.960, 0.05), 1: (1.645, 0.10)}
#: Relative tolerance on ``distance_m`` so that a centre exactly at the distance is a neighbour
#: despite rounding in the coordinates.
DISTANCE_RTOL = 1e-9


@dataclass(frozen=True)
class GiStarResult:
    """Gi* of a set of features: z-score, two-sided p-value and confidence bin per feature."""

    z: FloatArray
    p: FloatArray
    bin: IntArray
    n: int
    mean: float
    std: float
    critical_p: dict[int, float]


# ------------------------------------------------------------------------------- statistics
def bh_critical_p(p_values: npt.ArrayLike, alpha: float, n_tests: int | None = None) -> float:
    """Benjamini–Hochberg (1995) critical p-value: the largest p_(k) with p_(k) ≤ k α / m.

    Parameters
    ----------
    p_values
        p-values (NaN ignored). Values above ``alpha`` never qualify and may be left out when
        ``n_tests`` gives the full number of tests.
    alpha
        False discovery rate, e.g. 0.05.
    n_tests
        m, the number of tests; defaults to the number of non-NaN ``p_values``.

    Returns
    -------
    float
        Every p ≤ this value is significant; 0.0 when none is.

    """
    p = np.sort(np.asarray(p_values, dtype=np.float64).ravel())
    p = p[~np.isnan(p)]
    m = p.size if n_tests is None else int(n_tests)
    if p.size == 0 or m == 0:
        return 0.0
    passed = np.nonzero(p <= alpha * np.arange(1, p.size + 1) / m)[0]
    return float(p[passed[-1]]) if passed.size else 0.0


def _p_two_sided(z: Any) -> Any:
    return erfc(np.abs(z) / math.sqrt(2.0))


def _bins(z: Any, p: Any, critical_p: dict[int, float] | None) -> Any:
    """ArcGIS Gi_Bin: ±3/±2/±1 by |z| (or by p against FDR critical values), 0 otherwise."""
    level = np.zeros(np.shape(z), dtype=np.int8)
    for value, (z_crit, _) in sorted(LEVELS.items()):
        with np.errstate(invalid="ignore"):
            hit = np.abs(z) >= z_crit if critical_p is None else p <= critical_p[value]
        level = np.where(hit, np.int8(value), level)
    return (level * np.where(z < 0, -1, 1)).astype(np.int8)


def _global_stats(values: FloatArray, what: str) -> tuple[int, float, float]:
    valid = values[~np.isnan(values)]
    return _checked_stats(valid.size, float(valid.mean()) if valid.size else math.nan,
                          float(valid.std()) if valid.size else math.nan, what)


def _checked_stats(n: int, mean: float, std: float, what: str) -> tuple[int, float, float]:
    if n == 0:
        raise InputDataError(f"{what} has no valid (non-NaN) value",
                             fix="pass a map with forest cells, or check its nodata masking")
    if n < 2 or not std > 0:
        raise InputDataError(
            f"{what} has {n} valid value(s), all equal to {mean:g}: Gi* is undefined",
            fix="hot-spot analysis needs at least two different values",
        )
    return n, mean, std


def _z(sum_wd: Any, sum_w: Any, sum_w2: Any, n: int, std: float) -> Any:
    """ArcGIS Gi* z from Σw(x − X̄), Σw, Σw²; NaN where the denominator is 0 (Σw = n)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = (n * sum_w2 - sum_w * sum_w) / (n - 1)
        denominator = std * np.sqrt(np.maximum(spread, 0.0))
        return np.where(denominator > 0, sum_wd / np.where(denominator > 0, denominator, 1), np.nan)


def _critical(p_valid: FloatArray, n: int, fdr: bool) -> dict[int, float] | None:
    if not fdr:
        return None
    return {level: bh_critical_p(p_valid, alpha, n) for level, (_, alpha) in LEVELS.items()}


# ---------------------------------------------------------------------------------- vectors
def gi_star_weights(values: npt.ArrayLike, weights: Any, *, fdr: bool = False,
                    self_weight: float = 1.0) -> GiStarResult:
    """Gi* with any spatial weights matrix (ArcGIS formula, general weights).

    Parameters
    ----------
    values
        One value per feature (n,); NaN features are left out (z, p NaN, bin 0).
    weights
        n × n weights, a scipy.sparse matrix or a dense array; row i holds w_ij. A zero diagonal
        entry is replaced by ``self_weight`` (Gi* counts the feature itself); e.g.
        ``libpysal.weights.Queen(...).sparse`` for contiguity.
    fdr
        Apply the Benjamini–Hochberg false-discovery-rate correction to the bins.
    self_weight
        w_ii for features whose diagonal weight is 0.

    """
    x = np.asarray(values, dtype=np.float64).ravel()
    w = sp.csr_array(weights, dtype=np.float64)
    if w.shape != (x.size, x.size):
        raise InputDataError(
            f"weights are {w.shape[0]} × {w.shape[1]} for {x.size} values",
            fix="pass an n × n weights matrix in the order of the values",
        )
    n, mean, std = _global_stats(x, "the Gi* values")
    valid = ~np.isnan(x)
    diagonal = w.diagonal()
    w = (w + sp.diags_array(np.where(diagonal == 0, self_weight, 0.0))).tocsr()
    w = w[valid][:, valid]
    sum_w = np.asarray(w.sum(axis=1)).ravel()
    sum_w2 = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    z = np.full(x.size, np.nan)
    z[valid] = _z(w @ (x[valid] - mean), sum_w, sum_w2, n, std)
    p = _p_two_sided(z)
    critical = _critical(p[valid], n, fdr)
    return GiStarResult(z, p, _bins(z, p, critical), n, mean, std, critical or {})


def gi_star_points(values: npt.ArrayLike, coords_m: npt.ArrayLike, distance_m: float, *,
                   fdr: bool = False) -> GiStarResult:
    """Gi* of points with fixed-distance binary weights (centres at most ``distance_m`` apart).

    Parameters
    ----------
    values
        One value per point (n,); NaN points are left out.
    coords_m
        (n, 2) projected coordinates in metres.
    distance_m
        Neighbourhood radius; a point is always its own neighbour.
    fdr
        Apply the Benjamini–Hochberg correction to the bins.

    """
    xy = np.asarray(coords_m, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputDataError(f"coords_m has shape {xy.shape}, expected (n, 2)",
                             fix="pass x and y in metres as two columns")
    pairs = cKDTree(xy).query_pairs(_check_distance(distance_m) * (1 + DISTANCE_RTOL),
                                    output_type="ndarray")
    ones = np.ones(len(pairs))
    w = sp.coo_array((ones, (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    return gi_star_weights(values, w + w.T, fdr=fdr)


def _check_distance(distance_m: float) -> float:
    if isinstance(distance_m, bool) or not np.isfinite(distance_m) or distance_m <= 0:
        raise InputDataError(f"distance_m must be a positive number of metres, got {distance_m!r}",
                             fix="give the neighbourhood radius in metres, e.g. 90")
    return float(distance_m)


# ---------------------------------------------------------------------------------- rasters
def _spacing(da: xr.DataArray, what: str) -> tuple[float, float]:
    """|dx| and |dy| in metres, after checking dims, coordinates and the CRS."""
    if not isinstance(da, xr.DataArray) or da.dims[-2:] != ("y", "x") or da.ndim not in (2, 3):
        raise InputDataError(
            f"{what} has dims {getattr(da, 'dims', None)}, expected ('y', 'x') or "
            "(<time>, 'y', 'x')", fix="pass a map on the project grid")
    if da.rio.crs is not None:
        require_projected(da.rio.crs, what)
    steps = []
    for dim in ("x", "y"):
        if dim not in da.coords or da.sizes[dim] < 2:
            raise InputDataError(f"{what} needs {dim} coordinates and at least 2 cells along {dim}",
                                 fix="read it with rioxarray or put it on the project grid")
        diffs = np.diff(np.asarray(da[dim].values, dtype=np.float64))
        if diffs[0] == 0 or not np.allclose(diffs, diffs[0], rtol=1e-6, atol=0.0):
            raise InputDataError(f"{what} has irregular {dim} coordinates",
                                 fix="resample it onto a regular grid")
        steps.append(abs(float(diffs[0])))
    return steps[0], steps[1]


def disk_halfwidths(distance_m: float, dx_m: float, dy_m: float) -> npt.NDArray[np.int64]:
    """Half-widths (in columns) of the disk kernel's rows, for row offsets −r … r.

    Row offset ``di`` keeps the columns ``dj`` with (di·dy)² + (dj·dx)² ≤ distance² (up to
    :data:`DISTANCE_RTOL`); r = floor(distance / dy).
    """
    reach = _check_distance(distance_m) * (1 + DISTANCE_RTOL)
    rows = math.floor(reach / dy_m)
    offsets = np.arange(-rows, rows + 1, dtype=np.float64) * dy_m
    return np.floor(np.sqrt(np.maximum(reach**2 - offsets**2, 0.0)) / dx_m).astype(np.int64)


def _window_sums(
    padded: FloatArray, halfwidths: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """Σ(x − X̄) and the count of valid cells in the disk around each interior cell.

    ``padded`` holds x − X̄ with NaN outside, padded by r rows and max(halfwidths) columns.
    Each disk row is a box sum along x from a cumulative sum; the rows are added up.
    """
    ry, rx = len(halfwidths) // 2, int(halfwidths.max())
    rows, cols = padded.shape[0] - 2 * ry, padded.shape[1] - 2 * rx
    valid = ~np.isnan(padded)
    out = []
    for a in (np.where(valid, padded, 0.0), valid.astype(np.float64)):
        cum = np.zeros((a.shape[0], a.shape[1] + 1))
        np.cumsum(a, axis=1, out=cum[:, 1:])
        boxes = {int(w): cum[:, rx + w + 1 : rx + w + 1 + cols] - cum[:, rx - w : rx - w + cols]
                 for w in np.unique(halfwidths)}
        total = np.zeros((rows, cols))
        for di, w in enumerate(halfwidths):
            total += boxes[int(w)][di : di + rows]
        out.append(total)
    return out[0], out[1]


def _z_raster(data: Any, halfwidths: npt.NDArray[np.int64], n: int, mean: float,
              std: float) -> Any:
    """Gi* z of a 2-D numpy or dask array (lazy on dask: map_overlap, NaN outside)."""
    ry, rx = len(halfwidths) // 2, int(halfwidths.max())

    def block(a: FloatArray) -> FloatArray:
        out = np.full(a.shape, np.nan)
        if a.shape[0] > 2 * ry and a.shape[1] > 2 * rx:
            sum_wd, sum_w = _window_sums(a - mean, halfwidths)
            z = _z(sum_wd, sum_w, sum_w, n, std)
            inner = a[ry : a.shape[0] - ry, rx : a.shape[1] - rx]
            out[ry : a.shape[0] - ry, rx : a.shape[1] - rx] = np.where(np.isnan(inner), np.nan, z)
        return out

    if isinstance(data, dsa.Array):
        return data.astype(np.float64).map_overlap(  # type: ignore[no-untyped-call]
            block, depth={0: ry, 1: rx}, boundary=np.nan, dtype=np.float64,
            meta=np.array((), np.float64))
    padded = np.pad(np.asarray(data, dtype=np.float64), ((ry, ry), (rx, rx)),
                    constant_values=np.nan)
    return block(padded)[ry : padded.shape[0] - ry, rx : padded.shape[1] - rx]


def _raster_stats(data: Any, what: str) -> tuple[int, float, float]:
    if isinstance(data, dsa.Array):
        x = data.astype(np.float64)  # type: ignore[no-untyped-call]
        count, total = compute(dsa.count_nonzero(~dsa.isnan(x)), dsa.nansum(x))  # type: ignore[no-untyped-call]
        n = int(count)
        mean = float(total) / n if n else math.nan
        # second pass around the mean: no cancellation in Σ(x − X̄)²
        (ss,) = compute(dsa.nansum((x - mean) ** 2)) if n else (math.nan,)  # type: ignore[no-untyped-call]
        return _checked_stats(n, mean, math.sqrt(float(ss) / n) if n else math.nan, what)
    return _global_stats(np.asarray(data, dtype=np.float64).ravel(), what)


def _gi_star_2d(da: xr.DataArray, halfwidths: npt.NDArray[np.int64], fdr: bool,
                what: str) -> xr.Dataset:
    data = da.data
    n, mean, std = _raster_stats(data, what)
    z = _z_raster(data, halfwidths, n, mean, std)
    lazy = isinstance(z, dsa.Array)
    p = z.map_blocks(_p_two_sided, dtype=np.float64) if lazy else _p_two_sided(z)
    critical = None
    if fdr:  # only p ≤ 0.10 can pass any of the three levels
        small = p.ravel()[p.ravel() <= LEVELS[1][1]]
        critical = _critical(np.asarray(small.compute() if lazy else small), n, True)
    bins = (dsa.map_blocks(_bins, z, p, critical, dtype=np.int8)  # type: ignore[no-untyped-call]
            if lazy
            else _bins(z, p, critical))
    attrs = {"n_valid": n, "mean": mean, "std": std}
    if critical is not None:
        attrs.update({f"fdr_critical_p_{round(100 * (1 - LEVELS[k][1]))}": v
                      for k, v in critical.items()})
    return xr.Dataset(
        {"z": (da.dims, z, {"long_name": "Getis-Ord Gi* z-score", "units": "1"}),
         "p": (da.dims, p, {"long_name": "two-sided p-value of the Gi* z-score", "units": "1"}),
         "bin": (da.dims, bins, {"long_name": "confidence bin: ±3/±2/±1 = 99/95/90 %, "
                                 "0 = not significant or no data", "units": "1"})},
        coords=da.coords, attrs=attrs)


def gi_star(da: xr.DataArray, distance_m: float, *, fdr: bool = False) -> xr.Dataset:
    """Getis–Ord Gi* hot and cold spots of a raster (fixed-distance binary weights, ArcGIS).

    Parameters
    ----------
    da
        Map with dims ``("y", "x")`` or ``(<time>, "y", "x")`` (each slice on its own) on a
        projected grid, numpy- or dask-backed; NaN = no forest / no data.
    distance_m
        Neighbourhood radius in metres: the neighbours of a cell are the cells whose centres are
        at most ``distance_m`` from its centre (≤, the cell itself included). Non-square pixels
        are handled (Euclidean distance in metres).
    fdr
        Lower the critical p-values with the Benjamini–Hochberg rule (ArcGIS's "Apply False
        Discovery Rate (FDR) Correction"); on dask input the p-values ≤ 0.10 are computed first.

    Returns
    -------
    xarray.Dataset
        ``z`` (float64), ``p`` (float64, two-sided) and ``bin`` (int8: ±3/±2/±1 at 99/95/90 %,
        0 not significant); NaN cells get z = p = NaN and bin = 0. Attributes ``n_valid``,
        ``mean`` and ``std`` (2-D input) hold the global statistics; coords as ``da``.

    Examples
    --------
    >>> result = gi_star(agc, distance_m=90.0)  # doctest: +SKIP

    """
    what = f"map {da.name!r}" if getattr(da, "name", None) is not None else "the map"
    dx, dy = _spacing(da, what)
    distance = _check_distance(distance_m)
    halfwidths = disk_halfwidths(distance, dx, dy)
    if halfwidths.size == 1 and halfwidths[0] == 0:
        raise InputDataError(
            f"distance_m = {distance:g} m is smaller than the pixel ({dx:g} m × {dy:g} m) of "
            f"{what}: every cell would be its only neighbour",
            fix=f"use a distance of at least {min(dx, dy):g} m (e.g. 3 pixels)")
    if da.ndim == 2:
        result = _gi_star_2d(da, halfwidths, fdr, what)
    else:
        leading = da.dims[0]
        result = xr.concat([_gi_star_2d(da[i], halfwidths, fdr, f"{what} at {leading} "
                                        f"{da[leading].values[i] if leading in da.coords else i}")
                            for i in range(da.sizes[leading])], dim=leading,
                           combine_attrs="drop")
    result.attrs.update({"distance_m": distance, "weights": "fixed distance, binary, self "
                         "included", "fdr": int(fdr), "neighbours_max": int(
                             (2 * halfwidths + 1).sum())})
    return result
