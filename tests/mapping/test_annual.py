"""AGC totals per unit and year: hand-computed sums, pandas groupby as the oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.mapping import unit_totals


def _da(values: np.ndarray, chunks: int | None = None) -> xr.DataArray:
    da = xr.DataArray(values, dims=("y", "x"))
    return da.chunk(chunks) if chunks else da


def test_hand_computed_totals() -> None:
    # unit 1: 10 and 20 t C/ha on 2 pixels of 0.09 ha → mean 15, area 0.18 ha, total 2.7 t C;
    # unit 2: 30 t C/ha on one pixel (its NaN pixel is not forest) → 30, 0.09 ha, 2.7 t C
    agc = np.array([[10.0, 20.0], [30.0, np.nan]], dtype=np.float32)
    units = np.array([[1, 1], [2, 2]], dtype=np.uint8)
    table = unit_totals(_da(agc), _da(units), pixel_area_ha=0.09, year=2020)
    assert table.to_dict("list") == {
        "year": [2020, 2020], "unit_l2": [1, 2], "agc_t_per_ha": [15.0, 30.0],
        "area_ha": [0.18, 0.09], "agc_t": [2.7, 2.7]}
    alone = unit_totals(_da(agc), None, pixel_area_ha=0.09, year=2021)
    assert alone[["unit_l2", "agc_t_per_ha", "area_ha", "agc_t"]].values.tolist() == [
        [0, 20.0, 0.27, 5.4]]


def test_dask_blocks_give_the_groupby_of_all_pixels() -> None:
    rng = np.random.default_rng(2)
    agc = rng.gamma(4.0, 10.0, (45, 37)).astype(np.float32)
    agc[rng.random(agc.shape) < 0.3] = np.nan
    units = rng.integers(0, 9, agc.shape).astype(np.uint8)
    table = unit_totals(_da(agc, 8), _da(units, 8), pixel_area_ha=0.09, year=2005)
    frame = pd.DataFrame({"u": units.ravel(), "a": agc.ravel().astype(np.float64)}).dropna()
    oracle = frame.groupby("u")["a"].agg(["mean", "count", "sum"])
    np.testing.assert_array_equal(table["unit_l2"], oracle.index)
    np.testing.assert_allclose(table["agc_t_per_ha"], oracle["mean"].round(3), atol=1e-9)
    np.testing.assert_allclose(table["area_ha"], (oracle["count"] * 0.09).round(4))
    np.testing.assert_allclose(table["agc_t"], (oracle["sum"] * 0.09).round(3), atol=1e-9)


def test_a_unit_map_of_another_shape_is_refused() -> None:
    with pytest.raises(InputDataError, match="year 2020"):
        unit_totals(_da(np.ones((3, 3))), _da(np.ones((2, 3))), pixel_area_ha=0.09, year=2020)
