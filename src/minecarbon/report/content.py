"""The report's content after the guide's appendix E, filled from the products in memory.

:func:`build_report` writes the eight sections of the outline and the data appendix into a
neutral :class:`~minecarbon.report.document.Report`. Each section reads only what it needs from
:class:`~minecarbon.report.inputs.ReportInputs`; a part whose product is missing is left out
and the reason goes to ``Section.missing`` (the renderers print it), so a partial workspace gives
a partial report, never a crash. Table numbers are the product values rounded for display only
(each table's note states the rounding). The remote-sensing data part that opens
section 6 is built in :mod:`minecarbon.report.remote_sensing`, sections 7–8 in
:mod:`minecarbon.report.suggestions` and the appendix in :mod:`minecarbon.report.appendix`.
Where each number comes from is in ``docs/report.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.errors import MinecarbonError
from minecarbon.mapping.calibration import SOURCE_ONE_SURVEY
from minecarbon.report.appendix import appendix_section
from minecarbon.report.assessment_part import assessment_section
from minecarbon.report.charts import model_label, stratum_label
from minecarbon.report.document import Figure, Lang, Paragraph, Report, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.model_choice import model_choice_table, selection_paragraph
from minecarbon.report.remote_sensing import remote_sensing_part
from minecarbon.report.suggestions import last_year, suggestions_section
from minecarbon.report.texts import DECIMALS, METRIC_DECIMALS, TEXTS, missing_reason, pick, tr
from minecarbon.report.tls_part import tls_table
from minecarbon.scope.units import unit_names
from minecarbon.standard.species import model_key_label, model_keys
from minecarbon.types import DamageForm, ForestType

__all__ = ["DECIMALS", "METRIC_DECIMALS", "build_report", "cv_table", "level1_totals"]



def _r(value: Any, d: int = DECIMALS) -> float:
    return round(float(value), d)


def _first_year(inputs: ReportInputs) -> int | None:
    if inputs.project.get("first_year") is not None:
        return int(inputs.project["first_year"])
    if inputs.agc is not None and "year" in inputs.agc.coords:
        return int(inputs.agc["year"].min())
    if inputs.unit_areas is not None and len(inputs.unit_areas):
        return int(inputs.unit_areas["year"].min())
    return None


def _have(section: Section, inputs: ReportInputs, lang: Lang, *products: str) -> bool:
    """Whether every product is present; the reasons of those that are not go to ``missing``."""
    ok = True
    for product in products:
        value = getattr(inputs, product)
        if value is None or (isinstance(value, dict) and not value):
            section.missing.append(missing_reason(inputs, product, lang))
            ok = False
    return ok


def _figure(section: Section, lang: Lang, caption: str, source: str,
            draw: Callable[[], bytes]) -> None:
    """Append the figure ``draw()`` makes, or the reason it could not be drawn."""
    try:
        png = draw()
    except (MinecarbonError, ValueError, ImportError) as error:
        section.missing.append(tr("figure_failed", lang, what=caption, why=error))
        return
    section.blocks.append(Figure(png, caption, source=source))


def _area_ha(frame: Any) -> float:
    return float(frame.geometry.area.sum()) / 1e4


def _unit_name(level: int, code: int, lang: Lang) -> str:
    if code == 0:
        return tr("outside_units", lang)
    return pick(unit_names(level, code), lang)


def _form(value: Any, lang: Lang) -> str:
    text = str(value).strip().lower()
    for form in DamageForm:
        if text in (form.en, form.zh, form.name.lower(), str(int(form))):
            return pick((form.zh, form.en), lang)
    return str(value)


def _forest_type(value: Any, lang: Lang) -> str:
    if not isinstance(value, str) or not value:
        return tr("plot.no_type", lang)
    for ft in ForestType:
        if value.strip().lower() in (ft.en, ft.zh, ft.name.lower()):
            return pick((ft.zh, ft.en), lang)
    return value


def _rounding(lang: Lang, d: int | str = DECIMALS) -> str:
    return tr("rounding", lang, d=d)


# ----------------------------------------------------------------------------- 1 site
def _site(inputs: ReportInputs, lang: Lang) -> Section:
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
def _mining(inputs: ReportInputs, lang: Lang) -> Section:
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


def _plots_layout(inputs: ReportInputs, lang: Lang) -> Section:
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
def _plot_agc(inputs: ReportInputs, lang: Lang) -> Section:
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


# ----------------------------------------------------------------------------- 5 models
def cv_table(cv_results: pd.DataFrame, chosen: dict[str, str], lang: Lang = "zh") -> pd.DataFrame:
    """Mean over the outer folds of R², RMSE, MAE, relative RMSE and bias per stratum × model.

    R² to :data:`METRIC_DECIMALS` decimals, the others to :data:`DECIMALS`; ``chosen``
    (stratum → model kind, from the model card) is marked ``*``.
    """
    metrics = [m for m in ("r2", "rmse", "mae", "rrmse_pct", "bias") if m in cv_results]
    g = cv_results.groupby(["stratum", "model"], sort=False)
    mean = g[metrics].mean()
    folds = g.size()
    heads = {"r2": "models.r2", "rmse": "models.rmse", "mae": "models.mae",
             "rrmse_pct": "models.rrmse", "bias": "models.bias"}
    rows = []
    for (stratum, model), values in mean.iterrows():
        rows.append([stratum_label(str(stratum), lang), model_label(str(model), lang),
                     int(folds[(stratum, model)]),
                     *(_r(values[m], METRIC_DECIMALS if m == "r2" else DECIMALS)
                       for m in metrics), "*" if chosen.get(str(stratum)) == model else ""])
    return pd.DataFrame(rows, columns=[tr("models.stratum", lang), tr("models.model", lang),
                                       tr("models.folds", lang),
                                       *(tr(heads[m], lang) for m in metrics),
                                       tr("models.chosen", lang)])


def _chosen(card: dict[str, Any] | None) -> dict[str, str]:
    if not card:
        return {}
    out = {str(k): str(v["model"]) for k, v in (card.get("strata") or {}).items()
           if isinstance(v, dict) and v.get("source", "own") == "own" and "model" in v}
    if isinstance(card.get("pooled"), dict) and "model" in card["pooled"]:
        out["(pooled)"] = str(card["pooled"]["model"])
    return out


def _models(inputs: ReportInputs, lang: Lang) -> Section:
    s = Section(tr("sec.models", lang), key="models")
    chosen = _chosen(inputs.model_card)
    if _have(s, inputs, lang, "cv_results"):
        assert inputs.cv_results is not None
        s.blocks.append(Table(cv_table(inputs.cv_results, chosen, lang),
                              tr("models.cv_table", lang),
                              note=_rounding(lang, f"{DECIMALS} (R²: {METRIC_DECIMALS})"),
                              source="products/models/cv_results.csv"))
    if _have(s, inputs, lang, "model_card"):
        assert inputs.model_card is not None
        card = inputs.model_card
        s.blocks.append(selection_paragraph(card, lang))
        s.blocks.append(model_choice_table(card, lang))
        entries = [("(pooled)", card.get("pooled")), *(card.get("strata") or {}).items()]
        for stratum, entry in entries:
            if isinstance(entry, dict) and entry.get("source", "own") == "own" \
                    and entry.get("metrics_oof"):
                m = entry["metrics_oof"]
                s.blocks.append(Paragraph(tr(
                    "models.accuracy", lang, stratum=stratum_label(stratum, lang),
                    model=model_label(str(entry["model"]), lang), r2=f"{m['r2']:.3f}",
                    rmse=f"{m['rmse']:.2f}", rrmse=f"{m.get('rrmse_pct', np.nan):.1f}",
                    bias=f"{m.get('bias', np.nan):.2f}", n=entry.get("n_plots", "—"))))
    if _have(s, inputs, lang, "selected_features"):
        assert inputs.selected_features is not None
        sf = inputs.selected_features
        final = sf[sf["in_final_model"].astype(str).str.lower() == "true"].sort_values(
            ["stratum", "model", "rank"], kind="stable")
        table = final.groupby(["stratum", "model"], sort=False)["feature"].agg(", ".join)
        s.blocks.append(Table(pd.DataFrame({
            tr("models.stratum", lang): [stratum_label(str(k[0]), lang) for k in table.index],
            tr("models.model", lang): [model_label(str(k[1]), lang) for k in table.index],
            tr("models.features", lang): table.to_list()}), tr("models.features_table", lang),
            source="products/models/selected_features.csv"))
    from minecarbon.report import charts

    if inputs.cv_results is not None:
        cv = inputs.cv_results
        _figure(s, lang, tr("models.comparison", lang), "products/models/cv_results.csv",
                lambda: charts.model_comparison_chart(cv, lang=lang, chosen=chosen))
    if _have(s, inputs, lang, "oof_predictions"):
        oof = inputs.oof_predictions
        assert oof is not None
        _figure(s, lang, tr("models.obs_pred", lang), "products/models/oof_predictions.csv",
                lambda: charts.observed_predicted_chart(oof, lang=lang))
    if _have(s, inputs, lang, "accuracy"):
        assert inputs.accuracy is not None
        rows = [[tr(f"acc.{k}", lang), int(v.get("n", 0)), _r(v["overall_accuracy"], 3),
                 _r(v["kappa"], 3)] for k, v in inputs.accuracy.items()
                if isinstance(v, dict) and "overall_accuracy" in v and f"acc.{k}" in _ACC]
        series = inputs.accuracy.get("landcover", {}).get("series", {})
        note = _rounding(lang, METRIC_DECIMALS)
        if "held_out" in series:  # the published series against the random samples
            held = series["held_out"]
            rows.insert(1, [tr("acc.landcover_series", lang), int(held.get("n", 0)),
                            _r(held["overall_accuracy"], 3), _r(held["kappa"], 3)])
        if series.get("forest_area_calibration") == "made":
            note = tr("models.forest_calibration", lang).format(
                w=_r(series["forest_weight"], 2),
                before=_r(series["forest_share_series_unweighted"], 3),
                after=_r(series["forest_share_series"], 3),
                est=_r(series["forest_share_estimated"], 3),
                se=_r(series["forest_share_estimated_se"], 3)) + " " + note
        if inputs.accuracy.get("landcover", {}).get("held_out_by_location"):
            note = tr("models.held_out_by_place", lang) + " " + note
        s.blocks.append(Table(pd.DataFrame(rows, columns=[tr(f"models.{c}", lang) for c in (
            "product", "n", "oa", "kappa")]), tr("models.class_table", lang), note=note,
            source="products/classification/accuracy.json"))
    return s


_ACC = ("acc.landcover", "acc.leaf_habit", "acc.species")


# ----------------------------------------------------------------------------- 6 inversion
def level1_totals(agc_totals: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """AGC totals (t C) per level-1 unit (rows, code 0 = forest outside the units) and year."""
    frame = agc_totals.assign(unit_l1=agc_totals["unit_l2"].astype(int) // 10)
    wide = frame.pivot_table(index="unit_l1", columns="year", values="agc_t", aggfunc="sum",
                             fill_value=0.0)
    return wide.reindex(columns=years, fill_value=0.0)


def _inversion(inputs: ReportInputs, lang: Lang) -> Section:
    s = Section(tr("sec.inversion", lang), key="inversion")
    remote_sensing_part(s, inputs, lang)  # the data the annual maps come from
    y0, y1 = _first_year(inputs), last_year(inputs)
    if _have(s, inputs, lang, "agc"):
        from minecarbon.report import maps

        assert inputs.agc is not None
        agc = inputs.agc
        available = [int(y) for y in agc["year"].values]
        for y in dict.fromkeys(y for y in (y0, y1) if y in available):
            caption = tr("inv.map", lang, y=y)
            layer = agc.sel(year=y, drop=True).rename(f"agc_{y}")
            _figure(s, lang, caption, f"products/agc/agc_{y}.tif",
                    partial(maps.map_figure, layer, title=caption, lang=lang, units="t C/ha"))
    calibration = inputs.agc_calibration
    if calibration and calibration.get("temporal_fit") and "reference_year" in calibration:
        offsets = "; ".join(f"{_forest_type(k, lang) if k != '(all plots)' else k} "
                            f"{float(v):+.2f} t C/ha"
                            for k, v in (calibration.get("residual_offsets_t_per_ha")
                                         or {}).items()) or "—"
        s.blocks.append(Paragraph(tr(
            "inv.temporal", lang, y=calibration["reference_year"],
            b=f"{float(calibration['attenuation']):.3f}" + (
                tr("inv.b_se", lang, se=f"{float(calibration['attenuation_se']):.3f}")
                if calibration.get("attenuation_se") is not None else ""),
            source=(tr(f"inv.src.{calibration['source']}", lang)
                    if f"inv.src.{calibration.get('source')}" in TEXTS
                    else str(calibration.get("source", ""))),
            n=calibration.get("n_plots", "—"), offsets=offsets,
            basis=tr("inv.basis.map" if str(calibration.get("residual_offsets_basis", ""))
                     .startswith("map") else "inv.basis.plots", lang))))
        if calibration.get("source") == SOURCE_ONE_SURVEY:
            check = calibration.get("space_for_time") or {}
            if check.get("applied"):
                pooled = check.get("pooled") or {}
                key = ("inv.sft.sign" if not pooled else "inv.sft.pooled"
                       if check.get("applied_to_maps") else "inv.sft.checked"
                       if check.get("differ") else "inv.sft.agree")
                how = tr(key, lang, f=f"{float(check.get('change_factor', 1.0)):.2f}",
                         w=f"{100 * float(pooled.get('weight_features', 0.0)):.0f}",
                         p=f"{float(pooled.get('p_value', 1.0)):.3f}")
                s.blocks.append(Paragraph(tr(
                    "inv.space_for_time_check", lang, n=check["n_features"],
                    px=check["pixels"], ratio=f"{float(check['ratio']):.2f}", how=how)))
            else:
                s.blocks.append(Paragraph(tr("inv.space_for_time", lang)))
    borrowed = (calibration or {}).get("synthetic_change") or {}
    if borrowed.get("applied"):
        sep = "、" if lang == "zh" else ", "
        growth = borrowed["growth_index"]
        first = min(growth, key=int)
        s.blocks.append(Paragraph(tr(
            "inv.synthetic_change", lang,
            types=sep.join(_forest_type(k, lang) for k in borrowed["strata"]),
            r2=sep.join(f"{float(v['oof_r2']):.2f}" for v in borrowed["strata"].values()),
            n=borrowed["donor_pixels"], first=first, y=borrowed["reference_year"],
            g=f"{float(growth[first]):.2f}")))
    units = (calibration or {}).get("unit_ratios") or {}
    if units.get("applied"):
        sep = "；" if lang == "zh" else "; "
        ratios = sep.join(f"{_unit_name(1, int(k), lang)} ×{float(v['ratio']):.3f}"
                          for k, v in units["units"].items())
        s.blocks.append(Paragraph(tr("inv.unit_ratios", lang, y=units["reference_year"],
                                     ratios=ratios, pooled=f"{float(units['pooled_ratio']):.3f}")))
    if _have(s, inputs, lang, "agc_totals"):
        from minecarbon.report import charts

        assert inputs.agc_totals is not None
        totals = inputs.agc_totals
        names = {int(c): _unit_name(1, int(c), lang)
                 for c in (totals["unit_l2"].astype(int) // 10).unique()}
        _figure(s, lang, tr("inv.totals_chart", lang), "products/agc/agc_totals.csv",
                lambda: charts.totals_chart(totals, lang=lang, names=names))
        base = list(inputs.project.get("base_years") or (inputs.assessment_summary or {}).get(
            "base_years") or [])
        years = list(dict.fromkeys(y for y in (y0, max(base) if base else None, y1)
                                   if y is not None))
        wide = level1_totals(totals, years)
        table = pd.DataFrame({tr("code", lang): [*wide.index.astype(int), ""],
                              tr("unit_l1", lang): [*(_unit_name(1, int(c), lang)
                                                      for c in wide.index), tr("total", lang)]})
        for y in years:
            head = tr("inv.base_end", lang, y=y) if base and y == max(base) and y not in (
                y0, y1) else str(y)
            table[head] = [_r(v) for v in [*wide[y], wide[y].sum()]]
        s.blocks.append(Table(table, tr("inv.totals_table", lang), note=_rounding(lang),
                              source="products/agc/agc_totals.csv"))
    return s


# ----------------------------------------------------------------------------- the report
def build_report(inputs: ReportInputs, lang: Lang = "zh", *, today: str | None = None) -> Report:
    """The whole report: sections 1–8 of the guide's appendix E and the data appendix.

    Parameters
    ----------
    inputs
        The workspace's products in memory (any may be missing).
    lang
        ``"zh"`` (default) or ``"en"``.
    today
        The report's date (ISO); default today.

    Returns
    -------
    Report
        Sections keyed ``site, mining, plots_layout, plot_agc, models, inversion, assessment,
        suggestions, appendix``; each lists in ``missing`` what it could not write and why.

    """
    sections = [_site(inputs, lang), _mining(inputs, lang), _plots_layout(inputs, lang),
                _plot_agc(inputs, lang), _models(inputs, lang), _inversion(inputs, lang),
                assessment_section(inputs, lang), suggestions_section(inputs, lang),
                appendix_section(inputs, lang)]
    return Report(title=tr("title", lang), subtitle=str(inputs.project.get("name", "")),
                  lang=lang, date=today or date.today().isoformat(), sections=sections)
