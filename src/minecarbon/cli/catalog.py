"""`minecarbon catalog …`: list, show, verify and export the monitoring database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from minecarbon.cli._common import OUT, WorkspaceOption, console, emit_json, open_workspace, say

app = typer.Typer(help="The monitoring database (监测数据库): every dataset and its lineage.")


@app.command("list")
def list_(
    workspace: WorkspaceOption = Path("."),
    kind: Annotated[str | None, typer.Option(help="Only this kind (prefix), e.g. raw.")] = None,
) -> None:
    """List the catalogued datasets."""
    with open_workspace(workspace, write=False) as ws:
        records = ws.catalog.datasets(kind=kind)
    if OUT.json:
        emit_json([r.as_dict() for r in records])
        return
    table = Table("id", "kind", "path", "sha256", "CRS", "time", "step")
    for r in records:
        table.add_row(str(r.id), r.kind, r.path, r.sha256[:12], r.crs or "", r.time or "",
                      r.step or "")
    if not OUT.quiet:
        console.print(table)


@app.command()
def show(
    dataset: Annotated[str, typer.Argument(help="Dataset id or workspace-relative path.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Show one dataset with its lineage."""
    with open_workspace(workspace, write=False) as ws:
        rec = ws.catalog.get(dataset)
    if OUT.json:
        emit_json(rec.as_dict())
        return
    for key, value in rec.as_dict().items():
        if key == "inputs":
            value = "\n  ".join(f"{i['path']} ({i['sha256'][:12]})" for i in value) or "—"
        say(f"[bold]{key}[/bold]: {value}")


@app.command()
def verify(workspace: WorkspaceOption = Path(".")) -> None:
    """Re-hash every catalogued file; exit 1 if any is missing or changed."""
    with open_workspace(workspace, write=False) as ws:
        problems = ws.verify()
        total = len(ws.catalog.datasets())
    failing = [p for p in problems if p.status in ("missing", "changed")]
    if OUT.json:
        emit_json({"datasets": total, "problems": [p.__dict__ for p in problems]})
    else:
        for p in problems:
            colour = "yellow" if p.status == "untracked" else "red"
            console.print(f"[{colour}]{p.status:9}[/{colour}] {p.path}  {p.detail}")
        say(f"{total} datasets checked: {len(failing)} missing or changed, "
            f"{len(problems) - len(failing)} untracked")
    if failing:
        raise typer.Exit(1)


@app.command()
def export(
    stac: Annotated[Path, typer.Option("--stac", help=(
        "Folder for the STAC catalogue. A relative folder is inside the workspace "
        "(--stac stac writes WORKSPACE/stac), so the catalogue moves with the workspace."))],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Export the catalogued rasters as a STAC catalogue (self-contained, relative hrefs).

    Links and asset hrefs are relative to the JSON file holding them: a catalogue inside the
    workspace stays valid when the workspace is moved or copied. Works on a read-only
    workspace when the folder is outside it.
    """
    with open_workspace(workspace, write=False) as ws:
        from minecarbon.catalog.stac import export_stac

        path = export_stac(ws, stac)
    if OUT.json:
        emit_json({"catalog": str(path)})
    else:
        say(f"STAC catalogue written to {path}")
