"""Shrunken post-stratified ratios of the assessment units (decision 44): hand-computed cases."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.mapping.unit_calibration import apply_unit_ratios, shrunken_ratios


def _plots() -> pd.DataFrame:
    # unit 1: y = 2 m exactly (ratio 2, variance 0 → weight 1)
    # unit 2: y = [2, 4, 6] on m = [1, 2, 4] (Cochran's eq. 6.9 example of test_carbon_totals)
    # unit 3: two plots, fewer than min_plots = 3
    return pd.DataFrame({
        "zone": [1, 1, 1, 2, 2, 2, 3, 3],
        "observed": [2.0, 4.0, 8.0, 2.0, 4.0, 6.0, 1.0, 1.0],
        "mapped": [1.0, 2.0, 4.0, 1.0, 2.0, 4.0, 1.0, 1.0],
    })


def test_shrunken_ratios_by_hand() -> None:
    plots = _plots()
    by_unit, pooled, tau2 = shrunken_ratios(plots, min_plots=3)
    # pooled ratio Σy / Σm = 28 / 16
    assert pooled.ratio == pytest.approx(28 / 16)
    assert pooled.own_ratio is None and pooled.n_plots == 8
    # own ratios and variances (Cochran 1977, eq. 6.9)
    r1, v1 = 2.0, 0.0
    r2 = 12 / 7
    v2 = (8 / 7) / (3 * 2 * (7 / 3) ** 2)
    # DerSimonian–Laird with a zero variance: that unit is left out of τ² (one unit → τ² = 0)
    assert tau2 == 0.0
    assert by_unit[1].own_ratio == pytest.approx(r1) and by_unit[1].weight == 0.0
    assert by_unit[2].own_ratio == pytest.approx(r2) and by_unit[2].weight == 0.0
    assert v2 > v1
    # τ² = 0: every unit takes the pooled ratio; the unit with 2 plots has no own ratio
    for code in (1, 2, 3):
        assert by_unit[code].ratio == pytest.approx(28 / 16)
    assert by_unit[3].own_ratio is None and by_unit[3].n_plots == 2


def test_shrinkage_weight_follows_the_between_unit_variance() -> None:
    # two units of 4 plots, residuals ±e around ratios 0.5 and 1.5 on m = 10
    e = 0.5
    plots = pd.DataFrame({
        "zone": [1] * 4 + [2] * 4,
        "observed": [5 + e, 5 - e, 5 + e, 5 - e, 15 + e, 15 - e, 15 + e, 15 - e],
        "mapped": [10.0] * 8,
    })
    by_unit, pooled, tau2 = shrunken_ratios(plots, min_plots=4)
    assert pooled.ratio == pytest.approx(1.0)
    # v_d = Σ(y − R m)² / (n (n − 1) m̄²) = 4 e² / (12 · 100)
    v = 4 * e ** 2 / (12 * 100)
    # DL: θ = 0.5, 1.5, w = 1/v each; Q = (0.25 + 0.25) / v; τ² = (Q − 1) / (2/v − 1/v)
    q = 0.5 / v
    expected_tau2 = (q - 1) / (1 / v)
    assert tau2 == pytest.approx(expected_tau2)
    w = expected_tau2 / (expected_tau2 + v)
    assert by_unit[1].weight == pytest.approx(w) and by_unit[2].weight == pytest.approx(w)
    assert by_unit[1].ratio == pytest.approx(1.0 + w * (0.5 - 1.0))
    assert by_unit[2].ratio == pytest.approx(1.0 + w * (1.5 - 1.0))
    assert 0.5 < by_unit[1].ratio < 1.0  # shrunk toward the pooled ratio, not past it


def test_shrunken_ratios_name_missing_columns() -> None:
    with pytest.raises(InputDataError, match="mapped"):
        shrunken_ratios(pd.DataFrame({"zone": [1, 1], "observed": [1.0, 2.0]}))


def test_apply_unit_ratios_lazy_equals_numpy() -> None:
    rng = np.random.default_rng(0)
    agc = rng.uniform(0, 80, (3, 6, 5)).astype("float32")
    agc[0, 0, 0] = np.nan
    units = rng.integers(0, 6, (3, 6, 5)).astype("uint8")
    ratios = {1: 1.1, 2: 0.9, 4: 0.5}
    dims = ("year", "y", "x")
    eager = apply_unit_ratios(xr.DataArray(agc, dims=dims), xr.DataArray(units, dims=dims),
                              ratios, 1.02)
    lazy = apply_unit_ratios(xr.DataArray(dsa.from_array(agc, chunks=(3, 3, 2)), dims=dims),
                             xr.DataArray(dsa.from_array(units, chunks=(3, 3, 2)), dims=dims),
                             ratios, 1.02)
    assert isinstance(lazy.data, dsa.Array)
    factor = np.vectorize(lambda c: ratios.get(int(c), 1.02))(units).astype("float32")
    expected = agc * factor
    np.testing.assert_allclose(eager.values, expected, rtol=1e-6)
    np.testing.assert_allclose(lazy.values, expected, rtol=1e-6)
    assert np.isnan(lazy.values[0, 0, 0])
    assert np.isfinite(expected).sum() == agc.size - 1


def test_apply_unit_ratios_rejects_codes_outside_a_byte() -> None:
    da = xr.DataArray(np.ones((2, 2)), dims=("y", "x"))
    with pytest.raises(InputDataError, match="0–255"):
        apply_unit_ratios(da, da, {300: 1.0}, 1.0)
