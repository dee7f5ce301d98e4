"""The report of the small demo, end to end (issue 9): sections, figures, numbers, DOCX, HTML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from matplotlib import image as mpimg

from minecarbon.catalog import Workspace
from minecarbon.pipeline.report_steps import load_report_inputs
from minecarbon.report.content import build_report
from tests.report.test_browser import screenshot

OUTLINE_ZH = ["矿林复合区基本情况", "矿产资源开发基本情况", "监测范围与监测点布设",
              "样地森林地上碳储量监测", "模型构建与模型优选", "森林地上碳储量反演结果",
              "时空特征评估指标与结果", "分区管理建议"]


def _docx_tables(doc: Document) -> list[pd.DataFrame]:
    out = []
    for table in doc.tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        out.append(pd.DataFrame(rows[1:], columns=rows[0]))
    return out


def test_the_docx_has_every_section_figure_and_the_product_numbers(small_site: Path) -> None:
    path = small_site / "reports/report.zh.docx"
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    for title in OUTLINE_ZH:
        assert any(title in h for h in headings), title
    assert len(doc.inline_shapes) >= 12  # maps and charts
    body = doc.element.body.xml
    assert "TOC \\o" in body and "SEQ 图" in body and "SEQ 表" in body
    # the cross-validation table: the mean of the folds in cv_results.csv at 2 decimals
    cv = pd.read_csv(small_site / "products/models/cv_results.csv")
    means = cv.groupby(["stratum", "model"], sort=False)["rmse"].mean().round(2)
    table = next(t for t in _docx_tables(doc) if any(c.startswith("RMSE") for c in t.columns))
    column = next(c for c in table.columns if c.startswith("RMSE"))
    assert [float(v) for v in table[column]] == means.tolist()
    # zonal statistics of the level-1 units: the mean AGC of the last year
    zonal = pd.read_csv(small_site / "products/assessment/zonal_stats.csv")
    l1 = zonal[zonal["zones"].str.startswith("units_l1") & (zonal["layer"] == "agc_2024")]
    table = next(t for t in _docx_tables(doc) if "平均值" in t.columns)
    assert [float(v) for v in table["平均值"]][: len(l1)] == l1["mean"].round(2).tolist()
    # the data appendix lists the catalogue in series; the annex has every full checksum
    with Workspace.open(small_site) as ws:
        raw = {r.sha256 for r in ws.catalog.datasets(kind="raw")}
        products = {r.sha256 for r in ws.catalog.datasets(step="assessment")}
    annex = pd.read_csv(small_site / "reports/data_annex.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    listed = set(annex["sha256"])
    assert raw <= listed and products <= listed
    appendix = next(t for t in _docx_tables(doc) if "文件数" in t.columns)
    assert len(appendix) < 100  # one line per kind (85 on the small demo, truth included)
    assert sum(int(v) for v in appendix["文件数"]) == len(annex)  # the same catalogue
    # the inversion section states the time-series processing with the b of calibration.json
    calibration = json.loads((small_site / "products/agc/calibration.json").read_text())
    said = [p.text for p in doc.paragraphs if "衰减系数 b =" in p.text]
    assert len(said) == 1 and f"b = {calibration['attenuation']:.3f}" in said[0]
    # … and that a b from one survey year rests on space for time (the demo has no re-survey)
    assert calibration["source"] == "out-of-fold predictions of the plots"
    said = [p.text for p in doc.paragraphs if "（以空间代时间）" in p.text]
    check = calibration["space_for_time"]  # the features' own change, checked against the maps'
    assert len(said) == 1 and check["applied"] and f"{check['ratio']:.2f} 倍" in said[0]
    assert (f"合并系数 {check['change_factor']:.2f}" in said[0] if check.get("applied_to_maps")
            else "地图的变化量保持不变" in said[0])  # the maps' change pooled, or standing
    assert f"p = {check['pooled']['p_value']:.3f}" in said[0]
    # … and the totals' method says how much error the change's scale carries
    summary = json.loads((small_site / "products/assessment/summary.json").read_text())
    sigma = summary["totals"]["change_scale_log_sd"]
    said = [p.text for p in doc.paragraphs if "比较了地图与光谱特征" in p.text]
    assert sigma > 0 and len(said) == 1 and f"相差 {np.exp(sigma):.2f} 倍" in said[0]
    # … and the units' ratios the maps were multiplied by (decision 44)
    said = [p.text for p in doc.paragraphs if "样地的实测与制图值之比" in p.text]
    ratio = calibration["unit_ratios"]["units"]["1"]["ratio"]
    assert len(said) == 1 and f"持续森林 ×{ratio:.3f}" in said[0]
    # … and that stable forest took its stand's change (decision 56)
    smoothing = calibration["change_smoothing"]
    said = [p.text for p in doc.paragraphs if "按林分估计变化" in p.text]
    assert smoothing["applied"] and smoothing["stable_forest_pixels"] > 1000
    assert len(said) == 1 and f"（{smoothing['stable_forest_pixels']} 个" in said[0]
    # … and which forest types borrowed the others' change (decision 45)
    borrowed = calibration["synthetic_change"]
    said = [p.text for p in doc.paragraphs if "合成估计" in p.text]
    first = min(borrowed["growth_index"], key=int)
    assert len(said) == 1 and "疏林" in said[0]
    assert f"{first} 年为 {borrowed['reference_year']} 年的 " \
        f"{borrowed['growth_index'][first]:.2f}" in said[0]


def test_the_html_is_self_contained_and_renders(small_site: Path, tmp_path: Path) -> None:
    html = small_site / "reports/report.zh.html"
    text = html.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org", "") and "src=\"http" not in text
    assert text.count("data:image/png;base64,") >= 12
    for title in OUTLINE_ZH:
        assert title in text
    png = tmp_path / "report.png"
    result = screenshot(html, png, tmp_path)
    assert png.exists(), result.stderr[-2000:]
    pixels = mpimg.imread(png)[..., :3]
    assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


def test_a_workspace_without_assessment_says_what_is_missing(small_site: Path,
                                                             tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(small_site, copy, ignore=shutil.ignore_patterns("scene", "tls", "als"))
    shutil.rmtree(copy / "products/assessment")
    with Workspace.open(copy) as ws:
        inputs = load_report_inputs(ws)
        report = build_report(inputs, "zh")
    assert "assessment_summary" in inputs.missing and "zonal_stats" in inputs.missing
    sections = {s.key: s for s in report.sections}
    assert sections["assessment"].missing and sections["suggestions"].missing
    assert any("assessment" in m or "评估" in m for m in sections["assessment"].missing)
    assert not sections["models"].missing or all(
        "oof" in m for m in sections["models"].missing)


@pytest.mark.parametrize("lang", ["en"])
def test_english_report_from_the_same_products(small_site: Path, lang: str) -> None:
    with Workspace.open(small_site) as ws:
        report = build_report(load_report_inputs(ws), lang)
    titles = [s.title for s in report.sections]
    assert any("Zoning" in t or "zoning" in t for t in titles)
    assert not any("\u4e00" <= ch <= "\u9fff" for t in titles for ch in t)
