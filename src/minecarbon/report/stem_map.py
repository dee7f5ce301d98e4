"""The stem map of a TLS plot: detected stems, tallied trees and their matches."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle

from minecarbon.report.fonts import use_cjk_font

QUALITY_COLOURS = {"ok": "#1b7837", "fallback": "#f1a340", "failed": "#b2182b"}


def draw_stem_map(path: Path, detected: pd.DataFrame, *, title: str,
                  tally: pd.DataFrame | None = None, pairs: pd.DataFrame | None = None,
                  square: tuple[float, float, float, float] | None = None) -> None:
    """Write a PNG stem map.

    Parameters
    ----------
    path
        Where to write the PNG (the caller makes it atomic).
    detected
        TLS trees: x, y, dbh_cm, dbh_quality.
    title
        Figure title.
    tally
        Tallied trees: x, y (crosses).
    pairs
        Matched pairs: x_tls, y_tls, x_tally, y_tally (lines).
    square
        The plot square (x0, y0, x1, y1).

    """
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(7, 7))
    if square is not None:
        x0, y0, x1, y1 = square
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.2, ls="--",
                               color="grey"))
    for row in detected.itertuples():
        radius = max(float(row.dbh_cm) / 200.0 * 8, 0.15) if row.dbh_cm == row.dbh_cm else 0.3
        colour = QUALITY_COLOURS.get(str(row.dbh_quality), "black")
        ax.add_patch(Circle((row.x, row.y), radius, color=colour, alpha=0.75))
    if tally is not None and len(tally):
        ax.plot(tally["x"], tally["y"], "k+", ms=7, label="tally 每木检尺")
    if pairs is not None and len(pairs):
        for p in pairs.itertuples():
            ax.plot([p.x_tls, p.x_tally], [p.y_tls, p.y_tally], "k-", lw=0.6)
    handles: list[Artist] = [Circle((0, 0), 1, color=c) for c in QUALITY_COLOURS.values()]
    labels = [f"TLS DBH {q} (×8 scale)" for q in QUALITY_COLOURS]
    if tally is not None and len(tally):
        handles.append(Line2D([], [], color="k", marker="+", ls=""))
        labels.append("tally 每木检尺")
    ax.legend(handles, labels, loc="upper right", fontsize=8)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set(title=title, xlabel="easting (m)", ylabel="northing (m)")
    ax.ticklabel_format(useOffset=False, style="plain")
    fig.savefig(path, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
