"""The Landsat archive on the simulated site (issue 16): no sensor step after harmonisation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from minecarbon.demo.imagery import ETM_PER_TM_GAIN
from minecarbon.io.raster import read_stack

YEARS = range(2000, 2025)


def _truth_forest(site: Path, year: int) -> np.ndarray:
    with rasterio.open(site / f"truth/agc_{year}.tif") as src:  # NaN outside forest
        return np.isfinite(src.read(1))


def _mean_ndvi(site: Path, mask: np.ndarray) -> dict[int, float]:
    out = {}
    for year in YEARS:
        ndvi = read_stack(site / f"products/features/features_{year}.tif")["ndvi"].values
        out[year] = float(np.nanmean(np.where(mask, ndvi, np.nan)))
    return out


def test_the_quality_table_records_sensors_harmonisation_and_gaps(small_site: Path) -> None:
    q = pd.read_csv(small_site / "products/features/composite_quality.csv").set_index("year")
    assert set(q.loc[2012, "sensors"].split(";")) == {"landsat7"}
    assert "landsat8" in q.loc[2020, "sensors"]
    assert set(";".join(q.loc[list(range(2000, 2012)), "sensors"]).split(";")) <= {
        "landsat5", "landsat7"}
    assert (q["harmonised_to"] == "landsat8").all()
    assert (q["sensor"] == "landsat8").all()  # every stack is computed as OLI's
    assert "landsat7" in q.loc[2012, "harmonised"]
    slc = q[q["slc_off_scenes"] > 0]
    assert 2012 in slc.index and len(slc) >= 3
    assert ((slc["slc_gap_share"] > 0.2) & (slc["slc_gap_share"] < 0.35)).all()
    assert (slc["slc_gap_filled_share"].dropna() > 0.3).all()
    assert (q["valid_share"] > 0.99).all()  # gaps filled from other dates, then other years


def test_no_step_in_persistent_forest_ndvi_at_the_sensor_changes(small_site: Path) -> None:
    persistent = np.logical_and.reduce([_truth_forest(small_site, y) for y in YEARS])
    assert persistent.sum() > 1000
    series = _mean_ndvi(small_site, persistent)
    steps = {y: series[y] - series[y - 1] for y in YEARS if y > YEARS[0]}
    changes = (2012, 2013)  # TM → ETM+ only, ETM+ → OLI
    others = np.array([v for y, v in steps.items() if y not in changes])
    spread = float(others.std())
    for year in changes:
        assert abs(steps[year] - others.mean()) <= 2.5 * spread, (year, steps[year], spread)
    assert spread > 0  # the comparison is with a real year-to-year spread


def test_tm_is_calibrated_to_etm_on_the_archives_pairs(small_site: Path) -> None:
    doc = json.loads((small_site / "products/features/cross_calibration.json").read_text())
    assert doc["method"] == "archive" and doc["model"] == "seasonal"
    cross = [p for p in doc["pairs"] if {p[0][4:8], p[1][4:8]} == {"LT05", "LE07"}]
    assert len(cross) == doc["cross_pairs"] >= 2
    assert len(doc["pairs"]) > len(cross)  # pairs of one sensor pin the season
    assert doc["n_pixels"] >= 2000
    for role, truth in zip(("blue", "green", "red", "nir", "swir1", "swir2"), ETM_PER_TM_GAIN,
                           strict=True):
        g = doc["gains"][role]
        # the simulator's gain recovered within the fit's own uncertainty (or 2 %)
        assert abs(g["gain"] - truth) <= max(3 * g["stderr"], 0.02 * truth), (role, g, truth)
    q = pd.read_csv(small_site / "products/features/composite_quality.csv").set_index("year")
    tm_years = [y for y in q.index if "landsat5" in str(q.loc[y, "sensors"])]
    assert tm_years and (q.loc[tm_years, "tm_calibration"] == "archive").all()
    assert q.loc[2020, "tm_calibration"] != "archive"  # no TM in 2020
