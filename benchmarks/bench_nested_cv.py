"""Nested CV of the four model kinds on 200 plots × 40 features (M3; the bar: < 60 s on 2 cores).

    .venv/bin/python benchmarks/bench_nested_cv.py [--plots 200] [--noise 30] [--repeat 1]

The plot table is the one of ``tests/modeling/test_estimators.py``'s slow nested-CV test (which
asserted this time until issue 15 moved the timing here): ``synthetic_plots`` of one stratum,
200 plots, its 9 features plus 30 pure-noise features (about 40, as a real feature table).
:func:`minecarbon.modeling.evaluation.nested_cv` runs 5 outer × 3 inner folds with correlation
selection down to 10 features for each kind (svr, rf, gbdt, xgboost), one job, seed 0.

Peer: the same nested CV in plain scikit-learn — the same pipeline, grid, folds and scoring,
``GridSearchCV`` per outer fold — without minecarbon's cache of fitted selectors (a
``Pipeline(memory=…)``, so that the selector is fitted once per training set rather than once
per grid point). The out-of-fold predictions of both are compared. Reported: seconds per kind
and in all (best of ``--repeat``), the ratio peer / minecarbon, and the ratio to the 60 s bar —
measured, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.modeling
from _measure import save
from tests.modeling import FEATURES, synthetic_plots

from minecarbon.modeling.evaluation import build_pipeline, grid_search, nested_cv
from minecarbon.modeling.selection import CorrelationSelector
from minecarbon.types import ModelKind

TARGET_S = 60.0


def plot_table(n_plots: int, n_noise: int) -> tuple[pd.DataFrame, pd.Series]:
    plots = synthetic_plots({"coniferous": n_plots}, seed=5)
    for i in range(n_noise):
        plots[f"noise_{i}"] = np.random.default_rng(i).normal(size=len(plots))
    x = plots[[*FEATURES, *(f"noise_{i}" for i in range(n_noise))]]
    return x, plots["agc_t_ha"]


def plain_sklearn(x: pd.DataFrame, y: pd.Series, kind: ModelKind, seed: int = 0) -> np.ndarray:
    """Nested CV as nested_cv does it, without the selector cache."""
    from sklearn.model_selection import KFold

    target = y.to_numpy(dtype=np.float64)
    predicted = np.full(target.size, np.nan)
    outer = KFold(5, shuffle=True, random_state=seed)
    for i, (train, test) in enumerate(outer.split(x, target)):
        pipe, grid = build_pipeline(kind, CorrelationSelector(k=10), seed=seed)
        search = grid_search(pipe, grid, inner_folds=3, seed=seed + 1 + i)
        search.fit(x.iloc[train], target[train])
        predicted[test] = search.best_estimator_.predict(x.iloc[test])
    return predicted


def best_of(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return round(min(times), 2), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plots", type=int, default=200)
    parser.add_argument("--noise", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    x, y = plot_table(args.plots, args.noise)
    record: dict[str, Any] = {"plots": len(x), "features": x.shape[1], "outer_folds": 5,
                              "inner_folds": 3, "selected_features": 10, "n_jobs": 1,
                              "target_s": TARGET_S}
    ours_total = peer_total = 0.0
    for kind in ModelKind:
        seconds, result = best_of(lambda k=kind: nested_cv(x, y, k, CorrelationSelector(k=10),
                                                           seed=0), args.repeat)
        ours_total += seconds
        entry: dict[str, Any] = {"minecarbon_s": seconds}
        if not args.no_peer:
            peer_s, peer = best_of(lambda k=kind: plain_sklearn(x, y, k), args.repeat)
            peer_total += peer_s
            entry.update(sklearn_no_cache_s=peer_s,
                         ratio_sklearn_to_minecarbon=round(peer_s / seconds, 2),
                         max_abs_prediction_difference=float(
                             np.abs(result.predicted - peer).max()))
        record[kind.value] = entry
        print(kind.value, entry, flush=True)
    record["minecarbon_total_s"] = round(ours_total, 2)
    record["ratio_to_target"] = round(ours_total / TARGET_S, 2)
    if not args.no_peer:
        record["sklearn_no_cache_total_s"] = round(peer_total, 2)
        record["ratio_sklearn_to_minecarbon"] = round(peer_total / ours_total, 2)
    print(f"nested CV, 4 kinds: {ours_total:.1f} s (ratio to the {TARGET_S:.0f} s bar "
          f"{record['ratio_to_target']})")
    save("nested_cv", record)


if __name__ == "__main__":
    main()
