"""Scoring a demo workspace against the simulator's truth (issue 14, point 4).

Known answers on tiny hand-made workspaces (5 × 5 px, 2000–2004, 30 m pixels = 0.09 ha), then
the structure of the score of the shared small demo site (its numbers are the baseline, not
the issue's targets).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from minecarbon.assessment.trend import TrendClass
from minecarbon.config import CONFIG_FILE, render_config
from minecarbon.errors import InputDataError, PathNotFoundError
from minecarbon.report.truth_comparison import (
    RESULT_FILE,
    TARGETS,
    score_series,
    score_workspace,
    unit_bias,
    write_truth_comparison,
)

YEARS = [2000, 2001, 2002, 2003, 2004]
N = 5
AREA_HA = 0.09
P = np.arange(N * N, dtype=np.float64).reshape(N, N)  # pixel number 0 … 24
K = np.arange(len(YEARS), dtype=np.float64)[:, None, None]  # years since 2000
SLOPE = 1.0 + 0.125 * P  # t C/ha per year, Σ = 25 + 0.125 · 300 = 62.5
TRUTH = (10.0 + P + SLOPE * K).astype(np.float32)  # (year, y, x), rising, exact in float32
SUM_SLOPE = 62.5


def _tif(path: Path, data: np.ndarray, nodata: float | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {"driver": "GTiff", "height": N, "width": N, "count": 1, "dtype": str(data.dtype),
               "crs": "EPSG:4546", "transform": from_origin(500_000.0, 4_100_000.0, 30.0, 30.0),
               "nodata": nodata}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def make_workspace(root: Path, truth: np.ndarray, product: np.ndarray | None,
                   units: np.ndarray | None = None, skip_years: tuple[int, ...] = ()) -> Path:
    """A hand-made workspace: config, truth AGC and units, product AGC (None: no products)."""
    root.mkdir(parents=True)
    (root / CONFIG_FILE).write_text(render_config(
        {"project": {"first_year": YEARS[0], "last_year": YEARS[-1]}}), encoding="utf-8")
    l1 = np.ones((N, N), np.uint8) if units is None else units
    for i, year in enumerate(YEARS):
        _tif(root / "truth" / f"agc_{year}.tif", truth[i].astype(np.float32), float("nan"))
        _tif(root / "truth" / f"units_l1_{year}.tif", l1, 0)
        if product is not None and year not in skip_years:
            _tif(root / "products" / "agc" / f"agc_{year}.tif",
                 product[i].astype(np.float32), float("nan"))
    return root


def per_year(score: dict, key: str) -> np.ndarray:
    return np.array([row[key] for row in score["per_year"]], dtype=np.float64)


def test_perfect_map_scores_perfectly(tmp_path: Path) -> None:
    score = score_workspace(make_workspace(tmp_path / "ws", TRUTH, TRUTH))
    assert score["years"] == YEARS
    assert score["extent_source"].startswith("whole grid")
    assert score["extent_pixels"] == 25
    # 5 years each
    np.testing.assert_array_equal(per_year(score, "truth_forest_px"), [25] * 5)
    np.testing.assert_array_equal(per_year(score, "coverage"), [1.0] * 5)
    np.testing.assert_allclose(per_year(score, "site_total_ratio"), [1.0] * 5, rtol=1e-12)
    totals = TRUTH.astype(np.float64).sum(axis=(1, 2)) * AREA_HA
    np.testing.assert_allclose(per_year(score, "site_total_truth_t"), totals, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "site_total_mapped_t"), totals, rtol=1e-9)
    np.testing.assert_array_equal(per_year(score, "rmse_t_ha"), [0.0] * 5)
    np.testing.assert_array_equal(per_year(score, "bias_pct"), [0.0] * 5)
    np.testing.assert_allclose(per_year(score, "r"), [1.0] * 5, rtol=1e-12)
    np.testing.assert_allclose(per_year(score, "forest_area_truth_ha"), [25 * AREA_HA] * 5)
    np.testing.assert_allclose(per_year(score, "forest_area_mapped_ha"), [25 * AREA_HA] * 5)
    # 4 year-to-year changes: Σ truth = 25·10 + 300 + 62.5·k, the change 62.5 / Σ(k−1)
    expected = [100.0 * 62.5 * AREA_HA / totals[k - 1] for k in range(1, 5)]
    np.testing.assert_allclose(per_year(score, "change_truth_pct")[1:], expected, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "change_diff_points")[1:], [0.0] * 4, atol=1e-9)
    assert math.isnan(score["per_year"][0]["change_diff_points"])
    # persistent forest: 25 pixels, truth mean change = 4 · mean slope = 4 · 55 / 25
    pf = score["persistent_forest"]
    assert pf["pixels"] == 25
    assert score["persistent_unit"] == pf  # every pixel is in the persistent unit (code 1)
    assert pf["truth_mean_change_t_ha"] == pytest.approx(4 * SUM_SLOPE / 25, rel=1e-9)
    assert pf["ratio"] == pytest.approx(1.0, rel=1e-12)
    # Sen slopes of 25 pixels: exactly the linear slopes; n = 5 rising years, p = 0.027
    sen = score["sen_slope"]
    assert sen["pixels"] == 25
    assert sen["truth_mean_t_ha_per_year"] == pytest.approx(SUM_SLOPE / 25, rel=1e-6)
    assert sen["ratio"] == pytest.approx(1.0, rel=1e-12)
    assert sen["r"] == pytest.approx(1.0, rel=1e-9)
    assert sen["class_agreement"] == 1.0
    assert sen["truth_classes"]["significant increase"] == 1.0
    # all 9 targets met
    assert set(score["targets"]) == set(TARGETS)
    assert [t["pass"] for t in score["targets"].values()] == [True] * 9
    assert score["all_pass"] is True


def test_one_unmapped_pixel(tmp_path: Path) -> None:
    product = TRUTH.copy()
    product[:, 0, 0] = np.nan  # pixel 0: truth 10 + k, slope 1
    units = np.ones((N, N), np.uint8)
    units[0, 0] = 2  # to be damaged: in the extent, not in the persistent-forest unit
    score = score_workspace(make_workspace(tmp_path / "ws", TRUTH, product, units=units))
    k = np.arange(5.0)
    truth_mean = TRUTH.astype(np.float64).mean(axis=(1, 2))
    # 5 years each: 24 of 25 pixels mapped, the 25th read as 0
    np.testing.assert_allclose(per_year(score, "coverage"), [24 / 25] * 5, rtol=1e-12)
    np.testing.assert_allclose(per_year(score, "bias_t_ha"), -(10 + k) / 25, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "bias_pct"),
                               -100 * (10 + k) / 25 / truth_mean, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "rmse_t_ha"), (10 + k) / 5, rtol=1e-9)
    totals = TRUTH.astype(np.float64).sum(axis=(1, 2))
    np.testing.assert_allclose(per_year(score, "site_total_ratio"), (totals - 10 - k) / totals,
                               rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "forest_area_mapped_ha"), [24 * AREA_HA] * 5)
    assert score["coverage"] == {"worst": pytest.approx(0.96), "worst_year": 2000}
    # persistent forest (25 px): mapped change lacks pixel 0's 4 t C/ha
    assert score["persistent_forest"]["ratio"] == pytest.approx((SUM_SLOPE - 1) / SUM_SLOPE)
    # the persistent unit (level-1 code 1 in 2004): 24 px, all mapped
    unit = score["persistent_unit"]
    assert unit["pixels"] == 24
    assert unit["ratio"] == pytest.approx(1.0)
    assert unit["truth_mean_change_t_ha"] == pytest.approx(4 * (SUM_SLOPE - 1) / 24)
    # Sen over 25 px: pixel 0 reads 0, 0, 0, 0, 0 → slope 0, stable
    sen = score["sen_slope"]
    assert sen["ratio"] == pytest.approx((SUM_SLOPE - 1) / SUM_SLOPE, rel=1e-9)
    assert sen["class_agreement"] == pytest.approx(24 / 25)
    assert sen["mapped_classes"]["stable"] == pytest.approx(1 / 25)
    # coverage 0.96 ≥ 0.95 passes; the worst deviation of the site total, (10 + k) / (550 +
    # 62.5 k), is 10 / 550 = 1.8 % in 2000, passes
    assert score["targets"]["coverage_min"]["pass"] is True
    assert score["targets"]["site_total_worst_deviation_pct"]["value"] == pytest.approx(
        100 * 10 / 550)
    # the error budget: all of the bias and the squared error is the unmapped pixel's
    np.testing.assert_array_equal(per_year(score, "omitted_px"), [1] * 5)
    np.testing.assert_allclose(per_year(score, "omission_bias_pct"), per_year(score, "bias_pct"),
                               rtol=1e-12)
    np.testing.assert_array_equal(per_year(score, "mapped_bias_pct"), [0.0] * 5)
    np.testing.assert_array_equal(per_year(score, "rmse_mapped_pct"), [0.0] * 5)
    np.testing.assert_array_equal(per_year(score, "omission_mse_share"), [1.0] * 5)
    budget = score["error_budget"]
    assert budget["worst_bias_year"]["year"] == score["targets"]["bias_worst_abs_pct"]["year"]
    assert budget["worst_bias_year"]["omitted_px"] == 1
    assert budget["rmse_mapped_worst_pct"] == 0.0
    assert budget["omission_mse_share_min"] == budget["omission_mse_share_max"] == 1.0


def test_half_map(tmp_path: Path) -> None:
    score = score_workspace(make_workspace(tmp_path / "ws", TRUTH, 0.5 * TRUTH))
    # 5 years each
    np.testing.assert_allclose(per_year(score, "site_total_ratio"), [0.5] * 5, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "bias_pct"), [-50.0] * 5, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "r"), [1.0] * 5, rtol=1e-9)
    # 4 changes: scale-free, so mapped = truth
    np.testing.assert_allclose(per_year(score, "change_diff_points")[1:], [0.0] * 4, atol=1e-9)
    assert score["persistent_forest"]["ratio"] == pytest.approx(0.5)
    assert score["sen_slope"]["ratio"] == pytest.approx(0.5)
    assert score["sen_slope"]["class_agreement"] == 1.0  # 25 px, same ranks
    targets = score["targets"]
    assert targets["site_total_worst_deviation_pct"]["value"] == pytest.approx(50.0)
    assert [targets[n]["pass"] for n in ("site_total_worst_deviation_pct",
                                         "persistent_change_ratio", "sen_slope_ratio",
                                         "rmse_worst_pct", "bias_worst_abs_pct")] == [False] * 5
    assert [targets[n]["pass"] for n in ("coverage_min", "change_worst_diff_points",
                                         "sen_slope_r", "trend_class_agreement")] == [True] * 4
    assert score["all_pass"] is False
    # nothing unmapped: the whole error is the mapped pixels'
    np.testing.assert_array_equal(per_year(score, "omitted_px"), [0] * 5)
    np.testing.assert_array_equal(per_year(score, "omission_bias_pct"), [0.0] * 5)
    np.testing.assert_allclose(per_year(score, "mapped_bias_pct"), [-50.0] * 5, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "rmse_mapped_pct"), per_year(score, "rmse_pct"),
                               rtol=1e-12)
    np.testing.assert_array_equal(per_year(score, "omission_mse_share"), [0.0] * 5)
    assert score["error_budget"]["mapped_bias_worst_abs_pct"] == pytest.approx(50.0)


def test_error_budget_adds_up() -> None:
    """Bias = omission part + mapped part; MSE = the two parts' squared errors, by hand."""
    rng = np.random.default_rng(3)
    truth = rng.uniform(10.0, 90.0, (len(YEARS), 400)).astype(np.float32)  # (year, pixel)
    mapped = (truth * rng.normal(1.0, 0.3, truth.shape)).astype(np.float32)
    gone = rng.random(truth.shape) < 0.1
    mapped[gone] = np.nan
    score = score_series(truth, mapped, YEARS, 1.0)
    assert per_year(score, "omitted_px").tolist() == gone.sum(axis=1).tolist()
    assert gone.sum() > 100  # the split is exercised
    np.testing.assert_allclose(per_year(score, "omission_bias_pct")
                               + per_year(score, "mapped_bias_pct"), per_year(score, "bias_pct"),
                               rtol=1e-9)
    t, m = truth.astype(np.float64), mapped.astype(np.float64)
    mean = t.mean(axis=1)
    share = 100 * np.where(gone, t, 0).sum(axis=1) / t.sum(axis=1)  # carbon left off, %
    np.testing.assert_allclose(per_year(score, "omission_bias_pct"), -share, rtol=1e-9)
    sq_m = np.where(gone, 0.0, (m - t) ** 2)
    rmse_m = np.sqrt(sq_m.sum(axis=1) / (~gone).sum(axis=1)) / mean * 100
    np.testing.assert_allclose(per_year(score, "rmse_mapped_pct"), rmse_m, rtol=1e-9)
    sq_o = np.where(gone, t ** 2, 0.0).sum(axis=1)
    np.testing.assert_allclose(per_year(score, "omission_mse_share"),
                               sq_o / (sq_o + sq_m.sum(axis=1)), rtol=1e-9)
    rmse = per_year(score, "rmse_t_ha")
    np.testing.assert_allclose(rmse ** 2, (sq_o + sq_m.sum(axis=1)) / t.shape[1], rtol=1e-9)
    assert np.all(per_year(score, "rmse_mapped_pct") < per_year(score, "rmse_pct"))


def test_unit_bias_by_hand() -> None:
    years = [2000, 2001, 2002, 2003, 2004]
    units = np.zeros((5, 10, 10), np.uint8)
    units[:, :6] = 1  # 60 px persistent forest, truth 10
    units[:, 6:] = 4  # 40 px reclaimed forest, truth 5
    truth = np.where(units == 1, 10.0, 5.0).astype(np.float32)
    scale = np.array([1.1, 1.1, 0.8, 1.1, 1.1])[:, None, None]
    mapped = np.where(units == 1, truth * scale, 2 * truth)
    mapped[:, 9, 9] = 0.0  # an unmapped reclaimed pixel reads as 0
    # unit 1: +10, +10, −20, +10, +10 % → mean |bias| 12 %, worst −20 % in 2002
    # unit 4: (39 · 10 − 40 · 5) / 200 = +95 % every year
    out = unit_bias(truth, mapped, units, years, min_pixels=10)
    assert out["1"]["mean_abs_bias_pct"] == pytest.approx(12.0)
    assert out["1"]["worst_bias_pct"] == pytest.approx(-20.0)
    assert out["1"]["worst_year"] == 2002 and out["1"]["pixel_years"] == 300
    assert out["4"]["mean_abs_bias_pct"] == pytest.approx(95.0)
    assert out["4"]["unit_years"] == 5
    # all: pixel-weighted, (60 · 60 + 40 · 95 · 5) / 500
    assert out["all"]["mean_abs_bias_pct"] == pytest.approx((3600 + 19000) / 500)
    assert set(out) == {"1", "4", "all"}  # units 2, 3, 5 have no pixel
    # a unit-year below min_pixels is not scored
    assert set(unit_bias(truth, mapped, units, years, min_pixels=50)) == {"1", "all"}


def test_extent_units_and_commission(tmp_path: Path) -> None:
    truth = TRUTH.copy()
    truth[:, 4, 4] = np.nan  # never forest: units 0
    truth[-1, 2, 2] = np.nan  # cleared in 2004: not persistent
    units = np.ones((N, N), np.uint8)
    units[4, 4] = 0
    units[0, 1] = 0  # forest in truth but outside the extent (units 0): not scored
    product = TRUTH.copy()
    product[:, 4, 4] = 7.0  # commission on a non-forest pixel
    product[:, 0, 1] = np.nan
    score = score_workspace(make_workspace(tmp_path / "ws", truth, product, units=units))
    # 5 years: 23 truth-forest pixels scored (24 in 2000–2003 less the one outside: 23; 22
    # in 2004), all mapped
    np.testing.assert_array_equal(per_year(score, "truth_forest_px"), [23] * 4 + [22])
    np.testing.assert_array_equal(per_year(score, "coverage"), [1.0] * 5)
    scored = truth.astype(np.float64).copy()
    scored[:, 0, 1] = np.nan
    truth_total = np.nansum(scored, axis=(1, 2)) * AREA_HA
    np.testing.assert_allclose(per_year(score, "site_total_truth_t"), truth_total, rtol=1e-9)
    # the extent is the whole grid here: every finite product pixel counts, commission too
    mapped_total = np.nansum(product.astype(np.float64), axis=(1, 2)) * AREA_HA
    np.testing.assert_allclose(per_year(score, "site_total_mapped_t"), mapped_total, rtol=1e-9)
    np.testing.assert_allclose(per_year(score, "forest_area_mapped_ha"), [24 * AREA_HA] * 5)
    np.testing.assert_allclose(per_year(score, "forest_area_truth_ha"),
                               [23 * AREA_HA] * 4 + [22 * AREA_HA])
    assert score["persistent_forest"]["pixels"] == 22
    assert score["persistent_unit"]["pixels"] == 22  # code 1, forest in 2000 and 2004
    assert score["sen_slope"]["pixels"] == 22
    # the pixel cleared in 2004 is not truth forest that year: no bias from its commission
    np.testing.assert_allclose(per_year(score, "bias_t_ha"), [0.0] * 5, atol=1e-12)
    # commission: the never-forest pixel every year, the cleared one too in 2004
    np.testing.assert_array_equal(per_year(score, "commission_px"), [1] * 4 + [2])
    np.testing.assert_allclose(per_year(score, "commission_mapped_t"),
                               [7.0 * AREA_HA] * 4 + [(7.0 + TRUTH[4, 2, 2]) * AREA_HA],
                               rtol=1e-6)
    np.testing.assert_array_equal(per_year(score, "omitted_px"), [0] * 5)


def test_missing_year_reads_as_unmapped(tmp_path: Path) -> None:
    score = score_workspace(make_workspace(tmp_path / "ws", TRUTH, TRUTH, skip_years=(2002,)))
    cov = per_year(score, "coverage")
    np.testing.assert_array_equal(cov, [1.0, 1.0, 0.0, 1.0, 1.0])  # 5 years
    assert score["coverage"] == {"worst": 0.0, "worst_year": 2002}
    assert score["per_year"][2]["site_total_mapped_t"] == 0.0
    assert score["per_year"][2]["change_mapped_pct"] == pytest.approx(-100.0)
    # 2002 → 2003 is a change from 0: undefined, so the change target fails
    assert math.isnan(score["per_year"][3]["change_mapped_pct"])
    assert score["targets"]["change_worst_diff_points"]["pass"] is False
    # 2002 mapped as 0 breaks the rising series: class agreement falls below 1 (25 px)
    assert score["sen_slope"]["class_agreement"] < 1.0
    assert score["all_pass"] is False


def test_no_products_at_all(tmp_path: Path) -> None:
    score = score_workspace(make_workspace(tmp_path / "ws", TRUTH, None))
    np.testing.assert_array_equal(per_year(score, "coverage"), [0.0] * 5)
    np.testing.assert_array_equal(per_year(score, "site_total_ratio"), [0.0] * 5)
    np.testing.assert_allclose(per_year(score, "bias_pct"), [-100.0] * 5)
    assert score["sen_slope"]["mapped_mean_t_ha_per_year"] == 0.0
    assert score["sen_slope"]["mapped_classes"]["stable"] == 1.0
    assert math.isnan(score["sen_slope"]["r"])  # no variance in the mapped slopes
    assert score["targets"]["sen_slope_r"]["pass"] is False
    np.testing.assert_array_equal(per_year(score, "omitted_px"), [25] * 5)
    np.testing.assert_array_equal(per_year(score, "omission_mse_share"), [1.0] * 5)
    assert np.isnan(per_year(score, "rmse_mapped_pct")).all()  # nothing mapped to score
    assert math.isnan(score["error_budget"]["rmse_mapped_worst_pct"])
    from minecarbon.cli.demo import _budget_line  # what `demo --score` prints under its table

    line = _budget_line(score)
    assert line is not None and "25 unmapped truth-forest pixels" in line
    assert "-100.0 points" in line and "undefined" in line


def test_trend_class_against_the_kernel() -> None:
    """score_series straight from arrays, (year, pixel): classes as sen_mk gives them."""
    truth = np.array([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]], np.float32)
    mapped = np.array([[1, 5], [2, 4], [3, 3], [4, 2], [5, 1]], np.float32)
    score = score_series(truth, mapped, YEARS, 1.0)
    sen = score["sen_slope"]
    assert sen["pixels"] == 2
    assert sen["class_agreement"] == 0.5  # 1 of 2 pixels
    assert sen["truth_classes"]["significant increase"] == 1.0
    assert sen["mapped_classes"]["significant decrease"] == 0.5
    assert int(TrendClass.SIGNIFICANT_INCREASE) == 2


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError):
        score_workspace(tmp_path)
    root = make_workspace(tmp_path / "ws", TRUTH, TRUTH)
    (root / "truth" / "units_l1_2003.tif").unlink()
    with pytest.raises(PathNotFoundError, match="units_l1_2003"):
        score_workspace(root)
    with pytest.raises(InputDataError, match="shape"):
        score_series(TRUTH, TRUTH[:, :2], YEARS, 1.0)
    with pytest.raises(InputDataError, match="years"):
        score_series(TRUTH[:3], TRUTH[:3], YEARS[:3], 1.0)


def test_write_truth_comparison(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws", TRUTH, None)
    score = score_workspace(root)
    path = write_truth_comparison(score, root)
    assert path == root / RESULT_FILE
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["minecarbon.toml", "truth", RESULT_FILE])  # no temporary left
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    data = json.loads(text)
    assert data["sen_slope"]["r"] is None  # NaN → null
    assert data["per_year"][0]["change_diff_points"] is None
    assert data["all_pass"] is False
    assert data["years"] == YEARS
    # 6 significant digits
    total = data["per_year"][0]["site_total_truth_t"]
    assert total == float(f"{score['per_year'][0]['site_total_truth_t']:.6g}")
    assert {k: v["pass"] for k, v in data["targets"].items()} == {
        k: v["pass"] for k, v in score["targets"].items()}


def test_small_site_score(small_site: Path) -> None:
    """The shared small demo: structure and consistency (the baseline, not the targets)."""
    score = score_workspace(small_site)
    years = list(range(2000, 2025))
    assert score["years"] == years
    assert score["extent_source"].startswith("simulated mine")
    assert 0 < score["extent_pixels"] < 200 * 200
    rows = score["per_year"]
    assert [r["year"] for r in rows] == years
    for r in rows:
        assert 0.0 <= r["coverage"] <= 1.0
        assert r["truth_forest_px"] > 0
        assert r["site_total_truth_t"] > 0 and r["site_total_mapped_t"] > 0
        assert r["truth_mean_t_ha"] > 0 and r["rmse_t_ha"] >= 0
        assert r["site_total_truth_t"] == pytest.approx(
            r["truth_mean_t_ha"] * r["truth_forest_px"] * AREA_HA, rel=1e-9)
        assert r["forest_area_truth_ha"] == pytest.approx(r["truth_forest_px"] * AREA_HA)
        assert r["forest_area_mapped_ha"] <= score["extent_pixels"] * AREA_HA + 1e-9
        for key in ("site_total_ratio", "rmse_pct", "bias_pct", "r", "rmse_mapped_pct",
                    "omission_mse_share"):
            assert math.isfinite(r[key]), (r["year"], key)
        # the error budget: unmapped pixels are the coverage's complement, the bias adds up
        assert r["omitted_px"] == round((1.0 - r["coverage"]) * r["truth_forest_px"])
        assert r["omission_bias_pct"] + r["mapped_bias_pct"] == pytest.approx(r["bias_pct"])
        assert r["omission_bias_pct"] <= 0.0 and 0.0 <= r["omission_mse_share"] <= 1.0
        assert r["rmse_mapped_pct"] <= r["rmse_pct"] or r["omitted_px"] == 0
        assert r["commission_px"] >= 0 and r["commission_mapped_t"] >= 0.0
        assert r["forest_area_mapped_ha"] == pytest.approx(
            (r["truth_forest_px"] - r["omitted_px"] + r["commission_px"]) * AREA_HA)
    for r in rows[1:]:
        assert math.isfinite(r["change_diff_points"])
    assert score["coverage"]["worst"] == min(r["coverage"] for r in rows)
    pf, sen = score["persistent_forest"], score["sen_slope"]
    assert pf["pixels"] == sen["pixels"] > 0
    assert 0 < score["persistent_unit"]["pixels"] <= pf["pixels"]  # a subset of always-forest
    assert math.isfinite(score["persistent_unit"]["ratio"])
    # every level-1 unit's bias, persistent forest scored in all 25 years
    assert score["unit_bias"]["1"]["unit_years"] == 25
    assert math.isfinite(score["unit_bias"]["all"]["mean_abs_bias_pct"])
    for key in ("ratio", "mapped_mean_t_ha_per_year", "truth_mean_t_ha_per_year", "r",
                "class_agreement"):
        assert math.isfinite(sen[key]), key
    assert sum(sen["truth_classes"].values()) == pytest.approx(1.0)
    assert set(score["targets"]) == set(TARGETS)
    assert all(isinstance(t["pass"], bool) for t in score["targets"].values())
    assert score["all_pass"] == all(t["pass"] for t in score["targets"].values())


def test_small_site_series_follows_the_truth(small_site: Path) -> None:
    """Regression guard of issue 14 on the shared small demo (seed 0).

    The thresholds are the issue's targets that the pipeline meets there, with a small margin
    for run-to-run variation of the fitted forests (measured 2026-12-07, decisions 45–46 and
    the seasonal TM calibration of decision 37: coverage 0.962, change 1.7 points, persistent
    change 1.03, Sen ratio 1.05 and r 0.66, classes 74.1 %, site total within 4.5 %, bias
    6.8 %). RMSE (≤ 25 %) is not met; see docs/accuracy.md.
    """
    score = score_workspace(small_site)
    rows = score["per_year"]
    assert len(rows) == 25
    assert min(r["coverage"] for r in rows) >= 0.93
    assert max(abs(r["change_diff_points"]) for r in rows[1:]) <= 3.0
    assert max(abs(r["site_total_ratio"] - 1.0) for r in rows) <= 0.08
    assert max(abs(r["bias_pct"]) for r in rows) <= 9.5
    assert 0.7 <= score["persistent_forest"]["ratio"] <= 1.3
    sen = score["sen_slope"]
    assert sen["pixels"] > 5000
    assert 0.7 <= sen["ratio"] <= 1.3
    assert sen["r"] >= 0.55
    assert sen["class_agreement"] >= 0.62
    # each level-1 unit's carbon: 12.4 % mean absolute bias before the unit ratios, 7.8 %
    # after (decision 44), 7.5 % with the offsets by map type (decision 46, 2026-12-07), 5.9 %
    # with the seasonal TM calibration
    assert score["unit_bias"]["all"]["mean_abs_bias_pct"] <= 8.0


def test_cli_demo_score_on_a_delivered_workspace(cli, small_site: Path, tmp_path: Path) -> None:
    """`minecarbon demo --score` on a delivered site: no new delivery, the score written."""
    root = tmp_path / "copy"
    shutil.copytree(small_site, root)  # the shared fixture stays as it is
    code, out, _ = cli("--json", "demo", "-w", root, "--score")
    assert code == 0
    doc = json.loads(out)
    ran = {s["step"] for s in doc["steps"] if s["status"] == "ran"}
    assert not ran & {"import", "scope", "features", "classify", "mapping"}  # 5 steps
    assert json.loads((root / RESULT_FILE).read_text(encoding="utf-8")) == doc[
        "truth_comparison"]
    assert set(doc["truth_comparison"]["targets"]) == set(TARGETS)
    code, out, _ = cli("demo", "-w", root, "--score")
    assert code == 0
    assert "already" in out and "truth comparison:" in out
    assert "targets not met" in out or "all targets met" in out  # the table's caption
    worst = doc["truth_comparison"]["error_budget"]["worst_bias_year"]
    assert f"bias in {worst['year']}:" in out and "unmapped truth-forest pixels" in out
