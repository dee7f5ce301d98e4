"""The systematic part of the plots' carbon: errors shared by every tree of a biomass model.

The Monte Carlo of :mod:`minecarbon.allometry.uncertainty` draws two errors once per model and
draw, shared by all of that model's trees in all plots: the model's own error (a factor of mean
1 and relative standard deviation ``s_m``, :meth:`ErrorModel.model_sd`) and its carbon fraction
(``CF_m + N(0, carbon_fraction_sd)``). However many trees and plots are measured, these do not
average out. For a sum of carbon ``T = Σ_m A_m`` over trees of models ``m`` (``A_m`` the carbon
of model ``m``'s trees, ``w_m = A_m / T``), with the models' errors independent of each other,

    Var(T) / T² = Σ_m w_m² · [(1 + s_m²) · (1 + (σ_CF / CF_m)²) − 1]

(the relative variance of a product of independent factors of mean 1: Goodman 1960, J. Am.
Stat. Assoc. 55:708–713). The plots step reports its square root per plot
(``plot_agc.csv``, ``agc_systematic_sd_rel``); the totals of the assessment take it over the
plots they use as ``δ²``, the relative variance shared by every plot
(:mod:`minecarbon.assessment.carbon_totals`).

Models are told apart by ``model_id``, as the Monte Carlo tells them apart by model object.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from minecarbon.allometry.error_model import ErrorModel
from minecarbon.errors import InputDataError

#: Columns of a tree table that :func:`trees_systematic_rel_var` reads.
TREE_COLUMNS = ("model_id", "agc_kg", "carbon_fraction", "model_sd_rel")


def systematic_rel_var(agc: ArrayLike, carbon_fraction: ArrayLike, model_sd_rel: ArrayLike,
                       carbon_fraction_sd: float) -> float:
    """Relative variance of a carbon sum from its models' shared errors (module docstring).

    Parameters
    ----------
    agc
        Carbon of each model's trees in the sum (any unit; only the shares matter), ≥ 0.
    carbon_fraction
        Each model's carbon fraction ``CF_m`` (0–1).
    model_sd_rel
        Each model's systematic relative error ``s_m`` (≥ 0), as :meth:`ErrorModel.model_sd`
        resolves it.
    carbon_fraction_sd
        The carbon fraction's absolute standard deviation ``σ_CF``.

    Returns
    -------
    ``Var(T) / T²``; 0 where the sum is 0.

    """
    a = np.asarray(agc, dtype=np.float64)
    cf = np.asarray(carbon_fraction, dtype=np.float64)
    s = np.asarray(model_sd_rel, dtype=np.float64)
    if not (a.shape == cf.shape == s.shape):
        raise InputDataError(f"agc {a.shape}, carbon_fraction {cf.shape} and model_sd_rel "
                             f"{s.shape} differ in shape", fix="give one value per model")
    if np.any(~np.isfinite(a) | (a < 0)) or np.any(~np.isfinite(s) | (s < 0)) \
            or np.any(~((cf > 0) & (cf <= 1))):
        raise InputDataError("a model's carbon, carbon fraction or systematic error is "
                             "missing or out of range",
                             fix="give carbon ≥ 0, 0 < carbon fraction ≤ 1 and model_sd_rel ≥ 0")
    total = float(a.sum())
    if total <= 0:
        return 0.0
    w = a / total
    per_model = (1.0 + s * s) * (1.0 + (carbon_fraction_sd / cf) ** 2) - 1.0
    return float(np.sum(w * w * per_model))


def _by_model(trees: pd.DataFrame, errors: ErrorModel, *, keys: tuple[str, ...] = (),
              extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Carbon, trees, carbon fraction and resolved systematic error per model (per ``keys``).

    ``own`` is the table's ``model_sd_rel`` (NaN where it gives none), ``model_sd_rel`` the
    value :meth:`ErrorModel.model_sd` resolves it to.
    """
    missing = [c for c in (*keys, *TREE_COLUMNS, *extra) if c not in trees.columns]
    if missing:
        raise InputDataError(f"the tree table lacks column(s) {', '.join(missing)}",
                             fix="pass the output of tree_carbon (trees_agc.csv; re-run the "
                                 "plots step where it predates these columns)")
    parts = trees.groupby([*keys, "model_id"], sort=not keys).agg(
        n_trees=("agc_kg", "size"), agc_kg=("agc_kg", "sum"),
        carbon_fraction=("carbon_fraction", "first"), own=("model_sd_rel", "first"),
        **{c: (c, "first") for c in extra}).reset_index()
    parts["agc_kg"] = parts["agc_kg"].clip(lower=0.0)
    parts["model_sd_rel"] = [errors.model_sd(None if pd.isna(v) else float(v))
                             for v in parts["own"]]
    return parts


def _rel_var(models: pd.DataFrame, errors: ErrorModel) -> float:
    return systematic_rel_var(models["agc_kg"], models["carbon_fraction"],
                              models["model_sd_rel"], errors.carbon_fraction_sd)


def trees_systematic_rel_var(trees: pd.DataFrame, errors: ErrorModel) -> float:
    """:func:`systematic_rel_var` of the sum of a tree table's AGC (``trees_agc.csv``).

    ``trees`` has :data:`TREE_COLUMNS`: ``model_sd_rel`` is the table's own value (NaN where it
    gives none), resolved by ``errors`` (:meth:`ErrorModel.model_sd`).
    """
    return 0.0 if trees.empty else _rel_var(_by_model(trees, errors), errors)


def plot_systematic_sd_rel(trees: pd.DataFrame, errors: ErrorModel) -> pd.Series:
    """Per plot (index ``plot_id``), the square root of :func:`trees_systematic_rel_var`."""
    parts = _by_model(trees, errors, keys=("plot_id",))
    values = {plot: _rel_var(models, errors) ** 0.5
              for plot, models in parts.groupby("plot_id", sort=False)}
    return pd.Series(values, name="agc_systematic_sd_rel", dtype=np.float64).rename_axis(
        "plot_id")


#: Where a model's systematic error came from (:func:`model_shares`'s ``sd_source``).
SD_SOURCES = ("table", "default", "config")


def model_shares(trees: pd.DataFrame, errors: ErrorModel) -> pd.DataFrame:
    """The biomass models behind a tree table and the systematic error each was given.

    Parameters
    ----------
    trees
        Output of :func:`minecarbon.allometry.carbon.tree_carbon` (``trees_agc.csv``):
        :data:`TREE_COLUMNS` and ``species_key``.
    errors
        Resolves each model's ``model_sd_rel`` (:meth:`ErrorModel.model_sd`).

    Returns
    -------
    One row per model, largest share first: ``model_id``, ``species_key``, ``n_trees``,
    ``agc_share`` (of the table's carbon), ``carbon_fraction``, ``model_sd_rel`` (the value
    used) and ``sd_source`` (:data:`SD_SOURCES`: the table's own value, the default 0.10 where
    the table gives none, or the configuration's value for every model).

    """
    by_model = _by_model(trees, errors, extra=("species_key",))
    total = float(by_model["agc_kg"].sum())
    by_model["agc_share"] = by_model["agc_kg"] / total if total > 0 else 0.0
    by_model["sd_source"] = ["config" if errors.model_sd_rel is not None else
                             "default" if pd.isna(v) else "table" for v in by_model["own"]]
    columns = ["model_id", "species_key", "n_trees", "agc_share", "carbon_fraction",
               "model_sd_rel", "sd_source"]
    return by_model.sort_values(["agc_share", "model_id"], ascending=[False, True])[
        columns].reset_index(drop=True)
