"""The data appendix: the catalogue as a person reads it, and its machine-readable annex.

The report lists the workspace's datasets grouped by kind — one line per kind, its files named
by pattern (years and dates in the file name folded into ``{year}`` / ``{date}``): the kind in
words (bilingual), the files, how many, the time they cover, CRS, the step that made them and
their size. Every file's full SHA-256 and lineage (the datasets its step read) are
in ``reports/data_annex.csv`` beside the report, as in ``products/catalog/datasets.csv`` and
the STAC catalogue ``work/stac``: a 25-year workspace holds hundreds of files with lineage
cells of thousands of characters, which no one reads on paper.
"""

from __future__ import annotations

import re

import pandas as pd

from minecarbon.report.document import Lang, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.texts import missing_reason, tr

__all__ = ["ANNEX", "KIND_NAMES", "appendix_section", "data_annex", "data_appendix",
           "file_pattern", "kind_label"]

#: Prefix of a catalogue kind → (Chinese, English).
KIND_PREFIXES: dict[str, tuple[str, str]] = {
    "raw": ("原始数据", "raw input"),
    "report": ("报告", "report"),
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
    "cover": ("郁闭度图", "canopy cover"),
    "site": ("模拟场地说明", "simulated site record"),
    "raw-inventory": ("原始数据清单", "raw data inventory"),
    "cross_calibration": ("传感器交叉定标", "sensor cross-calibration"),
    "composite_quality": ("合成影像质量表", "composite quality"),
    "feature_names": ("特征名称表", "feature names"),
    "plot_features": ("样地特征表", "plot features"),
    "context_feature": ("邻域特征", "context feature"),
    "landcover_proba": ("土地覆盖概率", "land-cover probabilities"),
    "landcover_quality": ("土地覆盖质量", "land-cover quality"),
    "phenology": ("物候特征", "phenology features"),
    "tls_trees": ("TLS 单木表", "TLS trees"),
    "tls_validation": ("TLS 验证", "TLS validation"),
    "tls_stem_map": ("TLS 树干位置图", "TLS stem map"),
    "allometry_report": ("异速生长模型报告", "allometry report"),
    "als_metric": ("机载激光雷达结构指标", "ALS structure metric"),
    "oof_predictions": ("交叉验证预测值", "out-of-fold predictions"),
    "agc_model_card": ("碳储量模型说明", "AGC model card"),
    "agc_raw": ("模型原始预测", "raw model predictions"),
    "agc_calibration": ("时间序列校准", "time-series calibration"),
    "agc_quality": ("碳储量质量标记", "AGC quality flags"),
    "sen_mk": ("Sen + MK 计算结果", "Sen + MK results"),
    "catalog": ("数据清单", "dataset listing"),
    "totals": ("碳储量总量估计", "carbon totals with intervals"),
    "change_totals": ("变化量估计", "changes with intervals"),
    "area_estimates": ("面积估计", "area estimates"),
    "data_annex": ("数据附件", "data annex"),
    "docx": ("报告 (DOCX)", "report (DOCX)"),
    "html": ("报告 (HTML)", "report (HTML)"),
}
COLUMNS = ("path", "kind", "sha256", "crs", "time", "step", "inputs")
#: Columns of the grouped listing in the report.
GROUP_COLUMNS = ("kind", "files", "count", "time", "crs", "step", "size")
#: The machine-readable annex beside the report: every dataset, checksum and lineage.
ANNEX = "reports/data_annex.csv"


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


#: A date (8 digits) or a year (4 digits, 1900–2099) in a file name, not inside a longer number.
_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?:[01]\d[0-3]\d)?(?!\d)")


#: A band in a provider's one-file-per-band name (``…_SR_B4.TIF``, ``…_B8A_20m.jp2``).
_BAND = re.compile(r"(?<=_)(?:SR_|ST_|TOA_)?B(?:[0-9]{1,2}|8A)(?=(?:_[0-9]+m)?\.[A-Za-z0-9]+$)",
                   re.IGNORECASE)


def file_pattern(path: str) -> str:
    """The path with its years, dates and bands as ``{year}``, ``{date}``, ``{band}``.

    Files of one series share a pattern: the annual maps, the scenes of an archive, and the
    bands of scenes delivered one file per band (``…_SR_B4.TIF`` → ``…_{band}.TIF``).
    """
    folded = _BAND.sub("{band}", path)
    return _DATE.sub(lambda m: "{date}" if len(m.group()) == 8 else "{year}", folded)


def _time_range(times: list[str]) -> str:
    values = sorted({t for v in times for t in _text(v).replace("/", " ").split() if t})
    if not values:
        return ""
    return values[0] if len(values) == 1 else f"{values[0]} – {values[-1]}"


def _size(total: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if total < 1024 or unit == "GB":
            return f"{total:.0f} {unit}" if unit == "B" else f"{total:.1f} {unit}"
        total /= 1024
    return ""


def _files(group: pd.DataFrame, shown: int = 3) -> str:
    """A kind's files: series by their pattern, single files by name; the first few, then +n."""
    first = group.drop_duplicates("pattern")
    counts = group["pattern"].value_counts()
    names = [pattern if counts[pattern] > 1 else _text(path)
             for path, pattern in zip(first["path"], first["pattern"], strict=True)]
    more = len(names) - shown
    return "; ".join(names[:shown]) + (f"; … (+{more})" if more > 0 else "")


def data_appendix(inputs: ReportInputs, lang: Lang = "zh") -> pd.DataFrame:
    """The catalogue grouped by kind: one line per kind of dataset.

    A line names the kind's files — files that differ only by a year or a date
    (``agc_2000.tif`` … ``agc_2024.tif``, the scenes of an archive) by their pattern, the first
    three patterns or names then how many more —, how many files, the time they cover, their
    CRS, the steps that made them and their total size. Checksums and full lineage are in the
    machine-readable annex (:func:`data_annex`) and the catalogue.

    Parameters
    ----------
    inputs
        The products in memory; ``inputs.catalogue`` is read (an empty frame when ``None``).
    lang
        Language of the headers and of the kind's words.

    Returns
    -------
    pandas.DataFrame
        One row per series, in the order of their first file in the catalogue.

    """
    headers = [tr(f"app.{c}", lang) for c in GROUP_COLUMNS]
    cat = inputs.catalogue
    if cat is None or cat.empty:
        return pd.DataFrame(columns=headers)
    frame = cat.assign(pattern=[file_pattern(_text(p)) for p in cat["path"]])
    rows = []
    for kind, group in frame.groupby("kind", sort=False):
        size = pd.to_numeric(group.get("size_bytes", pd.Series(dtype=float)),
                             errors="coerce").sum()
        crs = sorted({_text(c) for c in group["crs"] if _text(c)})
        steps = sorted({_text(c) for c in group["step"] if _text(c)})
        rows.append([kind_label(_text(kind), lang), _files(group), len(group),
                     _time_range(group["time"].tolist()), ", ".join(crs), ", ".join(steps),
                     _size(float(size))])
    return pd.DataFrame(rows, columns=headers)


def data_annex(inputs: ReportInputs) -> pd.DataFrame:
    """Every dataset with its full checksum and lineage, machine-readable (the report's annex)."""
    cat = inputs.catalogue
    if cat is None:
        return pd.DataFrame(columns=list(COLUMNS))
    return cat.copy()


def appendix_section(inputs: ReportInputs, lang: Lang = "zh") -> Section:
    """The data appendix as a report section (key ``"appendix"``)."""
    section = Section(tr("sec.appendix", lang), key="appendix")
    if inputs.catalogue is None:
        section.missing.append(missing_reason(inputs, "catalogue", lang))
        return section
    n = len(inputs.catalogue)
    section.blocks.append(Table(data_appendix(inputs, lang), tr("app.table", lang),
                                note=tr("app.note", lang, n=n, annex=ANNEX),
                                source="catalog.sqlite"))
    return section
