"""The models section's account of the choices (issue 18): which model each stratum uses and why.

From ``products/models/model_card.json``: a table of every stratum — the model it uses, whether
its own or the pooled one and why (the card's note: too few plots, or the pooled model predicted
its plots better), its plots and the tuned hyper-parameters — and a paragraph on how the
features were selected and the models compared (selector, its parameters, the folds of the
nested cross-validation, the selection rule).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from minecarbon.report.charts import POOLED, model_label, stratum_label
from minecarbon.report.document import Lang, Paragraph, Table
from minecarbon.report.texts import tr

#: Selector methods of the modelling config, in words.
SELECTORS: dict[str, tuple[str, str]] = {
    "correlation": ("相关系数排序并剔除共线变量", "ranking by correlation, dropping collinear "
                    "features"),
    "pca": ("主成分分析降维", "principal components"),
    "rf_importance": ("随机森林重要性排序", "random-forest importance ranking"),
    "none": ("不筛选（全部特征）", "none (all features)"),
}


def _params(params: dict[str, Any] | None) -> str:
    if not params:
        return "—"
    return ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                     for k, v in sorted(params.items()))


def model_choice_table(card: dict[str, Any], lang: Lang) -> Table:
    """Every stratum's model: kind, own or pooled and why, plots, hyper-parameters."""
    pooled = card.get("pooled") or {}
    rows = [[stratum_label(POOLED, lang), model_label(str(pooled.get("model", "—")), lang),
             tr("mc.own", lang), pooled.get("n_plots", "—"), _params(pooled.get("params")),
             "—"]]
    for stratum, entry in (card.get("strata") or {}).items():
        own = entry.get("source", "own") == "own"
        params = entry.get("params") if own else pooled.get("params")
        rows.append([stratum_label(str(stratum), lang),
                     model_label(str(entry.get("model", "—")), lang),
                     tr("mc.own" if own else "mc.pooled", lang), entry.get("n_plots", "—"),
                     _params(params), str(entry.get("note") or "—")])
    frame = pd.DataFrame(rows, columns=[tr(f"mc.{c}", lang) for c in (
        "stratum", "model", "source", "plots", "params", "why")])
    return Table(frame, tr("mc.table", lang), note=tr("mc.note", lang),
                 source="products/models/model_card.json")


def selection_paragraph(card: dict[str, Any], lang: Lang) -> Paragraph:
    """How features were selected and models compared."""
    settings = card.get("settings") or {}
    method = str(settings.get("selector_method", "—"))
    words = SELECTORS.get(method)
    selector = words[0 if lang == "zh" else 1] if words else method
    return Paragraph(tr(
        "mc.selection", lang, selector=selector,
        params=_params(settings.get("selector_params")),
        kinds=", ".join(model_label(str(k), lang) for k in settings.get("kinds") or []),
        outer=settings.get("k_folds", "—"), inner=settings.get("inner_folds", "—"),
        n=settings.get("n_plots_used", "—"), rule=str(card.get("selection_rule", "—"))))
