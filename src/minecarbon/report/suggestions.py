"""Section 8: the zoning suggestions (分区管理建议), stated rules applied to the assessment.

Section 7 (the assessment results themselves) is :mod:`minecarbon.report.assessment_part`.

Each rule of :class:`Rules` is applied to every level-2 assessment unit of the last year and,
where it holds, gives one suggestion that names the result that triggered it (metric, value and
threshold). The numbers come from the assessment products in memory: the zonal statistics per
level-2 unit (``zonal_stats.csv``: mean and total AGC of the last year, change of the main pair,
cumulative effect) and, for the area shares, the level-2 unit map with the Gi* bin maps and the
trend-class map (counted block by block, never a whole raster at once). The rules, their
thresholds and how to change them are in ``docs/report.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.report.document import Lang, Paragraph, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.section_tools import last_year
from minecarbon.report.texts import missing_reason, tr
from minecarbon.scope.units import unit_names

__all__ = ["RULE_IDS", "Rules", "main_change", "rule_statements",
           "suggestions_section", "unit_shares", "zoning_suggestions"]

RULE_IDS = ("R1", "R2", "R3", "R4", "R5", "R6")
COLUMNS = ["unit_l2", "unit_l1", "unit_zh", "unit_en", "rule", "suggestion", "metric", "value",
           "threshold", "trigger"]


@dataclass(frozen=True)
class Rules:
    """Thresholds of the zoning rules (every rule runs on the level-2 units of the last year).

    Attributes
    ----------
    r1_agc_ratio
        R1, to-be-damaged units (l1 = 2): priority protection when the unit's mean AGC is at
        least this multiple of the site's mean forest AGC (total over area of all units) …
    r1_total_quantile
        … or when its total AGC (t C) is at least this quantile of the level-2 units' totals
        (2/3: the top third).
    r2_effect_max_t_per_ha
        R2, reclaimed units (l1 = 4): supplementary planting and tending when the mean
        cumulative effect is below this (t C/ha).
    r3_min_loss_t
        R3, damaged units (l1 = 3): reclamation priority when the carbon lost (minus the total
        change of the main pair, t C) exceeds this; ranked by the loss.
    r4_cold_bin, r4_cold_share_pct
        R4, any unit: field investigation when at least ``r4_cold_share_pct`` % of its pixels
        are Gi* cold spots of the main change (bin ≤ ``r4_cold_bin``, 95 % confidence or more).
    r5_decrease_share_pct
        R5, persistent forest (l1 = 1): closer monitoring and tending when at least this share
        (%) of its pixels has a significant decrease (Sen + MK class −2).
    r6_effect_min_t_per_ha, r6_hot_bin, r6_hot_share_pct
        R6, persistent forest: maintain and protect the carbon sink when the mean cumulative
        effect exceeds ``r6_effect_min_t_per_ha`` and at least ``r6_hot_share_pct`` % of its
        pixels are Gi* hot spots of the cumulative effect (bin ≥ ``r6_hot_bin``).

    """

    r1_agc_ratio: float = 1.0
    r1_total_quantile: float = 2 / 3
    r2_effect_max_t_per_ha: float = 0.0
    r3_min_loss_t: float = 0.0
    r4_cold_bin: int = -2
    r4_cold_share_pct: float = 10.0
    r5_decrease_share_pct: float = 10.0
    r6_effect_min_t_per_ha: float = 0.0
    r6_hot_bin: int = 2
    r6_hot_share_pct: float = 10.0


_S: dict[str, tuple[str, str]] = {
    "R1": ("拟损毁森林单元平均碳储量 ≥ 全区森林平均碳储量的 {ratio:g} 倍，"
           "或碳储量总量位于各二级单元的前 "
           "{top:.0f} %（≥ {q:.3g} 分位数）→ 优先保护",
           "to-be-damaged units whose mean AGC ≥ {ratio:g} × the site's mean forest AGC, or whose "
           "total AGC is in the top {top:.0f} % of the level-2 units (≥ the {q:.3g} quantile) → "
           "priority protection"),
    "R2": ("已复垦森林单元累积效应均值 < {v:g} t C/ha → 补植补造、抚育管护",
           "reclaimed units with a mean cumulative effect < {v:g} t C/ha → supplementary "
           "planting and tending"),
    "R3": ("已损毁森林单元碳损失（主变化期总变化量的相反数）> {v:g} t C → 按碳损失排序优先复垦",
           "damaged units that lost more than {v:g} t C (minus the total change of the main "
           "pair) → reclamation priority ranked by the carbon lost"),
    "R4": ("单元中变化量 Gi* 冷点（bin ≤ {b}）像元占比 ≥ {v:g} % → 实地核查",
           "units where ≥ {v:g} % of the pixels are Gi* cold spots of the change (bin ≤ {b}) → "
           "field investigation"),
    "R5": ("持续森林单元中显著减少（Sen+MK）像元占比 ≥ {v:g} % → 加强监测与抚育管护",
           "persistent forest units where ≥ {v:g} % of the pixels decrease significantly "
           "(Sen + MK) → closer monitoring and tending"),
    "R6": ("持续森林单元累积效应均值 > {e:g} t C/ha 且累积效应 Gi* 热点（bin ≥ {b}）"
           "像元占比 ≥ {v:g} % "
           "→ 维持并保护碳汇",
           "persistent forest units with a mean cumulative effect > {e:g} t C/ha and ≥ {v:g} % "
           "of the pixels Gi* hot spots of the cumulative effect (bin ≥ {b}) → maintain and "
           "protect the carbon sink"),
}
_SUGGEST: dict[str, tuple[str, str]] = {
    "R1": ("优先保护：优化开采方案，避让或尽量减少森林损毁",
           "priority protection: avoid or minimise damage to this forest when planning mining"),
    "R2": ("补植补造、抚育管护", "supplementary planting and tending"),
    "R3": ("优先复垦（碳损失排序 {k}/{n}）", "reclamation priority {k} of {n} by carbon lost"),
    "R4": ("实地核查碳储量减少原因", "field investigation of the carbon loss"),
    "R5": ("加强监测与抚育管护", "closer monitoring and tending"),
    "R6": ("维持并保护碳汇", "maintain and protect the carbon sink"),
}
_METRIC: dict[str, tuple[str, str, str]] = {  # zh, en, unit
    "mean_agc": ("平均碳储量", "mean AGC", "t C/ha"),
    "total_agc": ("碳储量总量", "total AGC", "t C"),
    "effect": ("累积效应均值", "mean cumulative effect", "t C/ha"),
    "loss": ("碳损失", "carbon lost", "t C"),
    "cold": ("变化量冷点像元占比", "share of change cold-spot pixels", "%"),
    "decrease": ("显著减少像元占比", "share of significantly decreasing pixels", "%"),
    "hot": ("累积效应热点像元占比", "share of cumulative-effect hot-spot pixels", "%"),
}


def _p(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def rule_statements(rules: Rules | None = None, lang: Lang = "zh") -> list[tuple[str, str]]:
    """The rules in words with their thresholds: ``(rule id, statement)`` in order."""
    r = rules or Rules()
    values: dict[str, dict[str, Any]] = {
        "R1": {"ratio": r.r1_agc_ratio, "top": 100 * (1 - r.r1_total_quantile),
               "q": r.r1_total_quantile},
        "R2": {"v": r.r2_effect_max_t_per_ha}, "R3": {"v": r.r3_min_loss_t},
        "R4": {"v": r.r4_cold_share_pct, "b": r.r4_cold_bin},
        "R5": {"v": r.r5_decrease_share_pct},
        "R6": {"e": r.r6_effect_min_t_per_ha, "v": r.r6_hot_share_pct, "b": r.r6_hot_bin},
    }
    return [(rid, _p(_S[rid], lang).format(**values[rid])) for rid in RULE_IDS]


def main_change(inputs: ReportInputs) -> str | None:
    """Name of the main change pair (``change_<first>_<last>`` when present, else the longest)."""
    names = set(inputs.change)
    if inputs.zonal_stats is not None:
        names |= {str(x) for x in inputs.zonal_stats["layer"].unique()}
    pairs = sorted((int(m[1]), int(m[2]), n) for n in names
                   if (m := re.fullmatch(r"change_(\d{4})_(\d{4})", n)))
    if not pairs:
        return None
    first, last = inputs.project.get("first_year"), inputs.project.get("last_year")
    for y0, y1, name in pairs:
        if y0 == first and y1 == last:
            return name
    return max(pairs, key=lambda p: (p[1] - p[0], -p[0]))[2]


def _block_counts(codes: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """Pixels per code (0–255) and flagged pixels per code in one block → (1, 1, 2, 256)."""
    clipped = np.clip(np.nan_to_num(np.asarray(codes, dtype=np.float64), nan=0.0), 0, 255)
    c = clipped.astype(np.int64).ravel()
    f = np.asarray(flag, dtype=bool).ravel()
    out = np.stack([np.bincount(c, minlength=256), np.bincount(c[f], minlength=256)])
    return out.reshape(1, 1, 2, 256)


def unit_shares(units: xr.DataArray, flag: xr.DataArray) -> dict[int, float]:
    """Share (%) of each unit code's pixels where ``flag`` holds (codes > 0 only).

    Counted block by block (lazy on dask input until the small per-block counts are summed).
    """
    if units.shape != flag.shape:
        raise InputDataError(
            f"the unit map {units.name!r} {units.shape} and the map {flag.name!r} {flag.shape} "
            "are not on one grid", fix="load both from the same workspace (project grid)")
    codes, mask = units.data, flag.data
    if isinstance(codes, da.Array) or isinstance(mask, da.Array):
        codes = da.asarray(codes)  # type: ignore[no-untyped-call]
        mask = da.asarray(mask).rechunk(codes.chunks)  # type: ignore[no-untyped-call]
        blocks = da.map_blocks(  # type: ignore[no-untyped-call]
            _block_counts, codes, mask, dtype=np.int64, new_axis=[2, 3],
            chunks=((1,) * codes.numblocks[0], (1,) * codes.numblocks[1], (2,), (256,)))
        counts = np.asarray(blocks.sum(axis=(0, 1)).compute())
    else:
        counts = _block_counts(codes, mask)[0, 0]
    return {code: 100.0 * float(counts[1, code]) / float(counts[0, code])
            for code in range(1, 256) if counts[0, code] > 0}


def _zonal(inputs: ReportInputs, layer: str | None) -> pd.DataFrame | None:
    """Level-2 zonal rows of ``layer``, indexed by unit code."""
    z = inputs.zonal_stats
    if z is None or layer is None:
        return None
    rows = z[z["zones"].astype(str).str.startswith("units_l2") & (z["layer"] == layer)]
    if rows.empty:
        return None
    return rows.assign(code=rows["zone_id"].astype(int)).set_index("code")


def zoning_suggestions(inputs: ReportInputs, lang: Lang = "zh",
                       rules: Rules | None = None) -> pd.DataFrame:
    """One row per suggestion: the unit, the rule, the suggestion and the result that triggered it.

    Parameters
    ----------
    inputs
        The products in memory (zonal statistics, unit and Gi* maps, trend classes).
    lang
        Language of the text columns.
    rules
        The thresholds (default :class:`Rules`).

    Returns
    -------
    pandas.DataFrame
        Columns ``unit_l2, unit_l1, unit_zh, unit_en, rule, suggestion, metric, value,
        threshold, trigger`` (``trigger`` says it in words, e.g. "mean cumulative effect
        −12.3 t C/ha < 0"). ``frame.attrs["missing"]`` lists the rules that could not be
        evaluated and why.

    """
    r = rules or Rules()
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    year = last_year(inputs)
    agc = _zonal(inputs, f"agc_{year}")
    effect = _zonal(inputs, "cumulative_effect")
    change = _zonal(inputs, main_change(inputs))

    def words(metric: str, value: float, op: str, threshold: float) -> str:
        zh, en, unit = _METRIC[metric]
        sep = "" if unit == "%" else " "
        return (f"{zh if lang == 'zh' else en} {value:.1f}{sep}{unit} {op} "
                f"{threshold:.1f}{sep}{unit}")

    def add(code: int, rid: str, metric: str, value: float, threshold: float, op: str,
            also: str = "", **fmt: Any) -> None:
        zh, en, unit = _METRIC[metric]
        rows.append({
            "unit_l2": code, "unit_l1": code // 10, "unit_zh": unit_names(2, code)[0],
            "unit_en": unit_names(2, code)[1], "rule": rid,
            "suggestion": _p(_SUGGEST[rid], lang).format(**fmt),
            "metric": f"{zh if lang == 'zh' else en} ({unit})", "value": value,
            "threshold": threshold,
            "trigger": words(metric, value, op, threshold) + (f"; {also}" if also else "")})

    def gap(rid: str, product: str) -> None:
        missing.append(f"{rid}: {missing_reason(inputs, product, lang)}")

    # R1 – to-be-damaged units holding much carbon
    if agc is None:
        gap("R1", "zonal_stats")
    else:
        valid = agc[agc["area_ha"] > 0]
        site_mean = float(valid["total"].sum() / valid["area_ha"].sum()) if len(valid) else np.nan
        q_total = float(np.quantile(valid["total"].astype(float), r.r1_total_quantile)) \
            if len(valid) else np.nan
        for code, row in valid[valid.index // 10 == 2].iterrows():
            if row["mean"] >= r.r1_agc_ratio * site_mean:
                add(int(code), "R1", "mean_agc", float(row["mean"]), r.r1_agc_ratio * site_mean,
                    "≥")
            elif row["total"] >= q_total:
                add(int(code), "R1", "total_agc", float(row["total"]), q_total, "≥")
    # R2 – reclaimed units with a negative cumulative effect
    if effect is None:
        gap("R2", "zonal_stats")
    else:
        for code, row in effect[effect.index // 10 == 4].iterrows():
            if row["mean"] < r.r2_effect_max_t_per_ha:
                add(int(code), "R2", "effect", float(row["mean"]), r.r2_effect_max_t_per_ha, "<")
    # R3 – damaged units ranked by the carbon they lost
    if change is None:
        gap("R3", "zonal_stats")
    else:
        lost = -change.loc[change.index // 10 == 3, "total"].astype(float)
        lost = lost[lost > r.r3_min_loss_t].sort_values(ascending=False, kind="stable")
        for k, (code, value) in enumerate(lost.items(), start=1):
            add(int(code), "R3", "loss", float(value), r.r3_min_loss_t, ">", k=k, n=len(lost))
    # R4, R5, R6 – area shares from the maps
    cold = inputs.gistar_bin.get(main_change(inputs) or "")
    hot = inputs.gistar_bin.get("cumulative_effect")
    trend = inputs.trend_class
    share_rules: list[tuple[str, xr.DataArray | None, str, str, float, int]] = [
        ("R4", None if cold is None else cold <= r.r4_cold_bin, "gistar_bin", "cold",
         r.r4_cold_share_pct, 0),
        ("R5", None if trend is None else trend == -2, "trend_class", "decrease",
         r.r5_decrease_share_pct, 1),
        ("R6", None if hot is None else hot >= r.r6_hot_bin, "gistar_bin", "hot",
         r.r6_hot_share_pct, 1),
    ]
    for rid, flag, product, metric, threshold, level1 in share_rules:
        if inputs.units_l2 is None or flag is None or (rid == "R6" and effect is None):
            gap(rid, "units_l2" if inputs.units_l2 is None else product if flag is None
                else "zonal_stats")
            continue
        shares = unit_shares(inputs.units_l2, flag.rename(f"{rid} {metric}"))
        for code, share in sorted(shares.items()):
            if not unit_names_ok(code) or (level1 and code // 10 != level1) or share < threshold:
                continue
            also = ""
            if rid == "R6":
                assert effect is not None
                mean = float(effect.loc[code, "mean"]) if code in effect.index else np.nan
                if not mean > r.r6_effect_min_t_per_ha:
                    continue
                also = words("effect", mean, ">", r.r6_effect_min_t_per_ha)
            add(code, rid, metric, share, threshold, "≥", also=also)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["rule", "unit_l2"], kind="stable").reset_index(drop=True)
    frame.attrs["missing"] = missing
    return frame


def unit_names_ok(code: int) -> bool:
    """Whether ``code`` is a level-2 unit code (so that it has names)."""
    try:
        unit_names(2, code)
    except InputDataError:
        return False
    return True


def suggestions_section(inputs: ReportInputs, lang: Lang = "zh",
                        rules: Rules | None = None) -> Section:
    """Section 8 (key ``"suggestions"``): the rules in words, then the suggestions table."""
    section = Section(tr("sec.suggestions", lang), key="suggestions")
    section.blocks.append(Paragraph(tr("sug.intro", lang, y=last_year(inputs))))
    section.blocks += [Paragraph(f"{rid}：{text}" if lang == "zh" else f"{rid}: {text}",
                                 style="bullet") for rid, text in rule_statements(rules, lang)]
    frame = zoning_suggestions(inputs, lang, rules)
    section.missing += list(frame.attrs.get("missing", []))
    if frame.empty:
        section.blocks.append(Paragraph(tr("sug.none", lang)))
        return section
    name = "unit_zh" if lang == "zh" else "unit_en"
    table = pd.DataFrame({
        tr("code", lang): frame["unit_l2"], tr("unit_l2", lang): frame[name],
        tr("sug.rule", lang): frame["rule"], tr("sug.suggestion", lang): frame["suggestion"],
        tr("sug.trigger", lang): frame["trigger"]})
    section.blocks.append(Table(table, tr("sug.table", lang),
                                note=tr("rounding", lang, d=1),
                                source="products/assessment/zonal_stats.csv"))
    return section


# ------------------------------------------------------------------ section 7: the assessment
