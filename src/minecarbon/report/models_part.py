"""Sections 5–6 of the report (guide appendix E): the AGC models and the annual inversion.

Built into :class:`~minecarbon.report.document.Section` objects by
:func:`minecarbon.report.content.build_report`; a part whose product is missing is left out and
the reason goes to ``Section.missing``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from minecarbon.mapping.calibration import SOURCE_ONE_SURVEY
from minecarbon.report.charts import model_label, stratum_label
from minecarbon.report.document import Lang, Paragraph, Section, Table
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.model_choice import model_choice_table, selection_paragraph
from minecarbon.report.remote_sensing import remote_sensing_part
from minecarbon.report.section_tools import add_figure as _figure
from minecarbon.report.section_tools import first_year as _first_year
from minecarbon.report.section_tools import forest_type_name as _forest_type
from minecarbon.report.section_tools import have as _have
from minecarbon.report.section_tools import last_year
from minecarbon.report.section_tools import rounded as _r
from minecarbon.report.section_tools import rounding_note as _rounding
from minecarbon.report.section_tools import unit_name as _unit_name
from minecarbon.report.texts import DECIMALS, METRIC_DECIMALS, TEXTS, tr

__all__ = ["cv_table", "inversion_section", "level1_totals", "models_section"]


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


def models_section(inputs: ReportInputs, lang: Lang) -> Section:
    """Section 5, AGC models: cross-validated accuracy, the features and the model chosen."""
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


def inversion_section(inputs: ReportInputs, lang: Lang) -> Section:
    """Section 6, inversion: the remote-sensing data, the annual maps and their totals."""
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
    smoothing = (calibration or {}).get("change_smoothing") or {}
    if smoothing.get("applied"):
        s.blocks.append(Paragraph(tr(
            "inv.change_smoothing", lang, w=smoothing["window_px"],
            y=smoothing["reference_year"], n=smoothing["stable_forest_pixels"],
            k=smoothing.get("borrowed_change_pixels_kept", 0),
            share=f"{100 * float(smoothing['stable_share_of_last_year_forest']):.0f}")))
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
