"""Shared CLI state and helpers: output mode, the console, opening the workspace.

And the checks of option values that every command makes before it does any work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from rich.console import Console

from minecarbon.errors import ConfigError, InputDataError, PathNotFoundError
from minecarbon.io.timespec import parse_time
from minecarbon.report.lang import Lang

if TYPE_CHECKING:  # the CLI imports the heavy modules only in the commands that use them
    from minecarbon.catalog import Workspace


@dataclass
class Output:
    """How to print: rich text, nothing but errors, or JSON for scripts."""

    quiet: bool = False
    json: bool = False
    debug: bool = False


OUT = Output()
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

WorkspaceOption = Annotated[
    Path, typer.Option("--workspace", "-w", help="The workspace folder.", show_default=True)
]


#: The report languages (``--lang``), as the report defines them.
LANGS: tuple[str, ...] = get_args(Lang)

#: Help text of ``--scheduler``.
SCHEDULER_HELP = ("threads | processes | synchronous | tcp://HOST:PORT | tls://HOST:PORT "
                  "(a dask.distributed scheduler, which must answer within 3 s) "
                  "[default: compute.scheduler]")

#: Help text of ``--lang``.
LANG_HELP = f"Report language: {' or '.join(LANGS)} [default: report.lang, which is zh]."

def open_workspace(path: Path, *, write: bool = True) -> Workspace:
    """Open the workspace the user named (clear error if it is not one).

    ``write``: the command changes the workspace, so a workspace this user cannot write is
    refused at once (one line saying so); read-only commands pass ``write=False``.
    """
    from minecarbon.catalog import Workspace

    ws = Workspace.open(path)
    if write:
        try:
            ws.catalog.require_writable()
        except BaseException:
            ws.close()
            raise
    return ws


def check_lang(lang: str | None) -> str | None:
    """``--lang``: one of the report's languages (None: the configured one)."""
    if lang is not None and lang not in LANGS:
        raise ConfigError(f"--lang {lang!r} is not a report language",
                          fix=f"use --lang {' or --lang '.join(LANGS)}")
    return lang


def check_scheduler_option(scheduler: str | None) -> str | None:
    """``--scheduler``: a local scheduler or a reachable ``tcp://``/``tls://`` address."""
    from minecarbon.compute import check_scheduler

    return None if scheduler is None else check_scheduler(scheduler, name="--scheduler")


def check_configured_scheduler(ws: Workspace, scheduler: str | None) -> None:
    """Without ``--scheduler``, check ``compute.scheduler`` of the workspace before any work."""
    from minecarbon.compute import check_scheduler

    if scheduler is None:
        check_scheduler(ws.config.compute.scheduler, name="compute.scheduler")


def check_year(year: str | None) -> str | None:
    """``--year`` of ``import``: a year, an ISO date or a period (:mod:`minecarbon.io.timespec`)."""
    return None if year is None else parse_time(year, name="--year")


def existing_file(path: Path | None, option: str) -> Path | None:
    """A file the user named must exist (and be a file) before anything is done."""
    if path is None:
        return None
    if not path.exists():
        raise PathNotFoundError(f"{option} {path} does not exist", fix="check the path")
    if not path.is_file():
        raise InputDataError(f"{option} {path} is a folder, not a file", fix="name the file")
    return path


def check_name(value: str | None, option: str) -> str | None:
    """A name used in product file names (``--plot-id``): no folders, no leading dot."""
    if value is None:
        return None
    if not value.strip() or value.startswith(".") or any(
            c in value for c in '/\\:*?"<>|') or not value.isprintable():
        raise InputDataError(
            f"{option} {value!r} cannot be used in a file name",
            fix="use letters, digits, '-', '_' and '.' (not first), e.g. P012")
    return value


def say(message: str) -> None:
    """Print a line unless --quiet or --json."""
    if not (OUT.quiet or OUT.json):
        console.print(message, soft_wrap=True)  # paths are never broken


def emit_json(value: Any) -> None:
    """Print a JSON document (for --json)."""
    print(json.dumps(value, ensure_ascii=False, indent=1, default=str))
