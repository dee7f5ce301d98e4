"""`minecarbon plots …`: plan and check plots, compute plot carbon."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minecarbon.cli._common import (
    OUT,
    WorkspaceOption,
    console,
    emit_json,
    existing_file,
    open_workspace,
    say,
)
from minecarbon.io.timespec import YEAR_MAX, YEAR_MIN

app = typer.Typer(help="Plots (样地): plan, check, and plot carbon (P1, P5, P6).")

YearOption = Annotated[int | None, typer.Option(
    min=YEAR_MIN, max=YEAR_MAX, help="Survey year (default: last project year).")]


@app.command()
def plan(
    workspace: WorkspaceOption = Path("."),
    year: YearOption = None,
    total: Annotated[int | None, typer.Option(min=1, help="Total plots to aim for (≥ 1).")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Seed, ≥ 0 (default allometry.seed).")] = None,
) -> None:
    """Propose stratified plot centres per assessment unit (GeoPackage and CSV)."""
    from minecarbon.pipeline import survey_steps

    with open_workspace(workspace) as ws:
        proposal = survey_steps.plan(ws, year=year, total=total, seed=seed)
    if OUT.json:
        emit_json({"plots": len(proposal), "shortfall": proposal.attrs.get("shortfall", {}),
                   "files": ["products/plots/plot_plan.gpkg", "products/plots/plot_plan.csv"]})
        return
    counts = proposal.groupby(["unit_l2", "zh", "en"]).size()
    table = Table("unit", "名称", "name", "new plots")
    for (code, zh, en), n in counts.items():
        table.add_row(str(code), str(zh), str(en), str(n))
    if not OUT.quiet:
        console.print(table)
    say(f"{len(proposal)} plots proposed: products/plots/plot_plan.gpkg, plot_plan.csv")


@app.command()
def check(
    workspace: WorkspaceOption = Path("."),
    year: YearOption = None,
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Check this plot table "
                                                  "instead of the imported plots.")] = None,
) -> None:
    """Report plots per unit (present, required, deficit), border crossings, small plots.

    Exit code 1 when a unit is short of plots.
    """
    from minecarbon.pipeline import survey_steps

    existing_file(plan_file, "--plan")
    with open_workspace(workspace) as ws:
        report = survey_steps.check(ws, year=year, plan_file=plan_file)
    if OUT.json:
        emit_json({"ok": report.ok, "per_unit": report.per_unit.to_dict("records"),
                   "crossing": report.crossing.to_dict("records"),
                   "too_small": report.too_small.to_dict("records"),
                   "outside": report.outside.to_dict("records")})
    elif not OUT.quiet:
        table = Table("level", "unit", "名称", "name", "area ha", "plots", "required", "deficit")
        for r in report.per_unit.itertuples():
            colour = "red" if r.deficit else "green"
            table.add_row(str(r.level), str(r.code), r.zh, r.en, f"{r.area_ha:.1f}",
                          str(r.plots), str(r.required), f"[{colour}]{r.deficit}[/{colour}]")
        console.print(table)
        for line in report.messages():
            console.print(line)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def agc(
    workspace: WorkspaceOption = Path("."),
    models: Annotated[Path | None, typer.Option("--models", help="A biomass model table "
                                               "(our schema), e.g. the official one.")] = None,
    skip_invalid: Annotated[bool, typer.Option(help="Drop invalid tree rows (reported).")] = False,
) -> None:
    """Tree and plot AGB/AGC/CO2e with 95 % intervals: products/plots/*.csv."""
    from minecarbon.cli.progress import run_with_progress
    from minecarbon.pipeline.steps import default_steps

    existing_file(models, "--models")
    with open_workspace(workspace) as ws:
        if models is not None:
            ws.config.allometry.models_file = str(models.resolve())
        if skip_invalid:
            ws.config.survey.skip_invalid_trees = True
        outcomes = run_with_progress(ws, default_steps(), until="plots", force=[],
                                     scheduler=None, show=not (OUT.quiet or OUT.json))
    if OUT.json:
        emit_json([o.__dict__ for o in outcomes])
    else:
        say("products/plots/trees_agc.csv, plot_agc.csv, allometry_report.json")
