"""Section 7 of the report (key ``"assessment"``): change, trend, cumulative effect, hot spots.

The maps of the change and its degree, the trend classes, the cumulative-effect grades (with
their ranges, and a warning where the natural breaks miss 0), the Gi* hot spots of the last
year's AGC, the main change and the cumulative effect; the zonal statistics of the level-1 and
level-2 units; then the totals with their intervals (:mod:`minecarbon.report.totals`).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.assessment.trend import NODATA
from minecarbon.errors import MinecarbonError
from minecarbon.report.document import Figure, Lang, Paragraph, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.section_tools import last_year
from minecarbon.report.suggestions import main_change
from minecarbon.report.texts import DECIMALS, missing_reason, tr
from minecarbon.report.totals import totals_part
from minecarbon.scope.units import unit_names


def _middle(cumulative: dict[str, Any]) -> dict[str, str]:
    b = cumulative["breaks_t_per_ha"]
    return {"low": f"{float(b[2]):.2f}", "high": f"{float(b[3]):.2f}"}


def grade_classes(cumulative: dict[str, Any], lang: Lang) -> dict[int, tuple[str, str, str]]:
    """The grade map's legend: each grade's name with its range of effect (t C/ha).

    Natural breaks need not straddle 0: the grade named "not obvious" can hold only gains.
    The range beside every name lets a reader see that on the map itself.
    """
    from minecarbon.report.maps import EFFECT_GRADES

    breaks = cumulative.get("breaks_t_per_ha") or []
    if len(breaks) != len(EFFECT_GRADES) + 1:
        return dict(EFFECT_GRADES)
    out = {}
    for code, (zh, en, colour) in EFFECT_GRADES.items():
        lo, hi = float(breaks[code - 1]), float(breaks[code])
        span = f"{lo:.1f} – {hi:.1f}"
        out[code] = (f"{zh}（{span}）", f"{en} ({span})", colour)
    return out


def _zonal_table(inputs: ReportInputs, year: int | None, pair: str | None, lang: Lang,
                 level: int = 1) -> pd.DataFrame | None:
    """Section 7's table: AGC statistics, change, change degree and effect per unit."""
    z = inputs.zonal_stats
    if z is None:
        return None
    z = z[z["zones"].astype(str).str.startswith(f"units_l{level}")]
    agc = z[z["layer"] == f"agc_{year}"].set_index("zone_id")
    if agc.empty:
        return None
    degree = None if pair is None else pair.replace("change_", "change_degree_", 1)
    table = pd.DataFrame({tr("code", lang): agc.index.astype(int),
                          tr(f"unit_l{level}", lang): [
        unit_names(level, int(c))[0 if lang == "zh" else 1] for c in agc.index]})
    for key, col in (("as.mean", "mean"), ("as.max", "max"), ("as.min", "min"),
                     ("as.var", "variance")):
        table[tr(key, lang)] = [round(float(v), DECIMALS) for v in agc[col]]
    for key, layer in (("as.change", pair), ("as.degree", degree),
                       ("as.effect", "cumulative_effect")):
        rows = z[z["layer"] == layer].set_index("zone_id")["mean"] if layer else pd.Series()
        table[tr(key, lang)] = [round(float(rows[c]), DECIMALS) if c in rows.index else np.nan
                                for c in agc.index]
    return table


def _class_map(section: Section, lang: Lang, layer: xr.DataArray | None, product: str,
               inputs: ReportInputs, caption: str, source: str,
               style: str | dict[int, tuple[str, str, str]], **kw: Any) -> None:
    if layer is None:
        section.missing.append(missing_reason(inputs, product, lang))
        return
    from minecarbon.report import maps

    classes = (getattr(maps, style) if isinstance(style, str) else style) if style else None
    try:
        png = maps.map_figure(layer, title=caption, lang=lang, classes=classes,
                              kind="classes" if style else "continuous", **kw)
    except (MinecarbonError, ValueError, ImportError) as error:
        section.missing.append(tr("figure_failed", lang, what=caption, why=error))
        return
    section.blocks.append(Figure(png, caption, source=source))


def assessment_section(inputs: ReportInputs, lang: Lang = "zh") -> Section:
    """Section 7 (key ``"assessment"``): change, trend, cumulative effect, hot spots, zonal."""
    s = Section(tr("sec.assessment", lang), key="assessment")
    out = "products/assessment/"
    year, pair = last_year(inputs), main_change(inputs)
    summary = inputs.assessment_summary or {}
    m = re.fullmatch(r"change_(\d{4})_(\d{4})", pair or "")
    y0, y1 = (m[1], m[2]) if m else ("", "")
    _class_map(s, lang, inputs.change.get(pair or ""), "change", inputs,
               tr("as.change_map", lang, y0=y0, y1=y1), f"{out}{pair}.tif", "",
               units="t C/ha", diverging=True)
    suffix = (pair or "").removeprefix("change_")
    _class_map(s, lang, inputs.change_degree.get(suffix), "change_degree", inputs,
               tr("as.degree_map", lang, y0=y0, y1=y1), f"{out}change_degree_{suffix}.tif", "",
               units="%", diverging=True)
    trend = None if inputs.trend_class is None else inputs.trend_class.where(
        inputs.trend_class != NODATA)  # the "too few years" code is left blank, not warned
    _class_map(s, lang, trend, "trend_class", inputs, tr("as.trend_map", lang),
               f"{out}trend_class.tif", "TREND_CLASSES")
    if summary.get("trend", {}).get("classes"):
        rows = [[c["zh"] if lang == "zh" else c["en"], int(c["pixels"]),
                 round(float(c["area_ha"]), DECIMALS)] for c in summary["trend"]["classes"]]
        s.blocks.append(Table(pd.DataFrame(rows, columns=[
            tr("as.class", lang), tr("as.pixels", lang), tr("area_ha", lang)]),
            tr("as.trend_table", lang), note=tr("rounding", lang, d=DECIMALS),
            source=f"{out}summary.json"))
    else:
        s.missing.append(missing_reason(inputs, "assessment_summary", lang))
    period = summary.get("cumulative", {}).get("period") or ["", ""]
    cumulative = summary.get("cumulative", {})
    _class_map(s, lang, inputs.cumulative_grade, "cumulative_grade", inputs,
               tr("as.grade_map", lang, y0=period[0], y1=period[-1]),
               f"{out}cumulative_grade.tif", grade_classes(cumulative, lang))
    if cumulative.get("breaks_t_per_ha") and not cumulative.get(
            "middle_class_contains_zero", True):
        s.blocks.append(Paragraph(tr("as.grade_warning", lang, **_middle(cumulative))))
    if cumulative.get("breaks_t_per_ha"):
        b = cumulative["breaks_t_per_ha"]
        labels = cumulative.get("labels_zh" if lang == "zh" else "labels_en") or [""] * (
            len(b) - 1)
        counts = cumulative.get("counts") or [np.nan] * (len(b) - 1)
        s.blocks.append(Table(pd.DataFrame({
            tr("as.grade", lang): list(range(1, len(b))), tr("as.class", lang): labels,
            tr("as.lower", lang): [round(float(v), DECIMALS) for v in b[:-1]],
            tr("as.upper", lang): [round(float(v), DECIMALS) for v in b[1:]],
            tr("as.pixels", lang): counts}), tr("as.breaks_table", lang),
            note=tr("rounding", lang, d=DECIMALS) + " " + tr(
                "as.method", lang, m=cumulative.get("method", "—")),
            source=f"{out}summary.json"))
    for name, what in ((f"agc_{year}", tr("agc_layer", lang, y=year)),
                       (pair or "", tr("change_layer", lang, y0=y0, y1=y1)),
                       ("cumulative_effect", tr("effect_layer", lang))):
        _class_map(s, lang, inputs.gistar_bin.get(name), "gistar_bin", inputs,
                   tr("as.hot_map", lang, what=what), f"{out}gistar_bin_{name}.tif",
                   "GISTAR_BINS")
    for level in (1, 2):
        table = _zonal_table(inputs, year, pair, lang, level)
        if table is None:
            if level == 1:
                s.missing.append(missing_reason(inputs, "zonal_stats", lang))
            continue
        s.blocks.append(Table(table, tr(f"as.zonal_table{'' if level == 1 else '_l2'}", lang,
                                        y=year),
                              note=tr("rounding", lang, d=DECIMALS) + " " + tr(
                                  "as.zonal_note", lang, pair=f"{y0}–{y1}" if m else "—"),
                              source=f"{out}zonal_stats.csv"))
    totals_part(s, inputs.carbon_totals, inputs.change_totals, summary.get("totals"), lang,
                inputs.area_estimates)
    return s
