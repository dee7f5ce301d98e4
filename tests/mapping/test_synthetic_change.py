"""Forest types whose models see no AGC borrow the others' change (decision 45): hand cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.mapping import FOREST_TYPE_LABELS
from minecarbon.mapping.synthetic_change import (
    borrow_change,
    codes_of,
    growth_index,
    uninformative_strata,
)


def _oof() -> pd.DataFrame:
    y = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    return pd.DataFrame({
        "stratum": ["a"] * 5 + ["b"] * 5 + ["c"] * 5 + ["d"] * 4,
        "observed": np.r_[y, y, y, y[:4]],
        # a: perfect (R² = 1); b: the plots' mean everywhere (R² = 0 exactly);
        # c: reversed (R² = 1 − 4000/1000 = −3); d: only 4 plots, not judged
        "predicted": np.r_[y, np.full(5, 30.0), y[::-1], np.full(4, 99.0)],
    })


def test_uninformative_strata_by_hand() -> None:
    found = uninformative_strata(_oof())
    assert found == {"b": {"plots": 5, "oof_r2": 0.0}, "c": {"plots": 5, "oof_r2": -3.0}}
    # with min_plots 4 the fourth type is judged: Σ(y − 99)² / Σ(y − 25)² = 20 104 / 500
    found = uninformative_strata(_oof(), min_plots=4)
    assert found["d"]["oof_r2"] == pytest.approx(1 - (89**2 + 79**2 + 69**2 + 59**2) / 500,
                                                 abs=1e-4)
    with pytest.raises(InputDataError, match="predicted"):
        uninformative_strata(_oof().drop(columns="predicted"))


def _cube() -> tuple[xr.DataArray, xr.DataArray]:
    nan = np.nan
    # (year 4, y 1, x 4): pixels 0 and 1 donors (forest every year), pixel 2 a donor type but
    # not forest in year 1, pixel 3 an uninformative type
    agc = np.array([[10.0, 30.0, 5.0, 40.0],
                    [12.0, 33.0, nan, 41.0],
                    [14.0, 36.0, 7.0, nan],
                    [20.0, 40.0, 9.0, 44.0]])[:, None, :]
    types = np.array([[1, 2, 1, 4]] * 4)[:, None, :]
    dims = ("year", "y", "x")
    coords = {"year": [2000, 2001, 2002, 2003]}
    return (xr.DataArray(agc, dims=dims, coords=coords),
            xr.DataArray(types, dims=dims, coords=coords))


def test_growth_index_by_hand() -> None:
    agc, types = _cube()
    forest = agc.notnull()
    donor = (types.isel(year=3) != 4)
    g, n = growth_index(agc, forest, donor, reference=3)
    assert n == 2  # pixel 2 misses a year, pixel 3 is not a donor
    np.testing.assert_allclose(g, [40 / 60, 45 / 60, 50 / 60, 1.0])
    g, n = growth_index(agc, forest, donor & False, reference=3)
    assert n == 0 and np.isnan(g).all()


def test_borrow_change_by_hand() -> None:
    agc, types = _cube()
    g = np.array([0.5, 0.6, 0.8, 1.0])
    types = types.where(types != 1, 4)  # pixels 0 and 2 uninformative too
    out, flag = borrow_change(agc, types, [4], g, reference=3)
    got = out.values[:, 0, :]
    # pixel 0: one span, anchor 2003 at 20 → 20·g
    np.testing.assert_allclose(got[:, 0], 20 * g)
    # pixel 1 (type 2): unchanged
    np.testing.assert_allclose(got[:, 1], agc.values[:, 0, 1])
    # pixel 2: span [2000] anchored at itself (5); span [2002, 2003] began after the series
    # did (a new stand, not an established one): its own change stays
    np.testing.assert_allclose(got[:, 2], [5.0, np.nan, 7.0, 9.0])
    # pixel 3: span [2000, 2001] anchored at 2001, its year nearest 2003 (41); [2003] is new
    np.testing.assert_allclose(got[:, 3], [41 * 0.5 / 0.6, 41.0, np.nan, 44.0])
    assert flag.values[:, 0, :].sum() == 4 + 1 + 2
    np.testing.assert_array_equal(flag.values[:, 0, 2], [True, False, False, False])
    assert not flag.values[:, 0, 1].any()
    assert out.dtype == np.float32 and flag.dtype == bool


def test_borrow_change_lazy_equals_eager() -> None:
    rng = np.random.default_rng(3)
    agc = rng.uniform(5, 60, (25, 40, 30))
    agc[rng.random(agc.shape) < 0.2] = np.nan
    types = rng.integers(1, 5, agc.shape)
    dims = ("year", "y", "x")
    a = xr.DataArray(agc, dims=dims)
    t = xr.DataArray(types, dims=dims)
    g = np.linspace(0.6, 1.0, 25)
    eager = borrow_change(a, t, [4], g, reference=24)
    lazy = borrow_change(a.chunk({"y": 16, "x": 16}), t.chunk({"y": 16, "x": 16}), [4], g,
                         reference=24)
    assert lazy[0].chunks is not None
    np.testing.assert_array_equal(lazy[0].values, eager[0].values)
    np.testing.assert_array_equal(lazy[1].values, eager[1].values)
    assert 1000 < eager[1].values.sum() < agc.size  # some, not all, rewritten


def test_borrow_change_rejects_bad_input() -> None:
    agc, types = _cube()
    with pytest.raises(InputDataError, match="growth index"):
        borrow_change(agc, types, [4], [1.0, 1.0, 0.0, 1.0], reference=3)
    with pytest.raises(InputDataError, match="growth index"):
        borrow_change(agc, types, [4], [1.0, 1.0], reference=3)
    with pytest.raises(InputDataError, match="types"):
        borrow_change(agc, types.transpose("y", "year", "x"), [4], np.ones(4), reference=3)


def test_codes_of_the_labels() -> None:
    sparse = [c for c, label in FOREST_TYPE_LABELS.items() if label == "sparse"]
    assert codes_of({"sparse": {}}, FOREST_TYPE_LABELS) == sparse and len(sparse) == 1
    assert codes_of({}, FOREST_TYPE_LABELS) == []
