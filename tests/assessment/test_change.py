"""Change amount and degree (A1): hand-worked arithmetic, the undefined-degree count, dask, grids.

Formulas: ΔC = C(t2) − C(t1), change degree = ΔC / C(t1) × 100 % (REQUIREMENTS A1; the guide's
explanatory notes §5, "变化量 … 变化度 … 变化量与初始时间节点森林地上碳储量的比值").
"""

from __future__ import annotations

import warnings

import dask
import dask.array as da
import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr

from minecarbon.assessment.change import assert_same_grid, change, undefined_degree_count
from minecarbon.errors import GridMismatchError, InputDataError

NAN = np.nan


def _stack(values: np.ndarray, years: list[int], crs: str | None = "EPSG:4546") -> xr.DataArray:
    _, ny, nx = values.shape
    out = xr.DataArray(values, dims=("year", "y", "x"),
                       coords={"year": years, "y": 4_100_000.0 - 30.0 * np.arange(ny),
                               "x": 500_000.0 + 30.0 * np.arange(nx)})
    return out.rio.write_crs(crs) if crs else out


# C(2010) and C(2020); expected values worked by hand from the A1 formulas
C1 = np.array([[10.0, 0.0, NAN], [40.0, 25.0, 0.0]])
C2 = np.array([[12.0, 5.0, 3.0], [30.0, NAN, 0.0]])
EXPECTED_CHANGE = np.array([[2.0, 5.0, NAN], [-10.0, NAN, 0.0]])
EXPECTED_DEGREE = np.array([[20.0, NAN, NAN], [-25.0, NAN, NAN]])  # 2/10, −10/40 (× 100)


@pytest.fixture
def stack() -> xr.DataArray:
    return _stack(np.stack([C1, np.full_like(C1, 7.0), C2]), [2010, 2015, 2020])


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("the graph was computed")


def test_change_and_degree_known_answer(stack: xr.DataArray) -> None:
    with pytest.warns(UserWarning, match=r"2010→2020 .* for 2 pixel\(s\) with C\(2010\) = 0"):
        ds = change(stack, 2010, 2020)
    np.testing.assert_allclose(ds["change"].values, EXPECTED_CHANGE, equal_nan=True)
    np.testing.assert_allclose(ds["change_degree"].values, EXPECTED_DEGREE, equal_nan=True)
    assert int(ds["undefined_degree_count"]) == 2  # [0, 1] and [1, 2]: ΔC defined, C(2010) = 0
    assert ds["change"].attrs["units"] == "t C/ha" and ds["change_degree"].attrs["units"] == "%"


def test_reverse_order_is_relative_to_the_first_year(stack: xr.DataArray) -> None:
    with pytest.warns(UserWarning, match=r"1 pixel\(s\) with C\(2020\) = 0"):
        ds = change(stack, 2020, 2010)
    # ΔC = C(2010) − C(2020); degree relative to C(2020): −2/12, −5/5, −3/3, 10/30
    expected = np.array([[-2 / 12, -1.0, NAN], [10 / 30, NAN, NAN]]) * 100
    np.testing.assert_allclose(ds["change_degree"].values, expected, equal_nan=True)


def test_keeps_coords_and_crs(stack: xr.DataArray) -> None:
    ds = change(stack.where(stack != 0, 1.0), 2010, 2015)
    assert ds.rio.crs == "EPSG:4546" and ds["change"].rio.crs == "EPSG:4546"
    np.testing.assert_array_equal(ds["x"].values, stack["x"].values)
    assert ds["change"].dims == ("y", "x")


def test_no_warning_without_zero_base(stack: xr.DataArray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = change(stack, 2015, 2020)
    assert int(ds["undefined_degree_count"]) == 0


def test_nan_as_zero_counts_lost_and_new_forest(stack: xr.DataArray) -> None:
    with pytest.warns(UserWarning, match="3 pixel"):
        ds = change(stack, 2010, 2020, nan_as_zero=True)
    # [0, 2]: no forest → 3 (new forest, degree undefined); [1, 1]: 25 → lost (−100 %)
    np.testing.assert_allclose(ds["change"].values, [[2, 5, 3], [-10, -25, 0]])
    np.testing.assert_allclose(ds["change_degree"].values,
                               [[20, NAN, NAN], [-25, -100, NAN]], equal_nan=True)
    assert int(ds["undefined_degree_count"]) == 3


def test_dask_is_lazy_and_equals_numpy(stack: xr.DataArray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = change(stack, 2010, 2020)
    with dask.config.set(scheduler=_no_compute), warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: it would need the count
        lazy = change(stack.chunk({"y": 1, "x": 2}), 2010, 2020)
    assert isinstance(lazy["change_degree"].data, da.Array)
    assert isinstance(lazy["undefined_degree_count"].data, da.Array)
    done = lazy.compute()
    xr.testing.assert_allclose(done, eager)
    with pytest.warns(UserWarning, match="2 pixel"):
        assert undefined_degree_count(done) == 2


def test_count_comes_from_the_same_pass(stack: xr.DataArray) -> None:
    calls: list[int] = []

    def load(block: np.ndarray) -> np.ndarray:
        if block.size:  # not dask's call on an empty block to infer the output type
            calls.append(1)
        return block

    source = da.from_array(stack.values, chunks=(1, 1, 3)).map_blocks(load, dtype=float)
    lazy = change(stack.copy(data=source), 2010, 2020)
    dask.compute(lazy)
    # 2 years × 2 row blocks are read, once each, for change, degree and count together
    assert len(calls) == 4


def test_missing_year_names_it_and_the_available_years(stack: xr.DataArray) -> None:
    message = r"year \[2012\] not in the AGC stack.*years \[2010, 2015, 2020\]"
    with pytest.raises(InputDataError, match=message):
        change(stack, 2012, 2020)


def test_wrong_dims_are_refused(stack: xr.DataArray) -> None:
    with pytest.raises(InputDataError, match="expected \\(year, y, x\\)"):
        change(stack.rename(year="time"), 2010, 2020)
    with pytest.raises(InputDataError, match="integer 'year'"):
        change(stack.assign_coords(year=[2010.0, 2015.0, 2020.0]), 2010, 2020)


def test_assert_same_grid(stack: xr.DataArray) -> None:
    plane = stack.isel(year=0, drop=True)
    assert_same_grid(stack, plane, "the forest-type map")  # same grid: no error
    with pytest.raises(GridMismatchError, match="the forest-type map has shape 2 × 2"):
        assert_same_grid(stack, plane.isel(x=slice(0, 2)), "the forest-type map")
    with pytest.raises(GridMismatchError, match="offset .* along x"):
        assert_same_grid(stack, plane.assign_coords(x=plane["x"] + 15.0), "the forest-type map")
    with pytest.raises(GridMismatchError, match="is in EPSG:32649"):
        assert_same_grid(stack, plane.rio.write_crs("EPSG:32649"), "the forest-type map")
    with pytest.raises(GridMismatchError, match="without both 'y' and 'x'"):
        assert_same_grid(stack, plane.rename(x="lon"), "the forest-type map")
