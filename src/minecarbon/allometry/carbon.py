"""Tree and plot carbon (requirements P5, P6).

Per tree: the species resolved through the fallback chain to a biomass model (the level used is
recorded on the tree), missing heights filled from height–diameter models fitted on the same
data (flagged), AGB (kg) from the model, AGC = AGB × carbon fraction, and a flag where the tree
lies outside the model's calibration range. Per plot: AGB and AGC densities (t/ha), CO2e
(AGC × 44/12) and a Monte-Carlo 95 % interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from minecarbon.allometry.equations import ModelTable
from minecarbon.allometry.error_model import ErrorModel
from minecarbon.allometry.height import fill_heights
from minecarbon.allometry.systematic import plot_systematic_sd_rel
from minecarbon.allometry.uncertainty import plot_agc_monte_carlo
from minecarbon.errors import InputDataError
from minecarbon.standard.species import by_key
from minecarbon.types import ForestType

CO2_PER_C = 44.0 / 12.0


@dataclass(frozen=True)
class TreeCarbon:
    """Per-tree results and the notes a user must see (fallbacks, filled heights, ranges)."""

    trees: pd.DataFrame
    notes: list[str]


def tree_carbon(trees: pd.DataFrame, table: ModelTable, *, hd_min_trees: int = 10) -> TreeCarbon:
    """AGB and AGC of every tree.

    Parameters
    ----------
    trees
        Canonical tree list: plot_id, tree_id, species, dbh_cm, height_m (NaN = not measured).
    table
        The biomass model table (default, or a user table with the default as fallback).
    hd_min_trees
        Trees with both DBH and height a species model needs before it gets its own
        height–diameter model (else the pooled model is used).

    Returns
    -------
    TreeCarbon whose frame adds: species_key, model_key, model_id, model_table, official,
    fallback_level, fallback_note, height_filled, hd_model, height_used_m, agb_kg, agc_kg,
    co2e_kg, carbon_fraction, model_sd_rel (the table's systematic error of the model; NaN
    where it gives none), out_of_range.

    """
    if trees.empty:
        raise InputDataError("the tree list is empty", fix="give at least one tree")
    out = trees.copy()
    choices = {name: table.resolve(name) for name in out["species"].unique()}
    out["model_key"] = out["species"].map(lambda n: choices[n].resolution.model_key)
    out["species_key"] = out["species"].map(lambda n: choices[n].resolution.species_key)
    out["fallback_level"] = out["species"].map(lambda n: choices[n].resolution.level)
    out["fallback_note"] = out["species"].map(lambda n: choices[n].resolution.note)
    out["model_id"] = out["species"].map(lambda n: choices[n].model.model_id)
    out["model_table"] = out["species"].map(lambda n: choices[n].table_name)
    out["official"] = out["species"].map(lambda n: choices[n].official)

    filled = fill_heights(out["dbh_cm"].to_numpy(float), out["height_m"].to_numpy(float),
                          out["model_key"].to_numpy(str), min_trees=hd_min_trees)
    out["height_used_m"] = filled.height_m
    out["height_filled"] = filled.filled
    out["hd_model"] = filled.model
    rse = {f"{group}:{m.method}": m.rse for group, m in filled.models.items()}
    if filled.pooled is not None:
        rse[f"pooled:{filled.pooled.method}"] = filled.pooled.rse
    # a filled height is as uncertain as its model's residual error (Monte Carlo, P6)
    out["height_sd_m"] = [rse.get(str(label), np.nan) if label else np.nan
                          for label in filled.model]

    agb = np.full(len(out), np.nan)
    cf = np.full(len(out), np.nan)
    model_sd = np.full(len(out), np.nan)
    in_range = np.zeros(len(out), bool)
    for key, idx in out.groupby("model_key").indices.items():
        model = table.model_for(str(key))
        d = out["dbh_cm"].to_numpy(float)[idx]
        h = out["height_used_m"].to_numpy(float)[idx]
        agb[idx] = model.agb_kg(d, h)
        cf[idx] = model.carbon_fraction
        if model.model_sd_rel is not None:
            model_sd[idx] = model.model_sd_rel
        in_range[idx] = model.in_range(d, h)
    out["agb_kg"] = agb.round(3)
    out["carbon_fraction"] = cf
    out["model_sd_rel"] = model_sd
    out["agc_kg"] = (agb * cf).round(3)
    out["co2e_kg"] = (agb * cf * CO2_PER_C).round(3)
    out["out_of_range"] = ~in_range

    notes = []
    for name, choice in choices.items():
        if choice.resolution.level != "species":
            n = int((out["species"] == name).sum())
            notes.append(f"{n} tree(s) '{name}': {choice.resolution.note}")
    if out["height_filled"].any():
        notes.append(f"{int(out['height_filled'].sum())} missing height(s) filled from "
                     "height–diameter models (column hd_model)")
    if out["out_of_range"].any():
        notes.append(f"{int(out['out_of_range'].sum())} tree(s) outside their model's "
                     "calibration range (column out_of_range)")
    return TreeCarbon(out, notes)


def basal_area_forest_type(trees: pd.DataFrame, *, dominant: float = 0.65) -> pd.Series:
    """Forest type per plot from basal-area shares (REQUIREMENTS S2).

    Coniferous or broadleaf when that group holds ≥ ``dominant`` of the basal area, else mixed.
    """
    ba = np.pi * (trees["dbh_cm"].to_numpy(float) / 200.0) ** 2
    conifer = trees["model_key"].map(_is_conifer).to_numpy(bool)
    frame = pd.DataFrame({"plot_id": trees["plot_id"], "ba": ba, "conifer_ba": ba * conifer})
    sums = frame.groupby("plot_id")[["ba", "conifer_ba"]].sum()
    share = sums["conifer_ba"] / sums["ba"]
    kind = np.where(share >= dominant, ForestType.CONIFEROUS.name.lower(),
                    np.where(share <= 1 - dominant, ForestType.BROADLEAF.name.lower(),
                             ForestType.MIXED.name.lower()))
    return pd.Series(kind, index=sums.index, name="forest_type_ba")


def _is_conifer(model_key: str) -> bool:
    if model_key == "conifer":
        return True
    if model_key in ("broadleaf", "generic"):
        return False
    return by_key(model_key).group == "conifer"


def plot_carbon(trees: pd.DataFrame, plots: pd.DataFrame, table: ModelTable, *,
                n_draws: int = 1000, seed: int = 0, errors: ErrorModel | None = None,
                units: pd.DataFrame | None = None) -> pd.DataFrame:
    """AGB, AGC and CO2e densities per plot with Monte-Carlo 95 % intervals.

    ``agc_systematic_sd_rel`` is the relative standard deviation of the plot's AGC from the
    errors shared by all trees of its models (:mod:`minecarbon.allometry.systematic`): the
    part of its interval that does not average out over plots.

    Parameters
    ----------
    trees
        Output of :func:`tree_carbon`.
    plots
        Plot records: plot_id, side_m, and optionally forest_type, species_group.
    table
        The model table used for the trees.
    n_draws, seed
        Monte-Carlo draws and seed.
    errors
        The error sources (default :class:`ErrorModel`).
    units
        plot_id, unit_l1, unit_l2 (from the units step), joined when given.

    """
    area = dict(zip(plots["plot_id"], plots["side_m"].astype(float) ** 2 / 10_000.0,
                    strict=True))
    models: Mapping[str, object] = {k: table.model_for(k) for k in trees["model_key"].unique()}
    mc_input = trees.assign(height_m=trees["height_used_m"])[
        ["plot_id", "dbh_cm", "height_m", "model_key", "height_sd_m"]]
    mc = plot_agc_monte_carlo(mc_input, models, area, n_draws=n_draws, seed=seed,
                              errors=errors or ErrorModel())
    sums = trees.groupby("plot_id").agg(
        n_trees=("tree_id", "size"), agb_kg=("agb_kg", "sum"), agc_kg=("agc_kg", "sum"),
        n_height_filled=("height_filled", "sum"), n_out_of_range=("out_of_range", "sum"),
        n_fallback=("fallback_level", lambda s: int((s != "species").sum())),
    )
    out = plots[["plot_id"]].copy()
    out = out.merge(sums, left_on="plot_id", right_index=True, how="left")
    for col in ("n_trees", "agb_kg", "agc_kg", "n_height_filled", "n_out_of_range",
                "n_fallback"):
        out[col] = out[col].fillna(0)
    out["area_ha"] = out["plot_id"].map(area)
    out["agb_t_per_ha"] = (out["agb_kg"] / 1000.0 / out["area_ha"]).round(3)
    out["agc_t_per_ha"] = (out["agc_kg"] / 1000.0 / out["area_ha"]).round(3)
    out["co2e_t_per_ha"] = (out["agc_t_per_ha"] * CO2_PER_C).round(3)
    mc = mc.set_index("plot_id")
    out["agc_ci_low"] = out["plot_id"].map(mc["agc_ci_low"]).fillna(0.0).round(3)
    out["agc_ci_high"] = out["plot_id"].map(mc["agc_ci_high"]).fillna(0.0).round(3)
    out["agb_ci_low"] = out["plot_id"].map(mc["agb_ci_low"]).fillna(0.0).round(3)
    out["agb_ci_high"] = out["plot_id"].map(mc["agb_ci_high"]).fillna(0.0).round(3)
    # the part of the interval every plot of the same models shares (does not average out)
    out["agc_systematic_sd_rel"] = out["plot_id"].map(
        plot_systematic_sd_rel(trees, errors or ErrorModel())).fillna(0.0).round(4)
    ba_type = basal_area_forest_type(trees)
    record_type = plots.set_index("plot_id")["forest_type"] if "forest_type" in plots else None
    out["forest_type"] = [
        _forest_type(record_type.get(p) if record_type is not None else None, ba_type.get(p))
        for p in out["plot_id"]
    ]
    dominant = trees.assign(ba=np.pi * (trees["dbh_cm"] / 200.0) ** 2).groupby(
        ["plot_id", "model_key"])["ba"].sum().reset_index().sort_values("ba").groupby(
        "plot_id").tail(1).set_index("plot_id")["model_key"]
    out["species_group"] = out["plot_id"].map(dominant).fillna("")
    out["model_table"] = table.name
    if units is not None:
        out = out.merge(units[["plot_id", "unit_l1", "unit_l2"]], on="plot_id", how="left")
    first = ["plot_id", "unit_l1", "unit_l2", "forest_type", "n_trees", "agb_t_per_ha",
             "agc_t_per_ha", "agc_ci_low", "agc_ci_high", "co2e_t_per_ha"]
    cols = [c for c in first if c in out.columns] + [c for c in out.columns if c not in first
                                                     and c not in ("agb_kg", "agc_kg")]
    return out[cols]


_FOREST_TYPE_NAMES = {f.zh: f.name.lower() for f in ForestType} | {
    f.name.lower(): f.name.lower() for f in ForestType} | {f.en: f.name.lower() for f in ForestType}


def _forest_type(recorded: object, from_basal_area: object) -> str:
    """The forest type of a plot.

    The recorded type when it is sparse (a cover criterion no tree list shows) or when the plot
    has no trees, otherwise the basal-area rule.
    """
    rec = _FOREST_TYPE_NAMES.get(str(recorded).strip(), "") if recorded is not None else ""
    if rec == "sparse" or not isinstance(from_basal_area, str):
        return rec
    return from_basal_area
