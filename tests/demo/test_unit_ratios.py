"""The mapping step brings each level-1 unit's maps to its plots (decision 44), on the demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minecarbon.mapping import FOREST_TYPE_LABELS
from tests.demo.plots_at import at, reference_plots


def test_unit_maps_carry_their_plots_ratio(small_site: Path) -> None:
    calib = json.loads((small_site / "products/agc/calibration.json").read_text())
    record = calib["unit_ratios"]
    assert record["applied"] and record["level"] == 1 and record["plots"] >= 50
    ref = record["reference_year"]
    pooled = record["pooled_ratio"]
    units = {int(k): v for k, v in record["units"].items()}
    assert set(units) >= {1, 2, 3}
    for code, u in units.items():
        assert 0.0 <= u["weight"] <= 1.0, code
        if u["own_ratio"] is not None:  # shrunk toward the pooled ratio, never past it
            low, high = sorted((pooled, u["own_ratio"]))
            assert low - 1e-9 <= u["ratio"] <= high + 1e-9, (code, u)
        else:
            assert u["ratio"] == pooled

    # the published map, made out of fold at the plots, reproduces each unit's own ratio
    # divided by the ratio it was multiplied by: it was scaled by exactly that ratio
    plots = reference_plots(small_site, ref)
    x, y = plots["x"].to_numpy(), plots["y"].to_numpy()
    mapped = at(small_site / f"products/agc/agc_{ref}.tif", x, y)
    raw = at(small_site / f"work/agc/agc_raw_{ref}.tif", x, y)
    unit_there = at(small_site / f"products/units/units_l1_{ref}.tif", x, y)
    # the map is in-sample only where its forest type is the plot's stratum (same model)
    codes = at(small_site / f"products/classification/forest_type_{ref}.tif", x, y)
    same = np.array([FOREST_TYPE_LABELS.get(int(c), "") for c in codes]) == plots["stratum"]
    assert 0 < same.sum() < len(plots)  # both cases occur on the demo
    on_map = np.isfinite(mapped)
    assert (unit_there[on_map] == plots["unit_l1"].to_numpy()[on_map]).all()
    factor = plots["unit_l1"].map({k: v["ratio"] for k, v in units.items()}).fillna(pooled)
    step = factor.to_numpy() * (plots["predicted"].to_numpy() - raw)
    oof_map = np.clip(np.where(np.isfinite(raw) & same, mapped + step, mapped), 0, None)
    checked = 0
    for code, u in units.items():
        keep = on_map & (plots["unit_l1"].to_numpy() == code)
        if u["own_ratio"] is None or keep.sum() < 5:
            continue
        ratio_now = plots["agc_t_per_ha"].to_numpy()[keep].sum() / oof_map[keep].sum()
        assert ratio_now * u["ratio"] == pytest.approx(u["own_ratio"], rel=2e-3), code
        checked += 1
    assert checked >= 2

