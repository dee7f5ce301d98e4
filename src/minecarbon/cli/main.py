"""`minecarbon`: the command-line entry point."""

from __future__ import annotations

import sqlite3
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from minecarbon import __version__
from minecarbon.catalog.database import (
    disk_full_error,
    explain_os_error,
    explain_sqlite_error,
)
from minecarbon.catalog.kinds import RAW_KINDS
from minecarbon.cli import catalog as catalog_cli
from minecarbon.cli import demo as demo_cli
from minecarbon.cli import plots as plots_cli
from minecarbon.cli import tls as tls_cli
from minecarbon.cli import view as view_cli
from minecarbon.cli._common import (
    LANG_HELP,
    OUT,
    SCHEDULER_HELP,
    WorkspaceOption,
    check_configured_scheduler,
    check_lang,
    check_scheduler_option,
    check_year,
    emit_json,
    err_console,
    open_workspace,
    say,
)
from minecarbon.errors import MinecarbonError, warning_filters_guard

if TYPE_CHECKING:
    from minecarbon.catalog import Workspace
    from minecarbon.pipeline import Step, StepOutcome

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
app.command("view")(view_cli.view)


def run_with_progress(ws: Workspace, steps: list[Step], **kwargs: Any) -> list[StepOutcome]:
    """:func:`minecarbon.cli.progress.run_with_progress`, imported when a command runs."""
    from minecarbon.cli.progress import run_with_progress as run

    return run(ws, steps, **kwargs)


def default_steps() -> list[Step]:
    """The pipeline's steps, imported when a command needs them (not for ``--help``)."""
    from minecarbon.pipeline.steps import default_steps as steps

    return steps()


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
    from minecarbon.catalog import Workspace

    with Workspace.init(directory) as ws:
        say(f"workspace created at {ws.root}; edit {ws.root / 'minecarbon.toml'}")
    if OUT.json:
        emit_json({"workspace": str(directory.resolve())})


@app.command("import")
def import_(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(RAW_KINDS)}.")],
    path: Annotated[Path, typer.Argument(
        help="File or folder to import. A scene may be the provider's bundle as downloaded "
             "(Landsat Collection-2 .tar, Sentinel-2 .SAFE.zip): its bands, quality layer "
             "and metadata are imported.")],
    workspace: WorkspaceOption = Path("."),
    year: Annotated[str | None, typer.Option(
        help="The time the data describe: a year 1900–2100 (2020), an ISO date YYYY-MM-DD "
             "(2020-07-15) or a period YYYY/YYYY (2000/2024).")] = None,
    allow_geographic: Annotated[
        bool, typer.Option(help="Accept a raster in a geographic CRS (reprojected later).")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="Withdraw the dataset this one replaces (same name, or the "
                           "land-cover map of the same year).")
    ] = False,
    skip_invalid: Annotated[
        bool, typer.Option(help="Admit a tree list with invalid rows (named in a warning); "
                           "`plots agc --skip-invalid` leaves them out.")
    ] = False,
) -> None:
    """Check raw inputs for their kind, then copy them into raw/KIND/ (read-only) with sha256.

    A file that fails its checks is refused with one line naming it and the fix; nothing is
    written.
    """
    from minecarbon.pipeline.admission import admit

    year = check_year(year)
    with open_workspace(workspace) as ws:
        records = admit(ws, kind, path, time=year, allow_geographic=allow_geographic,
                        replace=replace, skip_invalid=skip_invalid)
    if OUT.json:
        emit_json([r.as_dict() for r in records])
    for r in records:
        say(f"imported {r.path}  sha256 {r.sha256[:12]}…")


@app.command()
def remove(
    paths: Annotated[list[str], typer.Argument(help="raw/KIND/FILE (or a folder of them).")],
    workspace: WorkspaceOption = Path("."),
    reason: Annotated[str, typer.Option(help="Why (kept in the catalogue).")] = "",
) -> None:
    """Withdraw imported raw data: moved to withdrawn/, recorded; the steps that read it re-run."""
    moved: list[str] = []
    with open_workspace(workspace) as ws:
        for rel in paths:
            ws.raw_files(rel)  # every path is checked before anything moves
        for rel in paths:
            moved += ws.withdraw(rel, reason=reason)
    if OUT.json:
        emit_json({"withdrawn": moved})
    for m in moved:
        say(f"withdrawn: kept as {m}")


@app.command()
def run(
    workspace: WorkspaceOption = Path("."),
    until: Annotated[str | None, typer.Option(help="Stop after this step.")] = None,
    force: Annotated[list[str] | None, typer.Option(help="Re-run this step (repeatable).")] = None,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
    list_steps: Annotated[bool, typer.Option("--list", help="List the steps and exit.")] = False,
) -> None:
    """Run the pipeline: every step that is out of date, in order; resumes after interruption."""
    steps = default_steps()
    if list_steps:
        for s in steps:
            say(f"[bold]{s.name}[/bold]  needs {', '.join(s.needs) or '—'}  — {s.description}")
        return
    check_scheduler_option(scheduler)
    with open_workspace(workspace) as ws:
        check_configured_scheduler(ws, scheduler)
        outcomes = run_with_progress(
            ws, steps, until=until, force=force or [], scheduler=scheduler, show=not (
                OUT.quiet or OUT.json)
        )
    if OUT.json:
        emit_json([o.__dict__ for o in outcomes])


@app.command()
def report(
    workspace: WorkspaceOption = Path("."),
    lang: Annotated[str | None, typer.Option(help=LANG_HELP)] = None,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Write the report (DOCX and HTML), running whatever it needs that is out of date."""
    check_lang(lang)
    check_scheduler_option(scheduler)
    with open_workspace(workspace) as ws:
        check_configured_scheduler(ws, scheduler)
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
        err_console.print(f"[yellow]warning:[/yellow] {message}", soft_wrap=True)

    warnings.showwarning = show_warning  # type: ignore[assignment]
    try:
        with warning_filters_guard():
            result = command.main(args=args, prog_name="minecarbon", standalone_mode=False)
    except MinecarbonError as error:
        if debug:
            raise
        return _error_line(error)
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return 130
    except typer.TyperException as error:  # usage errors: one line, and where to read more
        if debug:
            raise
        return _usage_error_line(error)
    except (OSError, sqlite3.Error) as error:  # the workspace cannot be written: say why
        explained = (explain_os_error(error) if isinstance(error, OSError)
                     else explain_sqlite_error("the workspace catalogue", error))
        if explained is None or debug:
            raise
        return _error_line(explained)
    except Exception as error:  # GDAL and others word a full disk in their own errors
        if debug or "no space left on device" not in str(error).lower():
            raise
        return _error_line(disk_full_error("the workspace", str(error).splitlines()[0]))
    return result if isinstance(result, int) else 0


def _error_line(error: MinecarbonError) -> int:
    """Print a :class:`MinecarbonError` as one line on stderr; return its exit code."""
    err_console.print(f"[red]error:[/red] {_one_line(str(error))}", soft_wrap=True)
    return error.exit_code


def _usage_error_line(error: typer.TyperException) -> int:
    """A usage error of typer/click as one line: what is wrong and where the help is."""
    format_message = getattr(error, "format_message", None)
    message = str(format_message() if callable(format_message) else error)
    message = message.replace("Value error, ", "")  # typer's pydantic-style prefix
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else "minecarbon"
    err_console.print(f"[red]error:[/red] {_one_line(message)} — fix: see `{where} --help`",
                      soft_wrap=True)
    return int(getattr(error, "exit_code", 2) or 2)


def _one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed: the CLI's errors are one line."""
    return escape(" ".join(text.split()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
