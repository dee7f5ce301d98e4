"""`minecarbon demo`: the simulated coal-mining site, built and run end to end."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from minecarbon.cli._common import (
    LANG_HELP,
    OUT,
    SCHEDULER_HELP,
    check_lang,
    check_scheduler_option,
    console,
    emit_json,
    open_workspace,
    say,
)
from minecarbon.demo.spec import Sensor, SiteSpec, Size
from minecarbon.errors import InputDataError


def demo(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Demo workspace.")] = Path(
        "minecarbon-demo"
    ),
    size: Annotated[Size | None, typer.Option(
        help="Size of the simulated site [default: the workspace's site, else small].")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Seed of the simulated site, ≥ 0 [default: the workspace's site, else 0]."
    )] = None,
    sensor: Annotated[Sensor | None, typer.Option(
        "--sensor", "--sensors",
        help="landsat (the Landsat 5/7/8/9 archive as it exists, SLC-off gaps included), "
             "landsat+s2 (the same with Sentinel-2A/2B from 2016), oli (Landsat 8-like every "
             "year) or s2 (Sentinel-2 every year) [default: the workspace's, else landsat].")
    ] = None,
    remeasure: Annotated[list[int] | None, typer.Option(
        "--remeasure", help="A year in which the field crew also measured the plots "
        "(re-measured plots; repeat for several years) [default: the workspace's, else "
        "none: one survey in the last year].")] = None,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
    lang: Annotated[str | None, typer.Option(help=LANG_HELP)] = None,
    score: Annotated[bool, typer.Option(
        "--score", help="Then score the AGC maps against truth/ (issue 14's measures and "
                        "targets): writes truth_comparison.json in the workspace.")] = False,
) -> None:
    """Build the simulated coal-mining site in a workspace and run the pipeline on it."""
    from minecarbon.catalog import Workspace
    from minecarbon.cli.progress import run_with_progress
    from minecarbon.demo.deliver import already_delivered, deliver
    from minecarbon.pipeline.steps import default_steps
    from minecarbon.report.truth_comparison import (
        json_ready,
        recorded_site_spec,
        score_workspace,
        write_truth_comparison,
    )

    check_lang(lang)  # every option is checked before the site is simulated
    check_scheduler_option(scheduler)
    base = recorded_site_spec(workspace) or SiteSpec()
    spec = replace(base, size=size or base.size, seed=base.seed if seed is None else seed,
                   sensor=sensor.value if sensor is not None else base.sensor,
                   remeasure_years=(tuple(sorted(set(remeasure))) if remeasure
                                    else base.remeasure_years))
    bad = [y for y in spec.remeasure_years if not spec.first_year <= y < spec.last_year]
    if bad:
        raise InputDataError(f"--remeasure {bad[0]} is outside the site's years "
                             f"{spec.first_year}–{spec.last_year - 1}",
                             fix="re-measure the plots in a year before the last year's survey")
    ws = open_workspace(workspace) if (workspace / "minecarbon.toml").exists() else (
        Workspace.init(workspace))
    show = not (OUT.quiet or OUT.json)
    with ws:
        if already_delivered(ws, spec):
            say(f"demo site already in {ws.root} (size {spec.size.value}, seed {spec.seed})")
        else:
            say(f"simulating a {spec.size.value} coal-mining site (seed {spec.seed}) in "
                f"{ws.root} …")
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                          console=console, disable=not show) as bar:
                task = bar.add_task("site", total=1.0)
                count = deliver(ws, spec, lambda m, f: bar.update(task, completed=f,
                                                                    description=m))
            say(f"delivered {count} datasets into raw/ and truth/")
        if lang is not None:
            ws.override_config("report", lang=lang)
        outcomes = run_with_progress(ws, default_steps(), until=None, force=[],
                                     scheduler=scheduler, show=show)
        reports = sorted(str(ws.path(r.path)) for r in ws.catalog.datasets(step="report"))
    result = score_workspace(ws.root) if score else None
    scored = write_truth_comparison(result, ws.root) if result is not None else None
    if OUT.json:
        emit_json({"workspace": str(ws.root), "steps": [o.__dict__ for o in outcomes],
                   "report": reports, **({"truth_comparison": json_ready(result)}
                                         if result is not None else {})})
    else:
        say(f"products in {ws.root / 'products'}; truth in {ws.root / 'truth'}")
        for path in reports:
            say(f"report: {path}")
        if result is not None and not OUT.quiet:
            console.print(_score_table(result))
            if (budget := _budget_line(result)) is not None:
                say(budget)
            say(f"truth comparison: {scored}")


def _budget_line(result: dict[str, Any]) -> str | None:
    """Where the worst year's bias comes from: unmapped truth forest or the mapped pixels."""
    budget = result["error_budget"]
    worst = budget["worst_bias_year"]
    if worst is None or math.isnan(worst["omission_bias_pct"]):
        return None
    rmse = budget["rmse_mapped_worst_pct"]
    rmse_text = ("undefined (a year has no mapped truth-forest pixel)" if math.isnan(rmse)
                 else f"{rmse:.1f} % at worst ({budget['rmse_mapped_worst_year']})")
    return (f"bias in {worst['year']}: {worst['omission_bias_pct']:+.1f} points from "
            f"{worst['omitted_px']} unmapped truth-forest pixels, "
            f"{worst['mapped_bias_pct']:+.1f} from the mapped ones; RMSE of the mapped pixels "
            f"alone {rmse_text}")


def _score_table(result: dict[str, Any]) -> Table:
    """Issue 14's targets: measured value, target, pass or fail."""
    table = Table(title="AGC maps against the truth (truth-forest pixels, unmapped = 0)")
    for column in ("measure", "value", "worst year", "pass"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for target in result["targets"].values():
        value, year = target["value"], target["year"]
        table.add_row(target["target"], "—" if math.isnan(value) else f"{value:.3g}",
                      "" if year is None else str(year),
                      "[green]pass[/]" if target["pass"] else "[red]fail[/]")
    table.caption = "all targets met" if result["all_pass"] else "targets not met"
    return table
