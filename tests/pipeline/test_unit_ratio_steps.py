"""The mapping step's unit ratios as recorded, and when the plots cannot give them."""

from __future__ import annotations

import pandas as pd
import pytest

from minecarbon.mapping.unit_calibration import shrunken_ratios
from minecarbon.pipeline.unit_ratio_steps import unit_ratio_record


def test_record_carries_the_shrunken_ratios() -> None:
    table = pd.DataFrame({"zone": [1] * 5 + [4] * 5 + [5] * 2,
                          "observed": [50, 52, 48, 61, 55, 10, 12, 9, 14, 11, 30, 20],
                          "mapped": [45, 50, 44, 55, 50, 20, 22, 19, 25, 21, 31, 22]})
    record = unit_ratio_record(table, 5, 2024)
    by_unit, pooled, tau2 = shrunken_ratios(table, min_plots=5)
    assert record["applied"] is True and record["reference_year"] == 2024
    assert record["plots"] == 12 and record["level"] == 1
    assert record["pooled_ratio"] == pytest.approx(pooled.ratio, abs=1e-6)
    assert record["between_unit_variance"] == pytest.approx(tau2, abs=1e-6)
    assert set(record["units"]) == {"1", "4", "5"}
    assert record["units"]["4"]["ratio"] == pytest.approx(by_unit[4].ratio, abs=1e-6)
    assert record["units"]["4"]["ratio"] < 0.6 < 1.05 < record["units"]["1"]["ratio"]
    # unit 5 has 2 plots (< 5): all plots' ratio, no own ratio
    assert record["units"]["5"]["own_ratio"] is None
    assert record["units"]["5"]["ratio"] == record["pooled_ratio"]


@pytest.mark.parametrize("observed, mapped, why", [
    ([40.0], [38.0], "≥ 2"),            # one plot on mapped forest
    ([40.0, 30.0], [0.0, 0.0], "map is 0"),  # the map is 0 at every plot
])
def test_record_says_why_when_the_plots_give_no_ratio(observed: list[float],
                                                      mapped: list[float], why: str) -> None:
    table = pd.DataFrame({"zone": [1] * len(observed), "observed": observed, "mapped": mapped})
    record = unit_ratio_record(table, 5, 2019)
    assert record["applied"] is False
    assert "2019" in record["reason"] and why in record["reason"]
