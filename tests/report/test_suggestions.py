"""Zoning suggestions: each rule fires on its constructed case and not otherwise, naming why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.report import ReportInputs, Rules, rule_statements, zoning_suggestions
from minecarbon.report.suggestions import main_change, suggestions_section, unit_shares

# Level-2 units of the constructed site: code → (mean AGC, total t C, change total t C, effect)
UNITS = {10: (40.0, 4000.0, 500.0, 5.0), 21: (60.0, 900.0, 0.0, 1.0),
         22: (20.0, 100.0, 0.0, 1.0), 31: (30.0, 300.0, -800.0, -3.0),
         32: (25.0, 250.0, -200.0, -1.0), 43: (15.0, 150.0, 0.0, -12.3)}


def _zonal(units: dict[int, tuple[float, float, float, float]]) -> pd.DataFrame:
    rows = []
    for code, (mean, total, change, effect) in units.items():
        area = total / mean
        rows += [
            {"zones": "units_l2_2024", "zone_id": code, "layer": "agc_2024", "mean": mean,
             "total": total, "area_ha": area},
            {"zones": "units_l2_2024", "zone_id": code, "layer": "change_2000_2024",
             "mean": change / area, "total": change, "area_ha": area},
            {"zones": "units_l2_2024", "zone_id": code, "layer": "cumulative_effect",
             "mean": effect, "total": effect * area, "area_ha": area}]
    return pd.DataFrame(rows)


def _map(values: np.ndarray, name: str) -> xr.DataArray:
    ny, nx = values.shape
    return xr.DataArray(values, dims=("y", "x"), name=name,
                        coords={"y": 1000.0 - 30 * np.arange(ny), "x": 30.0 * np.arange(nx)})


# a 4 × 10 unit map: unit 10 in the first 5 columns, 21 and 43 share the rest
UNIT_MAP = np.array([[10] * 5 + [21] * 5] * 2 + [[10] * 5 + [43] * 5] * 2)


def _inputs(**changes: object) -> ReportInputs:
    cold = np.zeros(UNIT_MAP.shape, dtype=np.int8)
    cold[:, :2] = -2  # 8 of the 20 pixels of unit 10 (40 %) are cold spots of change
    hot = np.zeros(UNIT_MAP.shape, dtype=np.int8)
    hot[0, :5] = 3  # 5 of 20 pixels of unit 10 (25 %) are hot spots of the effect
    trend = np.zeros(UNIT_MAP.shape, dtype=np.int8)
    trend[:, 0] = -2  # 4 of 20 (20 %) decrease significantly
    trend[0, 1] = -128  # no data is no decrease
    inputs = ReportInputs(project={"first_year": 2000, "last_year": 2024},
                          zonal_stats=_zonal(UNITS), units_l2=_map(UNIT_MAP, "units_l2"),
                          trend_class=_map(trend, "trend_class"),
                          gistar_bin={"change_2000_2024": _map(cold, "cold"),
                                      "cumulative_effect": _map(hot, "hot")})
    for key, value in changes.items():
        setattr(inputs, key, value)
    return inputs


def _fired(frame: pd.DataFrame) -> set[tuple[str, int]]:
    return {(r.rule, int(r.unit_l2)) for r in frame.itertuples()}


def test_each_rule_fires_on_its_case_and_names_the_trigger() -> None:
    frame = zoning_suggestions(_inputs(), "en")
    # site mean AGC = 5700 t C / 150 ha = 38.0 t C/ha; R1: unit 21 by its mean; 22 holds
    # 100 t C, under the 2/3 quantile of the totals
    assert _fired(frame) == {("R1", 21), ("R2", 43), ("R3", 31), ("R3", 32), ("R4", 10),
                             ("R5", 10), ("R6", 10)}
    row = frame.set_index("rule").loc["R2"]
    assert row["trigger"] == "mean cumulative effect -12.3 t C/ha < 0.0 t C/ha"
    assert row["value"] == -12.3 and row["threshold"] == 0.0
    assert row["suggestion"] == "supplementary planting and tending"
    assert row["unit_en"] == "reclaimed forest – occupation"
    r1 = frame.set_index("rule").loc["R1"]
    site_mean = sum(u[1] for u in UNITS.values()) / sum(u[1] / u[0] for u in UNITS.values())
    assert r1["threshold"] == pytest.approx(site_mean)
    assert r1["trigger"].startswith("mean AGC 60.0 t C/ha ≥ 38.0 t C/ha")
    r3 = frame[frame["rule"] == "R3"].set_index("unit_l2")
    assert r3.loc[31, "value"] == 800.0 and "1 of 2" in r3.loc[31, "suggestion"]
    assert "2 of 2" in r3.loc[32, "suggestion"]
    r4 = frame.set_index("rule").loc["R4"]
    assert r4["value"] == pytest.approx(40.0)
    assert r4["trigger"] == "share of change cold-spot pixels 40.0% ≥ 10.0%"
    assert frame.set_index("rule").loc["R5", "value"] == pytest.approx(20.0)
    r6 = frame.set_index("rule").loc["R6"]
    assert r6["value"] == pytest.approx(25.0)
    assert "mean cumulative effect 5.0 t C/ha > 0.0 t C/ha" in r6["trigger"]
    assert frame.attrs["missing"] == []


def test_rules_do_not_fire_when_their_condition_fails() -> None:
    units = dict(UNITS)
    units[43] = (15.0, 150.0, 0.0, 2.0)  # positive effect: no R2
    units[21] = (30.0, 200.0, 0.0, 1.0)  # below the site mean and not in the top third
    units[10] = (40.0, 4000.0, 500.0, -1.0)  # negative effect: no R6 despite the hot spots
    units[31] = (30.0, 300.0, 50.0, -3.0)  # gained carbon: no R3
    frame = zoning_suggestions(_inputs(zonal_stats=_zonal(units)), "en")
    assert _fired(frame) == {("R3", 32), ("R4", 10), ("R5", 10)}
    strict = Rules(r4_cold_share_pct=50.0, r5_decrease_share_pct=25.0)
    assert _fired(zoning_suggestions(_inputs(zonal_stats=_zonal(units)), "en", strict)) == {
        ("R3", 32)}


def test_r1_fires_on_the_top_third_of_totals() -> None:
    units = dict(UNITS)
    units[22] = (20.0, 5000.0, 0.0, 1.0)  # low mean, but the largest total
    frame = zoning_suggestions(_inputs(zonal_stats=_zonal(units)), "zh")
    r1 = frame[frame["rule"] == "R1"].set_index("unit_l2")
    assert set(r1.index) == {21, 22}
    totals = np.array([u[1] for u in units.values()])
    assert r1.loc[22, "threshold"] == pytest.approx(np.quantile(totals, 2 / 3))
    assert r1.loc[22, "trigger"].startswith("碳储量总量 5000.0 t C ≥")
    assert r1.loc[22, "suggestion"].startswith("优先保护")


def test_missing_products_leave_their_rules_out_with_the_reason() -> None:
    inputs = _inputs(zonal_stats=None, units_l2=None)
    inputs.missing["zonal_stats"] = "the assessment step has not run"
    frame = zoning_suggestions(inputs, "en")
    assert frame.empty
    assert [m.split(":")[0] for m in frame.attrs["missing"]] == ["R1", "R2", "R3", "R4", "R5",
                                                                 "R6"]
    assert "the assessment step has not run" in frame.attrs["missing"][0]
    section = suggestions_section(inputs, "en")
    assert section.key == "suggestions" and len(section.missing) == 6


def test_unit_shares_equal_numpy_on_dask_and_numpy_input() -> None:
    rng = np.random.default_rng(3)
    codes = rng.choice([0, 10, 21, 32, 43], size=(37, 53))
    flag = rng.random((37, 53)) < 0.3
    expected = {int(c): 100 * float(flag[codes == c].mean()) for c in (10, 21, 32, 43)}
    eager = unit_shares(_map(codes, "u"), _map(flag, "f"))
    lazy = unit_shares(_map(codes, "u").chunk({"y": 10, "x": 16}), _map(flag, "f"))
    assert eager == pytest.approx(expected) and lazy == pytest.approx(expected)
    with pytest.raises(InputDataError, match="not on one grid"):
        unit_shares(_map(codes, "u"), _map(flag[:-1], "f"))


def test_main_change_prefers_the_whole_period() -> None:
    inputs = ReportInputs(project={"first_year": 2000, "last_year": 2024})
    inputs.change = {"change_2005_2024": _map(np.zeros((2, 2)), "a"),
                     "change_2000_2024": _map(np.zeros((2, 2)), "b")}
    assert main_change(inputs) == "change_2000_2024"
    inputs.project = {}
    inputs.change.pop("change_2000_2024")
    assert main_change(inputs) == "change_2005_2024"
    assert main_change(ReportInputs()) is None


def test_the_rules_are_stated_with_their_thresholds() -> None:
    statements = dict(rule_statements(Rules(r4_cold_share_pct=15.0), "en"))
    assert list(statements) == ["R1", "R2", "R3", "R4", "R5", "R6"]
    assert "≥ 15 %" in statements["R4"]
    section = suggestions_section(_inputs(), "zh")
    texts = [getattr(b, "text", "") for b in section.blocks]
    assert any(t.startswith("R2：") and "补植补造" in t for t in texts)
