"""Monte-Carlo uncertainty of plot above-ground biomass and carbon (requirement P6).

Every Monte-Carlo draw re-measures every tree and re-draws the model errors:

* **DBH** ``D' = D + e``, ``e ~ N(0, sqrt(dbh_sd_cm² + (dbh_sd_rel · D)²))``, per tree and draw;
* **height** ``H' = H + e``, ``e ~ N(0, height_sd_rel · H)`` for a measured height, or
  ``N(0, height_sd_m)`` where the tree list gives ``height_sd_m`` (a height filled from a
  height–diameter model: pass that model's RSE in metres), per tree and draw; only models that use
  height see it;
* **model residual** AGB is multiplied by ``exp(ε − σ²/2)``, ``ε ~ N(0, σ)``, per tree and draw,
  independent between trees; ``σ`` is the model's ``residual_sd_log`` or, where it has none,
  :attr:`ErrorModel.residual_sd_log`. The factor's mean is 1, so the residual adds spread but no
  bias;
* **carbon fraction** ``CF' = CF + N(0, carbon_fraction_sd)`` (clipped to [0, 1]) is
  *systematic*: one draw per biomass model (per distinct model object, so keys sharing a model
  share it) per Monte-Carlo draw, shared by all of that model's trees in all plots. Plot
  intervals are therefore correlated, as they are in reality;
* **the model itself** AGB is multiplied by a factor ``exp(σ_m z − σ_m²/2)``,
  ``σ_m² = ln(1 + s²)``, ``z ~ N(0, 1)``, whose mean is 1 and whose relative standard deviation
  is exactly ``s`` (:meth:`ErrorModel.model_sd`): the error of the model's parameters and of
  applying it to stands other than those it was fitted on. Like the carbon fraction it is
  *systematic*: one draw per model and Monte-Carlo draw, shared by all its trees in all plots.

Perturbed D and H are clipped at 0.1 cm and 0.1 m. Per plot, the draws of Σ AGB and Σ AGC
(kg) divided by the plot area give the per-hectare distribution: its mean, standard deviation
and 2.5 / 97.5 percentiles (the 95 % interval) are reported beside the deterministic estimate
(no error) :func:`plot_agc_monte_carlo`.

The systematic part of a sum of trees (a plot, all plots, a stratum) — the model and carbon
fraction errors, which do not average out however many trees are measured — has the relative
variance :func:`minecarbon.allometry.systematic.systematic_rel_var`; the totals of the
assessment carry it (:mod:`minecarbon.assessment.carbon_totals`).

Reproducibility. Trees are put in a canonical order (by model key, then plot in the order of
``plot_area_ha``, then input row); each block of 512 consecutive trees in that order has its own
random streams (``SeedSequence(seed, spawn_key=(source, block))``, one per error source), and
partial sums are added in block order. The result is therefore bit-for-bit the same for a seed
whatever ``chunk_trees`` and ``workers`` are, and an error source switched off does not change
the draws of the others (on little-endian machines; a different input row order gives
different, equally valid, draws).

Performance. Trees are processed in chunks (``chunk_trees``) on a thread pool; a chunk works
block by block on float32 ``(trees × draws)`` arrays, each block split into runs of one model so
that its equation is evaluated vectorised, and summed per plot with :func:`numpy.add.reduceat`.
The power-law forms of :mod:`minecarbon.allometry.equations` are evaluated as the deterministic
component biomass times ``exp(β · ln(D'/D) + γ · ln(H'/H))``; any other model (or an unknown
form) falls back to calling its ``agb_kg`` on the perturbed arrays. Normal deviates come from the
Box–Muller transform of 23-bit uniforms (about three times faster than
:meth:`numpy.random.Generator.standard_normal`; tails are cut at 5.6 σ).

Memory is bounded: about 80 bytes per tree (sorted copies of the inputs), ``8 × n_plots ×
n_draws`` bytes for the AGB and AGC draws, and per worker a few ``512 × n_draws`` float32 work
arrays and at most two chunks of partial sums. One million trees × 1000 draws take about 8 s on
two cores (14 s on one) and 220 MB above the input (``benchmarks/bench_allometry.py``).

Layout. This module is the entry point and sums the trees' partial sums per plot; the parts
live beside it: the random streams in :mod:`._mc_streams`, the validation, canonical order,
model kernels and systematic draws in :mod:`._mc_prepare`, the per-tree draws block by block in
:mod:`._mc_kernel`, and the result (:class:`PlotDraws`) in :mod:`._mc_results`.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from minecarbon.allometry._mc_kernel import _chunk, _Partial
from minecarbon.allometry._mc_prepare import MIN_DBH_CM, MIN_HEIGHT_M, AllometricModel, _prepare
from minecarbon.allometry._mc_results import PlotDraws
from minecarbon.allometry._mc_streams import STREAM_TREES, normal_draws
from minecarbon.allometry._mc_streams import _stream as _stream  # re-exported for the tests
from minecarbon.allometry.error_model import ErrorModel as ErrorModel  # re-exported
from minecarbon.errors import InputDataError

__all__ = [
    "MIN_DBH_CM",
    "MIN_HEIGHT_M",
    "STREAM_TREES",
    "AllometricModel",
    "ErrorModel",
    "PlotDraws",
    "normal_draws",
    "plot_agc_monte_carlo",
    "plot_carbon_draws",
]


def plot_agc_monte_carlo(
    trees: pd.DataFrame,
    models: Mapping[str, object] | None,
    plot_area_ha: Mapping[Hashable, float],
    *,
    n_draws: int = 1000,
    seed: int = 0,
    errors: ErrorModel | None = None,
    chunk_trees: int = 32_768,
    workers: int | None = None,
) -> pd.DataFrame:
    """Monte-Carlo AGC and AGB per plot with 95 % intervals, in t/ha.

    Parameters
    ----------
    trees
        One row per tree: ``plot_id``, ``dbh_cm``, ``height_m`` (NaN allowed for models that do
        not use height; the column may be absent if none does), ``model_key``, and optionally
        ``height_sd_m`` (sd in metres of a height filled from a height–diameter model; NaN = the
        height was measured, use :attr:`ErrorModel.height_sd_rel`). Other columns are ignored.
    models
        ``model_key`` → model: a :class:`~minecarbon.allometry.equations.BiomassModel` or any
        object with ``agb_kg(dbh_cm, height_m)`` and ``carbon_fraction`` (and optionally
        ``residual_sd_log``). None: :meth:`ModelTable.default` looked up by key.
    plot_area_ha
        Every plot's area in ha; plots without trees get 0 with a zero-width interval. The
        output has one row per entry, in this order.
    n_draws, seed
        Number of Monte-Carlo draws; seed of the random streams (same seed, same result).
    errors
        The error model (default :class:`ErrorModel()`).
    chunk_trees
        Trees per task of the thread pool (rounded up to a multiple of 512); does not change
        the result, only speed and memory.
    workers
        Threads (default: the number of CPUs, at most 4); does not change the result.

    Returns
    -------
    DataFrame with columns ``plot_id``, ``n_trees``, ``n_draws``, and for ``agc`` and ``agb``:
    ``*_t_per_ha`` (the deterministic estimate, without error), ``*_mc_mean``, ``*_sd``,
    ``*_ci_low`` and ``*_ci_high`` (2.5 and 97.5 percentiles of the draws), all in t/ha.

    Raises
    ------
    InputDataError
        On a missing column, a D ≤ 0 or NaN, an H ≤ 0, a missing height where the model needs
        one, a plot or model key without an area or a model, or an area ≤ 0.

    """
    return plot_carbon_draws(
        trees, models, plot_area_ha, n_draws=n_draws, seed=seed, errors=errors,
        chunk_trees=chunk_trees, workers=workers,
    ).summary()


def plot_carbon_draws(
    trees: pd.DataFrame,
    models: Mapping[str, object] | None,
    plot_area_ha: Mapping[Hashable, float],
    *,
    n_draws: int = 1000,
    seed: int = 0,
    errors: ErrorModel | None = None,
    chunk_trees: int = 32_768,
    workers: int | None = None,
) -> PlotDraws:
    """The Monte-Carlo draws behind :func:`plot_agc_monte_carlo` (same parameters).

    Returns the deterministic AGB/AGC per plot and the ``(n_plots, n_draws)`` draws in kg per
    plot, e.g. to study the correlation between plots or to sum plots into strata.
    """
    errors = ErrorModel() if errors is None else errors
    if not (isinstance(n_draws, int) and n_draws >= 1):
        raise InputDataError(f"n_draws = {n_draws!r}", fix="give n_draws ≥ 1")
    if not (isinstance(seed, int) and seed >= 0):
        raise InputDataError(f"seed = {seed!r}", fix="give a seed ≥ 0")
    if chunk_trees < 1:
        raise InputDataError(f"chunk_trees = {chunk_trees!r}", fix="give chunk_trees ≥ 1")
    ctx, area, agb_plot, agc_plot, carbon_draws, model_draws, plot_ids = _prepare(
        trees, models, plot_area_ha, n_draws, seed, errors
    )
    n_plots = len(plot_ids)
    agb_draws = np.zeros((n_plots, n_draws), dtype=np.float32)
    agc_draws = np.zeros((n_plots, n_draws), dtype=np.float32)
    n_blocks = -(-ctx.plot.size // STREAM_TREES)
    per_chunk = max(1, -(-chunk_trees // STREAM_TREES))
    chunks = [range(b, min(b + per_chunk, n_blocks)) for b in range(0, n_blocks, per_chunk)]
    group_carbon = [carbon_draws[g.carbon_index].astype(np.float32) for g in ctx.groups]
    group_model = [None if model_draws is None else
                   model_draws[g.carbon_index].astype(np.float32) for g in ctx.groups]

    def add(partials: list[_Partial]) -> None:
        for g, plots, sums in partials:
            factor = group_model[g]
            if factor is not None:
                sums = sums * factor
            agb_draws[plots] += sums
            agc_draws[plots] += sums * group_carbon[g]

    n_workers = min(4, os.cpu_count() or 1) if workers is None else max(1, workers)
    if n_workers == 1 or len(chunks) <= 1:
        for blocks in chunks:
            add(_chunk(ctx, blocks))
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            pending: deque[Future[list[_Partial]]] = deque()
            for blocks in chunks:  # at most 2 × workers chunks in flight: bounded memory
                pending.append(pool.submit(_chunk, ctx, blocks))
                if len(pending) >= 2 * n_workers:
                    add(pending.popleft().result())
            while pending:
                add(pending.popleft().result())
    n_trees = np.bincount(ctx.plot, minlength=n_plots).astype(np.intp)
    return PlotDraws(plot_ids=plot_ids, area_ha=area, n_trees=n_trees, agb_kg=agb_plot,
                     agc_kg=agc_plot, agb_draws_kg=agb_draws, agc_draws_kg=agc_draws)
