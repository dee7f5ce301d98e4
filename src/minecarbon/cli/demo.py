"""`minecarbon demo`: the simulated coal-mining site, built and run end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from minecarbon.catalog import Workspace
from minecarbon.cli._common import OUT, console, emit_json, say
from minecarbon.cli.progress import run_with_progress
from minecarbon.demo.deliver import already_delivered, deliver
from minecarbon.demo.spec import Sensor, SiteSpec, Size
from minecarbon.pipeline.steps import default_steps


def demo(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Demo workspace.")] = Path(
        "minecarbon-demo"
    ),
    size: Annotated[Size, typer.Option(help="Size of the simulated site.")] = Size.SMALL,
    seed: Annotated[int, typer.Option(help="Seed of the simulated site.")] = 0,
    sensor: Annotated[Sensor, typer.Option(help="oli (Landsat 8/9) or s2 (Sentinel-2).")] = (
        Sensor.OLI),
    scheduler: Annotated[
        str | None, typer.Option(help="threads | processes | synchronous | tcp://host:port.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Report language: zh (default) or en.")] = None,
) -> None:
    """Build the simulated coal-mining site in a workspace and run the pipeline on it."""
    spec = SiteSpec(size=size, seed=seed, sensor=sensor.value)
    ws = Workspace.open(workspace) if (workspace / "minecarbon.toml").exists() else (
        Workspace.init(workspace))
    show = not (OUT.quiet or OUT.json)
    with ws:
        if already_delivered(ws, spec):
            say(f"demo site already in {ws.root} (size {size.value}, seed {seed})")
        else:
            say(f"simulating a {size.value} coal-mining site (seed {seed}) in {ws.root} …")
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
    if OUT.json:
        emit_json({"workspace": str(ws.root), "steps": [o.__dict__ for o in outcomes],
                   "report": reports})
    else:
        say(f"products in {ws.root / 'products'}; truth in {ws.root / 'truth'}")
        for path in reports:
            say(f"report: {path}")
