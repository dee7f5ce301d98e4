"""Fully constrained linear spectral unmixing (FCLS; requirement C2's mixed-pixel decomposition).

Each pixel's spectrum is decomposed into fractions of endmember spectra (evergreen canopy, bare
deciduous crowns, soil …) that are non-negative and sum to one (Heinz & Chang 2001, IEEE TGRS
39:529–545), by an active-set solver compiled with numba; :func:`unmix` applies it block by
block to a reflectance Dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr
from numba import njit, prange

from minecarbon.errors import InputDataError
from minecarbon.features.spectral import check_reflectance

FloatArray = npt.NDArray[np.float64]
Endmembers = Mapping[str, Mapping[str, float]]


# ------------------------------------------------------------------------------ FCLS kernel
@njit(cache=True)
def _solve(a, b, size):  # type: ignore[no-untyped-def]
    """Solve a[:size, :size] x = b[:size] in place (Gauss, partial pivoting); False if singular."""
    for col in range(size):
        piv = col
        for r in range(col + 1, size):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        if abs(a[piv, col]) < 1e-300:
            return False
        if piv != col:
            for c in range(size):
                a[col, c], a[piv, c] = a[piv, c], a[col, c]
            b[col], b[piv] = b[piv], b[col]
        for r in range(col + 1, size):
            m = a[r, col] / a[col, col]
            if m != 0.0:
                for c in range(col, size):
                    a[r, c] -= m * a[col, c]
                b[r] -= m * b[col]
    for r in range(size - 1, -1, -1):
        s = b[r]
        for c in range(r + 1, size):
            s -= a[r, c] * b[c]
        b[r] = s / a[r, r]
    return True


@njit(cache=True)
def _pixel(g, c, sum_to_one, tol, max_iter, f, x, free, a, b, idx):  # type: ignore[no-untyped-def]
    """Primal active-set QP: min ½ fᵀGf − cᵀf, f ≥ 0 (and Σf = 1), result in ``f``.

    Nocedal & Wright (2006, Numerical Optimization, algorithm 16.3); without the sum constraint
    it is Lawson & Hanson's NNLS (1974, ch. 23) on the normal equations.
    """
    k = g.shape[0]
    for i in range(k):
        f[i] = 1.0 / k if sum_to_one else 0.0
        free[i] = sum_to_one
    for _ in range(max_iter):
        m = 0
        for i in range(k):
            if free[i]:
                idx[m] = i
                m += 1
        size = m + 1 if sum_to_one else m
        for p in range(m):
            for q in range(m):
                a[p, q] = g[idx[p], idx[q]]
            b[p] = c[idx[p]]
            if sum_to_one:
                a[p, m] = 1.0
                a[m, p] = 1.0
        if sum_to_one:
            a[m, m] = 0.0
            b[m] = 1.0
        if size > 0 and not _solve(a, b, size):
            return
        lam = b[m] if sum_to_one else 0.0
        for i in range(k):
            x[i] = 0.0
        for p in range(m):
            x[idx[p]] = b[p]
        alpha, block = 1.0, -1
        for i in range(k):  # step from f towards x until a free fraction would turn negative
            if free[i] and x[i] < 0.0:
                ratio = f[i] / (f[i] - x[i])
                if ratio < alpha:
                    alpha, block = ratio, i
        if block >= 0:
            for i in range(k):
                if free[i]:
                    f[i] += alpha * (x[i] - f[i])
            free[block] = False
            f[block] = 0.0
            continue
        for i in range(k):
            f[i] = x[i]
        worst, enter = -tol, -1  # a fixed fraction whose multiplier is negative may enter
        for i in range(k):
            if not free[i]:
                mu = lam - c[i]
                for j in range(k):
                    mu += g[i, j] * f[j]
                if mu < worst:
                    worst, enter = mu, i
        if enter < 0:
            return
        free[enter] = True


@njit(cache=True)
def _rows(e, g, pixels, sum_to_one, tol, max_iter, out, r0, r1):  # type: ignore[no-untyped-def]
    k, n_bands = e.shape
    c = np.empty(k)
    f = np.empty(k)
    x = np.empty(k)
    free = np.empty(k, dtype=np.bool_)
    a = np.empty((k + 1, k + 1))
    b = np.empty(k + 1)
    idx = np.empty(k, dtype=np.int64)
    for r in range(r0, r1):
        finite = True
        for j in range(k):
            s = 0.0
            for band in range(n_bands):
                s += e[j, band] * pixels[r, band]
            c[j] = s
            finite = finite and np.isfinite(s)
        if not finite:
            for j in range(k):
                out[r, j] = np.nan
            continue
        _pixel(g, c, sum_to_one, tol, max_iter, f, x, free, a, b, idx)
        for j in range(k):
            out[r, j] = f[j]


@njit(cache=True, parallel=True)
def _fcls_parallel(e, g, pixels, sum_to_one, tol, max_iter, out):  # type: ignore[no-untyped-def]
    n = pixels.shape[0]
    n_parts = min(n, 256)
    for part in prange(n_parts):
        _rows(e, g, pixels, sum_to_one, tol, max_iter, out, part * n // n_parts,
              (part + 1) * n // n_parts)


@njit(cache=True)
def _fcls_serial(e, g, pixels, sum_to_one, tol, max_iter, out):  # type: ignore[no-untyped-def]
    _rows(e, g, pixels, sum_to_one, tol, max_iter, out, 0, pixels.shape[0])


def _check_endmembers(endmembers: FloatArray, sum_to_one: bool) -> FloatArray:
    e = np.asarray(endmembers, dtype=np.float64)
    if e.ndim != 2 or not np.isfinite(e).all():
        raise InputDataError(f"endmembers must be a finite (k, bands) array, got shape {e.shape}",
                             fix="give one spectrum per endmember, one value per band")
    k = e.shape[0]
    system = np.vstack([e.T, np.ones((1, k))]) if sum_to_one else e.T
    if np.linalg.matrix_rank(system) < k:
        kind = "affinely" if sum_to_one else "linearly"
        raise InputDataError(
            f"the {k} endmember spectra over {e.shape[1]} bands are not {kind} independent, "
            "so their fractions are not unique",
            fix="use fewer endmembers (at most bands + 1) or more distinct spectra")
    return e


def fcls_unmix(pixels: npt.ArrayLike, endmembers: npt.ArrayLike, *, sum_to_one: bool = True,
               parallel: bool = True) -> FloatArray:
    """Fully constrained least-squares fractions of each pixel spectrum.

    Minimises ‖Eᵀf − p‖² subject to f ≥ 0 and Σf = 1 (exactly, not by a weighted extra row),
    per pixel, with a primal active-set method in a numba kernel; the Gram matrix E Eᵀ is shared
    by all pixels.

    Parameters
    ----------
    pixels
        (n, bands) spectra; a row with a non-finite value gets NaN fractions.
    endmembers
        (k, bands) endmember spectra, affinely independent (linearly without ``sum_to_one``).
    sum_to_one
        Enforce Σf = 1; ``False`` gives non-negative least squares (NNLS).
    parallel
        Use numba threads (turn off inside dask tasks, which are already parallel).

    Returns
    -------
    numpy.ndarray
        (n, k) fractions, float64.

    """
    e = _check_endmembers(np.asarray(endmembers, dtype=np.float64), sum_to_one)
    p = np.asarray(pixels, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != e.shape[1]:
        raise InputDataError(f"pixels have shape {p.shape}; expected (n, {e.shape[1]})",
                             fix="give one row per pixel with the endmembers' bands")
    gram = e @ e.T
    out = np.empty((p.shape[0], e.shape[0]))
    tol = 1e-12 * float(np.abs(gram).max())
    kernel = _fcls_parallel if parallel else _fcls_serial
    kernel(e, gram, np.ascontiguousarray(p), sum_to_one, tol, 10 * e.shape[0] + 20, out)
    return out


# --------------------------------------------------------------------------- rasters: unmix
def band_of(data: xr.Dataset, role: str) -> xr.DataArray:
    """The band playing ``role`` in a reflectance Dataset (``red``) or a stack (``sr_red``)."""
    for name in (role, f"sr_{role}"):
        if name in data.data_vars:
            return data[name]
    raise InputDataError(
        f"the leaf-off image has no band {role!r} (nor 'sr_{role}'); it has "
        f"{sorted(map(str, data.data_vars))}",
        fix="give reflectance named by band role (red, nir …) or a feature stack (sr_red …)")


def _endmember_matrix(endmembers: Endmembers) -> tuple[list[str], list[str], FloatArray]:
    names = [str(n) for n in endmembers]
    if len(names) < 2:
        raise InputDataError(f"endmembers {names}: unmixing needs at least two",
                             fix="give e.g. evergreen canopy, bare deciduous crowns and soil")
    roles = [str(r) for r in endmembers[names[0]]]
    for name in names[1:]:
        if set(map(str, endmembers[name])) != set(roles):
            raise InputDataError(
                f"endmember {name!r} has the bands {sorted(map(str, endmembers[name]))}, "
                f"endmember {names[0]!r} has {sorted(roles)}",
                fix="give every endmember a reflectance for the same bands")
    matrix = np.array([[float(endmembers[n][r]) for r in roles] for n in names])
    if not np.isfinite(matrix).all() or np.abs(matrix).max() > 1.5:
        raise InputDataError(f"endmember spectra must be reflectance 0–1, got {matrix.tolist()}",
                             fix="scale digital numbers to reflectance first")
    return names, [r.removeprefix("sr_") for r in roles], matrix


def unmix(reflectance: xr.Dataset, endmembers: Endmembers, *,
          sum_to_one: bool = True, check_scale: bool = True) -> xr.Dataset:
    """Endmember fractions of every pixel by fully constrained least squares.

    Parameters
    ----------
    reflectance
        Reflectance 0–1 (y, x) per band role (``red``, ``nir`` …) or a feature stack
        (``sr_red``, ``sr_nir`` …); NaN where not observed.
    endmembers
        Endmember name → {band role: reflectance}; every endmember over the same bands.
    sum_to_one
        Fractions sum to one (FCLS); ``False``: only non-negative (NNLS).
    check_scale
        Refuse bands that look like digital numbers (reads a few chunks).

    Returns
    -------
    xarray.Dataset
        ``fraction_<name>`` per endmember (float32) and ``unmix_rmse`` (root mean square
        residual over the bands, reflectance units); NaN where a band is NaN. Lazy on dask.

    """
    names, roles, matrix = _endmember_matrix(endmembers)
    _check_endmembers(matrix, sum_to_one)
    bands = xr.Dataset({role: band_of(reflectance, role) for role in roles})
    if check_scale:
        check_reflectance(bands, roles)
    stacked = bands.to_dataarray("band").transpose("y", "x", "band")
    lazy = stacked.chunks is not None
    if lazy:
        stacked = stacked.chunk({"band": -1})

    def block(values: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        flat = values.reshape(-1, values.shape[-1]).astype(np.float64)
        fractions = fcls_unmix(flat, matrix, sum_to_one=sum_to_one, parallel=not lazy)
        residual = flat - fractions @ matrix
        rmse = np.sqrt(np.mean(residual * residual, axis=1))
        out = np.concatenate([fractions, rmse[:, None]], axis=1).astype(np.float32)
        return out.reshape(*values.shape[:-1], len(names) + 1)

    result = xr.apply_ufunc(
        block, stacked, input_core_dims=[["band"]], output_core_dims=[["component"]],
        dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {"component": len(names) + 1}})
    out = {f"fraction_{n}": result.isel(component=i, drop=True).assign_attrs(
        long_name=f"fraction of endmember {n}", units="1") for i, n in enumerate(names)}
    out["unmix_rmse"] = result.isel(component=len(names), drop=True).assign_attrs(
        long_name="unmixing residual (RMS over bands)", units="reflectance")
    return xr.Dataset(out)
