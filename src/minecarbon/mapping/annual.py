"""Annual AGC totals per assessment unit (requirement M6).

:func:`unit_totals` sums a year's AGC map per level-2 unit code with dask's ``bincount``, block
by block, so the map is never held whole: per unit the forest area (mapped pixels), the mean
AGC density and the total AGC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError


def unit_totals(
    agc: xr.DataArray,
    units: xr.DataArray | None,
    *,
    pixel_area_ha: float,
    year: int,
    n_codes: int = 256,
) -> pd.DataFrame:
    """Total AGC (t C), forest area and mean density per unit code of one year.

    Parameters
    ----------
    agc
        AGC map (t C/ha), NaN where not mapped.
    units
        Unit codes per pixel on the same grid (integers in ``[0, n_codes)``), or ``None``: all
        mapped pixels in unit 0.
    pixel_area_ha
        Area of one pixel (ha).
    year
        Written to the ``year`` column.
    n_codes
        Number of possible unit codes (level-2 codes are uint8: 256).

    Returns
    -------
    pandas.DataFrame
        ``year, unit_l2, agc_t_per_ha`` (mean, 3 decimals), ``area_ha`` (4 decimals),
        ``agc_t`` (3 decimals); one row per unit with a mapped pixel.

    Raises
    ------
    InputDataError
        ``units`` is not on the grid of ``agc``.

    """
    import dask.array as dsa
    from dask.base import compute

    values = dsa.asarray(agc.data)  # type: ignore[no-untyped-call]
    if units is None:
        codes_all = dsa.zeros(values.shape, dtype="int64", chunks=values.chunks)
    else:
        if units.shape != agc.shape:
            raise InputDataError(f"unit map of shape {units.shape} for an AGC map of "
                                 f"{agc.shape} (year {year})",
                                 fix="read both on the project grid")
        codes_all = dsa.asarray(units.data)  # type: ignore[no-untyped-call]
        codes_all = codes_all.astype("int64").rechunk(values.chunks)
    ok = dsa.isfinite(values)
    codes = dsa.where(ok, codes_all, 0).ravel()
    weights = dsa.where(ok, values, 0.0).astype("float64").ravel()
    count, total = compute(  # type: ignore[no-untyped-call]
        dsa.bincount(codes, weights=ok.ravel().astype("float64"), minlength=n_codes),
        dsa.bincount(codes, weights=weights, minlength=n_codes))
    present = np.flatnonzero(count > 0)
    return pd.DataFrame({
        "year": year, "unit_l2": present,
        "agc_t_per_ha": np.round(total[present] / count[present], 3),
        "area_ha": np.round(count[present] * pixel_area_ha, 4),
        "agc_t": np.round(total[present] * pixel_area_ha, 3),
    })
