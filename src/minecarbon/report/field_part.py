"""Sections 1–4 of the report (guide appendix E): the site, mining, plot layout and plot AGC.

Built into :class:`~minecarbon.report.document.Section` objects by
:func:`minecarbon.report.content.build_report`; a part whose product is missing is left out and
the reason goes to ``Section.missing``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import xarray as xr

from minecarbon.report.document import Lang, Paragraph, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.section_tools import add_figure as _figure
from minecarbon.report.section_tools import area_ha as _area_ha
from minecarbon.report.section_tools import damage_form_name as _form
from minecarbon.report.section_tools import first_year as _first_year
from minecarbon.report.section_tools import forest_type_name as _forest_type
from minecarbon.report.section_tools import have as _have
from minecarbon.report.section_tools import last_year
from minecarbon.report.section_tools import rounded as _r
from minecarbon.report.section_tools import rounding_note as _rounding
from minecarbon.report.section_tools import unit_name as _unit_name
from minecarbon.report.texts import DECIMALS, missing_reason, tr
from minecarbon.report.tls_part import tls_table
from minecarbon.standard.species import model_key_label, model_keys
from minecarbon.types import DamageForm

__all__ = ["DAMAGE_COLOURS", "mining_overlays", "mining_section", "plot_agc_section",
           "plots_layout_section", "site_section"]


# ----------------------------------------------------------------------------- 1 site
def site_section(inputs: ReportInputs, lang: Lang) -> Section:
    """Section 1, the site: extent, period, the level-1 units' areas, the forest and its types."""
    s = Section(tr("sec.site", lang), key="site")
    y0, y1 = _first_year(inputs), last_year(inputs)
    extent_ha = _area_ha(inputs.extent) if _have(s, inputs, lang, "extent") else None
    s.blocks.append(Paragraph(tr(
        "site.intro", lang, name=inputs.project.get("name", "—"), crs=inputs.project.get(
            "crs", "—"), area="—" if extent_ha is None else f"{extent_ha:.{DECIMALS}f}",
        y0=y0, y1=y1)))
    if _have(s, inputs, lang, "unit_areas"):
        assert inputs.unit_areas is not None
        ua = inputs.unit_areas[inputs.unit_areas["level"] == 1]
        areas = {y: ua[ua["year"] == y].set_index("code")["area_ha"] for y in (y0, y1)}
        codes = sorted(set(areas[y0].index) | set(areas[y1].index))
        table: dict[str, list[Any]] = {tr("code", lang): [*codes, ""], tr("unit_l1", lang): [
            *(_unit_name(1, int(c), lang) for c in codes), tr("total", lang)]}
        for y in (y0, y1):
            values = [float(areas[y].get(c, 0.0)) for c in codes]
            table[f"{y} {tr('area_ha', lang)}"] = [_r(v) for v in [*values, sum(values)]]
            if extent_ha:
                table[f"{y} {tr('share_pct', lang)}"] = [
                    _r(100 * v / extent_ha) for v in [*values, sum(values)]]
        s.blocks.append(Table(pd.DataFrame(table), tr("site.units_table", lang, y0=y0, y1=y1),
                              note=_rounding(lang), source="products/units/unit_areas.csv"))
        a0, a1 = float(areas[y0].sum()), float(areas[y1].sum())
        share = [f"{100 * a / extent_ha:.{DECIMALS}f}" if extent_ha else "—" for a in (a0, a1)]
        s.blocks.append(Paragraph(tr("site.forest", lang, y0=y0, y1=y1, a0=f"{a0:.2f}",
                                     a1=f"{a1:.2f}", s0=share[0], s1=share[1])))
    if inputs.plot_agc is not None and "forest_type" in inputs.plot_agc:
        types = sorted({_forest_type(v, lang) for v in inputs.plot_agc["forest_type"].dropna()})
        if types:
            s.blocks.append(Paragraph(tr("site.forest_types", lang,
                                         types=("、" if lang == "zh" else ", ").join(types))))
    if _have(s, inputs, lang, "units_l1"):
        from minecarbon.report import maps

        assert inputs.units_l1 is not None
        units_l1 = inputs.units_l1
        overlays = [(g, {"edgecolor": c, "linewidth": w, "label": tr(f"lg.{k}", lang)})
                    for k, g, c, w in (("boundary", inputs.boundary, "black", 1.2),
                                       ("extent", inputs.extent, "0.3", 0.8)) if g is not None]
        caption = tr("site.map", lang, y=y1)
        _figure(s, lang, caption, f"products/units/units_l1_{y1}.tif", lambda: maps.map_figure(
            units_l1, title=caption, lang=lang, kind="classes", classes=maps.UNIT_L1_CLASSES,
            overlays=overlays))
    return s


# ----------------------------------------------------------------------------- 2 mining
def mining_section(inputs: ReportInputs, lang: Lang) -> Section:
    """Section 2, mining: the damage forms, their areas and years, and the map of them."""
    s = Section(tr("sec.mining", lang), key="mining")
    if _have(s, inputs, lang, "damage"):
        assert inputs.damage is not None
        d = inputs.damage.assign(area_ha=inputs.damage.geometry.area / 1e4)
        g = d.groupby("form", sort=True).agg(n=("area_ha", "size"), area=("area_ha", "sum"),
                                             y0=("year", "min"), y1=("year", "max"))
        s.blocks.append(Table(pd.DataFrame({
            tr("mining.form", lang): [_form(f, lang) for f in g.index],
            tr("mining.n", lang): g["n"].astype(int).to_list(),
            tr("area_ha", lang): [_r(a) for a in g["area"]],
            tr("mining.first", lang): g["y0"].astype(int).to_list(),
            tr("mining.last", lang): g["y1"].astype(int).to_list()}),
            tr("mining.damage_table", lang), note=_rounding(lang), source="raw/damage"))
    for key in ("plan", "reclamation"):
        frame = getattr(inputs, key)
        if _have(s, inputs, lang, key) and len(frame):
            s.blocks.append(Paragraph(tr(
                f"mining.{key}", lang, n=len(frame), area=f"{_area_ha(frame):.{DECIMALS}f}",
                y0=int(frame["year"].min()), y1=int(frame["year"].max()))))
    grid = next((g for g in (inputs.units_l1, inputs.units_l2) if g is not None), None)
    if grid is None:
        s.missing.append(missing_reason(inputs, "units_l1", lang))
    else:
        from minecarbon.report import maps

        blank = xr.zeros_like(grid).rename("mining")
        overlays = mining_overlays(inputs, lang)
        caption = tr("mining.map", lang)
        _figure(s, lang, caption, "raw/damage raw/plan raw/reclamation", lambda: maps.map_figure(
            blank, title=caption, lang=lang, kind="classes", classes={1: ("", "", "none")},
            overlays=overlays))
    return s


# ----------------------------------------------------------------------------- 3 plot layout
#: Fill colours of the damage forms on the mining map (distinct from plan and reclamation).
DAMAGE_COLOURS = {DamageForm.EXCAVATION: "#a50f15", DamageForm.SUBSIDENCE: "#fb6a4a",
                  DamageForm.OCCUPATION: "#6a51a3"}


def mining_overlays(inputs: ReportInputs, lang: Lang) -> list[tuple[Any, dict[str, Any]]]:
    """The mining map's layers: extent, boundary, damage by form, plan, reclamation.

    Damage is filled, one colour per form; plan is a dashed outline and reclamation a hatch,
    so that where they lie on damaged land (they do: reclamation follows damage) each keeps the
    look of its legend entry instead of blending with the fill below.
    """
    out: list[tuple[Any, dict[str, Any]]] = []
    for key, style in (("extent", {"edgecolor": "0.3", "linewidth": 0.8}),
                       ("boundary", {"edgecolor": "black", "linewidth": 1.2})):
        if getattr(inputs, key) is not None:
            out.append((getattr(inputs, key), {**style, "label": tr(f"lg.{key}", lang)}))
    damage = inputs.damage
    if damage is not None and len(damage):
        forms = damage["form"].map(lambda v: _form(v, "en"))
        for form, colour in DAMAGE_COLOURS.items():
            part = damage[forms == form.en]
            if len(part):
                out.append((part, {"facecolor": colour, "alpha": 0.75, "edgecolor": colour,
                                   "linewidth": 0.4, "label": f"{tr('lg.damage', lang)}"
                                   f"{'－' if lang == 'zh' else ' – '}{_form(form.en, lang)}"}))
        other = damage[~forms.isin([f.en for f in DAMAGE_COLOURS])]
        if len(other):
            out.append((other, {"facecolor": "0.5", "alpha": 0.75, "edgecolor": "0.3",
                                "label": tr("lg.damage", lang)}))
    if inputs.plan is not None:
        out.append((inputs.plan, {"facecolor": "none", "edgecolor": "#e6550d", "linewidth": 1.3,
                                  "linestyle": "--", "label": tr("lg.plan", lang)}))
    if inputs.reclamation is not None:
        out.append((inputs.reclamation, {"facecolor": "none", "edgecolor": "#08519c",
                                         "hatch": "////", "linewidth": 0.8,
                                         "label": tr("lg.reclamation", lang)}))
    return out


def plots_layout_section(inputs: ReportInputs, lang: Lang) -> Section:
    """Section 3, plot layout: plots per unit against the guide's minimum, and their map."""
    s = Section(tr("sec.plots_layout", lang), key="plots_layout")
    p = inputs.project
    buffer, pixel = (f"{p[k]:g}" if p.get(k) is not None else "—"
                     for k in ("buffer_m", "pixel_size_m"))
    s.blocks.append(Paragraph(tr("layout.intro", lang, buffer=buffer, pixel=pixel,
                                 crs=p.get("crs", "—"))))
    y1 = last_year(inputs)
    need = int(p.get("min_plots_per_unit", 3))
    if _have(s, inputs, lang, "unit_areas", "plot_units"):
        assert inputs.unit_areas is not None and inputs.plot_units is not None
        ua = inputs.unit_areas[inputs.unit_areas["year"] == y1].sort_values(["level", "code"])
        pu = inputs.plot_units
        rows = []
        for rec in ua.itertuples():
            column = "unit_l1" if rec.level == 1 else "unit_l2"
            n = int((pu[column] == rec.code).sum())
            rows.append([int(rec.level), int(rec.code), _unit_name(int(rec.level),
                         int(rec.code), lang), _r(rec.area_ha), n, "✓" if n >= need else "✗"])
        s.blocks.append(Table(pd.DataFrame(rows, columns=[
            tr("layout.level", lang), tr("code", lang), tr("unit", lang), tr("area_ha", lang),
            tr("layout.plots", lang), tr("layout.required", lang, n=need)]),
            tr("layout.table", lang, y=y1), note=_rounding(lang),
            source="products/units/unit_areas.csv products/units/plot_units.csv"))
    if _have(s, inputs, lang, "units_l2"):
        from minecarbon.report import maps

        assert inputs.units_l2 is not None
        units_l2 = inputs.units_l2
        codes = None if inputs.unit_areas is None else [
            int(c) for c in inputs.unit_areas.query("level == 2 and year == @y1")["code"]]
        points = None if inputs.plots is None else (
            inputs.plots, {"label": tr("lg.plots", lang)})
        caption = tr("layout.map", lang)
        _figure(s, lang, caption, f"products/units/units_l2_{y1}.tif", lambda: maps.map_figure(
            units_l2, title=caption, lang=lang, kind="classes",
            classes=maps.unit_l2_classes(codes), points=points))
    return s


# ----------------------------------------------------------------------------- 4 plot AGC
def plot_agc_section(inputs: ReportInputs, lang: Lang) -> Section:
    """Section 4, plot AGC: the plots' carbon by type or unit, the models used, TLS checks."""
    s = Section(tr("sec.plot_agc", lang), key="plot_agc")
    if not _have(s, inputs, lang, "plot_agc"):
        return s
    assert inputs.plot_agc is not None
    frame = inputs.plot_agc.assign(ci=inputs.plot_agc["agc_ci_high"]
                                   - inputs.plot_agc["agc_ci_low"])
    heads = [tr(k, lang) for k in ("plot.n", "plot.mean", "plot.min", "plot.max", "plot.ci")]
    for by, title in (("forest_type", "plot.by_type"), ("unit_l1", "plot.by_unit")):
        g = frame.assign(**{by: frame[by].fillna("")}).groupby(by, sort=True).agg(
            n=("agc_t_per_ha", "size"), mean=("agc_t_per_ha", "mean"),
            min=("agc_t_per_ha", "min"), max=("agc_t_per_ha", "max"), ci=("ci", "mean"))
        table = pd.DataFrame({tr("plot.forest_type" if by == "forest_type" else "unit_l1",
                                 lang): [
            _forest_type(v, lang) if by == "forest_type" else _unit_name(1, int(v), lang)
            for v in g.index]})
        table[heads[0]] = g["n"].astype(int).to_list()
        for head, col in zip(heads[1:], ("mean", "min", "max", "ci"), strict=True):
            table[head] = [_r(v) for v in g[col]]
        s.blocks.append(Table(table, tr(title, lang), note=_rounding(lang),
                              source="products/plots/plot_agc.csv"))
    if "model_table" in frame:
        names = sorted({str(v) for v in frame["model_table"].dropna()})
        s.blocks.append(Paragraph(tr("plot.models", lang, names="; ".join(names))))
    used = (inputs.allometry_report or {}).get("models")
    if used:
        s.blocks.append(Table(_models_used(pd.DataFrame(used), lang),
                              tr("plot.models_table", lang), note=tr("plot.models_note", lang),
                              source="products/plots/allometry_report.json"))
    together = ((inputs.assessment_summary or {}).get("totals") or {}).get("systematic_rel_sd")
    if "agc_systematic_sd_rel" in frame and together is not None:
        per_plot = frame.loc[frame["agc_t_per_ha"] > 0, "agc_systematic_sd_rel"]
        s.blocks.append(Paragraph(tr(
            "plot.systematic", lang, s=f"{100 * float(per_plot.mean()):.1f}",
            t=f"{100 * float(together):.1f}")))
    if inputs.tls_validation:
        s.blocks.append(tls_table(inputs.tls_validation, lang))
    return s


def _models_used(models: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The plots' biomass models, their shares of the carbon and their systematic errors."""
    groups = [model_key_label(str(k)) if str(k) in model_keys() else str(k)
              for k in models["species_key"]]
    return pd.DataFrame({
        tr("plot.model", lang): models["model_id"].astype(str).to_list(),
        tr("plot.model_group", lang): groups,
        tr("plot.model_trees", lang): models["n_trees"].astype(int).to_list(),
        tr("plot.model_share", lang): [_r(100 * float(v)) for v in models["agc_share"]],
        tr("plot.model_sd", lang): [_r(100 * float(v)) for v in models["model_sd_rel"]],
        tr("plot.model_sd_source", lang): [tr(f"plot.sd.{v}", lang)
                                           for v in models["sd_source"]],
    })
