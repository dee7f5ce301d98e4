"""Shared CLI state and helpers: output mode, the console, opening the workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

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


def open_workspace(path: Path) -> Workspace:
    """Open the workspace the user named (clear error if it is not one)."""
    return Workspace.open(path)


def say(message: str) -> None:
    """Print a line unless --quiet or --json."""
    if not (OUT.quiet or OUT.json):
        console.print(message)


def emit_json(value: Any) -> None:
    """Print a JSON document (for --json)."""
    print(json.dumps(value, ensure_ascii=False, indent=1, default=str))
