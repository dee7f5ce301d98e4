"""`minecarbon`: the command-line entry point."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from minecarbon import __version__
from minecarbon.catalog import RAW_KINDS, Workspace
from minecarbon.cli import catalog as catalog_cli
from minecarbon.cli import demo as demo_cli
from minecarbon.cli import plots as plots_cli
from minecarbon.cli import tls as tls_cli
from minecarbon.cli._common import OUT, WorkspaceOption, emit_json, err_console, open_workspace, say
from minecarbon.cli.progress import run_with_progress
from minecarbon.errors import MinecarbonError
from minecarbon.pipeline.steps import default_steps

app = typer.Typer(
    name="minecarbon",
    help="Forest above-ground carbon in coal-mining areas (煤炭矿区森林地上碳储量监测与评估).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(plots_cli.app, name="plots")
app.command("demo")(demo_cli.demo)
app.command("tls")(tls_cli.tls)


def _version(value: bool) -> None:
    if value:
        print(f"minecarbon {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    OUT.quiet, OUT.json, OUT.debug = quiet, json_, debug


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="New workspace folder.")]) -> None:
    """Create a workspace: folders, a commented minecarbon.toml and an empty catalogue."""
    with Workspace.init(directory) as ws:
        say(f"workspace created at {ws.root}; edit {ws.root / 'minecarbon.toml'}")
    if OUT.json:
        emit_json({"workspace": str(directory.resolve())})


@app.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(RAW_KINDS)}.")],
    path: Annotated[Path, typer.Argument(help="File or folder to import.")],
    workspace: WorkspaceOption = Path("."),
    year: Annotated[str | None, typer.Option(help="Year or date the data describe.")] = None,
    allow_geographic: Annotated[
        bool, typer.Option(help="Accept a raster in a geographic CRS (reprojected later).")
    ] = False,
) -> None:
    """Copy raw inputs into raw/KIND/ (read-only) and record them with their sha256."""
    with open_workspace(workspace) as ws:
        records = ws.import_raw(kind, path, time=year, allow_geographic=allow_geographic)
    if OUT.json:
        emit_json([r.as_dict() for r in records])
    for r in records:
        say(f"imported {r.path}  sha256 {r.sha256[:12]}…")


@app.command()
def run(
    workspace: WorkspaceOption = Path("."),
    until: Annotated[str | None, typer.Option(help="Stop after this step.")] = None,
    force: Annotated[list[str] | None, typer.Option(help="Re-run this step (repeatable).")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="threads | processes | synchronous | tcp://host:port (dask)."),
    ] = None,
    list_steps: Annotated[bool, typer.Option("--list", help="List the steps and exit.")] = False,
) -> None:
    """Run the pipeline: every step that is out of date, in order; resumes after interruption."""
    steps = default_steps()
    if list_steps:
        for s in steps:
            say(f"[bold]{s.name}[/bold]  needs {', '.join(s.needs) or '—'}  — {s.description}")
        return
    with open_workspace(workspace) as ws:
        outcomes = run_with_progress(
            ws, steps, until=until, force=force or [], scheduler=scheduler, show=not (
                OUT.quiet or OUT.json)
        )
    if OUT.json:
        emit_json([o.__dict__ for o in outcomes])


@app.command()
def report(
    workspace: WorkspaceOption = Path("."),
    lang: Annotated[str | None, typer.Option(help="zh (default of report.lang) or en.")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="threads | processes | synchronous | tcp://host:port (dask)."),
    ] = None,
) -> None:
    """Write the report (DOCX and HTML), running whatever it needs that is out of date."""
    with open_workspace(workspace) as ws:
        if lang is not None:
            ws.override_config("report", lang=lang)
        outcomes = run_with_progress(ws, default_steps(), until="report", force=[],
                                     scheduler=scheduler, show=not (OUT.quiet or OUT.json))
        written = sorted(str(ws.path(r.path)) for r in ws.catalog.datasets(step="report"))
    if OUT.json:
        emit_json({"steps": [o.__dict__ for o in outcomes], "report": written})
    for path in written:
        say(f"report: {path}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a :class:`MinecarbonError` becomes one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    command = typer.main.get_command(app)

    def show_warning(message: Warning | str, category: type[Warning], *_: object) -> None:
        err_console.print(f"[yellow]warning:[/yellow] {message}")

    warnings.showwarning = show_warning  # type: ignore[assignment]
    try:
        result = command.main(args=args, prog_name="minecarbon", standalone_mode=False)
    except MinecarbonError as error:
        if debug:
            raise
        err_console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        return error.exit_code
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except typer.TyperException as error:  # usage errors: typer prints them with the fix
        error.show()  # type: ignore[attr-defined]
        return int(getattr(error, "exit_code", 2))
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
