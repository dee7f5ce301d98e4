"""The survey stage in a workspace: plot planning and checking, and the plot-carbon step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from minecarbon.allometry.carbon import plot_carbon, tree_carbon
from minecarbon.allometry.equations import ModelTable
from minecarbon.allometry.error_model import ErrorModel
from minecarbon.allometry.systematic import model_shares
from minecarbon.catalog import Workspace
from minecarbon.errors import InputDataError, warn
from minecarbon.io.tables import read_table, write_csv
from minecarbon.io.vector import write_vector
from minecarbon.pipeline.records import TABLE_SUFFIXES, read_plot_records
from minecarbon.pipeline.scope_steps import load_grid, load_units
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.standard.biomass_models import model_rows_from_text
from minecarbon.survey.design import CheckReport, check_plots, plan_plots
from minecarbon.survey.trees import validate_tree_list

PLAN_STEP = "plots-plan"


def survey_year(ws: Workspace, year: int | None) -> int:
    """The year plots are planned or checked for (default: the last project year)."""
    return ws.config.project.last_year if year is None else year


def plan(ws: Workspace, *, year: int | None = None, total: int | None = None,
         seed: int | None = None) -> gpd.GeoDataFrame:
    """Propose plot centres for the survey year and write them as GeoPackage and CSV.

    Existing plots (imported plot tables) count towards each unit and are kept apart from.
    """
    cfg = ws.config
    y = survey_year(ws, year)
    grid = load_grid(ws.root)
    units = load_units(ws.root, grid, [y])
    existing = read_plot_records(ws, [ws.path(r.path) for r in ws.catalog.datasets(
        kind="raw:plots")])
    proposal = plan_plots(
        units["l2"].sel(year=y).values, grid, side_m=cfg.plot_side_m,
        per_unit=cfg.survey.min_plots_per_unit,
        extra_planned=cfg.survey.extra_plots_planned_damage, total=total,
        min_spacing_m=cfg.survey.min_spacing_m, seed=cfg.allometry.seed if seed is None else seed,
        existing=existing,
    )
    params = {"year": y, "total": total, "seed": seed, "survey": cfg.survey.model_dump()}
    inputs = [f"products/units/units_l2_{y}.tif"]
    ws.publish("products/plots/plot_plan.gpkg",
               lambda tmp: write_vector(proposal, tmp, layer="plot_plan"),
               kind="product:plot_plan", step=PLAN_STEP, inputs=inputs, parameters=params,
               time=str(y))
    table = pd.DataFrame(proposal.drop(columns="geometry"))
    ws.publish("products/plots/plot_plan.csv", lambda tmp: write_csv(table, tmp),
               kind="product:plot_plan", step=PLAN_STEP, inputs=inputs, parameters=params,
               time=str(y))
    return proposal


def check(ws: Workspace, *, year: int | None = None, plan_file: Path | None = None) -> CheckReport:
    """Check the imported plots (or a plan file) against the units of the survey year."""
    cfg = ws.config
    y = survey_year(ws, year)
    grid = load_grid(ws.root)
    units = load_units(ws.root, grid, [y])
    if plan_file is not None:
        plots = read_plot_records(ws, [plan_file])
    else:
        plots = read_plot_records(ws, [ws.path(r.path) for r in ws.catalog.datasets(
            kind="raw:plots")])
    if plots is None:
        raise InputDataError("no plots to check",
                             fix="import plot records (`minecarbon import plots FILE`) or "
                             "pass --plan FILE")
    return check_plots(plots, units, y, grid, required=cfg.survey.min_plots_per_unit,
                       extra_planned=cfg.survey.extra_plots_planned_damage)


def model_table(ctx: StepContext) -> ModelTable:
    """The biomass model table: ``allometry.models_file``, else an imported one, else default.

    A user table may cover only some species groups; the rest come from the default table,
    and every tree records which table its model came from.
    """
    cfg = ctx.config
    path: Path | None = None
    if cfg.allometry.models_file:
        path = Path(cfg.allometry.models_file)
        path = path if path.is_absolute() else ctx.workspace.path(str(path))
        if not path.exists():
            raise InputDataError(f"allometry.models_file {path} does not exist",
                                 fix="correct the path or remove the key")
    else:
        found = ctx.input_paths("raw:models")
        path = found[0] if found else None
    if path is None:
        return ModelTable.default()
    rows = model_rows_from_text(path.read_text(encoding="utf-8-sig"))
    return ModelTable.from_rows(rows, path.name).with_fallback(ModelTable.default())


def _plot_carbon(ctx: StepContext) -> None:
    cfg = ctx.config
    ws = ctx.workspace
    plots = read_plot_records(ws, ctx.input_paths("raw:plots"))
    if plots is None:
        raise InputDataError("no plot records in the workspace",
                             fix="import them with `minecarbon import plots plots.csv`")
    frames = []
    skipped: list[str] = []
    for path in ctx.input_paths("raw:trees"):
        if path.suffix.lower() not in TABLE_SUFFIXES:
            continue
        result = validate_tree_list(read_table(path, as_text=True), path.name,
                                    known_plots=set(plots["plot_id"]),
                                    skip_invalid=cfg.survey.skip_invalid_trees)
        frames.append(result)
        skipped += [f"{path.name}: {s}" for s in result.attrs.get("skipped", ())]
    tallied = pd.concat(frames, ignore_index=True) if frames else None
    trees = with_tls_trees(tallied, tls_tree_lists(ws), plots, cfg.survey.tls_trees)
    if trees is None or trees.empty:
        raise InputDataError("no tree lists in the workspace",
                             fix="import them with `minecarbon import trees trees.csv`, or "
                             "TLS clouds with `minecarbon import tls CLOUD.laz`")
    table = model_table(ctx)
    result = tree_carbon(trees, table, hd_min_trees=cfg.allometry.hd_min_trees)
    units = None
    unit_file = ws.path("products/units/plot_units.csv")
    if unit_file.exists():
        units = read_table(unit_file)
    errors = ErrorModel(**cfg.allometry.errors.model_dump())
    per_plot = plot_carbon(result.trees, pd.DataFrame(plots.drop(columns="geometry")), table,
                           n_draws=cfg.allometry.mc_draws, seed=cfg.allometry.seed,
                           errors=errors, units=units)
    ctx.publish("products/plots/trees_agc.csv", lambda tmp: write_csv(result.trees, tmp),
                kind="product:trees_agc")
    ctx.publish("products/plots/plot_agc.csv", lambda tmp: write_csv(per_plot, tmp),
                kind="product:plot_agc")
    models = model_shares(result.trees, errors).round(
        {"agc_share": 4, "carbon_fraction": 4, "model_sd_rel": 4})
    report: dict[str, Any] = {"model_table": table.name, "official": table.is_official,
                              "notes": result.notes, "skipped_rows": skipped,
                              "models": models.to_dict(orient="records")}
    ctx.publish("products/plots/allometry_report.json",
                lambda tmp: tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                           encoding="utf-8"),
                kind="product:allometry_report")

    for note in result.notes + [f"skipped {s}" for s in skipped]:
        warn(note, UserWarning, stacklevel=1)


def tls_tree_lists(ws: Workspace) -> pd.DataFrame | None:
    """The TLS trees of every plot (``products/tls/<plot>_trees.csv``), or None."""
    frames = [read_table(p) for p in sorted(ws.path("products/tls").glob("*_trees.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else None


def with_tls_trees(tallied: pd.DataFrame | None, tls: pd.DataFrame | None,
                   plots: pd.DataFrame, policy: str) -> pd.DataFrame | None:
    """Combine tallied and TLS-measured trees per plot (``survey.tls_trees``).

    ``where_no_tally``: TLS trees for plots without tallied trees; ``prefer``: TLS trees for
    every plot that has them; ``never``: tallied trees only. TLS trees carry the plot record's
    dominant species group as their species (a scan does not see species; the fallback chain
    applies when the record gives none) and only DBHs flagged ok or fallback are used.
    """
    if tls is None or policy == "never" or tls.empty:
        return tallied
    usable = tls[tls["dbh_quality"].isin(["ok", "fallback"]) & tls["dbh_cm"].notna()]
    tallied_plots = set(tallied["plot_id"]) if tallied is not None else set()
    tls_plots = set(usable["plot_id"].astype(str))
    take = tls_plots - tallied_plots if policy == "where_no_tally" else tls_plots
    if not take:
        return tallied
    species = plots.set_index("plot_id")["species_group"] if "species_group" in plots else None
    chosen = usable[usable["plot_id"].astype(str).isin(take)]
    converted = pd.DataFrame({
        "plot_id": chosen["plot_id"].astype(str),
        "tree_id": chosen["plot_id"].astype(str) + "-TLS" + chosen["tree_id"].astype(str),
        "species": [str(species.get(p, "") or "unknown") if species is not None else "unknown"
                    for p in chosen["plot_id"].astype(str)],
        "dbh_cm": chosen["dbh_cm"].astype(float),
        "height_m": chosen["height_m"].astype(float),
        "source": "tls",
        "row": 0,
    })
    kept = tallied[~tallied["plot_id"].isin(take)] if tallied is not None else None
    return pd.concat([f for f in (kept, converted) if f is not None], ignore_index=True)


PLOT_AGC = Step(
    "plots",
    _plot_carbon,
    needs=("units", "tls"),
    raw=("plots", "trees", "models"),
    makes=("products/plots/trees_agc.csv", "products/plots/plot_agc.csv"),
    config=("survey", "allometry"),
    description="tree and plot AGB/AGC/CO2e with Monte-Carlo intervals (P5, P6)",
)
