"""TLS in a workspace: one cloud → trees, validation against a tally, a stem map (P3, P4)."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from minecarbon.catalog import Workspace
from minecarbon.errors import InputDataError, warn
from minecarbon.io.pointcloud import is_pointcloud, read_points
from minecarbon.io.tables import read_table, write_csv
from minecarbon.pipeline.records import TABLE_SUFFIXES, read_plot_records
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.report.stem_map import draw_stem_map
from minecarbon.survey.tls.matching import match_to_tally
from minecarbon.survey.tls.plot import process_plot
from minecarbon.survey.trees import validate_tree_list

TLS_STEP = "tls"
#: Points this far outside the plot square are read too (crowns and stems leaning in).
CROP_MARGIN_M = 3.0


@dataclass(frozen=True)
class TlsOutcome:
    """What processing one cloud produced."""

    plot_id: str
    trees: pd.DataFrame
    validation: dict[str, Any] | None
    products: list[str]


#: Trees with a clear top a plot needs before overtopped trees get heights from its H–D model.
MIN_CLEAR_TOPS = 6


def fill_overtopped_heights(trees: pd.DataFrame) -> pd.DataFrame:
    """Heights of overtopped trees from a height–diameter model of the plot's clear tops.

    A small tree under a bigger neighbour's crown shows no top of its own in the scan: its
    highest point belongs to the neighbour. Where the plot has at least
    :data:`MIN_CLEAR_TOPS` trees whose top is clear (``height_quality`` 'ok'), the best H–D
    model fitted on them (``allometry.height.best_hd``) gives the others' heights; those rows
    get ``height_quality`` 'hd_model' and keep the scanned maximum in ``height_top_m``.
    """
    from minecarbon.allometry.height import best_hd

    out = trees.copy()
    out["height_top_m"] = out["height_m"]
    clear = (out["height_quality"] == "ok") & out["dbh_cm"].notna() & out["height_m"].notna()
    todo = (out["height_quality"] != "ok") & out["dbh_cm"].notna()
    if clear.sum() < MIN_CLEAR_TOPS or not todo.any():
        return out
    model = best_hd(out.loc[clear, "dbh_cm"].to_numpy(float),
                    out.loc[clear, "height_m"].to_numpy(float))
    out.loc[todo, "height_m"] = model.predict(out.loc[todo, "dbh_cm"].to_numpy(float)).round(2)
    out.loc[todo, "height_quality"] = "hd_model"
    return out


def plot_id_of(cloud: Path) -> str:
    """The plot a cloud belongs to, from its name: ``tls_P012.laz`` or ``P012.laz`` → P012."""
    return re.sub(r"^(tls|TLS)[_-]", "", cloud.stem)


def measure_cloud(ws: Workspace, cloud: Path, *, plot_id: str | None = None,
                  tally: Path | None = None) -> TlsOutcome:
    """Check and import one plot's cloud (and tally), then measure it (``minecarbon tls``).

    Both files pass the import checks first. If the measurement fails, the files this call
    imported are taken back, so a failed command leaves the workspace as it was.
    """
    from minecarbon.pipeline.admission import check_files

    files = [cloud] + ([tally] if tally is not None else [])
    for f in files:
        check_files(ws, "tls", [f], None)
    before = {r.path for r in ws.catalog.datasets(kind="raw:tls")}
    records = [ws.import_raw("tls", f)[0] for f in files]
    try:
        with warnings.catch_warnings(record=True) as caught:  # said only if it succeeds
            warnings.simplefilter("always")
            outcome = process_cloud(
                ws, ws.path(records[0].path), plot_id=plot_id,
                tally=ws.path(records[1].path) if tally is not None else None,
                step="tls-cli", inputs=[r.path for r in records])
    except BaseException:
        ws.undo_import([r.path for r in records if r.path not in before])
        raise
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return outcome


def process_cloud(ws: Workspace, cloud: Path, *, plot_id: str | None = None,
                  tally: Path | None = None, step: str = TLS_STEP,
                  inputs: list[str] | None = None) -> TlsOutcome:
    """Measure the trees of one TLS cloud and write ``products/tls/<plot>_*``.

    The plot square (from the imported plot records) crops the cloud; without a record the
    whole cloud is the plot. With a tally (positions x, y in the project CRS), TLS trees are
    matched one to one and the detection and accuracy written to ``<plot>_validation.json``.
    """
    cfg = ws.config
    pid = plot_id or plot_id_of(cloud)
    records = read_plot_records(ws, [ws.path(r.path) for r in ws.catalog.datasets(
        kind="raw:plots")])
    square = None
    centre = side = None
    if records is not None and pid in set(records["plot_id"]):
        rec = records[records["plot_id"] == pid].iloc[0]
        centre, side = (float(rec["x"]), float(rec["y"])), float(rec["side_m"])
        half = side / 2
        square = (centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half)
    else:
        warn(f"no plot record for {pid} (from {cloud.name}): the whole cloud is "
                      "taken as the plot", UserWarning, stacklevel=2)
    crop = None if square is None else (square[0] - CROP_MARGIN_M, square[1] - CROP_MARGIN_M,
                                        square[2] + CROP_MARGIN_M, square[3] + CROP_MARGIN_M)
    points = read_points(cloud, crop=crop, expected_crs=cfg.project.crs,
                         what=f"TLS cloud of plot {pid}")
    try:
        result = process_plot(points.xyz, centre_xy=centre, side_m=side, seed=cfg.allometry.seed)
    except InputDataError as error:  # name the cloud: the kernels only see its points
        if cloud.name in error.message:
            raise
        raise InputDataError(f"{cloud.name} (plot {pid}): {error.message}", fix=error.fix) from None
    trees = fill_overtopped_heights(result.trees)
    trees.insert(0, "plot_id", pid)
    for message in result.messages:
        warn(f"{cloud.name}: {message}", UserWarning, stacklevel=2)

    validation = None
    pairs = tally_trees = None
    if tally is not None:
        tally_trees = validate_tree_list(read_table(tally, as_text=True), tally.name)
        tally_trees = tally_trees[tally_trees["plot_id"] == pid]
        if "x" not in tally_trees or tally_trees.empty:
            raise InputDataError(f"tally {tally.name} has no positioned trees of plot {pid}",
                                 fix="give the tallied trees' positions in columns x, y")
        match = match_to_tally(trees, tally_trees)
        pairs = match.pairs
        validation = {"plot_id": pid, "cloud": cloud.name, "tally": tally.name,
                      "points": len(points.xyz),
                      "density_points_per_m2": round(result.density_points_per_m2, 1),
                      "ground_ok": bool(result.ground.ok), "messages": result.messages,
                      **match.metrics.as_dict()}
    sources = list(inputs or [])
    products = []

    def publish(name: str, writer: Any, kind: str) -> None:
        rel = f"products/tls/{pid}_{name}"
        ws.publish(rel, writer, kind=kind, step=step, inputs=sources, time=None,
                   parameters={"plot_id": pid, "crop_margin_m": CROP_MARGIN_M})
        products.append(rel)

    publish("trees.csv", lambda tmp: write_csv(trees, tmp), "product:tls_trees")
    if validation is not None:
        publish("validation.json", lambda tmp: tmp.write_text(
            json.dumps(validation, ensure_ascii=False, indent=1, default=float),
            encoding="utf-8"), "product:tls_validation")
    publish("stem_map.png", lambda tmp: draw_stem_map(
        tmp, trees, title=f"TLS stem map 样地 {pid}", tally=tally_trees,
        pairs=_pair_xy(pairs, trees, tally_trees), square=square), "product:tls_stem_map")
    return TlsOutcome(pid, trees, validation, products)


def _pair_xy(pairs: pd.DataFrame | None, tls: pd.DataFrame,
             tally: pd.DataFrame | None) -> pd.DataFrame | None:
    """Matched pairs with both positions, for the stem map."""
    if pairs is None or tally is None or pairs.empty:
        return None
    d = pairs["detected_index"].to_numpy(int)
    t = pairs["tally_index"].to_numpy(int)
    return pd.DataFrame({"x_tls": tls["x"].to_numpy()[d], "y_tls": tls["y"].to_numpy()[d],
                         "x_tally": tally["x"].to_numpy()[t],
                         "y_tally": tally["y"].to_numpy()[t]})


def _tls(ctx: StepContext) -> None:
    files = ctx.input_paths("raw:tls")
    tallies = {plot_id_of(p).removeprefix("tally_"): p for p in files
               if p.suffix.lower() in TABLE_SUFFIXES}
    clouds = [p for p in files if is_pointcloud(p)]
    for cloud in clouds:
        pid = plot_id_of(cloud)
        outcome = process_cloud(ctx.workspace, cloud, plot_id=pid, tally=tallies.get(pid),
                                inputs=[r.path for r in ctx.inputs])
        ctx.published.extend(outcome.products)


TLS = Step(
    TLS_STEP,
    _tls,
    needs=("scope",),
    raw=("tls", "plots"),
    makes=("products/tls/*_trees.csv", "products/tls/*_validation.json",
           "products/tls/*_stem_map.png"),
    config=("project",),
    description="TLS clouds → stems, DBH, height; validation against tallies (P3, P4)",
)
