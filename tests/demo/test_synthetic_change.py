"""On the demo, sparse forest's model sees no AGC and its maps borrow the others' change."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from minecarbon.mapping.calibration import attenuation_from_plots
from minecarbon.mapping.synthetic_change import uninformative_strata


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return np.asarray(src.read(1), dtype=np.float64)


def test_uninformative_types_follow_the_growth_index(small_site: Path) -> None:
    calib = json.loads((small_site / "products/agc/calibration.json").read_text())
    record = calib["synthetic_change"]
    oof = pd.read_csv(small_site / "products/models/oof_predictions.csv")
    strata = uninformative_strata(oof)
    assert record["applied"] and record["strata"] == strata and "sparse" in strata
    assert record["donor_pixels"] > 1000
    # b comes from the informative types' plots only
    kept = oof[~oof["stratum"].isin(list(strata))]
    assert calib["attenuation_strata_excluded"] == sorted(strata)
    assert calib["attenuation"] == attenuation_from_plots(kept["observed"], kept["predicted"])

    years = sorted(int(y) for y in record["growth_index"])
    g = np.array([record["growth_index"][str(y)] for y in years])
    ref = years.index(record["reference_year"])
    assert g[ref] == 1.0 and np.all(np.diff(g) > -0.05) and g[0] < 0.9  # the forest grows
    agc = np.stack([_read(small_site / f"products/agc/agc_{y}.tif") for y in years])
    quality = np.stack([_read(small_site / f"products/agc/agc_quality_{y}.tif") for y in years])
    units = np.stack([_read(small_site / f"products/units/units_l1_{y}.tif") for y in years])
    borrowed = quality == 3
    assert borrowed.any(axis=0).sum() > 100
    assert np.isfinite(agc[borrowed]).all()
    # a pixel borrowed in every year, in one unit throughout (one unit ratio): its series is
    # its reference-year value times g
    whole = borrowed.all(axis=0) & (units == units[ref]).all(axis=0)
    assert whole.sum() > 50
    np.testing.assert_allclose(agc[:, whole] / agc[ref, whole], np.broadcast_to(
        g[:, None], (len(years), int(whole.sum()))), rtol=2e-5)
    # the others keep their own change: their relative series differ from g
    own = (quality > 0).all(axis=0) & ~borrowed.any(axis=0) & (agc[ref] > 0)
    assert own.sum() > 1000
    assert np.abs(agc[0, own] / agc[ref, own] - g[0]).max() > 0.1
