"""Monte-Carlo plot AGC for 1,000,000 trees × 1,000 draws (requirement P6: target < 60 s, 2 cores).

    python benchmarks/bench_allometry.py [--trees 1000000] [--draws 1000] [--workers N]

10,000 plots of 100 trees, mixed species (the 7 species groups of
``minecarbon/standard/data/species_groups.csv``, default model table), DBH 5–60 cm, heights from
a Chapman–Richards H–D curve with noise, 20 % of them missing and filled from the curve (with
its RSE as ``height_sd_m``). Records wall time (default workers, and one worker), trees × draws
per second, and peak RSS before and after the Monte Carlo (the first is the generated data).

Peer: a naive implementation — per plot, per tree, one vectorised call of the model's
``agb_kg`` over the draws with ``Generator.normal`` — timed on 100 plots and scaled to all.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import peak_rss_mb, save, timed

from minecarbon.allometry.equations import ModelTable
from minecarbon.allometry.uncertainty import ErrorModel, plot_agc_monte_carlo
from minecarbon.standard.species import species_keys

TREES_PER_PLOT = 100
PLOT_AREA_HA = 0.06  # 600 m², a common plot size in Chinese forest inventories
HD_RSE_M = 1.8


def hd_curve(dbh: np.ndarray) -> np.ndarray:
    return 1.3 + 24.0 * (1.0 - np.exp(-0.045 * dbh)) ** 1.1


def make_trees(n_trees: int, seed: int = 0) -> tuple[pd.DataFrame, dict[int, float]]:
    rng = np.random.default_rng(seed)
    keys = np.array(species_keys(), dtype=object)
    n_plots = -(-n_trees // TREES_PER_PLOT)
    plot_id = np.repeat(np.arange(n_plots), TREES_PER_PLOT)[:n_trees]
    # each plot has its own species mixture (a few species dominate)
    mix = rng.dirichlet(np.full(keys.size, 0.4), size=n_plots)
    cum = np.cumsum(mix, axis=1)
    species = np.empty(n_trees, dtype=np.intp)
    u = rng.random(n_trees)
    for p0 in range(0, n_plots, 1000):  # in slices, to keep the generator's memory small
        rows = slice(p0 * TREES_PER_PLOT, (p0 + 1000) * TREES_PER_PLOT)
        species[rows] = (u[rows, None] > cum[plot_id[rows]]).sum(axis=1)
    species = species.clip(0, keys.size - 1)
    dbh = np.clip(5.0 + rng.gamma(2.0, 6.0, n_trees), 5.0, 60.0).round(1)
    height = np.clip(hd_curve(dbh) * rng.lognormal(0.0, 0.12, n_trees), 1.5, 35.0).round(1)
    missing = rng.random(n_trees) < 0.2
    height[missing] = hd_curve(dbh[missing])
    trees = pd.DataFrame({
        "plot_id": plot_id, "dbh_cm": dbh, "height_m": height, "model_key": keys[species],
        "height_sd_m": np.where(missing, HD_RSE_M, np.nan),
    })
    return trees, dict.fromkeys(range(n_plots), PLOT_AREA_HA)


def naive(trees: pd.DataFrame, models: dict, n_draws: int, seed: int,
          errors: ErrorModel) -> dict[int, tuple[float, float, float]]:
    """The peer: a plain loop over plots and trees (each tree vectorised over the draws)."""
    rng = np.random.default_rng(seed)
    carbon = {k: m.carbon_fraction + errors.carbon_fraction_sd * rng.standard_normal(n_draws)
              for k, m in models.items()}
    out = {}
    for plot, group in trees.groupby("plot_id", sort=False):
        agc = np.zeros(n_draws)
        for d, h, key, h_sd in group[["dbh_cm", "height_m", "model_key",
                                      "height_sd_m"]].itertuples(index=False):
            model = models[key]
            sd = np.hypot(errors.dbh_sd_cm, errors.dbh_sd_rel * d)
            d_draw = np.maximum(d + sd * rng.standard_normal(n_draws), 0.1)
            h_sd = errors.height_sd_rel * h if np.isnan(h_sd) else h_sd
            h_draw = np.maximum(h + h_sd * rng.standard_normal(n_draws), 0.1)
            sigma = getattr(model, "residual_sd_log", None) or errors.residual_sd_log
            res = np.exp(sigma * rng.standard_normal(n_draws) - sigma**2 / 2)
            agc += model.agb_kg(d_draw, h_draw) * res * carbon[key]
        agc = agc / 1000.0 / PLOT_AREA_HA
        out[plot] = (agc.mean(), *np.percentile(agc, [2.5, 97.5]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trees", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--peer-plots", type=int, default=100)
    args = parser.parse_args()
    trees, areas = make_trees(args.trees)
    table = ModelTable.default()
    models = {k: table.model_for(k) for k in sorted(trees["model_key"].unique())}
    record: dict = {"trees": len(trees), "plots": len(areas), "draws": args.draws,
                    "workers": args.workers, "species_models": len(models),
                    "heights_filled": int(trees["height_sd_m"].notna().sum()),
                    "peak_rss_before_mc_mb": round(peak_rss_mb(), 1)}
    with timed(record, "monte_carlo_s"):
        result = plot_agc_monte_carlo(trees, models, areas, n_draws=args.draws, seed=0,
                                      workers=args.workers)
    record["tree_draws_per_s"] = round(len(trees) * args.draws / record["monte_carlo_s"])
    del result
    with timed(record, "monte_carlo_1_worker_s"):  # like for like with the one-thread peer
        result = plot_agc_monte_carlo(trees, models, areas, n_draws=args.draws, seed=0,
                                      workers=1)
    record["target_s"] = 60
    record["median_agc_t_per_ha"] = round(float(result["agc_t_per_ha"].median()), 2)
    rel = (result["agc_ci_high"] - result["agc_ci_low"]) / result["agc_t_per_ha"]
    record["median_relative_ci_width"] = round(float(rel.median()), 4)

    sample_plots = list(areas)[: args.peer_plots]
    sample = trees[trees["plot_id"].isin(sample_plots)]
    start = time.perf_counter()
    naive(sample, models, args.draws, 0, ErrorModel())
    peer_s = time.perf_counter() - start
    record["peer"] = "naive loop over plots and trees, each tree vectorised over the draws"
    record["peer_sample_plots"] = len(sample_plots)
    record["peer_sample_s"] = round(peer_s, 2)
    record["peer_scaled_s"] = round(peer_s * len(trees) / len(sample), 1)
    record["speedup_vs_peer"] = round(record["peer_scaled_s"] / record["monte_carlo_s"], 1)
    record["speedup_vs_peer_1_worker"] = round(
        record["peer_scaled_s"] / record["monte_carlo_1_worker_s"], 1)
    # same plots with the fast implementation, for a like-for-like check of the scaling
    sample_areas = {p: areas[p] for p in sample_plots}
    with timed(record, "fast_sample_s"):
        plot_agc_monte_carlo(sample, models, sample_areas, n_draws=args.draws, seed=0,
                             workers=args.workers)
    save(f"allometry_mc_{len(trees):.0e}x{args.draws}".replace("+0", "").replace("+", ""),
         record)


if __name__ == "__main__":
    main()
