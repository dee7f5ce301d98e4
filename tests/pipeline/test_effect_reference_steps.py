"""The cumulative-effect grades' areas from plots measured at both ends of the period, on a
small synthetic workspace: pairing by centre and year, the cells read, the strata counted, and
the estimate equal to the library's on the same numbers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from minecarbon.assessment.effect_reference import difference_areas
from minecarbon.config import Config
from minecarbon.grid import AnalysisGrid
from minecarbon.pipeline.effect_reference_steps import (
    AREA_COLUMNS,
    MIN_PAIRS,
    cumulative_area_estimates,
)

CRS = "EPSG:4546"
X0, Y1, N, PX = 500_000.0, 4_100_000.0, 20, 30.0
BREAKS = [-60.0, -20.0, -5.0, 5.0, 20.0, 60.0]
GRID = AnalysisGrid(CRS, PX, X0, Y1, N, N)


def _tif(path: Path, data: np.ndarray, dtype: str, nodata: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", height=N, width=N, count=1, dtype=dtype,
                       nodata=nodata, crs=CRS, transform=Affine(PX, 0, X0, 0, -PX, Y1)) as dst:
        dst.write(data.astype(dtype)[None])


def _grade(values: np.ndarray) -> np.ndarray:
    """Class i holds edges[i − 1] < v ≤ edges[i]; the outer classes are open."""
    return np.clip(np.searchsorted(np.asarray(BREAKS), values, side="left"), 1, 5)


def _workspace(root: Path, n_pairs: int) -> tuple[Any, dict[str, Any]]:
    rng = np.random.default_rng(2)
    effect = rng.uniform(-50, 50, (N, N))
    effect[:2] = np.nan  # two rows not graded (not forest in the period)
    grade = np.where(np.isnan(effect), 0, _grade(np.nan_to_num(effect)))
    agc_s = rng.uniform(10, 60, (N, N))
    agc_e = agc_s + rng.uniform(-20, 30, (N, N))
    agc_s[5, 5] = np.nan  # a pixel not forest at the start: its mapped gain counts from 0
    units = np.where(np.arange(N)[None, :] < 8, 10, 21) * np.ones((N, 1))
    out = "products/assessment/"
    _tif(root / f"{out}cumulative_effect.tif", np.nan_to_num(effect, nan=-9999), "float32",
         -9999)
    _tif(root / f"{out}cumulative_grade.tif", grade, "int8", 0)
    _tif(root / "products/agc/agc_2005.tif", np.nan_to_num(agc_s, nan=-9999), "float32", -9999)
    _tif(root / "products/agc/agc_2024.tif", agc_e, "float32", -9999)
    _tif(root / "products/units/units_l2_2024.tif", units, "uint8", 0)
    cells = [(5, 5)] + [(int(r), int(c)) for r, c in zip(rng.integers(2, N, 40),
                                                          rng.integers(0, N, 40), strict=True)]
    cells = list(dict.fromkeys(cells))[:n_pairs]
    rows, plot_agc = [], []
    for i, (r, c) in enumerate(cells):
        x, y = X0 + (c + 0.5) * PX, Y1 - (r + 0.5) * PX
        for year, value in ((2005, rng.uniform(5, 60)), (2024, rng.uniform(5, 80))):
            pid = f"P{i:02d}-{year}"
            rows.append({"plot_id": pid, "x": x, "y": y, "crs": CRS, "side_m": 30.0,
                         "survey_date": f"{year}-08-01"})
            plot_agc.append({"plot_id": pid, "agc_t_per_ha": round(value, 3)})
    rows.append({"plot_id": "ALONE-2024", "x": X0 + 45.0, "y": Y1 - 105.0, "crs": CRS,
                 "side_m": 30.0, "survey_date": "2024-08-01"})  # measured once: no pair
    plot_agc.append({"plot_id": "ALONE-2024", "agc_t_per_ha": 33.0})
    (root / "raw").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "raw/plots.csv", index=False)
    (root / "products/plots").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(plot_agc).to_csv(root / "products/plots/plot_agc.csv", index=False)
    config = Config.model_validate({"project": {"crs": CRS, "first_year": 2000,
                                                "last_year": 2024}})
    ws = SimpleNamespace(path=lambda rel: root / rel, config=config, root=root)
    ctx = SimpleNamespace(workspace=ws, config=config,
                          input_paths=lambda kind: [root / "raw/plots.csv"])
    truth = {"effect": effect, "grade": grade, "agc_s": agc_s, "agc_e": agc_e, "units": units,
             "cells": cells, "plot_agc": pd.DataFrame(plot_agc).set_index("plot_id")}
    return ctx, truth


def test_grades_areas_equal_the_estimator_on_the_pairs_cells(tmp_path: Path) -> None:
    ctx, t = _workspace(tmp_path, 25)
    record_in = {"period": [2005, 2024], "breaks_t_per_ha": BREAKS}
    table, record = cumulative_area_estimates(ctx, GRID, list(range(2000, 2025)), record_in)
    # by hand: each pair's reference effect, graded with the map's breaks
    strata, mapped, reference = [], [], []
    for i, (r, c) in enumerate(t["cells"]):
        if t["grade"][r, c] == 0:
            continue  # not graded: outside the domain
        gain = (t["plot_agc"].at[f"P{i:02d}-2024", "agc_t_per_ha"]
                - t["plot_agc"].at[f"P{i:02d}-2005", "agc_t_per_ha"])
        mapped_gain = t["agc_e"][r, c] - np.nan_to_num(t["agc_s"][r, c])
        reference.append(int(_grade(np.array([t["effect"][r, c] + gain - mapped_gain]))[0]))
        mapped.append(int(t["grade"][r, c]))
        strata.append(int(t["units"][r, c]))
    graded = t["grade"] > 0
    population = {u: int((graded & (t["units"] == u)).sum()) for u in (10, 21)}
    counts = {k: int((t["grade"] == k).sum()) for k in range(1, 6)}
    expected = difference_areas(strata, mapped, reference, population, counts,
                                [1, 2, 3, 4, 5], GRID.pixel_area_ha).table
    assert len(reference) >= MIN_PAIRS and reference != mapped  # the plots disagree somewhere
    assert record == {"applied": True, "n_pairs": len(reference), "strata": 2,
                      "unsampled_share": 0.0}
    assert table.columns.tolist() == AREA_COLUMNS  # as area_estimates.csv has them
    assert table["layer"].unique().tolist() == ["cumulative 2005–2024"]
    assert table["class_en"].tolist() == ["high negative", "low negative", "not obvious",
                                          "low positive", "high positive"]
    for column in ("mapped_area_ha", "area_ha", "area_se_ha", "area_ha_ci_low",
                   "area_ha_ci_high"):
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-5)
    assert table["mapped_area_ha"].sum() == pytest.approx(graded.sum() * GRID.pixel_area_ha)


def test_too_few_pairs_or_no_effect_leave_the_grades_as_mapped(tmp_path: Path) -> None:
    ctx, _ = _workspace(tmp_path, MIN_PAIRS - 1)
    years = list(range(2000, 2025))
    table, record = cumulative_area_estimates(
        ctx, GRID, years, {"period": [2005, 2024], "breaks_t_per_ha": BREAKS})
    assert table.empty and record["applied"] is False and record["n_pairs"] == MIN_PAIRS - 1
    assert "measured in both 2005 and 2024" in record["reason"]
    table, record = cumulative_area_estimates(ctx, GRID, years, None)
    assert table.empty and record == {"applied": False,
                                      "reason": "no cumulative effect assessed"}
