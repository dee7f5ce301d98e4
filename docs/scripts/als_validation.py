"""Canopy height model and tree tops against reference trees: MixedConifer and Chablais 3.

Two real clouds from ``../shared/data/pointclouds``:

* ``lidr_MixedConifer.laz`` (lidR; normalised, about 4.4 points/m², per-point ``treeID`` of a
  segmentation): reference trees are the highest non-ground point of each segmented tree.
* ``lidartree_las_chablais3.laz`` (lidaRtRee; RIEGL LMS-Q560 2009, raw elevations, about 12
  points/m²) with its field tally ``lidartree_tree_inventory_chablais3.csv`` (July 2010: x, y,
  d = DBH cm, h = height m).

For each, the canopy height model is built the library's way (cell size from the point
density, empty cells interpolated) and tree tops are found with the default variable window;
tops are matched one-to-one with the reference trees by an optimal (Hungarian) matching within
``MATCH_DISTANCE_M`` and ``MATCH_HEIGHT_M``, and detection, commission, omission, F-score,
height bias and RMSE are reported. Chablais also gets method A (the highest CHM cell within
``RADIUS_M`` of each tallied stem) and tables by DBH class; both get the alternatives tried.

Prints the tables of docs/als-validation.md and writes docs/images/als_chablais.png.
tests/features/test_lidar.py imports this module and checks the numbers in the docs.

Run from the repository root:  .venv/bin/python docs/scripts/als_validation.py
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.features.chm import canopy_height_model, point_density
from minecarbon.features.lidar import normalise_heights
from minecarbon.features.tree_tops import (
    DEFAULT_WINDOW,
    DetectionScores,
    chm_max_near,
    detection_scores,
    find_tree_tops,
    linear_window,
    match_trees,
)
from minecarbon.io.pointcloud import read_points

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "pointclouds"
CHABLAIS = "lidartree_las_chablais3.laz"
TALLY = "lidartree_tree_inventory_chablais3.csv"
MIXED = "lidr_MixedConifer.laz"

#: Matching tolerances: horizontal distance and height difference (m).
MATCH_DISTANCE_M = 3.0
MATCH_HEIGHT_M = 5.0
#: Lowest reference tree and lowest top (m).
MIN_HEIGHT_M = 2.0
#: Method A (Chablais): search radius around each tallied stem (m).
RADIUS_M = 1.5
#: DBH classes (cm), lower bound included.
DBH_CLASSES = ((0.0, 20.0), (20.0, 40.0), (40.0, math.inf))


@dataclass
class Setting:
    """One way of building the model and finding tops."""

    label: str
    resolution_m: float | None = None
    fill: bool = True
    window: Any = DEFAULT_WINDOW
    smooth_m: float = 0.0
    greedy: bool = False
    height_tolerance: bool = True


MAIN = Setting("main: cell from density, filled, variable window r = 1 + 0.05 h")
ALTERNATIVES = (
    Setting("0.5 m, not filled, σ 0.5 m, window 1.5 m (before)", 0.5, False, 1.5, 0.5),
    Setting("0.5 m, not filled, window 1.5 m", 0.5, False, 1.5),
    Setting("filled, window 1.5 m", window=1.5),
    Setting("filled, window 2.0 m", window=2.0),
    Setting("filled, variable window r = 1 + 0.06 h", window=linear_window(1.0, 0.06)),
    Setting("filled, variable window r = 1.5 + 0.03 h", window=linear_window(1.5, 0.03)),
    Setting("filled, variable window, σ 0.5 m", smooth_m=0.5),
    Setting("1.0 m, filled, variable window", 1.0),
    Setting("main, no height tolerance", height_tolerance=False),
    Setting("main, greedy matching (tallest first)", greedy=True),
)


@dataclass
class Result:
    """Model, tops, reference trees and the matching of one cloud under one setting."""

    chm: xr.DataArray
    tops: pd.DataFrame
    reference: pd.DataFrame
    matches: pd.DataFrame
    scores: DetectionScores
    density: float
    extra: dict[str, Any] = field(default_factory=dict)


def greedy_match(ref: pd.DataFrame, tops: pd.DataFrame, max_dist_m: float) -> pd.DataFrame:
    """The earlier matching: tallest reference tree first, each takes the nearest free top."""
    from scipy.spatial import cKDTree

    rows = []
    if len(tops):
        txy = tops[["x_m", "y_m"]].to_numpy()
        tree = cKDTree(txy)
        used = np.zeros(len(tops), dtype=bool)
        for i in np.argsort(-ref["h"].to_numpy(), kind="stable"):
            p = ref[["x", "y"]].to_numpy()[i]
            cand = [c for c in tree.query_ball_point(p, max_dist_m) if not used[c]]
            if cand:
                d = np.hypot(*(txy[cand] - p).T)
                best = cand[int(np.argmin(d))]
                used[best] = True
                rows.append((i, best, float(d.min()),
                             float(tops["height_m"].iloc[best] - ref["h"].iloc[i])))
    out = pd.DataFrame(rows, columns=["reference", "detected", "distance_m",
                                      "height_difference_m"])
    return out.sort_values("reference", ignore_index=True)


def _evaluate(heights: np.ndarray, classification: np.ndarray, box: tuple[float, ...],
              crs: Any, reference: pd.DataFrame, setting: Setting,
              tops_box: tuple[float, ...] | None = None) -> Result:
    density = point_density(heights)
    chm = canopy_height_model(heights, box, setting.resolution_m, classification=classification,
                              crs=crs, fill_empty=setting.fill)
    tops = find_tree_tops(chm, window_radius_m=setting.window, min_height_m=MIN_HEIGHT_M,
                          smooth_sigma_m=setting.smooth_m)
    if setting.greedy:
        matches = greedy_match(reference, tops, MATCH_DISTANCE_M)
    else:
        matches = match_trees(reference[["x", "y"]], reference["h"], tops[["x_m", "y_m"]],
                              tops["height_m"], max_distance_m=MATCH_DISTANCE_M,
                              max_height_difference_m=MATCH_HEIGHT_M
                              if setting.height_tolerance else None)
    if tops_box is not None:
        # a top outside the tallied area can only be judged when it matched a tallied tree
        # (the top of an edge tree may lean out of the box); the others are set aside
        x0, y0, x1, y1 = tops_box
        judged = (tops["x_m"].between(x0, x1) & tops["y_m"].between(y0, y1)).to_numpy().copy()
        judged[matches["detected"].to_numpy()] = True
        new_index = np.cumsum(judged) - 1
        tops = tops[judged].reset_index(drop=True)
        matches = matches.assign(detected=new_index[matches["detected"].to_numpy()])
    scores = detection_scores(matches, len(reference), len(tops))
    return Result(chm, tops, reference, matches, scores, density)


# ----------------------------------------------------------------------------- MixedConifer


def mixedconifer(data: Path = DATA, setting: Setting = MAIN) -> Result:
    """Tops on lidR's MixedConifer tile against the trees of its segmentation."""
    cloud = read_points(data / MIXED, classification=True, what="MixedConifer ALS tile")
    import laspy

    tree_id = np.asarray(laspy.read(data / MIXED).treeID, dtype=np.float64)
    xyz, cls = cloud.xyz, np.asarray(cloud.classification)
    veg = (cls != 2) & np.isfinite(tree_id) & (tree_id < 1e300)  # NA ids are stored as DBL_MAX
    pts = pd.DataFrame({"x": xyz[veg, 0], "y": xyz[veg, 1], "h": xyz[veg, 2], "t": tree_id[veg]})
    reference = pts.loc[pts.groupby("t")["h"].idxmax(), ["x", "y", "h"]]
    reference = reference[reference["h"] >= MIN_HEIGHT_M].reset_index(drop=True)
    x0, y0, x1, y1 = cloud.bounds
    box = (math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))
    return _evaluate(xyz, cls, box, cloud.crs, reference, setting)


# ----------------------------------------------------------------------------- Chablais 3


def chablais(data: Path = DATA, setting: Setting = MAIN, *, radius_m: float = RADIUS_M) -> Result:
    """Tops (method B) and CHM maxima near stems (method A) against the Chablais 3 tally."""
    cloud = read_points(data / CHABLAIS, classification=True, expected_crs="EPSG:2154",
                        what="Chablais 3 ALS cloud")
    heights = normalise_heights(cloud.xyz, cloud.classification)
    x0, y0, x1, y1 = cloud.bounds
    box = (math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))
    tally = pd.read_csv(data / TALLY)
    tops_box = (tally["x"].min(), tally["y"].min(), tally["x"].max(), tally["y"].max())
    result = _evaluate(heights, cloud.classification, box, cloud.crs, tally, setting, tops_box)
    tally = tally.copy()
    tally["h_chm_m"] = chm_max_near(result.chm, tally["x"], tally["y"], radius_m)
    tally["h_top_m"] = np.nan
    m = result.matches
    tally.loc[m["reference"].to_numpy(), "h_top_m"] = (
        result.tops["height_m"].to_numpy()[m["detected"].to_numpy()]
    )
    result.reference = tally
    return result


def height_stats(err: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """n, bias, RMSE (m) and relative bias and RMSE (% of the mean reference height)."""
    e = np.asarray(err, dtype=float)
    if e.size == 0:
        return {"n": 0, "bias_m": math.nan, "rmse_m": math.nan, "rel_bias_pct": math.nan,
                "rel_rmse_pct": math.nan}
    mean_h = float(np.mean(reference))
    bias, rmse = float(e.mean()), float(np.sqrt((e**2).mean()))
    return {"n": int(e.size), "bias_m": bias, "rmse_m": rmse,
            "rel_bias_pct": 100 * bias / mean_h, "rel_rmse_pct": 100 * rmse / mean_h}


def method_rows(result: Result, method: str) -> list[tuple[str, int, dict[str, float]]]:
    """Per DBH class: label, tallied trees, and height stats of method 'A' or 'B'."""
    t = result.reference
    col = "h_chm_m" if method == "A" else "h_top_m"
    out = []
    for label, lo, hi in [("all", 0.0, math.inf)] + [(_class_label(lo, hi), lo, hi)
                                                      for lo, hi in DBH_CLASSES]:
        sel = t[(t["d"] >= lo) & (t["d"] < hi)]
        have = sel[sel[col].notna()]
        out.append((label, len(sel), height_stats(have[col] - have["h"], have["h"])))
    return out


def _class_label(lo: float, hi: float) -> str:
    if not math.isfinite(hi):
        return f"DBH ≥ {lo:g} cm"
    return f"DBH < {hi:g} cm" if lo == 0 else f"DBH {lo:g}–{hi:g} cm"


# ----------------------------------------------------------------------------- tables


def scores_row(label: str, r: Result) -> str:
    """One Markdown row of detection scores."""
    s = r.scores
    return (f"| {label} | {r.chm.attrs['resolution_m']:g} | {s.n_reference} | {s.n_detected} | "
            f"{s.n_matched} | {100 * s.detection_rate:.1f} % | {100 * s.omission_rate:.1f} % | "
            f"{100 * s.commission_rate:.1f} % | "
            f"{s.f_score:.3f} | {s.bias_m:+.2f} | {s.rmse_m:.2f} |")


SCORES_HEAD = ("| setting | cell (m) | reference | tops | matched | found | missed | false tops "
               "| F | bias (m) | RMSE (m) |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def dbh_table(ch: Result) -> list[str]:
    """Methods B and A by DBH class on Chablais (Markdown rows)."""
    lines = ["| trees | tallied | B: found | B: bias (m) | B: RMSE (m) | A: bias (m) "
             "| A: RMSE (m) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for (label, n, b), (_, _, a) in zip(method_rows(ch, "B"), method_rows(ch, "A"), strict=True):
        lines.append(f"| {label} | {n} | {b['n']} | {b['bias_m']:+.2f} | {b['rmse_m']:.2f} | "
                     f"{a['bias_m']:+.2f} | {a['rmse_m']:.2f} |")
    return lines


def main_rows(data: Path = DATA) -> tuple[Result, Result, list[str]]:
    """Both clouds under the main setting, and the rows of the page that quote them."""
    mc, ch = mixedconifer(data), chablais(data)
    rows = [scores_row(MAIN.label, mc), scores_row(MAIN.label, ch), *dbh_table(ch)[2:]]
    return mc, ch, rows


def report(data: Path = DATA) -> str:
    """The tables of docs/als-validation.md."""
    mc, ch, _ = main_rows(data)
    lines = [
        f"MixedConifer: density {mc.density:.2f} points/m², cell "
        f"{mc.chm.attrs['resolution_m']:g} m, {100 * mc.chm.attrs['empty_share']:.1f} % of the "
        "cells empty before filling",
        "", SCORES_HEAD, scores_row(MAIN.label, mc),
    ]
    lines += [scores_row(s.label, mixedconifer(data, s)) for s in ALTERNATIVES]
    lines += [
        "", f"Chablais 3: density {ch.density:.2f} points/m², cell "
        f"{ch.chm.attrs['resolution_m']:g} m, {100 * ch.chm.attrs['empty_share']:.1f} % empty "
        "before filling; tops judged: those inside the tally's bounding box and those matched",
        "", SCORES_HEAD, scores_row(MAIN.label, ch),
    ]
    lines += [scores_row(s.label, chablais(data, s)) for s in ALTERNATIVES]
    lines += ["", *dbh_table(ch), "", "Method A for other radii (all trees): bias / RMSE (m)"]
    for r in (0.5, 1.0, 1.5, 2.0, 3.0):
        a = method_rows(chablais(data, radius_m=r), "A")[0][2]
        lines.append(f"{r} m {a['bias_m']:+.2f} / {a['rmse_m']:.2f}")
    return "\n".join(lines)


def figure(result: Result, path: Path) -> None:
    """Our CHM heights against the field heights (methods A and B), by DBH.

    Only our results are drawn — no rendering of the (GPL-3) cloud or its CHM is committed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.reference
    fig, ax = plt.subplots(figsize=(6.5, 6))
    sc = None
    for col, marker, label in (("h_chm_m", "o", f"A: CHM max within {RADIUS_M} m"),
                               ("h_top_m", "^", "B: matched tree top")):
        e = t[t[col].notna()]
        sc = ax.scatter(e["h"], e[col], c=e["d"], s=22, marker=marker, cmap="viridis",
                        vmin=0, vmax=70, alpha=0.85, label=label)
    top = float(max(t["h"].max(), 40.0))
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="1:1")
    ax.set(xlabel="field height, tally 2010 (m)", ylabel="height from the ALS CHM, 2009 (m)",
           title="Chablais 3: tree heights from the canopy height model", xlim=(0, top),
           ylim=(0, top))
    fig.colorbar(sc, ax=ax, shrink=0.8, label="DBH (cm)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--png", type=Path, default=REPO / "docs" / "images" / "als_chablais.png")
    args = parser.parse_args()
    print(report(args.data))
    figure(chablais(args.data), args.png)
    print(f"\nwrote {args.png}")


if __name__ == "__main__":
    main()
