"""`minecarbon view`: the workspace as an interactive web map, served locally or exported."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from minecarbon.cli._common import OUT, WorkspaceOption, emit_json, open_workspace, say
from minecarbon.errors import InputDataError
from minecarbon.view.limits import MAX_PX


def view(
    workspace: WorkspaceOption = Path("."),
    export: Annotated[Path | None, typer.Option(
        "--export", help="Write the viewer as static files into this folder (they open from "
        "disk or any static web server) instead of serving it.")] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    max_px: Annotated[int, typer.Option(
        "--max-px", help="Largest side of the displayed rasters, in pixels.")] = MAX_PX,
    browser: Annotated[bool, typer.Option(
        "--browser/--no-browser", help="Open the page in the default browser.")] = True,
) -> None:
    """Open an interactive web map of the workspace (or export it as static files).

    25 years of maps with a year slider, legends in Chinese and English, a pixel's AGC
    history and its unit's totals on a click; served on 127.0.0.1 only.
    """
    from minecarbon.view import export_viewer, serve

    if not 0 <= port <= 65535:
        raise InputDataError(f"--port {port} is not a port", fix="give 0–65535")
    if max_px < 64:
        raise InputDataError(f"--max-px {max_px} is too small", fix="give at least 64")
    with open_workspace(workspace) as ws:
        root = ws.root
    if export is not None:
        index = export_viewer(root, export, max_px=max_px)
        if OUT.json:
            emit_json({"index": str(index)})
        say(f"viewer written: {index} (open it in a browser; it works offline)")
        return

    def ready(url: str) -> None:
        say(f"viewer of {root} at {url} (Ctrl+C to stop)")
        if browser:
            webbrowser.open(url)

    try:
        serve(root, port=port, max_px=max_px, on_ready=ready)
    except KeyboardInterrupt:
        say("stopped")
    except OSError as error:
        raise InputDataError(f"cannot listen on 127.0.0.1:{port}: {error}",
                             fix="choose another --port (0: any free port)") from error
