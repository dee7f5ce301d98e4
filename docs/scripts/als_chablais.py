"""Tree heights from an ALS canopy height model against the Chablais 3 field tally.

Reads ``lidartree_las_chablais3.laz`` (RIEGL LMS-Q560, 2009; EPSG:2154; raw elevations, ground
class 2) and ``lidartree_tree_inventory_chablais3.csv`` (July 2010 tally: x, y, d = DBH cm,
h = height m, ...) from ``../shared/data/pointclouds``, normalises the heights, builds a 0.5 m
canopy height model and compares it with the tallied heights in two ways:

A. per tallied tree, the highest CHM cell within ``RADIUS_M`` of the stem position;
B. tree tops detected as local maxima of the (lightly smoothed) CHM, matched one-to-one with the
   tallied trees, tallest tallied tree first, each taking the nearest free top within
   ``MATCH_MAX_M``.

Prints the tables of docs/als-validation.md and writes docs/images/als_chablais.png.
tests/features/test_lidar.py imports :func:`validate` and checks the numbers in the docs.

Run from the repository root:  .venv/bin/python docs/scripts/als_chablais.py
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from minecarbon.features.lidar import (
    canopy_height_model,
    chm_max_near,
    find_tree_tops,
    normalise_heights,
)
from minecarbon.io.pointcloud import read_points

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "pointclouds"
LAZ = "lidartree_las_chablais3.laz"
TALLY = "lidartree_tree_inventory_chablais3.csv"
CRS = "EPSG:2154"

#: CHM cell size (m).
CHM_RESOLUTION_M = 0.5
#: Method A: search radius around each tallied stem (m).
RADIUS_M = 1.5
#: Method B: local-maximum window radius, Gaussian smoothing and minimum height (m).
TOP_WINDOW_M = 1.5
TOP_SMOOTH_M = 0.5
TOP_MIN_HEIGHT_M = 5.0
#: Method B: largest distance between a tallied stem and its matched top (m).
MATCH_MAX_M = 3.0
#: DBH classes (cm), lower bound included.
DBH_CLASSES = ((0.0, 20.0), (20.0, 40.0), (40.0, math.inf))


@dataclass
class Validation:
    """Everything the docs report, and what the figure needs."""

    chm: xr.DataArray
    #: the tally with h_chm_m (method A) and h_top_m, top_dist_m, top_index (method B; NaN or -1
    #: where no top was matched)
    tally: pd.DataFrame
    tops: pd.DataFrame
    n_points: int

    def errors(self, method: str) -> pd.DataFrame:
        """Tallied trees with a model height under ``method`` ('A' or 'B'), with ``err_m``."""
        col = "h_chm_m" if method == "A" else "h_top_m"
        out = self.tally[self.tally[col].notna()].copy()
        out["err_m"] = out[col] - out["h"]
        return out


def stats(err: pd.Series, reference: pd.Series) -> dict[str, float]:
    """n, bias, RMSE (m) and relative bias and RMSE (% of the mean tallied height)."""
    e = np.asarray(err, dtype=float)
    if e.size == 0:
        return {"n": 0, "bias_m": math.nan, "rmse_m": math.nan, "rel_bias_pct": math.nan,
                "rel_rmse_pct": math.nan}
    mean_h = float(np.mean(reference))
    bias = float(e.mean())
    rmse = float(np.sqrt((e**2).mean()))
    return {"n": int(e.size), "bias_m": bias, "rmse_m": rmse,
            "rel_bias_pct": 100 * bias / mean_h, "rel_rmse_pct": 100 * rmse / mean_h}


def match_tallest_first(ref_xy: np.ndarray, ref_h: np.ndarray, det_xy: np.ndarray,
                        max_dist_m: float) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching: tallest reference tree first, each takes the nearest free top.

    Returns, per reference tree, the index of its top (-1 if none) and the distance (NaN).
    """
    from scipy.spatial import cKDTree

    index = np.full(len(ref_xy), -1, dtype=np.int64)
    dist = np.full(len(ref_xy), np.nan)
    if len(det_xy) == 0:
        return index, dist
    tree = cKDTree(det_xy)
    used = np.zeros(len(det_xy), dtype=bool)
    for i in np.argsort(-ref_h, kind="stable"):
        cand = [c for c in tree.query_ball_point(ref_xy[i], max_dist_m) if not used[c]]
        if not cand:
            continue
        d = np.hypot(*(det_xy[cand] - ref_xy[i]).T)
        best = cand[int(np.argmin(d))]
        used[best] = True
        index[i], dist[i] = best, float(d.min())
    return index, dist


def validate(data: Path = DATA, *, radius_m: float = RADIUS_M,
             window_m: float = TOP_WINDOW_M, smooth_m: float = TOP_SMOOTH_M,
             match_max_m: float = MATCH_MAX_M) -> Validation:
    """Run the comparison (methods A and B) on the Chablais 3 cloud and tally in ``data``."""
    cloud = read_points(data / LAZ, classification=True, expected_crs=CRS,
                        what="Chablais 3 ALS cloud")
    heights = normalise_heights(cloud.xyz, cloud.classification)
    x0, y0, x1, y1 = cloud.bounds
    box = (math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))
    chm = canopy_height_model(heights, box, CHM_RESOLUTION_M,
                              classification=cloud.classification, crs=cloud.crs)

    tally = pd.read_csv(data / TALLY)
    tally["h_chm_m"] = chm_max_near(chm, tally["x"], tally["y"], radius_m)

    tops = find_tree_tops(chm, window_radius_m=window_m, min_height_m=TOP_MIN_HEIGHT_M,
                          smooth_sigma_m=smooth_m)
    index, dist = match_tallest_first(tally[["x", "y"]].to_numpy(), tally["h"].to_numpy(),
                                      tops[["x_m", "y_m"]].to_numpy(), match_max_m)
    tally["h_top_m"] = np.where(index >= 0, tops["height_m"].to_numpy()[index], np.nan)
    tally["top_dist_m"] = dist
    tally["top_index"] = index
    return Validation(chm=chm, tally=tally, tops=tops, n_points=len(cloud))


def _by_class(errors: pd.DataFrame) -> list[tuple[str, dict[str, float]]]:
    rows = [("all", stats(errors["err_m"], errors["h"]))]
    for lo, hi in DBH_CLASSES:
        sel = errors[(errors["d"] >= lo) & (errors["d"] < hi)]
        label = _class_label(lo, hi)
        rows.append((label, stats(sel["err_m"], sel["h"])))
    return rows


def _class_label(lo: float, hi: float) -> str:
    if not math.isfinite(hi):
        return f"DBH ≥ {lo:g} cm"
    return f"DBH < {hi:g} cm" if lo == 0 else f"DBH {lo:g}–{hi:g} cm"


def _table(rows: list[tuple[str, dict[str, float]]], n_ref: dict[str, int]) -> str:
    lines = ["| trees | tallied | compared | bias (m) | RMSE (m) | rel. bias | rel. RMSE |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, s in rows:
        lines.append(
            f"| {label} | {n_ref[label]} | {s['n']} | {s['bias_m']:+.2f} | {s['rmse_m']:.2f} | "
            f"{s['rel_bias_pct']:+.1f} % | {s['rel_rmse_pct']:.1f} % |"
        )
    return "\n".join(lines)


def report(v: Validation) -> str:
    """The Markdown tables of docs/als-validation.md."""
    n_ref = {"all": len(v.tally)}
    for lo, hi in DBH_CLASSES:
        label = _class_label(lo, hi)
        n_ref[label] = int(((v.tally["d"] >= lo) & (v.tally["d"] < hi)).sum())
    x0, y0, x1, y1 = (v.tally["x"].min(), v.tally["y"].min(), v.tally["x"].max(),
                      v.tally["y"].max())
    inside = v.tops[(v.tops["x_m"] >= x0) & (v.tops["x_m"] <= x1)
                    & (v.tops["y_m"] >= y0) & (v.tops["y_m"] <= y1)]
    matched = v.tally["h_top_m"].notna()
    parts = [
        f"points: {v.n_points}; CHM {v.chm.shape[0]} × {v.chm.shape[1]} cells of "
        f"{CHM_RESOLUTION_M} m, {float(v.chm.isnull().mean()) * 100:.1f} % empty",
        "",
        f"Method A (CHM maximum within {RADIUS_M} m of each tallied stem)",
        "",
        _table(_by_class(v.errors("A")), n_ref),
        "",
        f"Method B (tops: window radius {TOP_WINDOW_M} m, smoothing σ {TOP_SMOOTH_M} m, "
        f"≥ {TOP_MIN_HEIGHT_M} m; matched within {MATCH_MAX_M} m, tallest tallied tree first)",
        "",
        f"tops detected: {len(v.tops)} on the whole cloud, {len(inside)} inside the tally's "
        f"bounding box; tallied trees matched: {int(matched.sum())} of {len(v.tally)}; "
        f"tops in the box left unmatched: "
        f"{int((~np.isin(inside.index, v.tally['top_index'])).sum())}",
        "",
        _table(_by_class(v.errors("B")), n_ref),
    ]
    return "\n".join(parts)


def sensitivity(data: Path = DATA) -> str:
    """Method A for several radii and method B for several windows, all trees."""
    lines = ["| setting | compared | bias (m) | RMSE (m) |", "|---|---:|---:|---:|"]
    for r in (0.5, 1.0, 1.5, 2.0, 3.0):
        s = stats(*_err(validate(data, radius_m=r), "A"))
        lines.append(f"| A, radius {r} m | {s['n']} | {s['bias_m']:+.2f} | {s['rmse_m']:.2f} |")
    for w, sm in ((1.0, 0.5), (1.5, 0.0), (1.5, 0.5), (2.0, 0.5), (1.5, 1.0)):
        s = stats(*_err(validate(data, window_m=w, smooth_m=sm), "B"))
        lines.append(f"| B, window {w} m, σ {sm} m | {s['n']} | {s['bias_m']:+.2f} | "
                     f"{s['rmse_m']:.2f} |")
    return "\n".join(lines)


def _err(v: Validation, method: str) -> tuple[pd.Series, pd.Series]:
    e = v.errors(method)
    return e["err_m"], e["h"]


def figure(v: Validation, path: Path) -> None:
    """Our CHM heights against the field heights (methods A and B), by DBH.

    Only our results are drawn — no rendering of the (GPL-3) cloud or its CHM is committed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 6))
    for method, marker, label in (("A", "o", "A: CHM max within 1.5 m"),
                                  ("B", "^", "B: matched tree top")):
        e = v.errors(method)
        col = "h_chm_m" if method == "A" else "h_top_m"
        sc = ax.scatter(e["h"], e[col], c=e["d"], s=22, marker=marker, cmap="viridis",
                        vmin=0, vmax=70, alpha=0.85, label=label)
    top = float(max(v.tally["h"].max(), 40.0))
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
    v = validate(args.data)
    print(report(v))
    print()
    print(sensitivity(args.data))
    figure(v, args.png)
    print(f"\nwrote {args.png}")


if __name__ == "__main__":
    main()
