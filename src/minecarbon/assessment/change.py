"""Change amount and change degree of AGC between two years (requirement A1).

For a stack of annual AGC maps C (t C/ha, dims ``(year, y, x)``) and two years y1 < y2 or
y1 > y2 (the standard leaves the initial date to the purpose of the assessment):

* change amount   ΔC = C(y2) − C(y1)                      (t C/ha)
* change degree   D  = ΔC / C(y1) × 100                   (%)

(GB/T standard for forest AGC monitoring in coal-mining areas, explanatory notes §5: "变化量以
绝对变化值来表征 … 变化度以相对变化率来表征，即变化量与初始时间节点森林地上碳储量的比值，通常以
百分比形式表示"). The degree is undefined where C(y1) = 0; those pixels are NaN and counted in
the 0-d variable ``undefined_degree_count`` of the result, which is computed together with the
rasters when the Dataset is computed (no second pass over a dask-backed stack).
:func:`undefined_degree_count` reads it and warns when it is positive.

:func:`assert_same_grid` is the check used wherever two rasters are combined pixel by pixel.
"""

from __future__ import annotations

from collections.abc import Sequence

import dask.array as da
import numpy as np
import rioxarray  # noqa: F401  (the .rio accessor, to read a raster's CRS)
import xarray as xr
from pyproj import CRS

from minecarbon.errors import GridMismatchError, InputDataError, warn

UNIT_AGC = "t C/ha"


def assert_same_grid(
    a: xr.DataArray | xr.Dataset,
    b: xr.DataArray | xr.Dataset,
    what: str,
    reference: str = "the AGC stack",
) -> None:
    """Raise :class:`GridMismatchError` unless ``b`` lies on the same pixels as ``a``.

    Compares the ``y``/``x`` sizes, the pixel-centre coordinates (to a thousandth of a pixel)
    and the CRS when both carry one.

    Parameters
    ----------
    a
        The reference raster (any dims that include ``y`` and ``x``).
    b
        The raster combined with it.
    what
        Name of ``b`` in the message (e.g. "the forest-type map").
    reference
        Name of ``a`` in the message.

    """
    for name, obj in ((reference, a), (what, b)):
        if "y" not in obj.dims or "x" not in obj.dims:
            raise GridMismatchError(
                f"{name} has dims {tuple(obj.dims)}, without both 'y' and 'x'",
                fix="give rasters on the project grid with dims (y, x)",
            )
    shape_a = (a.sizes["y"], a.sizes["x"])
    shape_b = (b.sizes["y"], b.sizes["x"])
    if shape_a != shape_b:
        raise GridMismatchError(
            f"{what} has shape {shape_b[0]} × {shape_b[1]}, "
            f"{reference} {shape_a[0]} × {shape_a[1]}",
            fix="reproject it onto the project grid (minecarbon.io.raster.read_on_grid)",
        )
    crs_a, crs_b = a.rio.crs, b.rio.crs
    if (crs_a is not None and crs_b is not None
            and CRS.from_user_input(crs_a) != CRS.from_user_input(crs_b)):
        raise GridMismatchError(
            f"{what} is in {crs_b}, {reference} in {crs_a}",
            fix="reproject it onto the project grid",
        )
    for dim in ("x", "y"):
        if dim not in a.coords or dim not in b.coords:
            continue
        ca = np.asarray(a[dim].values, dtype=float)
        cb = np.asarray(b[dim].values, dtype=float)
        step = float(np.abs(np.diff(ca)).min()) if ca.size > 1 else 1.0
        if not np.allclose(ca, cb, rtol=0.0, atol=1e-3 * step):
            raise GridMismatchError(
                f"{what} is offset from {reference} along {dim} (pixel centres differ)",
                fix="resample it onto the project grid",
            )


def check_year_stack(stack: xr.DataArray, what: str = "the AGC stack") -> xr.DataArray:
    """Return ``stack`` as (year, y, x) after checking its dims and integer ``year`` coordinate.

    Raises
    ------
    InputDataError
        When the dims are not year, y, x or the ``year`` coordinate is missing or not integer.

    """
    if set(stack.dims) != {"year", "y", "x"}:
        raise InputDataError(
            f"{what} has dims {tuple(stack.dims)}, expected (year, y, x)",
            fix="stack the annual AGC maps along a 'year' dimension",
        )
    if "year" not in stack.coords or not np.issubdtype(stack["year"].dtype, np.integer):
        raise InputDataError(
            f"{what} needs an integer 'year' coordinate",
            fix="assign_coords(year=[2000, 2001, …])",
        )
    return stack.transpose("year", "y", "x")


def require_years(
    stack: xr.DataArray, years: Sequence[int], role: str, what: str = "the AGC stack"
) -> None:
    """Raise :class:`InputDataError` naming the years of ``years`` that ``stack`` lacks."""
    available = [int(y) for y in stack["year"].values]
    missing = [int(y) for y in years if int(y) not in available]
    if missing:
        raise InputDataError(
            f"{role} {missing} not in {what}; it has years {available}",
            fix="choose years that have an AGC map, or map those years first",
        )


def _fill_lost(first: xr.DataArray, second: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Where exactly one of two maps is NaN, take it as 0 t C/ha (forest absent)."""
    one = first.isnull() ^ second.isnull()
    return first.where(~(one & first.isnull()), 0.0), second.where(~(one & second.isnull()), 0.0)


def change(stack: xr.DataArray, y1: int, y2: int, *, nan_as_zero: bool = False) -> xr.Dataset:
    """Change amount and change degree of AGC from year ``y1`` to year ``y2`` (A1).

    Parameters
    ----------
    stack
        Annual AGC maps (t C/ha), dims (year, y, x), numpy- or dask-backed; NaN = no forest or
        no data.
    y1
        The initial year (the degree is relative to C(y1)).
    y2
        The later (or compared) year.
    nan_as_zero
        Read NaN as "no forest" (0 t C/ha) where the other year has AGC, so that forest lost
        between the years gives ΔC = −C(y1) and a degree of −100 %, and new forest gives
        ΔC = C(y2) with an undefined degree. Off by default: NaN may also be missing data.

    Returns
    -------
    xarray.Dataset
        ``change`` (t C/ha) and ``change_degree`` (%), (y, x) float with the stack's coords
        (CRS included), and the 0-d int64 ``undefined_degree_count``: pixels where ΔC is
        defined but C(y1) = 0 (degree NaN). Lazy on dask input; on numpy input a warning names
        the years and the count when it is positive (use :func:`undefined_degree_count` after
        computing a lazy result).

    Raises
    ------
    InputDataError
        When the stack is not (year, y, x) or lacks ``y1`` or ``y2``.

    """
    stack = check_year_stack(stack)
    require_years(stack, [y1, y2], "year")
    first = stack.sel(year=int(y1), drop=True)
    second = stack.sel(year=int(y2), drop=True)
    if nan_as_zero:
        first, second = _fill_lost(first, second)
    amount = (second - first).astype(np.result_type(stack.dtype, np.float32))
    zero_base = (first == 0) & amount.notnull()
    degree = (amount / first.where(first != 0) * 100.0).astype(amount.dtype)
    amount.attrs = {"units": UNIT_AGC, "long_name": f"AGC change {y1}→{y2} 变化量"}
    degree.attrs = {"units": "%", "long_name": f"AGC change degree {y1}→{y2} 变化度"}
    count = zero_base.sum().astype(np.int64)
    count.attrs = {"long_name": f"pixels with C({y1}) = 0, change degree undefined"}
    ds = xr.Dataset({"change": amount, "change_degree": degree, "undefined_degree_count": count})
    ds.attrs = {"y1": int(y1), "y2": int(y2)}
    if not isinstance(count.data, da.Array):
        _warn_undefined(int(count), int(y1), int(y2))
    return ds


def _warn_undefined(n: int, y1: int, y2: int) -> None:
    if n > 0:
        warn(
            f"change degree {y1}→{y2} is undefined (NaN) for {n} pixel(s) with C({y1}) = 0",
            UserWarning,
            stacklevel=3,
        )


def undefined_degree_count(ds: xr.Dataset) -> int:
    """The number of pixels whose change degree is undefined (C(y1) = 0); warns when positive.

    Call it on a computed result (``ds = change(...).compute()``) so that the count comes from
    the same pass as the rasters; on a lazy result it computes the count alone.
    """
    if "undefined_degree_count" not in ds:
        raise InputDataError(
            "the dataset has no 'undefined_degree_count' variable",
            fix="pass the Dataset returned by minecarbon.assessment.change",
        )
    n = int(ds["undefined_degree_count"].values)
    _warn_undefined(n, int(ds.attrs.get("y1", -1)), int(ds.attrs.get("y2", -1)))
    return n
