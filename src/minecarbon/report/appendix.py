"""The data appendix: every dataset of the catalogue with its checksum and lineage.

One row per catalogue record, in catalogue order: the path in the workspace, the kind in words
(bilingual), the full SHA-256 of the file, its CRS and time, the pipeline step that produced it
and the datasets that step read (the lineage, space-separated paths as catalogued).
"""

from __future__ import annotations

import pandas as pd

from minecarbon.report.document import Lang, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.texts import missing_reason, tr

__all__ = ["KIND_NAMES", "appendix_section", "data_appendix", "kind_label"]

#: Prefix of a catalogue kind → (Chinese, English).
KIND_PREFIXES: dict[str, tuple[str, str]] = {
    "raw": ("原始数据", "raw input"),
    "work": ("中间数据", "working data"),
    "product": ("产品", "product"),
    "truth": ("模拟真值", "simulated truth"),
}
#: Name of a catalogue kind (after the prefix) → (Chinese, English); others print as named.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "scene": ("遥感影像", "satellite scene"),
    "dem": ("数字高程模型", "digital elevation model"),
    "landcover": ("土地覆盖图", "land-cover map"),
    "boundary": ("采矿权范围", "mining-right boundary"),
    "damage": ("损毁图斑", "damage polygons"),
    "plan": ("拟开采图斑", "planned-mining polygons"),
    "reclamation": ("复垦图斑", "reclamation polygons"),
    "disturbance": ("其他扰动图斑", "other-disturbance polygons"),
    "samples": ("分类样本", "classification samples"),
    "reference": ("参考样本", "reference sample"),
    "climate": ("气候数据", "climate data"),
    "plots": ("样地", "plots"),
    "trees": ("每木检尺", "tree tally"),
    "als": ("机载激光雷达点云", "airborne lidar point cloud"),
    "tls": ("地基激光雷达点云", "terrestrial lidar point cloud"),
    "composite": ("年度合成影像", "annual composite"),
    "grid": ("分析格网", "analysis grid"),
    "extent": ("监测评估范围", "monitoring extent"),
    "terrain": ("地形因子", "terrain variables"),
    "features": ("特征变量栈", "feature stack"),
    "forest_type": ("森林类型图", "forest-type map"),
    "leaf_habit": ("常绿/落叶图", "leaf-habit map"),
    "species": ("优势树种图", "species map"),
    "accuracy": ("分类精度", "classification accuracy"),
    "units_l1": ("一级单元图", "level-1 unit map"),
    "units_l2": ("二级单元图", "level-2 unit map"),
    "unit_areas": ("单元面积表", "unit areas"),
    "plot_units": ("样地单元表", "plot–unit table"),
    "plot_agc": ("样地碳储量", "plot AGC"),
    "trees_agc": ("单木碳储量", "tree AGC"),
    "cv_results": ("交叉验证结果", "cross-validation results"),
    "selected_features": ("特征选择结果", "selected features"),
    "model_card": ("模型卡", "model card"),
    "agc_model": ("碳储量模型", "AGC model"),
    "agc": ("地上碳储量图", "AGC map"),
    "agc_lower": ("地上碳储量区间下限", "AGC interval, lower bound"),
    "agc_upper": ("地上碳储量区间上限", "AGC interval, upper bound"),
    "agc_totals": ("碳储量总量表", "AGC totals"),
    "assessment_change": ("变化量与变化程度图", "change and change-degree maps"),
    "assessment_sen": ("Sen 斜率图", "Sen slope map"),
    "assessment_mk": ("Mann–Kendall 检验图", "Mann–Kendall test maps"),
    "assessment_trend": ("趋势类型图", "trend-class map"),
    "assessment_cumulative": ("累积效应图", "cumulative-effect maps"),
    "assessment_gistar": ("冷热点图", "hot-spot maps"),
    "zonal_stats": ("分区统计表", "zonal statistics"),
    "assessment_summary": ("评估摘要", "assessment summary"),
}
COLUMNS = ("path", "kind", "sha256", "crs", "time", "step", "inputs")


def kind_label(kind: str, lang: Lang = "zh") -> str:
    """A catalogue kind in words with the kind itself, e.g. ``产品：地上碳储量图 (product:agc)``."""
    prefix, _, name = str(kind).partition(":")
    i = 0 if lang == "zh" else 1
    if prefix not in KIND_PREFIXES:
        return str(kind)
    words = KIND_NAMES[name][i] if name in KIND_NAMES else name
    return f"{KIND_PREFIXES[prefix][i]}{'：' if lang == 'zh' else ': '}{words} ({kind})"


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    return "" if text in ("nan", "<NA>", "None") else text


def data_appendix(inputs: ReportInputs, lang: Lang = "zh") -> pd.DataFrame:
    """Every dataset of the catalogue: path, kind (in words), full sha256, CRS, time, step, inputs.

    Parameters
    ----------
    inputs
        The products in memory; ``inputs.catalogue`` is read (an empty frame when ``None``).
    lang
        Language of the headers and of the kind's words.

    Returns
    -------
    pandas.DataFrame
        One row per catalogue record in catalogue order; headers in ``lang``.

    """
    headers = [tr(f"app.{c}", lang) if c not in ("sha256", "crs") else
               ("sha256" if c == "sha256" else "CRS") for c in COLUMNS]
    cat = inputs.catalogue
    if cat is None:
        return pd.DataFrame(columns=headers)
    rows = [[_text(rec.get("path")), kind_label(_text(rec.get("kind")), lang),
             _text(rec.get("sha256")), _text(rec.get("crs")), _text(rec.get("time")),
             _text(rec.get("step")), _text(rec.get("inputs"))]
            for rec in cat.to_dict("records")]
    return pd.DataFrame(rows, columns=headers)


def appendix_section(inputs: ReportInputs, lang: Lang = "zh") -> Section:
    """The data appendix as a report section (key ``"appendix"``)."""
    section = Section(tr("sec.appendix", lang), key="appendix")
    if inputs.catalogue is None:
        section.missing.append(missing_reason(inputs, "catalogue", lang))
        return section
    section.blocks.append(Table(data_appendix(inputs, lang), tr("app.table", lang),
                                note=tr("app.note", lang), source="catalog.sqlite"))
    return section
