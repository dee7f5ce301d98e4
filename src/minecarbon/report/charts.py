"""Report charts: AGC totals per unit over time, model comparison, observed against predicted.

Each function takes a product table (as written by the pipeline) and returns the PNG bytes of
one chart, with Chinese (``lang="zh"``) or English labels. The colours of the level-1 units are
those of the maps (:data:`minecarbon.report.maps.UNIT_L1_CLASSES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from minecarbon.errors import InputDataError
from minecarbon.modeling.evaluation import bias, r2, rmse
from minecarbon.report.document import Lang
from minecarbon.report.fonts import use_cjk_font
from minecarbon.report.maps import UNIT_L1_CLASSES, figure_png
from minecarbon.scope.units import unit_names
from minecarbon.types import ForestType

#: Display names of the models: kind → (Chinese, English).
MODEL_LABELS: dict[str, tuple[str, str]] = {
    "svr": ("支持向量回归 SVR", "SVR"),
    "rf": ("随机森林 RF", "random forest"),
    "gbdt": ("梯度提升树 GBDT", "GBDT"),
    "xgboost": ("XGBoost", "XGBoost"),
}
#: Lowest R² drawn: bars of strata whose folds score worse are cut there and labelled.
R2_FLOOR = -1.0
#: Name of the pooled stratum in the models' tables.
POOLED = "(pooled)"

_MODEL_COLOURS = ("#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#9c755f")
_STRATUM_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d")

_TEXT = {
    "zh": {
        "year": "年份", "agc_t": "地上碳储量 (t C)", "agc_kt": "地上碳储量 (10³ t C)",
        "totals": "各监测评估单元森林地上碳储量", "stratum": "分层", "r2": "交叉验证 R²",
        "rmse": "交叉验证 RMSE (t C/ha)", "chosen": "优选模型", "pooled": "合并建模",
        "spread": "误差线：各折标准差", "observed": "样地实测 AGC (t C/ha)",
        "predicted": "交叉验证预测 AGC (t C/ha)", "one_to_one": "1:1 线", "bias": "偏差",
        "n": "样地数", "clipped": "R² 轴截断于 {floor:g}，柱内数字为均值",
    },
    "en": {
        "year": "Year", "agc_t": "Above-ground carbon (t C)",
        "agc_kt": "Above-ground carbon (10³ t C)", "totals": "Forest AGC per assessment unit",
        "stratum": "Stratum", "r2": "Cross-validated R²", "rmse": "Cross-validated RMSE (t C/ha)",
        "chosen": "chosen model", "pooled": "pooled", "spread": "error bars: s.d. over folds",
        "observed": "Observed plot AGC (t C/ha)",
        "predicted": "Out-of-fold predicted AGC (t C/ha)", "one_to_one": "1:1 line",
        "bias": "bias", "n": "plots",
        "clipped": "R² axis cut at {floor:g}; numbers in bars are the means",
    },
}


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str, fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(f"{what} has no column(s) {missing}", fix=fix)
    if frame.empty:
        raise InputDataError(f"{what} is empty", fix=fix)


def stratum_label(stratum: str, lang: Lang = "zh") -> str:
    """Display name of a model stratum: a forest type's label, or the pooled model."""
    if stratum == POOLED:
        return _TEXT[lang]["pooled"]
    for forest_type in ForestType:
        if stratum.lower() in (forest_type.name.lower(), forest_type.en):
            return forest_type.zh if lang == "zh" else forest_type.en
    return stratum


def model_label(kind: str, lang: Lang = "zh") -> str:
    """Display name of a model kind (``rf`` → ``随机森林 RF`` / ``random forest``)."""
    labels = MODEL_LABELS.get(kind)
    return kind if labels is None else labels[0 if lang == "zh" else 1]


def totals_by_l1(totals: pd.DataFrame) -> pd.DataFrame:
    """AGC totals (t C) per year (rows) and level-1 unit (columns): level-2 summed by code // 10.

    ``totals`` is ``products/agc/agc_totals.csv`` (``year, unit_l2, agc_t``). A unit absent in a
    year holds 0 t C there.
    """
    _require(totals, ("year", "unit_l2", "agc_t"), "the AGC totals table",
             "give products/agc/agc_totals.csv (year, unit_l2, agc_t)")
    frame = totals.assign(unit_l1=totals["unit_l2"].astype(int) // 10,
                          year=totals["year"].astype(int))
    wide = frame.pivot_table(index="year", columns="unit_l1", values="agc_t", aggfunc="sum",
                             fill_value=0.0)
    return wide.sort_index().sort_index(axis=1)


def totals_chart(totals: pd.DataFrame, *, lang: Lang = "zh",
                 names: Mapping[int, str] | None = None) -> bytes:
    """Line chart of the AGC totals (t C) of every level-1 unit over the years, as PNG bytes.

    Parameters
    ----------
    totals
        ``agc_totals.csv``: ``year, unit_l2, agc_t`` (level-2 totals, summed per level-1 unit).
    lang
        ``"zh"`` or ``"en"``.
    names
        Level-1 code → line label (default: the unit's name, :func:`unit_names`). Code 0
        (forest outside every unit) is drawn only when ``names`` labels it.

    """
    labels = dict(names or {})
    wide = totals_by_l1(totals)
    wide = wide[[c for c in wide.columns if c != 0 or 0 in labels]]
    if wide.columns.empty:
        raise InputDataError("the AGC totals table holds no assessment unit",
                             fix="run the mapping step after the units step")
    use_cjk_font()
    text = _TEXT[lang]
    scale = 1000.0 if float(np.nanmax(np.abs(wide.to_numpy()))) >= 10_000 else 1.0
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    for code in wide.columns:
        label = labels.get(code) or unit_names(1, int(code))[0 if lang == "zh" else 1]
        colour = UNIT_L1_CLASSES.get(int(code), ("", "", "0.45"))[2]
        ax.plot(wide.index, wide[code] / scale, marker="o", markersize=3, linewidth=1.6,
                color=colour, label=label, linestyle="--" if code == 0 else "-")
    ax.set_xlabel(text["year"])
    ax.set_ylabel(text["agc_kt"] if scale > 1 else text["agc_t"])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8, steps=[1, 2, 5, 10]))
    ax.set_ylim(bottom=0)
    ax.grid(True, axis="y", color="0.85", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    ax.set_title(text["totals"], fontsize=11)
    return figure_png(fig)


def cv_summary(cv_results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (ddof 1) over folds of R² and RMSE per stratum and model.

    Strata keep their order of first appearance with the pooled stratum last; models keep theirs.
    """
    _require(cv_results, ("stratum", "model", "fold", "r2", "rmse"), "the cross-validation table",
             "give products/models/cv_results.csv (stratum, model, fold, r2, rmse)")
    stats = cv_results.groupby(["stratum", "model"], sort=False)[["r2", "rmse"]].agg(
        ["mean", "std", "count"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    strata = list(dict.fromkeys(cv_results["stratum"]))
    strata = [s for s in strata if s != POOLED] + [s for s in strata if s == POOLED]
    models = list(dict.fromkeys(cv_results["model"]))
    index = pd.MultiIndex.from_product([strata, models], names=["stratum", "model"])
    return stats.reindex(index).dropna(how="all").reset_index()


def model_comparison_chart(cv_results: pd.DataFrame, *, lang: Lang = "zh",
                           chosen: Mapping[str, str] | None = None) -> bytes:
    """Grouped bars of the mean out-of-fold R² and RMSE per stratum and model, as PNG bytes.

    Error bars are one standard deviation over the outer folds. ``chosen`` (stratum → model
    kind) marks the selected model of each stratum with a black edge and a star.
    """
    summary = cv_summary(cv_results)
    use_cjk_font()
    text = _TEXT[lang]
    strata = list(dict.fromkeys(summary["stratum"]))
    models = list(dict.fromkeys(summary["model"]))
    width = 0.8 / len(models)
    picked = dict(chosen or {})
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.0))
    notes = [text["spread"]]
    for ax, metric in zip(axes, ("r2", "rmse"), strict=True):
        means, stds = summary[f"{metric}_mean"], summary[f"{metric}_std"].fillna(0.0)
        top = float(np.nanmax(means + stds))
        bottom = min(float(np.nanmin(means - stds)), 0.0)
        if metric == "r2":
            top = min(max(top, 0.0), 1.0)
            if bottom < R2_FLOOR:
                bottom = R2_FLOOR
                notes.insert(0, text["clipped"].format(floor=R2_FLOOR))
        span = (top - bottom) or 1.0
        for m, model in enumerate(models):
            rows = summary[summary["model"] == model].set_index("stratum").reindex(strata)
            x = np.arange(len(strata)) + (m - (len(models) - 1) / 2) * width
            colour = _MODEL_COLOURS[m % len(_MODEL_COLOURS)]
            edges = ["black" if picked.get(s) == model else "none" for s in strata]
            ax.bar(x, rows[f"{metric}_mean"], width * 0.92, yerr=rows[f"{metric}_std"],
                   color=colour, edgecolor=edges, linewidth=1.2, capsize=2,
                   error_kw={"elinewidth": 0.8})
            for xi, stratum, mean, std in zip(x, strata, rows[f"{metric}_mean"],
                                             rows[f"{metric}_std"].fillna(0), strict=True):
                if not np.isfinite(mean):
                    continue
                if mean < bottom:  # a bar cut by the clipped axis: print its value
                    ax.text(xi, bottom + 0.02 * span, f"{mean:.1f}", rotation=90, ha="center",
                            va="bottom", fontsize=7, color="white")
                if picked.get(stratum) == model:
                    ax.plot(xi, min(max(mean + std, 0.0), top) + 0.05 * span, marker="*",
                            color="black", markersize=8, linestyle="")
        ax.set_ylim(bottom - 0.02 * span, top + 0.12 * span)
        ax.axhline(0, color="0.3", linewidth=0.6)
        ax.set_xticks(np.arange(len(strata)),
                      [stratum_label(s, lang).replace(" ", "\n", 1) for s in strata])
        ax.set_xlabel(text["stratum"])
        ax.set_ylabel(text[metric])
        ax.grid(True, axis="y", color="0.88", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    handles: list[Artist] = [Patch(facecolor=_MODEL_COLOURS[m % len(_MODEL_COLOURS)])
                             for m in range(len(models))]
    labels = [model_label(model, lang) for model in models]
    if picked:
        handles.append(Line2D([], [], marker="*", color="black", linestyle="", markersize=8))
        labels.append(text["chosen"])
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False,
               fontsize=9, bbox_to_anchor=(0.5, 1.06))
    fig.text(0.99, -0.02, "；".join(notes) if lang == "zh" else "; ".join(notes), ha="right",
             fontsize=7, color="0.35")
    fig.tight_layout()
    return figure_png(fig)


def fit_statistics(observed: Any, predicted: Any) -> dict[str, float]:
    """R², RMSE and bias (mean of predicted − observed) of the points of a scatter."""
    return {"r2": r2(observed, predicted), "rmse": rmse(observed, predicted),
            "bias": bias(observed, predicted), "n": float(np.asarray(observed).size)}


def observed_predicted_chart(oof: pd.DataFrame, *, lang: Lang = "zh") -> bytes:
    """Scatter of observed against out-of-fold predicted plot AGC by stratum, as PNG bytes.

    ``oof`` has ``observed`` and ``predicted`` (t C/ha) and optionally ``stratum``. The chart
    shows the 1:1 line and R², RMSE and bias computed from the points drawn.
    """
    _require(oof, ("observed", "predicted"), "the out-of-fold predictions",
             "give the models step's oof_predictions (plot_id, stratum, observed, predicted)")
    frame = oof.dropna(subset=["observed", "predicted"])
    if frame.empty:
        raise InputDataError("the out-of-fold predictions hold no plot with both values",
                             fix="run the models step again")
    use_cjk_font()
    text = _TEXT[lang]
    fig, ax = plt.subplots(figsize=(5.2, 5.0))
    strata = (frame["stratum"].fillna("").astype(str) if "stratum" in frame.columns
              else pd.Series("", index=frame.index))
    groups = list(dict.fromkeys(strata))
    for i, group in enumerate(groups):
        part = frame[strata == group]
        ax.scatter(part["observed"], part["predicted"], s=18, alpha=0.8, linewidths=0.3,
                   edgecolors="white", color=_STRATUM_COLOURS[i % len(_STRATUM_COLOURS)],
                   label=stratum_label(group, lang) if group else None)
    high = float(max(frame["observed"].max(), frame["predicted"].max(), 0.0)) * 1.05 or 1.0
    low = min(float(min(frame["observed"].min(), frame["predicted"].min())) * 1.05, 0.0)
    ax.plot([low, high], [low, high], color="0.3", linestyle="--", linewidth=1.0,
            label=text["one_to_one"])
    ax.set(xlim=(low, high), ylim=(low, high), xlabel=text["observed"],
           ylabel=text["predicted"])
    ax.set_aspect("equal")
    stats = fit_statistics(frame["observed"], frame["predicted"])
    ax.text(0.04, 0.96, f"R² = {stats['r2']:.3f}\nRMSE = {stats['rmse']:.2f} t C/ha\n"
            f"{text['bias']} = {stats['bias']:+.2f} t C/ha\n{text['n']} = {int(stats['n'])}",
            transform=ax.transAxes, va="top", ha="left", fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "0.7", "boxstyle": "round,pad=0.4"})
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    ax.grid(True, color="0.9", linewidth=0.5)
    return figure_png(fig)
