"""Run the TLS chain on the real clouds in ../shared and write our results for the docs.

    python docs/scripts/tls_real_clouds.py

Prints one line per cloud (stems found, DBHs, height flags, and how far each height lies below
the highest points of the crown around the stem, :func:`top_gaps`) and draws
docs/images/tls_treels_pine_plot.png — a stem map of *our* detections (positions and DBHs); the
GPL-3 clouds themselves stay in ../shared. tests/survey/tls/test_real.py uses :func:`top_gaps`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from minecarbon.io.pointcloud import read_points
from minecarbon.report.stem_map import draw_stem_map
from minecarbon.survey.tls.plot import TlsResult, process_plot

REPO = Path(__file__).resolve().parents[2]
CLOUDS = REPO.parent / "shared" / "data" / "pointclouds"


#: A crown point has at least this many other points within CROWN_POINT_RADIUS_M (a lone
#: return in the air does not count as the crown's top).
CROWN_POINT_NEIGHBOURS = 2
CROWN_POINT_RADIUS_M = 0.5
#: The crown's top is sought within this distance (m) of the stem.
TOP_SEARCH_M = 1.5


def top_gaps(xyz: npt.NDArray[np.float64], result: TlsResult) -> npt.NDArray[np.float64]:
    """Per tree: the highest crown point within 1.5 m of the stem, above the stem's foot,
    minus the tree's height (m). Positive: the height lies below the crown's highest points.
    """
    assert result.dtm is not None
    counts = cKDTree(xyz).query_ball_point(xyz, CROWN_POINT_RADIUS_M, return_length=True) - 1
    crown = xyz[counts >= CROWN_POINT_NEIGHBOURS]
    near = cKDTree(crown[:, :2])
    trees = result.trees
    foot = result.dtm.ground_z(trees["x"].to_numpy(), trees["y"].to_numpy())
    top = np.array([crown[near.query_ball_point(xy, TOP_SEARCH_M), 2].max()
                    for xy in trees[["x", "y"]].to_numpy()])
    return np.asarray(top - foot - trees["height_m"].to_numpy(), dtype=np.float64)


def main() -> None:
    for name in ("treels_pine_plot.laz", "treels_pine.laz", "treels_spruce.laz"):
        cloud = read_points(CLOUDS / name)
        result = process_plot(cloud.xyz)
        trees = result.trees
        dbh = trees["dbh_cm"].dropna()
        print(f"{name}: {len(cloud.xyz):,} points, {len(trees)} stems, "
              f"DBH {dbh.min():.1f}–{dbh.max():.1f} cm, quality "
              f"{trees['dbh_quality'].value_counts().to_dict()}, heights "
              f"{trees['height_m'].min():.1f}–{trees['height_m'].max():.1f} m, "
              f"{trees['height_quality'].value_counts().to_dict()}")
        gaps = top_gaps(cloud.xyz, result)
        ok = (trees["height_quality"] == "ok").to_numpy()
        print(f"  heights below the crown's highest points (ok trees): "
              f"{np.round(np.sort(gaps[ok]), 2).tolist()} m, median {np.median(gaps[ok]):.2f}")
        if name == "treels_pine_plot.laz":
            out = REPO / "docs" / "images" / "tls_treels_pine_plot.png"
            draw_stem_map(out, trees, title="TreeLS pine plot: stems found by minecarbon")
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
