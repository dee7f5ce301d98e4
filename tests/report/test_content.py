"""The report's content: sections of appendix E filled from hand-made products, and the demo."""

from __future__ import annotations

import json
import tomllib
import warnings
from pathlib import Path
from typing import Any

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401
import xarray as xr
from shapely.geometry import Point, box

from minecarbon.report import Figure, ReportInputs, Table, build_report, data_appendix
from minecarbon.report.appendix import data_annex, file_pattern
from minecarbon.report.content import cv_table, level1_totals
from minecarbon.report.document import Paragraph

PNG_1PX = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
           b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe"
           b"\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
CRS = "EPSG:4546"
# The outline of the guide's appendix E (section titles as the guide writes them).
OUTLINE_ZH = ["矿林复合区基本情况", "矿产资源开发基本情况", "监测范围与监测点布设",
              "样地森林地上碳储量监测", "模型构建与模型优选", "森林地上碳储量反演结果",
              "时空特征评估指标与结果", "分区管理建议"]
KEYS = ["site", "mining", "plots_layout", "plot_agc", "models", "inversion", "assessment",
        "suggestions", "appendix"]
DEMO = Path("/tmp/sdemo")


# ------------------------------------------------------------------------------ tiny inputs
def _raster(values: np.ndarray, name: str, *, x0: float = 500_000.0,
            y0: float = 4_100_000.0) -> xr.DataArray:
    ny, nx = values.shape
    arr = xr.DataArray(values, dims=("y", "x"), name=name, coords={
        "y": y0 - 15.0 - 30.0 * np.arange(ny), "x": x0 + 15.0 + 30.0 * np.arange(nx)})
    return arr.rio.write_crs(CRS)


def tiny_inputs() -> ReportInputs:
    """Six level-2 units on a 6 × 8 grid with every product a report reads."""
    l2 = np.array([[10, 10, 10, 10, 21, 21, 21, 21],
                   [10, 10, 10, 10, 21, 21, 21, 21],
                   [10, 10, 10, 10, 32, 32, 32, 32],
                   [10, 10, 10, 10, 32, 32, 32, 32],
                   [43, 43, 50, 50, 32, 32, 0, 0],
                   [43, 43, 50, 50, 0, 0, 0, 0]], dtype=np.uint8)
    rng = np.random.default_rng(1)
    years = [2000, 2005, 2010]
    agc = xr.concat([_raster(rng.uniform(20, 80, l2.shape).astype("float32"), "agc")
                     for _ in years], dim=pd.Index(years, name="year"))
    ext = box(500_000, 4_100_000 - 180, 500_000 + 240, 4_100_000)
    inputs = ReportInputs(project={
        "name": "小矿 tiny mine", "crs": CRS, "first_year": 2000, "last_year": 2010,
        "pixel_size_m": 30.0, "buffer_m": 200.0, "base_years": [2000, 2005]})
    inputs.extent = gpd.GeoDataFrame({"name": ["extent"]}, geometry=[ext], crs=CRS)
    inputs.boundary = gpd.GeoDataFrame({"name": ["b"]}, geometry=[ext.buffer(-30)], crs=CRS)
    inputs.damage = gpd.GeoDataFrame(
        {"form": ["excavation", "subsidence", "subsidence"], "year": [2003, 2006, 2008]},
        geometry=[box(500_120, 4_099_880, 500_240, 4_099_940),
                  box(500_120, 4_099_850, 500_180, 4_099_880),
                  box(500_180, 4_099_850, 500_240, 4_099_880)], crs=CRS)
    inputs.plan = gpd.GeoDataFrame({"form": ["excavation"], "year": [2012]},
                                   geometry=[box(500_120, 4_099_940, 500_240, 4_100_000)],
                                   crs=CRS)
    inputs.reclamation = gpd.GeoDataFrame({"year": [2007]}, geometry=[
        box(500_000, 4_099_820, 500_060, 4_099_880)], crs=CRS)
    counts = {c: int((l2 == c).sum()) for c in (10, 21, 32, 43, 50)}
    rows = []
    for year, codes in ((2000, (10, 21)), (2010, (10, 21, 32, 43, 50))):
        for level in (1, 2):
            per: dict[int, int] = {}
            for c in codes:
                key = c // 10 if level == 1 else c
                per[key] = per.get(key, 0) + counts[c]
            rows += [{"year": year, "level": level, "code": k, "n_pixels": n,
                      "area_ha": n * 0.09} for k, n in per.items()]
    inputs.unit_areas = pd.DataFrame(rows)
    inputs.units_l2 = _raster(l2, "units_l2")
    inputs.units_l1 = _raster((l2 // 10).astype(np.uint8), "units_l1")
    plots = pd.DataFrame({"plot_id": [f"P{i}" for i in range(8)],
                          "unit_l2": [10, 10, 10, 21, 21, 21, 32, 43]})
    plots["unit_l1"] = plots["unit_l2"] // 10
    inputs.plot_units = plots.assign(crosses_border=False, smaller_than_pixel=False)
    inputs.plots = gpd.GeoDataFrame(plots, geometry=[
        Point(500_015 + 30 * i, 4_099_985 - 30 * (i % 5)) for i in range(8)], crs=CRS)
    agc_plot = rng.uniform(10, 90, 8).round(3)
    inputs.plot_agc = plots.assign(
        forest_type=["broadleaf", "coniferous", "broadleaf", "mixed", "coniferous",
                     "broadleaf", None, "sparse"],
        agc_t_per_ha=agc_plot, agc_ci_low=agc_plot - rng.uniform(1, 5, 8).round(3),
        agc_ci_high=agc_plot + rng.uniform(1, 5, 8).round(3), model_table="test table")
    cv = [{"stratum": s, "model": m, "fold": f, "r2": rng.uniform(-0.2, 0.8),
           "rmse": rng.uniform(5, 20), "mae": rng.uniform(3, 15), "rrmse_pct": rng.uniform(10, 40),
           "bias": rng.normal()}
          for s in ("(pooled)", "broadleaf") for m in ("rf", "svr") for f in range(5)]
    inputs.cv_results = pd.DataFrame(cv)
    inputs.model_card = {
        "pooled": {"model": "svr", "source": "own", "n_plots": 8, "metrics_oof": {
            "r2": 0.41, "rmse": 12.0, "mae": 9.0, "rrmse_pct": 25.0, "bias": 0.5}},
        "strata": {"broadleaf": {"model": "rf", "source": "own", "n_plots": 3, "metrics_oof": {
            "r2": 0.2, "rmse": 14.0, "mae": 10.0, "rrmse_pct": 30.0, "bias": -0.5},
            "params": {"max_depth": 6, "min_samples_leaf": 3}},
            "sparse": {"model": "svr", "source": "pooled", "n_plots": 2,
                       "note": "2 plots, fewer than the 15 needed for an own model"}}}
    inputs.model_card["pooled"]["params"] = {"C": 10.0, "gamma": 0.02}
    inputs.model_card["settings"] = {"selector_method": "correlation", "kinds": ["svr", "rf"],
                                     "selector_params": {"k": 10, "max_collinearity": 0.9},
                                     "k_folds": 5, "inner_folds": 3, "n_plots_used": 8}
    inputs.model_card["selection_rule"] = "lowest out-of-fold RMSE of nested CV"
    inputs.tls_validation = [{"plot_id": "P002", "density_points_per_m2": 7462.7, "n_tally": 17,
                              "n_detected": 18, "matched": 16, "detection_rate": 16 / 17,
                              "commission_rate": 2 / 18, "dbh_bias": 0.0043, "dbh_rmse": 0.2217,
                              "height_bias": -0.0924, "height_rmse": 0.3138},
                             {"plot_id": "P001", "n_tally": 9}]
    inputs.selected_features = pd.DataFrame({
        "stratum": ["(pooled)"] * 3, "model": ["svr"] * 3, "feature": ["ndvi", "nbr", "evi"],
        "rank": [2.0, 1.0, np.nan], "in_final_model": [True, True, False]})
    inputs.oof_predictions = pd.DataFrame({"plot_id": plots["plot_id"], "stratum": "(pooled)",
                                           "observed": agc_plot, "predicted": agc_plot + 3})
    inputs.accuracy = {"landcover": {"n": 50, "overall_accuracy": 0.9123, "kappa": 0.8876},
                       "species": {"n": 20, "overall_accuracy": 0.75, "kappa": 0.6}}
    inputs.agc = agc
    totals = []
    for y in years:
        layer = agc.sel(year=y).values
        for c in (0, 10, 21, 32, 43, 50):
            sel = layer[l2 == c]
            totals.append({"year": y, "unit_l2": c, "agc_t_per_ha": sel.mean(),
                           "area_ha": sel.size * 0.09, "agc_t": sel.sum() * 0.09})
    inputs.agc_totals = pd.DataFrame(totals)
    change = agc.sel(year=2010) - agc.sel(year=2000)
    inputs.change = {"change_2000_2010": change.rename("change_2000_2010")}
    inputs.change_degree = {"2000_2010": (change / 2).rename("change_degree_2000_2010")}
    inputs.trend_class = _raster(rng.integers(-2, 3, l2.shape).astype("int8"), "trend_class")
    inputs.cumulative_grade = _raster(rng.integers(1, 6, l2.shape).astype("uint8"), "grade")
    inputs.gistar_bin = {name: _raster(rng.integers(-3, 4, l2.shape).astype("int8"), name)
                         for name in ("agc_2010", "change_2000_2010", "cumulative_effect")}
    inputs.assessment_summary = {
        "base_years": [2000, 2005],
        "trend": {"classes": [{"code": -2, "zh": "显著减少", "en": "significant decrease",
                               "pixels": 3, "area_ha": 0.27}]},
        "cumulative": {"period": [2005, 2010], "breaks_t_per_ha": [-30.123, -5.5, 0.25, 4.0,
                                                                   9.876, 20.0],
                       "counts": [1, 2, 3, 4, 5], "method": "exact",
                       "labels_zh": ["高度负向", "低度负向", "无明显", "低度正向", "高度正向"],
                       "labels_en": ["high negative", "low negative", "not obvious",
                                     "low positive", "high positive"]}}
    zonal = []
    for level, zone_codes in ((1, (1, 2, 3, 4, 5)), (2, (10, 21, 32, 43, 50))):
        zl = l2 // 10 if level == 1 else l2
        for layer, values in (("agc_2010", agc.sel(year=2010).values),
                              ("change_2000_2010", change.values),
                              ("change_degree_2000_2010", change.values / 2),
                              ("cumulative_effect", change.values / 3)):
            for c in zone_codes:
                v = values[zl == c].astype(float)
                zonal.append({"zones": f"units_l{level}_2010", "zone_id": c, "layer": layer,
                              "count": v.size, "area_ha": v.size * 0.09, "mean": v.mean(),
                              "min": v.min(), "max": v.max(), "variance": v.var(),
                              "total": v.sum() * 0.09})
    inputs.zonal_stats = pd.DataFrame(zonal)
    totals = []
    for zone, zh, en, base in (("extent", "监测范围", "monitoring extent", 900.0),
                               ("l1:1", "持续森林", "persistent forest", 600.0)):
        for year in (2000, 2010):
            t = base * (1.0 if year == 2000 else 1.2)
            totals.append({"year": year, "zone": zone, "zone_zh": zh, "zone_en": en,
                           "mapped_area_ha": 20.0, "area_ha": 21.0, "area_ha_ci_low": 19.0,
                           "area_ha_ci_high": 23.0, "mapped_agc_t": t * 0.95, "agc_t": t,
                           "agc_se_t": t / 20, "agc_t_ci_low": t * 0.9,
                           "agc_t_ci_high": t * 1.1, "n_plots": 12, "method": "m"})
    inputs.carbon_totals = pd.DataFrame(totals)
    inputs.change_totals = pd.DataFrame([
        {"zone": z, "zone_zh": zh, "zone_en": en, "period": "2000–2010", "kind": "change",
         "year_from": 2000, "year_to": 2010, "mapped_t": v, "estimate_t": v, "se_t": v / 4,
         "ci_low_t": v / 2, "ci_high_t": 1.5 * v, "differs_from_zero": True}
        for z, zh, en, v in (("extent", "监测范围", "monitoring extent", 180.0),
                             ("l1:1", "持续森林", "persistent forest", 120.0))])
    inputs.area_estimates = pd.DataFrame([
        {"layer": "trend 2000–2010", "year": 2010, "class": c, "class_zh": zh, "class_en": en,
         "mapped_area_ha": m, "area_ha": a, "area_se_ha": 1.0, "area_ha_ci_low": a - 2,
         "area_ha_ci_high": a + 2, "method": "Olofsson et al. 2014, 40 points"}
        for c, zh, en, m, a in ((-1, "明显减少", "clear decrease", 3.0, 2.5),
                                (0, "无明显变化", "no clear change", 5.0, 6.0),
                                (1, "明显增加", "clear increase", 10.0, 9.5))])
    inputs.assessment_summary = {**(inputs.assessment_summary or {}), "totals": {
        "reference_year": 2010, "n_plots": 12, "min_plots": 5, "change_rel_var": 0.01,
        "systematic_rel_sd": 0.02}}
    inputs.catalogue = pd.DataFrame({
        "path": ["raw/dem/dem.tif", "products/agc/agc_2010.tif"],
        "kind": ["raw:dem", "product:agc"], "sha256": ["a" * 64, "0123456789abcdef" * 4],
        "size_bytes": [10, 20], "crs": [CRS, CRS], "time": ["", "2010"],
        "step": ["", "mapping"], "inputs": ["", "work/models/agc_model.joblib raw/dem/dem.tif"]})
    return inputs


@pytest.fixture
def stub_figures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the maps and charts by a stub that returns a 1 × 1 PNG and records the call."""
    from minecarbon.report import charts, maps, totals

    calls: list[str] = []

    def stub(name: str) -> Any:
        def draw(*args: Any, **kwargs: Any) -> bytes:
            calls.append(name)
            return PNG_1PX
        return draw

    monkeypatch.setattr(maps, "map_figure", stub("map"))
    for name in ("totals_chart", "model_comparison_chart", "observed_predicted_chart"):
        monkeypatch.setattr(charts, name, stub(name))
    monkeypatch.setattr(totals, "totals_interval_chart", stub("totals_interval_chart"))
    return calls


def _table(report: Any, key: str, caption_part: str) -> pd.DataFrame:
    section = next(s for s in report.sections if s.key == key)
    return next(b.frame for b in section.blocks
                if isinstance(b, Table) and caption_part in b.caption)


# ------------------------------------------------------------------------------ structure
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_of_appendix_e_is_written(lang: str, stub_figures: list[str]) -> None:
    report = build_report(tiny_inputs(), lang, today="2025-06-30")  # type: ignore[arg-type]
    assert [s.key for s in report.sections] == KEYS
    assert report.date == "2025-06-30" and report.lang == lang
    if lang == "zh":
        assert [s.title for s in report.sections[:8]] == OUTLINE_ZH
    else:
        assert report.sections[0].title == "The mine–forest area"
        assert "suggestion" in report.sections[7].title.lower()
    for section in report.sections:
        assert section.missing == [], (section.key, section.missing)
        assert section.blocks, section.key
    # maps of units, mining, plots, AGC ×2, change, trend, grades, Gi* ×2; three charts
    assert stub_figures.count("map") == 12  # + change degree and hot spots of the effect
    assert sorted(c for c in stub_figures if c != "map") == [
        "model_comparison_chart", "observed_predicted_chart", "totals_chart",
        "totals_interval_chart"]
    assert all(f.png == PNG_1PX and f.caption for f in report.figures())
    assert all(t.note or t.caption for t in report.tables())


def test_empty_workspace_lists_every_missing_part_without_crashing(
        stub_figures: list[str]) -> None:
    inputs = ReportInputs(missing={"zonal_stats": "the assessment step has not run",
                                   "agc": "the mapping step has not run"})
    report = build_report(inputs, "en")
    assert [s.key for s in report.sections] == KEYS
    by_key = {s.key: s for s in report.sections}
    for key in KEYS:
        assert by_key[key].missing, key
    assessment = " ".join(by_key["assessment"].missing)
    assert "the assessment step has not run" in assessment
    assert "the mapping step has not run" in " ".join(by_key["inversion"].missing)
    assert any("R1" in m for m in by_key["suggestions"].missing)
    assert stub_figures == []


def test_without_the_assessment_only_sections_7_and_8_lack_parts(
        stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    for name in ("trend_class", "cumulative_grade", "zonal_stats", "assessment_summary"):
        setattr(inputs, name, None)
    inputs.change, inputs.gistar_bin = {}, {}
    inputs.missing["zonal_stats"] = "the assessment step has not run"
    report = build_report(inputs, "zh")
    lacking = {s.key for s in report.sections if s.missing}
    assert lacking == {"assessment", "suggestions"}
    assert any("the assessment step has not run" in m for m in report.sections[6].missing)


def test_a_failing_figure_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch,
                                                 stub_figures: list[str]) -> None:
    from minecarbon.errors import InputDataError
    from minecarbon.report import charts

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise InputDataError("the AGC totals table is empty", fix="run mapping")

    monkeypatch.setattr(charts, "totals_chart", broken)
    report = build_report(tiny_inputs(), "en")
    inversion = report.sections[5]
    assert any("the AGC totals table is empty" in m for m in inversion.missing)
    assert any(isinstance(b, Table) for b in inversion.blocks)


# ------------------------------------------------------------------------------ numbers
def test_cv_table_is_the_mean_over_folds_at_the_display_rounding() -> None:
    cv = tiny_inputs().cv_results
    assert cv is not None
    table = cv_table(cv, {"(pooled)": "svr", "broadleaf": "rf"}, "en")
    assert len(table) == 4
    for row, ((stratum, model), group) in zip(table.itertuples(index=False),
                                              cv.groupby(["stratum", "model"], sort=False),
                                              strict=True):
        assert row[2] == 5
        assert row[3] == round(float(np.mean(group["r2"].to_numpy())), 3)
        for i, metric in enumerate(("rmse", "mae", "rrmse_pct", "bias"), start=4):
            assert row[i] == round(float(np.mean(group[metric].to_numpy())), 2)
        chosen = {"(pooled)": "svr", "broadleaf": "rf"}[stratum] == model
        assert row[-1] == ("*" if chosen else "")


def test_totals_per_level1_unit_sum_the_level2_totals(stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    report = build_report(inputs, "en")
    table = _table(report, "inversion", "totals per level-1")
    totals = inputs.agc_totals
    assert totals is not None
    for year, column in ((2000, "2000"), (2005, "2005 (end of base period)"), (2010, "2010")):
        rows = totals[totals["year"] == year]
        for code in (1, 2, 3, 4, 5):
            expected = rows.loc[rows["unit_l2"] // 10 == code, "agc_t"].sum()
            got = table.loc[table["code"] == code, column].item()
            assert got == round(float(expected), 2)
        assert table[column].iloc[-1] == round(float(rows["agc_t"].sum()), 2)
    assert list(level1_totals(totals, [2010]).index) == [0, 1, 2, 3, 4, 5]


def test_plot_tables(stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    report = build_report(inputs, "en")
    by_type = _table(report, "plot_agc", "per forest type").set_index("forest type")
    agc = inputs.plot_agc
    assert agc is not None
    broad = agc[agc["forest_type"] == "broadleaf"]
    assert by_type.loc["broadleaf", "plots"] == 3
    values = broad["agc_t_per_ha"].to_numpy()
    assert by_type.loc["broadleaf", "mean (t C/ha)"] == round(float(np.mean(values)), 2)
    assert by_type.loc["broadleaf", "max (t C/ha)"] == round(float(np.max(values)), 2)
    width = (broad["agc_ci_high"] - broad["agc_ci_low"]).mean()
    assert by_type.loc["broadleaf", "mean 95 % interval width (t C/ha)"] == round(float(width), 2)
    assert by_type.loc["not recorded", "plots"] == 1
    section = next(x for x in report.sections if x.key == "plot_agc")
    # a workspace without the systematic column says nothing about it
    assert not any("systematic" in b.text for b in section.blocks if isinstance(b, Paragraph))
    inputs.plot_agc = agc.assign(agc_systematic_sd_rel=[0.1, 0.2, 0.1, 0.3, 0.1, 0.1, 0.2, 0.0],
                                 agc_t_per_ha=agc["agc_t_per_ha"].where(agc.index < 7, 0.0))
    section = next(x for x in build_report(inputs, "en").sections if x.key == "plot_agc")
    said = [b.text for b in section.blocks if isinstance(b, Paragraph) and "systematic" in b.text]
    # mean over the seven plots with carbon (1.1 / 7 = 15.7 %), the totals' δ (2 %) beside it
    assert len(said) == 1 and "15.7 % on average per plot, 2.0 % for all plots" in said[0]
    zh = next(x for x in build_report(inputs, "zh").sections if x.key == "plot_agc")
    assert any("各样地平均 15.7%，全部样地合计 2.0%" in b.text for b in zh.blocks
               if isinstance(b, Paragraph))
    # the models behind the plots, with the systematic error each was given and from where
    inputs.allometry_report = {"models": [
        {"model_id": "pinus_tabuliformis_cheng2007", "species_key": "pinus_tabuliformis",
         "n_trees": 120, "agc_share": 0.6234, "carbon_fraction": 0.5105, "model_sd_rel": 0.1,
         "sd_source": "table"},
        {"model_id": "mine_oak", "species_key": "quercus", "n_trees": 40, "agc_share": 0.3766,
         "carbon_fraction": 0.48, "model_sd_rel": 0.1, "sd_source": "default"}]}
    report = build_report(inputs, "en")
    used = _table(report, "plot_agc", "Biomass models of the plots")
    assert used["model"].to_list() == ["pinus_tabuliformis_cheng2007", "mine_oak"]
    assert used["trees"].to_list() == [120, 40]
    assert used["share of the plots' carbon (%)"].to_list() == [62.34, 37.66]
    assert used["systematic error (%)"].to_list() == [10.0, 10.0]
    assert used["from"].to_list() == ["model table", "default 10 %"]
    assert "油松" in used["species group"].iloc[0]
    zh_used = _table(build_report(inputs, "zh"), "plot_agc", "样地所用立木生物量模型")
    assert zh_used["来源"].to_list() == ["模型表", "默认 10%"]
    layout = _table(report, "plots_layout", "Plots per assessment unit")
    l2 = layout[layout["level"] == 2].set_index("code")
    assert l2.loc[10, "plots"] == 3 and l2.loc[10, "≥ 3 plots"] == "✓"
    assert l2.loc[32, "plots"] == 1 and l2.loc[32, "≥ 3 plots"] == "✗"
    assert l2.loc[50, "plots"] == 0 and l2.loc[50, "≥ 3 plots"] == "✗"
    assert layout[layout["level"] == 1].set_index("code").loc[2, "plots"] == 3


def test_site_areas_and_shares_of_the_extent(stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    report = build_report(inputs, "en")
    table = _table(report, "site", "level-1")
    extent_ha = 240 * 180 / 1e4
    persistent = table[table["code"] == 1]
    assert persistent["2010 area (ha)"].item() == round(16 * 0.09, 2)
    assert persistent["2010 share of the extent (%)"].item() == round(
        100 * 16 * 0.09 / extent_ha, 2)
    assert table["2010 area (ha)"].iloc[-1] == round(42 * 0.09, 2)
    damage = _table(report, "mining", "damage").set_index("form")
    assert damage.loc["subsidence", "polygons"] == 2
    assert damage.loc["subsidence", "area (ha)"] == round(2 * 60 * 30 / 1e4, 2)
    assert damage.loc["subsidence", "first year"] == 2006


def test_zonal_and_breaks_tables_equal_the_products(stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    report = build_report(inputs, "en")
    zonal = _table(report, "assessment", "per level-1 unit").set_index("code")
    z = inputs.zonal_stats
    assert z is not None
    rows = z[(z["zones"] == "units_l1_2010")].set_index(["layer", "zone_id"])
    for code in (1, 2, 3, 4, 5):
        assert zonal.loc[code, "mean"] == round(float(rows.loc[("agc_2010", code), "mean"]), 2)
        assert zonal.loc[code, "variance"] == round(
            float(rows.loc[("agc_2010", code), "variance"]), 2)
        assert zonal.loc[code, "mean change"] == round(
            float(rows.loc[("change_2000_2010", code), "mean"]), 2)
        assert zonal.loc[code, "mean change degree (%)"] == round(
            float(rows.loc[("change_degree_2000_2010", code), "mean"]), 2)
    breaks = _table(report, "assessment", "Natural breaks")
    assert breaks["lower"].tolist() == [-30.12, -5.5, 0.25, 4.0, 9.88]
    assert breaks["upper"].iloc[-1] == 20.0


def test_data_appendix_groups_the_catalogue_into_series() -> None:
    inputs = tiny_inputs()
    catalogue = inputs.catalogue
    assert catalogue is not None
    years = list(range(2000, 2025))
    extra = pd.DataFrame({
        "path": [f"products/agc/agc_{y}.tif" for y in years]
        + ["raw/scene/SIM_LT05_L2SP_125034_20000808_SR.tif",
           "raw/scene/SIM_LT05_L2SP_125034_20110807_SR.tif"],
        "kind": ["product:agc"] * 25 + ["raw:scene"] * 2, "sha256": ["b" * 64] * 27,
        "size_bytes": [1024] * 27, "crs": [CRS] * 27,
        "time": [str(y) for y in years] + ["2000-08-08", "2011-08-07"],
        "step": ["mapping"] * 25 + [""] * 2, "inputs": ["x " * 2000] * 27})
    inputs.catalogue = pd.concat([catalogue, extra], ignore_index=True)
    en = data_appendix(inputs, "en")
    assert en.columns.tolist() == ["kind", "files (pattern)", "files", "time", "CRS",
                                   "produced by step", "size"]
    assert en["files"].sum() == len(inputs.catalogue) == 29
    agc = en[en["files (pattern)"] == "products/agc/agc_{year}.tif"].iloc[0]
    assert agc["files"] == 26  # the tiny catalogue's agc_2010.tif joins the series
    assert agc["time"] == "2000 – 2024" and agc["produced by step"] == "mapping"
    assert agc["kind"] == "product: AGC map (product:agc)"
    scenes = en[en["kind"].str.contains("raw:scene")].iloc[0]
    assert scenes["files (pattern)"] == "raw/scene/SIM_LT05_L2SP_125034_{date}_SR.tif"
    assert scenes["files"] == 2 and scenes["time"] == "2000-08-08 – 2011-08-07"
    # no checksum or lineage in the report; all of them in the annex
    assert not any("b" * 64 in str(v) for v in en.to_numpy().ravel())
    annex = data_annex(inputs)
    assert annex["sha256"].tolist() == inputs.catalogue["sha256"].tolist()
    assert annex["inputs"].tolist() == inputs.catalogue["inputs"].tolist()
    assert data_appendix(ReportInputs(), "en").empty
    # a file alone in its series is shown by its name (no year folded into it)
    assert "raw/dem/dem.tif" in en["files (pattern)"].tolist()


def test_file_pattern_folds_years_and_dates_only() -> None:
    assert file_pattern("products/agc/agc_2000_lower.tif") == "products/agc/agc_{year}_lower.tif"
    assert file_pattern("raw/scene/SIM_LC08_L2SP_125034_20130727_SR.tif") == (
        "raw/scene/SIM_LC08_L2SP_125034_{date}_SR.tif")
    assert file_pattern("products/assessment/change_2000_2024.tif") == (
        "products/assessment/change_{year}_{year}.tif")
    assert file_pattern("raw/dem/dem_cgcs2000_gk111.tif") == "raw/dem/dem_cgcs{year}_gk111.tif"
    stem = "LC08_L2SP_125034_20200715_20200912_02_T1"  # a USGS bundle's members, one per band
    folded = {file_pattern(f"raw/scene/{stem}/{stem}_{b}") for b in (
        "SR_B2.TIF", "SR_B7.TIF", "ST_B10.TIF")}
    assert folded == {"raw/scene/LC08_L2SP_125034_{date}_{date}_02_T1/"
                      "LC08_L2SP_125034_{date}_{date}_02_T1_{band}.TIF"}
    assert file_pattern(f"raw/scene/{stem}/{stem}_QA_PIXEL.TIF").endswith("_QA_PIXEL.TIF")
    assert file_pattern("x/T49SFB_20220715T031541_B8A_20m.jp2") == (
        "x/T49SFB_{date}T031541_{band}_20m.jp2")
    assert file_pattern("raw/dem/B12_dem.tif") == "raw/dem/B12_dem.tif"  # not a band file


def test_real_figures_have_every_chinese_glyph() -> None:
    """With the real maps and charts: PNGs, and no glyph missing from the font."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = build_report(tiny_inputs(), "zh")
    assert [m for s in report.sections for m in s.missing] == []
    assert len(report.figures()) == 16  # 13, the totals (issue 17), degree and effect Gi*
    assert all(isinstance(f, Figure) and f.png.startswith(b"\x89PNG") for f in report.figures())
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_lazy_rasters_stay_lazy_until_drawn(stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    inputs.units_l2 = inputs.units_l2.chunk({"y": 3, "x": 4})  # type: ignore[union-attr]
    for name, layer in list(inputs.gistar_bin.items()):
        inputs.gistar_bin[name] = layer.chunk({"y": 3, "x": 4})
    report = build_report(inputs, "en")
    assert isinstance(inputs.units_l2.data, da.Array)  # type: ignore[union-attr]
    eager = build_report(tiny_inputs(), "en")
    assert report.sections[7].blocks[-1].frame.equals(  # type: ignore[union-attr]
        eager.sections[7].blocks[-1].frame)  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ the demo
def load_demo(root: Path) -> ReportInputs:
    """A throwaway loader of the demo workspace through minecarbon.io (read-only)."""
    from minecarbon.io.raster import read_raster
    from minecarbon.io.tables import read_table
    from minecarbon.io.vector import read_vector

    cfg = tomllib.loads((root / "minecarbon.toml").read_text(encoding="utf-8"))
    p = cfg["project"]
    y0, y1 = int(p["first_year"]), int(p["last_year"])
    inputs = ReportInputs(project={
        "name": p["name"], "crs": p["crs"], "first_year": y0, "last_year": y1,
        "pixel_size_m": cfg["scope"]["pixel_size_m"], "buffer_m": cfg["scope"]["buffer_m"],
        "base_years": cfg.get("assessment", {}).get("base_years", [])})
    prod = root / "products"
    inputs.extent = read_vector(prod / "units/extent.gpkg")
    for kind in ("boundary", "damage", "plan", "reclamation"):
        setattr(inputs, kind, read_vector(root / f"raw/{kind}/{kind}.gpkg"))
    plots = read_table(root / "raw/plots/plots.csv")
    inputs.plots = gpd.GeoDataFrame(plots, geometry=gpd.points_from_xy(plots.x, plots.y),
                                    crs=p["crs"])
    for name, rel in (("unit_areas", "units/unit_areas.csv"),
                      ("plot_units", "units/plot_units.csv"), ("plot_agc", "plots/plot_agc.csv"),
                      ("cv_results", "models/cv_results.csv"),
                      ("selected_features", "models/selected_features.csv"),
                      ("oof_predictions", "models/oof_predictions.csv"),
                      ("agc_totals", "agc/agc_totals.csv"),
                      ("zonal_stats", "assessment/zonal_stats.csv")):
        if (prod / rel).exists():
            setattr(inputs, name, read_table(prod / rel))
        else:
            inputs.missing[name] = f"products/{rel} is missing"
    for name, rel in (("accuracy", "classification/accuracy.json"),
                      ("model_card", "models/model_card.json"),
                      ("assessment_summary", "assessment/summary.json")):
        setattr(inputs, name, json.loads((prod / rel).read_text(encoding="utf-8")))
    inputs.catalogue = read_table(prod / "catalog/datasets.csv", as_text=True)
    inputs.units_l1 = read_raster(prod / f"units/units_l1_{y1}.tif", masked=False)
    inputs.units_l2 = read_raster(prod / f"units/units_l2_{y1}.tif", masked=False)
    years = [y for y in range(y0, y1 + 1) if (prod / f"agc/agc_{y}.tif").exists()]
    inputs.agc = xr.concat([read_raster(prod / f"agc/agc_{y}.tif") for y in years],
                           dim=pd.Index(years, name="year"))
    out = prod / "assessment"
    for path in sorted(out.glob("change_*.tif")):
        if not path.stem.startswith("change_degree_"):
            inputs.change[path.stem] = read_raster(path)
    for path in sorted(out.glob("gistar_bin_*.tif")):
        inputs.gistar_bin[path.stem.removeprefix("gistar_bin_")] = read_raster(path,
                                                                                masked=False)
    inputs.trend_class = read_raster(out / "trend_class.tif", masked=False)
    inputs.cumulative_grade = read_raster(out / "cumulative_grade.tif", masked=False)
    return inputs


def test_report_of_the_demo_products() -> None:
    if not (DEMO / "products" / "assessment" / "zonal_stats.csv").exists():
        pytest.skip("the demo workspace /tmp/sdemo is not there")
    inputs = load_demo(DEMO)
    report = build_report(inputs, "zh")
    assert [s.key for s in report.sections] == KEYS
    assert [s.title for s in report.sections[:8]] == OUTLINE_ZH
    unexpected = [m for s in report.sections for m in s.missing
                  if "oof_predictions" not in m]
    assert unexpected == []
    assert len(report.figures()) >= 12
    # the numbers of the tables are those of the product files at the display rounding
    cv = pd.read_csv(DEMO / "products/models/cv_results.csv")
    table = _table(report, "models", "交叉验证")
    means = cv.groupby(["stratum", "model"], sort=False)["rmse"].mean()
    assert table["RMSE (t C/ha)"].tolist() == [round(float(v), 2) for v in means]
    zonal = pd.read_csv(DEMO / "products/assessment/zonal_stats.csv")
    agc = zonal[(zonal["zones"].str.startswith("units_l1")) & (zonal["layer"] == "agc_2024")]
    got = _table(report, "assessment", "各一级单元地上碳储量统计")
    assert got["平均值"].tolist() == [round(float(v), 2) for v in agc["mean"]]
    catalogue = pd.read_csv(DEMO / "products/catalog/datasets.csv", dtype=str,
                            keep_default_na=False, encoding="utf-8-sig")
    appendix = _table(report, "appendix", "数据清单")
    assert appendix["文件数"].sum() == len(catalogue) and len(appendix) < 80


def test_totals_tables_show_intervals_and_whether_changes_differ_from_zero(
        stub_figures: list[str]) -> None:
    report = build_report(tiny_inputs(), "en", today="2025-06-30")
    totals = _table(report, "assessment", "Estimated AGC totals of the extent")
    assert len(totals) == 4  # extent and persistent forest, 2000 and 2010
    assert totals["95 % interval (t C)"].iloc[0] == "810 – 990"
    changes = _table(report, "assessment", "Estimated changes and trends")
    assert changes["Differs from 0"].tolist() == ["yes", "yes"]
    trend = _table(report, "assessment", "Areas of the carbon-trend categories 2000–2010")
    assert trend["Estimated area (ha)"].tolist() == [2.5, 6.0, 9.5]
    assert trend["95 % interval (ha)"].iloc[0] == "0.5 – 4.5"
    assert "totals_interval_chart" in stub_figures
    section = next(x for x in report.sections if x.key == "assessment")
    assert not any(isinstance(b, Table) and "Areas of the cumulative-effect" in b.caption
                   for b in section.blocks)  # no re-measured plots: no such table


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cumulative_effect_grades_areas_from_re_measured_plots(
        lang: str, stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    assert inputs.area_estimates is not None
    method = "difference estimator (Stehman 2014), 24 plots measured in 2000 and 2010"
    inputs.area_estimates = pd.concat([inputs.area_estimates, pd.DataFrame([
        {"layer": "cumulative 2000–2010", "year": 2010, "class": c, "class_zh": zh,
         "class_en": en, "mapped_area_ha": m, "area_ha": a, "area_se_ha": 1.0,
         "area_ha_ci_low": a - 2, "area_ha_ci_high": a + 2, "method": method}
        for c, zh, en, m, a in ((1, "高度负向", "high negative", 3.0, 4.5),
                                (3, "无明显", "not obvious", 9.0, 7.25))])], ignore_index=True)
    report = build_report(inputs, lang, today="2025-06-30")
    caption = ("Areas of the cumulative-effect grades 2000–2010" if lang == "en"
               else "2000–2010 年累积效应等级面积")
    table = _table(report, "assessment", caption)
    assert table.iloc[:, 0].tolist() == (["high negative", "not obvious"] if lang == "en"
                                         else ["高度负向", "无明显"])
    assert table.iloc[:, 2].tolist() == [4.5, 7.2]  # rounded to 0.1 ha
    assert table.iloc[:, 3].tolist() == ["2.5 – 6.5", "5.2 – 9.2"]
    section = next(x for x in report.sections if x.key == "assessment")
    notes = [b.note for b in section.blocks if isinstance(b, Table) and caption in b.caption]
    assert len(notes) == 1 and method in notes[0]


def test_the_models_section_says_which_model_each_stratum_uses_and_why(
        stub_figures: list[str]) -> None:
    report = build_report(tiny_inputs(), "en", today="2025-06-30")
    table = _table(report, "models", "The model of every stratum")
    assert table["stratum"].tolist()[1:] == ["broadleaf", "sparse"]
    assert table["source"].tolist() == ["own model", "own model", "pooled model"]
    assert table["hyper-parameters"].tolist() == [
        "C = 10, gamma = 0.02", "max_depth = 6, min_samples_leaf = 3", "C = 10, gamma = 0.02"]
    assert "fewer than the 15" in table["why"].iloc[2]
    models = next(s for s in report.sections if s.key == "models")
    said = " ".join(b.text for b in models.blocks if isinstance(b, Paragraph))
    assert "ranking by correlation" in said and "5 outer folds" in said and "3 inner" in said


def test_the_plot_section_shows_the_tls_validation(stub_figures: list[str]) -> None:
    report = build_report(tiny_inputs(), "en", today="2025-06-30")
    table = _table(report, "plot_agc", "TLS tree measurements validated")
    assert table["plot"].tolist() == ["P001", "P002"]
    row = table.iloc[1]
    assert row["detection"] == 0.941 and row["commission"] == 0.111
    assert row["DBH RMSE (cm)"] == 0.22 and row["height bias (m)"] == -0.09
    assert table.iloc[0]["DBH RMSE (cm)"] == "—"


def test_the_mining_map_gives_every_damage_form_its_colour_and_reclamation_a_hatch() -> None:
    from minecarbon.report.content import DAMAGE_COLOURS, mining_overlays
    from minecarbon.types import DamageForm

    layers = mining_overlays(tiny_inputs(), "en")
    labels = [style["label"] for _, style in layers]
    assert "damage – excavation" in labels and "damage – subsidence" in labels
    damage = {style["label"]: (frame, style) for frame, style in layers
              if style["label"].startswith("damage")}
    assert len(damage["damage – subsidence"][0]) == 2
    assert damage["damage – excavation"][1]["facecolor"] == DAMAGE_COLOURS[
        DamageForm.EXCAVATION]
    assert len({style["facecolor"] for _, style in damage.values()}) == len(damage)
    styles = {style["label"]: style for _, style in layers}
    # drawn over damage, neither may blend with it: an outline and a hatch, no fill
    assert styles["planned mining"]["facecolor"] == "none"
    assert styles["reclamation"]["facecolor"] == "none" and styles["reclamation"]["hatch"]


def test_grades_state_their_ranges_and_warn_when_the_breaks_miss_zero(
        stub_figures: list[str]) -> None:
    from minecarbon.report.assessment_part import grade_classes

    inputs = tiny_inputs()
    assert inputs.assessment_summary is not None
    cumulative = inputs.assessment_summary["cumulative"]
    classes = grade_classes(cumulative, "en")
    assert classes[3][1] == "not obvious (0.2 – 4.0)"
    assert classes[1][1].startswith("high negative (-30.1 – -5.5")
    cumulative["middle_class_contains_zero"] = False
    report = build_report(inputs, "en", today="2025-06-30")
    section = next(s for s in report.sections if s.key == "assessment")
    said = [b.text for b in section.blocks if isinstance(b, Paragraph)]
    assert any("do not straddle 0" in t and "0.25 to 4.00" in t for t in said)
    cumulative["middle_class_contains_zero"] = True
    report = build_report(inputs, "en", today="2025-06-30")
    section = next(s for s in report.sections if s.key == "assessment")
    assert not any("straddle" in b.text for b in section.blocks if isinstance(b, Paragraph))


def test_zonal_statistics_of_both_levels(stub_figures: list[str]) -> None:
    report = build_report(tiny_inputs(), "en", today="2025-06-30")
    l1 = _table(report, "assessment", "AGC statistics per level-1 unit")
    l2 = _table(report, "assessment", "AGC statistics per level-2 unit")
    assert l1["code"].tolist() == [1, 2, 3, 4, 5]
    assert l2["code"].tolist() == [10, 21, 32, 43, 50]
    assert "differ in sign" in next(
        b.note for s in report.sections for b in s.blocks
        if isinstance(b, Table) and "level-2 unit" in b.caption)


def test_the_classification_table_shows_the_published_series_and_its_calibration(
        stub_figures: list[str]) -> None:
    inputs = tiny_inputs()
    assert inputs.accuracy is not None
    inputs.accuracy["landcover"]["series"] = {
        "forest_area_calibration": "made", "forest_weight": 1.5422,
        "forest_share_series_unweighted": 0.46292, "forest_share_series": 0.47729,
        "forest_share_estimated": 0.47636, "forest_share_estimated_se": 0.01512,
        "held_out": {"n": 624, "overall_accuracy": 0.97596, "kappa": 0.9711}}
    report = build_report(inputs, "en", today="2025-06-30")
    models = next(s for s in report.sections if s.key == "models")
    table = next(b for b in models.blocks if isinstance(b, Table)
                 and b.caption.startswith("Classification accuracy"))
    frame = table.frame
    assert frame.iloc[:, 0].tolist() == [
        "land cover", "land-cover series (published maps, random samples)", "species"]
    assert frame.iloc[1, 1:].tolist() == [624, 0.976, 0.971]
    assert "forest probability weight 1.54" in table.note
    assert "0.463 → 0.477 (estimate 0.476, standard error 0.015)" in table.note
    assert "whole places" not in table.note  # the record does not say so
    inputs.accuracy["landcover"]["held_out_by_location"] = True
    report = build_report(inputs, "en", today="2025-06-30")
    models = next(s for s in report.sections if s.key == "models")
    note = next(b for b in models.blocks if isinstance(b, Table)
                and b.caption.startswith("Classification accuracy")).note
    assert note.startswith("The land-cover held-out samples are whole places")
    assert "forest probability weight 1.54" in note
    zh = build_report(inputs, "zh", today="2025-06-30")
    models = next(s for s in zh.sections if s.key == "models")
    assert any(isinstance(b, Table) and b.note and "按位置整体留出" in b.note
               for b in models.blocks)
    # without the series' record the table is as before
    plain = build_report(tiny_inputs(), "en", today="2025-06-30")
    models = next(s for s in plain.sections if s.key == "models")
    table = next(b for b in models.blocks if isinstance(b, Table)
                 and b.caption.startswith("Classification accuracy"))
    assert table.frame.iloc[:, 0].tolist() == ["land cover", "species"]
    assert "weight" not in table.note


def _with_calibration(source: str) -> ReportInputs:
    inputs = tiny_inputs()
    inputs.agc_calibration = {"temporal_fit": True, "reference_year": 2020, "attenuation": 0.54,
                              "source": source, "n_plots": 107,
                              "residual_offsets_t_per_ha": {"(all plots)": 1.4}}
    return inputs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_b_from_one_survey_year_is_stated_as_space_for_time(
        lang: str, stub_figures: list[str]) -> None:
    """The change's size rests on an assumption one survey cannot test: the report says so
    when b came from one year's plots, and not when re-measured plots gave it."""
    key = "space for time" if lang == "en" else "以空间代时间"

    def said(source: str) -> list[str]:
        report = build_report(_with_calibration(source), lang, today="2025-06-30")
        inversion = next(s for s in report.sections if s.key == "inversion")
        return [b.text for b in inversion.blocks if isinstance(b, Paragraph) and key in b.text]

    one = said("out-of-fold predictions of the plots")
    assert len(one) == 1
    assert ("Re-measuring at least 5 of the plots" in one[0] if lang == "en"
            else "复测至少 5 块样地" in one[0])
    assert said("re-measured plots") == []
    assert ("intervals do not include it" in one[0] if lang == "en" else "未计入置信区间" in one[0])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_b_from_re_measured_plots_is_given_with_its_standard_error(
        lang: str, stub_figures: list[str]) -> None:
    inputs = _with_calibration("re-measured plots")
    key = "attenuation b" if lang == "en" else "衰减系数 b"

    def said() -> str:
        report = build_report(inputs, lang, today="2025-06-30")
        inversion = next(s for s in report.sections if s.key == "inversion")
        found = [b.text for b in inversion.blocks if isinstance(b, Paragraph) and key in b.text]
        assert len(found) == 1
        return found[0]

    assert "standard error" not in said() and "标准误" not in said()  # older records: none
    inputs.agc_calibration["attenuation_se"] = 0.0541
    expected = ("b = 0.540 (standard error 0.054) (from re-measured plots, 107 plots)"
                if lang == "en" else "b = 0.540（标准误 0.054）（来源：复测样地，107 个样地）")
    assert expected in said()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_features_check_of_space_for_time_is_stated_with_its_ratio(
        lang: str, stub_figures: list[str]) -> None:
    """Where the mapping step compared the features' own change with the maps', the report
    gives the ratio and the error the intervals carry for it, and no longer says they lack it."""
    inputs = _with_calibration("out-of-fold predictions of the plots")
    inputs.agc_calibration["space_for_time"] = {
        "applied": True, "n_features": 6, "pixels": 13892, "ratio": 2.0293,
        "log_sd": 0.707757, "rel_var": 1.059493, "change_factor": 1.385372,
        "applied_to_maps": True, "differ": True,
        "pooled": {"q": 8.94, "p_value": 0.0028, "between_var": 0.2225, "log_shift": 0.326,
                   "log_var": 0.1244, "interval_log_var": 0.2307, "weight_features": 0.4606}}
    report = build_report(inputs, lang, today="2025-06-30")
    inversion = next(s for s in report.sections if s.key == "inversion")
    key = "space for time" if lang == "en" else "以空间代时间"
    texts = [b.text for b in inversion.blocks if isinstance(b, Paragraph) and key in b.text]
    assert len(texts) == 1
    assert "2.03" in texts[0] and "13892" in texts[0] and "1.39" in texts[0]
    assert "46" in texts[0] and "DerSimonian–Laird" in texts[0] and "p = 0.003" in texts[0]
    # where the two agree within their sampling errors the maps' change stands, and it says so
    check = inputs.agc_calibration["space_for_time"]
    check.update(differ=False, applied_to_maps=False, change_factor=0.98)
    check["pooled"].update(p_value=0.28)
    report = build_report(inputs, lang, today="2025-06-30")
    inversion = next(s for s in report.sections if s.key == "inversion")
    texts = [b.text for b in inversion.blocks if isinstance(b, Paragraph) and key in b.text]
    assert len(texts) == 1 and "p = 0.280" in texts[0] and "0.98" not in texts[0]
    assert ("the maps' change stands" in texts[0] if lang == "en"
            else "地图的变化量保持不变" in texts[0])
    assert ("intervals do not include it" not in texts[0] if lang == "en"
            else "未计入置信区间" not in texts[0])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_stands_change_of_stable_forest_is_stated(lang: str,
                                                      stub_figures: list[str]) -> None:
    """Decision 56: the report says which pixels took their stand's change, and how."""
    inputs = _with_calibration("out-of-fold predictions of the plots")
    key = "the stand's change" if lang == "en" else "按林分估计变化"

    def said() -> list[str]:
        report = build_report(inputs, lang, today="2025-06-30")
        inversion = next(s for s in report.sections if s.key == "inversion")
        return [b.text for b in inversion.blocks if isinstance(b, Paragraph) and key in b.text]

    assert said() == []  # older records, or the stage off
    inputs.agc_calibration["change_smoothing"] = {
        "window_px": 5, "reference_year": 2020, "applied": True, "stable_forest_pixels": 14146,
        "stable_share_of_last_year_forest": 0.8372, "borrowed_change_pixels_kept": 1381}
    (text,) = said()
    assert "14146" in text and "84" in text and ("5 × 5" in text or "5×5" in text)
    assert "1381" in text
    assert "2020" in text
    inputs.agc_calibration["change_smoothing"].update(applied=False, reason="off")
    assert said() == []
