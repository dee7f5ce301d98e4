"""On the demo, the residual offsets are the map's own residuals at the plots, by map type."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from minecarbon.mapping import FOREST_TYPE_LABELS
from tests.demo.plots_at import at, reference_plots


def test_offsets_are_the_maps_residuals_by_map_type(small_site: Path) -> None:
    calib = json.loads((small_site / "products/agc/calibration.json").read_text())
    assert calib["residual_offsets_basis"].startswith("map's forest type")
    offsets = calib["residual_offsets_t_per_ha"]
    counts = calib["residual_offset_plots"]
    ref = calib["reference_year"]
    units = calib["unit_ratios"]
    ratio = {int(k): v["ratio"] for k, v in units["units"].items()}
    plots = reference_plots(small_site, ref)
    oof = pd.read_csv(small_site / "products/models/oof_predictions.csv")
    x, y = plots["x"].to_numpy(), plots["y"].to_numpy()
    published = at(small_site / f"products/agc/agc_{ref}.tif", x, y)
    raw = at(small_site / f"work/agc/agc_raw_{ref}.tif", x, y)
    codes = at(small_site / f"products/classification/forest_type_{ref}.tif", x, y)
    label = np.array([FOREST_TYPE_LABELS.get(int(c), "") for c in codes])
    on_map = np.isfinite(published) & (label != "")
    assert sum(counts.values()) == on_map.sum() >= 100
    # undo the unit ratio and the offset: the map's level before them, made out of fold
    factor = plots["unit_l1"].map(ratio).fillna(units["pooled_ratio"]).to_numpy()
    offset = np.array([offsets.get(k, offsets["(all plots)"]) for k in label])
    level = published / factor - offset
    same = label == plots["stratum"].to_numpy()
    level = np.where(np.isfinite(raw) & same, level + plots["predicted"] - raw, level)
    residual = plots["agc_t_per_ha"].to_numpy() - np.clip(level, 0, None)
    by_type = pd.Series(residual[on_map]).groupby(label[on_map])
    assert by_type.size().to_dict() == counts
    judged = 0
    for name, part in by_type:
        if offsets[name] != offsets["(all plots)"]:  # a type with plots enough of its own
            assert abs(part.mean() - offsets[name]) < 1e-3, name
            judged += 1
    assert judged >= 2
    assert abs(residual[on_map].mean() - offsets["(all plots)"]) < 1e-3
    # sparse forest's offset now comes from the plots the map calls sparse (young
    # plantations, thinned stands among them), not from the crew's sparse plots
    crew = oof[(oof["year"] == ref) & (oof["stratum"] == "sparse")]
    assert abs((crew["observed"] - crew["predicted"]).mean() - offsets["sparse"]) > 2.0
