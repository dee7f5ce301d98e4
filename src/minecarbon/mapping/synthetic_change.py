"""Change where the model sees none: a forest type borrows the trajectory of the others.

The change calibration (:mod:`minecarbon.mapping.calibration`) undoes the compression of a
model's change, ``(F_t − F_ref) / b``. It cannot restore a change the model never saw. Where a
forest type's out-of-fold predictions explain none of its plots' AGC (out-of-fold R² ≤ 0
within the type: the plots' own mean predicts them as well), its maps follow the spectra's
noise, not the stands: on the simulated site, sparse forest (疏林地, canopy cover 0.1–0.2, whose
reflectance is mostly the ground beneath) kept a flat trajectory while it gained about 22 t C/ha
over 25 years, which turned its pixels' trends to "stable" and left its early years 50–90 % high.

For such a type each established stand — a forest span that begins with the series — keeps
its level in the anchor year (the plots' year, or the span's year nearest to it, as in the
change calibration) and takes its change from the rest of the established forest, relatively:

    AGC_t = AGC_anchor · g_t / g_anchor,   g_t = Σ_P AGC_t / Σ_P AGC_ref

with ``P`` the pixels of informative types that are forest in every year. A span that begins
later is a new stand (a reclamation planting, regrowth): it grows faster, relatively, than the
established forest, and its own greening is what its spectra do see, so it keeps its own
change. This is the synthetic estimator of small-area estimation (Rao & Molina 2015, *Small
Area Estimation*, 2nd ed., §3.2.1): a domain without a usable direct estimate is given the
characteristic of a larger domain that it is assumed to share — here, the forest's relative
growth.

:func:`uninformative_strata` applies the test, :func:`growth_index` computes ``g`` lazily and
:func:`borrow_change` rewrites the spans (numba, one task per spatial block holding every year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from numba import njit, prange

from minecarbon.errors import InputDataError

#: A forest type needs this many plots before its models are judged.
MIN_JUDGED_PLOTS = 5


def uninformative_strata(oof: pd.DataFrame, *, min_plots: int = MIN_JUDGED_PLOTS
                         ) -> dict[str, dict[str, Any]]:
    """Forest types whose out-of-fold predictions do no better than their plots' mean.

    Parameters
    ----------
    oof
        Columns ``stratum``, ``observed``, ``predicted`` (out-of-fold, t C/ha).
    min_plots
        Types with fewer plots are not judged (kept as informative).

    Returns
    -------
    dict
        Stratum → ``{"plots": n, "oof_r2": R²}`` for every type with ``R² ≤ 0``, where
        ``R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²`` over the type's plots (``ȳ`` their own mean).

    Raises
    ------
    InputDataError
        A column is missing.

    """
    missing = {"stratum", "observed", "predicted"} - set(oof.columns)
    if missing:
        raise InputDataError(f"out-of-fold predictions without column(s) {sorted(missing)}",
                             fix="pass products/models/oof_predictions.csv")
    out: dict[str, dict[str, Any]] = {}
    ok = oof["observed"].notna() & oof["predicted"].notna()
    for stratum, part in oof[ok].groupby("stratum"):
        y = part["observed"].to_numpy(float)
        spread = float(((y - y.mean()) ** 2).sum())
        if len(part) < min_plots or spread == 0.0:
            continue
        r2 = 1.0 - float(((y - part["predicted"].to_numpy(float)) ** 2).sum()) / spread
        if r2 <= 0.0:
            out[str(stratum)] = {"plots": len(part), "oof_r2": round(r2, 4)}
    return out


def growth_index(agc: xr.DataArray, forest: xr.DataArray, donor: xr.DataArray, reference: int,
                 *, dim: str = "year") -> tuple[npt.NDArray[np.float64], int]:
    """``g_t = Σ_P AGC_t / Σ_P AGC_ref`` over the donor pixels forest (and mapped) in every year.

    Parameters
    ----------
    agc, forest
        (``dim``, y, x) t C/ha and the forest mask.
    donor
        (y, x) bool: pixels of informative forest types.
    reference
        Index along ``dim`` of the reference year.
    dim
        The time dimension.

    Returns
    -------
    tuple
        ``g`` (one value per year; NaN everywhere when no donor pixel) and the donor count.

    """
    always = (forest & agc.notnull()).all(dim) & donor
    both = xr.Dataset({"sums": agc.where(always).sum(("y", "x")),
                       "count": always.sum()}).compute()  # one pass over the cube
    sums = both["sums"].values
    count = int(both["count"].values)
    if count == 0 or not sums[reference] > 0:
        return np.full(agc.sizes[dim], np.nan), count
    return np.asarray(sums, dtype=np.float64) / float(sums[reference]), count


@njit(cache=True, nogil=True, parallel=True)
def _borrow(values, types, codes, growth, ref):  # type: ignore[no-untyped-def]
    n_px, n_t = values.shape
    out = values.copy()
    flag = np.zeros((n_px, n_t), dtype=np.bool_)
    for i in prange(n_px):
        t = 0
        while t < n_t:
            if not np.isfinite(values[i, t]):
                t += 1
                continue
            end = t
            while end < n_t and np.isfinite(values[i, end]):
                end += 1
            anchor = min(max(ref, t), end - 1)
            borrowed = False
            if t == 0:  # an established stand (forest when the series begins)
                for c in codes:
                    if types[i, anchor] == c:
                        borrowed = True
            if borrowed and growth[anchor] > 0.0:
                level = values[i, anchor]
                for k in range(t, end):
                    out[i, k] = level * growth[k] / growth[anchor]
                    flag[i, k] = True
            t = end
    return out, flag


def _block(values: npt.NDArray[np.floating], types: npt.NDArray[np.integer], *,
           codes: npt.NDArray[np.int64], growth: npt.NDArray[np.float64],
           ref: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    shape = values.shape
    flat = np.ascontiguousarray(values.reshape(-1, shape[-1]), dtype=np.float64)
    kinds = np.ascontiguousarray(types.reshape(-1, shape[-1]), dtype=np.int64)
    out, flag = _borrow(flat, kinds, codes, growth, ref)
    return (np.asarray(out, dtype=np.float32).reshape(shape),
            np.asarray(flag, dtype=np.bool_).reshape(shape))


def borrow_change(agc: xr.DataArray, types: xr.DataArray, codes: Sequence[int],
                  growth: npt.ArrayLike, reference: int, *, dim: str = "year"
                  ) -> tuple[xr.DataArray, xr.DataArray]:
    """Established spans of the types in ``codes`` follow ``growth`` from their level.

    A span is a run of years with a value; its anchor is the year ``reference`` (an index along
    ``dim``) or the span's year nearest to it. A span that begins in the first year and whose
    anchor-year forest type is in ``codes`` becomes ``AGC_anchor · g_t / g_anchor`` in each of
    its years; other spans (later ones are new stands) are returned unchanged.

    Parameters
    ----------
    agc
        (``dim``, y, x) t C/ha, NaN outside forest.
    types
        (``dim``, y, x) forest-type codes of the same grid.
    codes
        The uninformative types' codes.
    growth
        ``g`` of :func:`growth_index`, one positive value per year.
    reference
        Index of the reference year along ``dim``.
    dim
        The time dimension.

    Returns
    -------
    tuple of xarray.DataArray
        The rewritten AGC (float32) and a bool mask of the pixel-years that were rewritten.

    Raises
    ------
    InputDataError
        ``growth`` of the wrong length or not positive, or mismatched dims.

    """
    g = np.asarray(growth, dtype=np.float64)
    if g.shape != (agc.sizes[dim],) or not np.all(np.isfinite(g) & (g > 0.0)):
        raise InputDataError(f"growth index of shape {g.shape} with non-positive values",
                             fix=f"give one positive value per {dim} (growth_index)")
    if agc.dims != types.dims or dim not in agc.dims:
        raise InputDataError(f"agc {agc.dims} and types {types.dims}",
                             fix=f"pass both as ({dim}, y, x) on one grid")
    if agc.chunks is not None:
        agc = agc.chunk({dim: -1})
        blocks = agc.chunks
        assert blocks is not None
        types = types.chunk(dict(zip(agc.dims, blocks, strict=True)))
    kwargs = {"codes": np.asarray(list(codes), dtype=np.int64), "growth": g, "ref": reference}
    out, flag = xr.apply_ufunc(
        _block, agc, types, input_core_dims=[[dim], [dim]], output_core_dims=[[dim], [dim]],
        dask="parallelized", output_dtypes=[np.float32, np.bool_], kwargs=kwargs)
    return (out.transpose(*agc.dims).rename(agc.name).assign_attrs(agc.attrs),
            flag.transpose(*agc.dims).rename("borrowed"))


def codes_of(strata: Mapping[str, Any], labels: Mapping[int, str]) -> list[int]:
    """Forest-type codes of the named strata (labels as in ``FOREST_TYPE_LABELS``)."""
    return [code for code, label in labels.items() if label in strata]
