"""Run the TLS chain on the real clouds in ../shared and write our results for the docs.

    python docs/scripts/tls_real_clouds.py

Prints one line per cloud (stems found, DBHs) and draws docs/images/tls_treels_pine_plot.png —
a stem map of *our* detections (positions and DBHs); the GPL-3 clouds themselves stay in
../shared.
"""

from __future__ import annotations

from pathlib import Path

from minecarbon.io.pointcloud import read_points
from minecarbon.report.stem_map import draw_stem_map
from minecarbon.survey.tls.plot import process_plot

REPO = Path(__file__).resolve().parents[2]
CLOUDS = REPO.parent / "shared" / "data" / "pointclouds"


def main() -> None:
    for name in ("treels_pine_plot.laz", "treels_pine.laz", "treels_spruce.laz"):
        cloud = read_points(CLOUDS / name)
        result = process_plot(cloud.xyz)
        trees = result.trees
        dbh = trees["dbh_cm"].dropna()
        print(f"{name}: {len(cloud.xyz):,} points, {len(trees)} stems, "
              f"DBH {dbh.min():.1f}–{dbh.max():.1f} cm, quality "
              f"{trees['dbh_quality'].value_counts().to_dict()}, heights "
              f"{trees['height_m'].min():.1f}–{trees['height_m'].max():.1f} m")
        if name == "treels_pine_plot.laz":
            out = REPO / "docs" / "images" / "tls_treels_pine_plot.png"
            draw_stem_map(out, trees, title="TreeLS pine plot: stems found by minecarbon")
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
