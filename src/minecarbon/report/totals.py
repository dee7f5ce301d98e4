"""The report's totals with intervals (issue 17): a chart, a totals table and a change table.

Reads ``products/assessment/totals.csv`` and ``change_totals.csv`` (via
:class:`~minecarbon.report.inputs.ReportInputs`) and appends to the assessment section:

* a chart of the extent's and every level-1 unit's estimated total AGC per year with its 95 %
  interval as a band (the map's own sum dotted beside it);
* a table of the totals and intervals of the extent and the level-1 units in the first year,
  the plots' year and the last year;
* a table of every change pair and the trend per unit, saying whether each differs from zero;
* a paragraph naming the estimators and the error sources they carry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from minecarbon.assessment.trend_reference import CHECKED_METHOD
from minecarbon.errors import InputDataError, MinecarbonError
from minecarbon.report.document import Figure, Lang, Paragraph, Section, Table
from minecarbon.report.fonts import use_cjk_font
from minecarbon.report.maps import UNIT_L1_CLASSES, figure_png
from minecarbon.report.texts import tr

OUT = "products/assessment/"
DECIMALS = 0


def _level1(frame: pd.DataFrame) -> pd.DataFrame:
    zone = frame["zone"].astype(str)
    return frame[(zone == "extent") | zone.str.startswith("l1:")]


def totals_interval_chart(totals: pd.DataFrame, *, lang: Lang = "zh",
                          names: Mapping[str, str] | None = None) -> bytes:
    """Estimated totals (t C) of the extent and level-1 units with their 95 % bands, PNG."""
    need = {"year", "zone", "agc_t", "agc_t_ci_low", "agc_t_ci_high", "mapped_agc_t"}
    if not need <= set(totals.columns):
        raise InputDataError(f"the totals table lacks {sorted(need - set(totals.columns))}",
                             fix="re-run the assessment step")
    frame = _level1(totals)
    if frame.empty:
        raise InputDataError("the totals table holds neither the extent nor a level-1 unit",
                             fix="re-run the assessment step")
    use_cjk_font()
    scale = 1000.0 if float(frame["agc_t_ci_high"].abs().max()) >= 10_000 else 1.0
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    for zone, group in frame.groupby("zone", sort=False):
        group = group.sort_values("year")
        code = 0 if zone == "extent" else int(str(zone).split(":")[1])
        colour = "0.2" if zone == "extent" else UNIT_L1_CLASSES.get(code, ("", "", "0.45"))[2]
        label = (names or {}).get(str(zone), str(zone))
        ax.fill_between(group["year"], group["agc_t_ci_low"] / scale,
                        group["agc_t_ci_high"] / scale, color=colour, alpha=0.18, linewidth=0)
        ax.plot(group["year"], group["agc_t"] / scale, color=colour, linewidth=1.6, label=label)
        ax.plot(group["year"], group["mapped_agc_t"] / scale, color=colour, linewidth=0.9,
                linestyle=":")
    ax.set_xlabel(tr("tot.year", lang))
    ax.set_ylabel(tr("tot.axis_kt" if scale > 1 else "tot.axis_t", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=2, title=tr("tot.legend", lang),
              title_fontsize=8)
    fig.tight_layout()
    return figure_png(fig)


def _name(row: Any, lang: Lang) -> str:
    return str(row.zone_zh if lang == "zh" else row.zone_en)


def trend_area_table(areas: pd.DataFrame | None, lang: Lang,
                     layer: str = "trend") -> Table | None:
    """Mapped and error-adjusted areas of the trend categories, or None without them.

    ``layer="cumulative"``: of the cumulative-effect grades (from re-measured plots).
    """
    if areas is None or "layer" not in areas.columns:
        return None
    trend = areas[areas["layer"].astype(str).str.startswith(layer)]
    if trend.empty:
        return None
    rows = [[r.class_zh if lang == "zh" else r.class_en, round(float(r.mapped_area_ha), 1),
             round(float(r.area_ha), 1),
             f"{float(r.area_ha_ci_low):.1f} – {float(r.area_ha_ci_high):.1f}"]
            for r in trend.itertuples()]
    period = str(trend["layer"].iloc[0]).split(" ", 1)[-1]
    method = str(trend["method"].iloc[0])
    note = tr(f"tot.{layer}_areas_note", lang, method=method)
    checked = CHECKED_METHOD.search(method)
    if checked:  # the interpreter's errors corrected from a checked subsample (decision 52)
        note += ("" if lang == "zh" else " ") + tr("tot.trend_checked", lang, n=checked["n"],
                                                    d=checked["d"])
    return Table(pd.DataFrame(rows, columns=[
        tr("tot.category", lang), tr("tot.mapped_area", lang), tr("tot.area_est", lang),
        tr("tot.ci_ha", lang)]), tr(f"tot.{layer}_areas", lang, period=period),
        note=note, source=f"{OUT}area_estimates.csv")


def totals_part(s: Section, totals: pd.DataFrame | None, changes: pd.DataFrame | None,
                info: dict[str, Any] | None, lang: Lang,
                areas: pd.DataFrame | None = None) -> None:
    """Append the chart, the tables and the method paragraph to section ``s``."""
    for layer in ("trend", "cumulative"):
        table = trend_area_table(areas, lang, layer)
        if table is not None:
            s.blocks.append(table)
    if totals is None or totals.empty:
        s.missing.append(tr("tot.missing", lang))
        return
    frame = _level1(totals)
    names = {str(r.zone): _name(r, lang) for r in frame.itertuples()}
    try:
        png = totals_interval_chart(totals, lang=lang, names=names)
        s.blocks.append(Figure(png, tr("tot.chart", lang), source=f"{OUT}totals.csv"))
    except (MinecarbonError, ValueError) as error:
        s.missing.append(tr("figure_failed", lang, what=tr("tot.chart", lang), why=error))
    years = sorted(int(y) for y in frame["year"].unique())
    ref = int((info or {}).get("reference_year") or years[-1])
    shown = list(dict.fromkeys(y for y in (years[0], ref, years[-1]) if y in years))
    rows = []
    for r in frame[frame["year"].isin(shown)].sort_values(["zone", "year"]).itertuples():
        rows.append([_name(r, lang), int(r.year), round(float(r.area_ha), 1),
                     round(float(r.agc_t), DECIMALS),
                     f"{float(r.agc_t_ci_low):.0f} – {float(r.agc_t_ci_high):.0f}",
                     round(float(r.mapped_agc_t), DECIMALS)])
    s.blocks.append(Table(pd.DataFrame(rows, columns=[
        tr("tot.zone", lang), tr("tot.year", lang), tr("tot.area", lang),
        tr("tot.estimate", lang), tr("tot.ci", lang), tr("tot.mapped", lang)]),
        tr("tot.table", lang), note=tr("tot.note", lang), source=f"{OUT}totals.csv"))
    if changes is not None and not changes.empty:
        rows = []
        for r in _level1(changes).itertuples():
            kind = tr("tot.trend", lang) if r.kind != "change" else tr("tot.change", lang)
            rows.append([_name(r, lang), f"{int(r.year_from)}–{int(r.year_to)}", kind,
                         round(float(r.estimate_t), DECIMALS),
                         f"{float(r.ci_low_t):.0f} – {float(r.ci_high_t):.0f}",
                         tr("tot.yes" if r.differs_from_zero else "tot.no", lang)])
        s.blocks.append(Table(pd.DataFrame(rows, columns=[
            tr("tot.zone", lang), tr("tot.period", lang), tr("tot.kind", lang),
            tr("tot.estimate", lang), tr("tot.ci", lang), tr("tot.differs", lang)]),
            tr("tot.change_table", lang), note=tr("tot.change_note", lang),
            source=f"{OUT}change_totals.csv"))
    if info:
        s.blocks.append(Paragraph(tr(
            "tot.method", lang, y=ref, n=info.get("n_plots", "—"),
            k=info.get("min_plots", "—"),
            chg=(tr("tot.chg_pooled", lang) if float(info.get("change_scale_log_sd") or 0.0)
                 > 0.0 and not float(info.get("change_rel_var") or 0.0) else
                 tr("tot.chg_linear", lang,
                    c=f"{100 * float(info.get('change_rel_var', 0.0)) ** 0.5:.0f}")),
            d=f"{100 * float(info.get('systematic_rel_sd', 0.0)):.1f}")))
        sigma = float(info.get("change_scale_log_sd") or 0.0)
        if sigma > 0.0:
            s.blocks.append(Paragraph(tr("tot.method_sft", lang, y=ref,
                                         f=f"{math.exp(sigma):.2f}")))
