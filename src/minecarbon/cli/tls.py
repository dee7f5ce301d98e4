"""`minecarbon tls CLOUD`: trees of one TLS plot, and their validation against a tally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minecarbon.cli._common import (
    OUT,
    WorkspaceOption,
    check_name,
    emit_json,
    existing_file,
    open_workspace,
    say,
)
from minecarbon.errors import InputDataError
from minecarbon.io.pointcloud import ASCII_SUFFIXES, POINTCLOUD_SUFFIXES


def tls(
    cloud: Annotated[Path, typer.Argument(help="The plot's TLS point cloud (LAS/LAZ).")],
    workspace: WorkspaceOption = Path("."),
    plot_id: Annotated[str | None, typer.Option("--plot-id", help="Plot id (default: from "
                                                "the file name, tls_<plot>.laz).")] = None,
    tally: Annotated[Path | None, typer.Option(help="Tally (每木检尺) with stem positions "
                                               "x, y, to validate against.")] = None,
) -> None:
    """Detect stems, measure DBH (1.3 m), lean and height; validate against a tally.

    The cloud (and the tally) are checked and imported into raw/tls/ first, like any input;
    if the measurement fails they are taken back out. Products:
    products/tls/<plot>_trees.csv, <plot>_validation.json (with a tally), <plot>_stem_map.png.
    """
    existing_file(cloud, "CLOUD")  # every argument is checked before anything is imported
    suffixes = POINTCLOUD_SUFFIXES + ASCII_SUFFIXES
    if cloud.suffix.lower() not in suffixes:
        raise InputDataError(f"CLOUD {cloud} is not a point cloud ({cloud.suffix or 'no suffix'})",
                             fix=f"give a {', '.join(suffixes)} file")
    existing_file(tally, "--tally")
    check_name(plot_id, "--plot-id")
    with open_workspace(workspace) as ws:
        from minecarbon.pipeline.tls_steps import measure_cloud

        outcome = measure_cloud(ws, cloud, plot_id=plot_id, tally=tally)
    trees = outcome.trees
    if OUT.json:
        emit_json({"plot_id": outcome.plot_id, "trees": len(trees),
                   "dbh_quality": trees["dbh_quality"].value_counts().to_dict(),
                   "validation": outcome.validation, "products": outcome.products})
        return
    counts = ", ".join(f"{n} {q}" for q, n in trees["dbh_quality"].value_counts().items())
    say(f"plot {outcome.plot_id}: {len(trees)} trees (DBH {counts})")
    v = outcome.validation
    if v:
        say(f"vs tally: detection {v['detection_rate']:.1%}, commission "
            f"{v['commission_rate']:.1%}, DBH RMSE {v['dbh_rmse']:.2f} cm "
            f"(bias {v['dbh_bias']:+.2f}), height RMSE {v['height_rmse']:.2f} m "
            f"(bias {v['height_bias']:+.2f})")
    for p in outcome.products:
        say(f"  {p}")
