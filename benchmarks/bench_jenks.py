"""Jenks natural breaks: 20,000 values vs jenkspy, 10 million values vs mapclassify (A3).

    .venv/bin/python benchmarks/bench_jenks.py [--n-large 10000000] [--no-exact-large]

Data: seeded AGC-like values (Mg C/ha), gamma(2, 30). k = 5 throughout.

* 20,000 values, once rounded to 0.1 (about 2,000 distinct values) and once all distinct:
  minecarbon's exact method (:func:`natural_breaks`, best of five) against
  ``jenkspy.jenks_breaks`` (best of three) and ``mapclassify.FisherJenks`` (one run); whether the
  breaks are equal, and each one's GVF.
* 10 million float32 values: minecarbon's default (histogram method, precision chosen from the
  range), on numpy and on dask (1000 × 1000 chunks), against
  ``mapclassify.FisherJenksSampled`` (its default random sample of 1,000 values, and one of
  10,000; numpy's global seed set to 0 for repeatability). Every result's goodness of variance
  fit (GVF) is computed on all 10 million values, and, unless ``--no-exact-large``, compared with
  the exact optimum (minecarbon's exact method on all values, which takes a few seconds and
  about 1 GB).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

from minecarbon.assessment.grading import natural_breaks

K = 5


def best_of(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def gvf(values: np.ndarray, edges: np.ndarray) -> float:
    """Goodness of variance fit of the classes (upper edges inclusive) on all values."""
    cls = np.searchsorted(edges[1:-1], values, side="left")
    x = values.astype(np.float64) - float(np.mean(values, dtype=np.float64))
    n = np.bincount(cls, minlength=K)
    s = np.bincount(cls, weights=x, minlength=K)
    q = np.bincount(cls, weights=x * x, minlength=K)
    sdcm = float(np.sum(q - np.divide(s * s, n, out=np.zeros(K), where=n > 0)))
    return 1.0 - sdcm / float(np.sum(x * x))


def small(record: dict[str, Any]) -> None:
    import jenkspy
    import mapclassify

    rng = np.random.default_rng(0)
    natural_breaks(rng.random(100), K)  # compile / load the numba cache
    for label, values in (("n20k_tied", np.round(rng.gamma(2.0, 30.0, 20_000), 1)),
                          ("n20k_distinct", rng.gamma(2.0, 30.0, 20_000))):
        ours_s, ours = best_of(lambda v=values: natural_breaks(v, K), 5)
        peer_s, peer = best_of(lambda v=values: jenkspy.jenks_breaks(v, n_classes=K), 3)
        mc_s, mc = best_of(lambda v=values: mapclassify.FisherJenks(v, k=K), 1)
        mc_edges = np.concatenate([[values.min()], mc.bins])
        record[label] = {
            "n_values": values.size, "n_distinct": int(np.unique(values).size),
            "ours_exact_s": round(ours_s, 5), "jenkspy_s": round(peer_s, 3),
            "mapclassify_fisherjenks_s": round(mc_s, 3),
            "speedup_vs_jenkspy": round(peer_s / ours_s),
            "speedup_vs_mapclassify": round(mc_s / ours_s), "breaks": ours.breaks.tolist(),
            "equal_to_jenkspy": bool(np.array_equal(ours.breaks, peer)),
            "equal_to_mapclassify": bool(np.array_equal(ours.breaks[1:], mc.bins)),
            "mapclassify_breaks": mc_edges.tolist(),
            "gvf_ours": gvf(values, ours.breaks), "gvf_mapclassify": gvf(values, mc_edges)}


def large(record: dict[str, Any], n: int, exact: bool) -> None:
    import mapclassify

    values = np.random.default_rng(1).gamma(2.0, 30.0, n).astype(np.float32)
    side = int(np.sqrt(n))
    grid = xr.DataArray(values[: side * side].reshape(side, side), dims=("y", "x"), name="agc")
    out: dict[str, Any] = {"n_values": n, "dtype": "float32"}
    ours_s, ours = best_of(lambda: natural_breaks(values, K), 3)
    out.update(ours_histogram_s=round(ours_s, 3), method=ours.method, precision=ours.precision,
               n_bins=ours.n_items, breaks=ours.breaks.tolist(), gvf=gvf(values, ours.breaks))
    lazy = grid.chunk({"y": 1000, "x": 1000})
    dask_s, on_dask = best_of(lambda: natural_breaks(lazy, K), 2)
    out.update(dask_n_values=side * side, ours_dask_1000px_chunks_s=round(dask_s, 3),
               dask_breaks=on_dask.breaks.tolist())
    for label, kwargs in (("sampled_1000", {}), ("sampled_10000",
                                                 {"pct": 10_000 / n, "truncate": False})):
        np.random.seed(0)
        peer_s, peer = best_of(lambda kw=kwargs: mapclassify.FisherJenksSampled(values, k=K,
                                                                                **kw), 1)
        edges = np.concatenate([[values.min()], peer.bins]).astype(np.float64)
        out[f"mapclassify_{label}"] = {"s": round(peer_s, 3), "breaks": edges.tolist(),
                                       "gvf": gvf(values, edges),
                                       "ratio_time_peer_over_ours": round(peer_s / ours_s, 2)}
    if exact:
        exact_s, best = best_of(lambda: natural_breaks(values, K, max_exact=n), 1)
        out["exact_all_values"] = {"s": round(exact_s, 2), "breaks": best.breaks.tolist(),
                                   "gvf": gvf(values, best.breaks)}
        out["histogram_max_break_shift"] = float(np.abs(ours.breaks - best.breaks).max())
        out["histogram_gvf_loss"] = out["exact_all_values"]["gvf"] - out["gvf"]
        for label in ("sampled_1000", "sampled_10000"):
            peer = out[f"mapclassify_{label}"]
            peer["gvf_loss"] = out["exact_all_values"]["gvf"] - peer["gvf"]
            peer["max_break_shift"] = float(np.abs(np.array(peer["breaks"]) - best.breaks).max())
    record["large"] = out


def table(record: dict[str, Any]) -> None:
    big = record["large"]
    rows: list[tuple[str, float, str]] = []
    for key in ("n20k_tied", "n20k_distinct"):
        s = record[key]
        rows += [(f"{key} exact (ours)", s["ours_exact_s"],
                  f"equal to jenkspy: {s['equal_to_jenkspy']}, to mapclassify: "
                  f"{s['equal_to_mapclassify']}"),
                 (f"{key} jenkspy", s["jenkspy_s"], f"ours {s['speedup_vs_jenkspy']}× faster"),
                 (f"{key} mapclassify FisherJenks", s["mapclassify_fisherjenks_s"],
                  f"ours {s['speedup_vs_mapclassify']}× faster; GVF ours "
                  f"{s['gvf_ours']:.10f}, mapclassify {s['gvf_mapclassify']:.10f}")]
    rows += [(f"{big['n_values']:,} histogram (ours)", big["ours_histogram_s"],
              f"precision {big['precision']}, {big['n_bins']} bins, GVF {big['gvf']:.8f}"),
             (f"{big['dask_n_values']:,} dask (ours)", big["ours_dask_1000px_chunks_s"], "")]
    for label in ("sampled_1000", "sampled_10000"):
        peer = big[f"mapclassify_{label}"]
        rows.append((f"mapclassify FisherJenksSampled {label[8:]}", peer["s"],
                     f"GVF {peer['gvf']:.8f}"))
    if "exact_all_values" in big:
        rows.append(("exact on all values (ours)", big["exact_all_values"]["s"],
                     f"GVF {big['exact_all_values']['gvf']:.8f}; histogram break shift "
                     f"{big['histogram_max_break_shift']:.4f}"))
    print(f"{'case':<46}{'seconds':>10}  note")
    for label, seconds, note in rows:
        print(f"{label:<46}{seconds:>10}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-large", type=int, default=10_000_000)
    parser.add_argument("--no-exact-large", action="store_true")
    args = parser.parse_args()
    record: dict[str, Any] = {"k": K}
    small(record)
    large(record, args.n_large, not args.no_exact_large)
    record["target_large_s"] = 10
    table(record)
    save("jenks", record)


if __name__ == "__main__":
    main()
