"""`minecarbon demo`: the simulated coal-mining site, run end to end."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from minecarbon.catalog import Workspace
from minecarbon.cli._common import OUT, emit_json, say
from minecarbon.cli.progress import run_with_progress
from minecarbon.pipeline.steps import default_steps

PLANNED = """The demo workspace will contain (issues 3–9):
  raw/        a simulated Loess-Plateau coal mine: DEM, 25 annual Landsat-8 scenes, mining-right
              boundary, damage / plan / reclamation polygons, plots with tree lists, TLS clouds
  products/   units, plot AGC, features, forest-type and species maps, AGC models, annual
              AGC maps, change, Sen+MK trend, cumulative effect, zonal statistics, Gi* hot spots
  reports/    report.zh.docx and report.zh.html after the guide's appendix E
  truth/      the simulator's true AGC, species, forest type and assessment units"""


class Size(StrEnum):
    """Sizes of the simulated site."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


def demo(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Demo workspace.")] = Path(
        "minecarbon-demo"
    ),
    size: Annotated[Size, typer.Option(help="Size of the simulated site.")] = Size.SMALL,
    seed: Annotated[int, typer.Option(help="Seed of the simulated site.")] = 0,
) -> None:
    """Build the simulated coal-mining site in a workspace and run the pipeline on it."""
    ws = Workspace.open(workspace) if (workspace / "minecarbon.toml").exists() else (
        Workspace.init(workspace))
    with ws:
        say(f"demo workspace: {ws.root} (size {size.value}, seed {seed})")
        say(PLANNED)
        outcomes = run_with_progress(
            ws, default_steps(), until=None, force=[], scheduler=None,
            show=not (OUT.quiet or OUT.json),
        )
    if OUT.json:
        emit_json({"workspace": str(ws.root), "steps": [o.__dict__ for o in outcomes]})
