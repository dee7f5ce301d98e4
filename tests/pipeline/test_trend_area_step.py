"""The assessment step's trend-category areas on a small synthetic workspace: the labels alone
(Olofsson et al. 2014), corrected by a checked subsample (two-phase difference estimator), and
the labels alone with a warning where too few points were checked."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

from minecarbon.assessment.trend_reference import (
    CODES,
    MIN_CHECKED,
    checked_trend_areas,
    trend_areas,
)
from minecarbon.config import Config
from minecarbon.grid import AnalysisGrid
from minecarbon.pipeline.totals_steps import trend_area_estimates
from minecarbon.report.totals import trend_area_table

CRS = "EPSG:4546"
X0, Y1, N, PX = 500_000.0, 4_100_000.0, 40, 30.0
GRID = AnalysisGrid(CRS, PX, X0, Y1, N, N)
LABEL = {-1: "decrease", 0: "stable", 1: "increase", 9: "none"}


def _tif(path: Path, data: np.ndarray, dtype: str, nodata: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", height=N, width=N, count=1, dtype=dtype,
                       nodata=nodata, crs=CRS, transform=Affine(PX, 0, X0, 0, -PX, Y1)) as dst:
        dst.write(data.astype(dtype)[None])


def _workspace(root: Path, n_checked: int | None) -> tuple[Any, dict[str, Any]]:
    rng = np.random.default_rng(8)
    trend = rng.choice([-2, -1, 0, 1, 2], (N, N), p=[0.08, 0.1, 0.2, 0.12, 0.5]).astype(float)
    trend[:8] = -128  # never forest: no trend
    landcover = np.ones((N, N))
    landcover[:, :2] = 0  # outside the extent
    _tif(root / "products/assessment/trend_class.tif", trend, "int8", -128)
    _tif(root / "products/classification/landcover_2024.tif", landcover, "uint8", 0)
    rows, cols = np.meshgrid(np.arange(0, N, 2), np.arange(0, N, 2), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    mapped_cat = np.select([trend[rows, cols] == -2, trend[rows, cols] == 2,
                            trend[rows, cols] == -128], [-1, 1, 9], 0)
    truth = np.where(rng.random(rows.size) < 0.85, mapped_cat, rng.choice(CODES, rows.size))
    label = np.where((truth != 9) & (rng.random(rows.size) < 0.05),
                     np.where(truth == 1, 0, np.where(truth == -1, 0, 1)), truth)
    checked = np.full(rows.size, None, dtype=object)
    pick = rng.permutation(rows.size)[:n_checked or 0]
    checked[pick] = [LABEL[int(t)] for t in truth[pick]]
    frame = {"trend": [LABEL[int(v)] for v in label]}
    if n_checked is not None:
        frame["trend_checked"] = list(checked)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(
        X0 + (cols + 0.5) * PX, Y1 - (rows + 0.5) * PX), crs=CRS)
    path = root / "raw/reference/reference.gpkg"
    path.parent.mkdir(parents=True, exist_ok=True)
    points.to_file(path, layer="reference")
    config = Config.model_validate({"project": {"crs": CRS, "first_year": 2000,
                                                "last_year": 2024}})
    ws = SimpleNamespace(path=lambda rel: root / rel, config=config, root=root)
    ctx = SimpleNamespace(workspace=ws, config=config, input_paths=lambda kind: [path])
    inside = landcover[rows, cols] > 0
    mapped = {c: 0.0 for c in CODES}
    for c in CODES:
        cat = np.select([trend == -2, trend == 2, trend == -128], [-1, 1, 9], 0)
        mapped[c] = float(((cat == c) & (landcover > 0)).sum()) * GRID.pixel_area_ha
    at = np.where(inside, mapped_cat, -128)
    present = np.array([v is not None for v in checked]) & inside
    return ctx, {"at": at, "label": label, "truth": truth, "present": present,
                 "mapped": mapped}


def test_checked_points_correct_the_areas_and_the_method_says_so(tmp_path: Path) -> None:
    ctx, t = _workspace(tmp_path, 80)
    table = trend_area_estimates(ctx, GRID, list(range(2000, 2025)))
    expected = checked_trend_areas(t["at"], t["label"], t["truth"], t["present"],
                                   t["mapped"]).estimate.areas
    assert len(table) == 4 and int(t["present"].sum()) >= MIN_CHECKED
    np.testing.assert_allclose(table["area_ha"], expected["area"].round(2), atol=0.006)
    np.testing.assert_allclose(table["area_se_ha"], expected["area_se"].round(2), atol=0.006)
    np.testing.assert_allclose(table["mapped_area_ha"], expected["mapped_area"].round(2),
                               atol=0.006)
    method = table["method"].iloc[0]
    assert f"corrected from {int(t['present'].sum())} checked points" in method
    plain = trend_areas(t["at"], t["label"], t["mapped"]).areas
    assert not np.allclose(table["area_ha"], plain["area"].round(2), atol=0.01)
    # the report's table note says so in both languages, from this method text
    n = int(t["present"].sum())
    d = int((t["present"] & (t["label"] != t["truth"])).sum())
    zh = trend_area_table(table.assign(layer="trend 2000–2024"), "zh")
    en = trend_area_table(table.assign(layer="trend 2000–2024"), "en")
    assert zh is not None and en is not None
    assert f"其中 {n} 个随机样点经独立复判与仲裁（{d} 个与初判不一致）" in zh.note
    assert f"{n} randomly chosen points were interpreted again" in en.note


def test_too_few_checked_points_leave_the_labels_as_right_with_a_warning(
        tmp_path: Path) -> None:
    ctx, t = _workspace(tmp_path, 6)
    with pytest.warns(UserWarning, match=f"fewer than {MIN_CHECKED}"):
        table = trend_area_estimates(ctx, GRID, list(range(2000, 2025)))
    plain = trend_areas(t["at"], t["label"], t["mapped"]).areas
    assert len(table) == 4
    np.testing.assert_allclose(table["area_ha"], plain["area"].round(2), atol=0.006)
    assert "checked" not in table["method"].iloc[0]
    zh = trend_area_table(table.assign(layer="trend 2000–2024"), "zh")
    assert zh is not None and "复判" not in zh.note


def test_without_the_column_the_labels_alone(tmp_path: Path) -> None:
    ctx, t = _workspace(tmp_path, None)
    table = trend_area_estimates(ctx, GRID, list(range(2000, 2025)))
    plain = trend_areas(t["at"], t["label"], t["mapped"]).areas
    np.testing.assert_allclose(table["area_ha"], plain["area"].round(2), atol=0.006)
    assert table["method"].iloc[0].startswith("Olofsson et al. 2014, ")
