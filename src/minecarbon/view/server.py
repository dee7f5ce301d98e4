"""Serve the viewer of a workspace on 127.0.0.1 (``minecarbon view -w WS``).

The viewer is exported into ``<workspace>/work/view`` — again only when a product it shows
changed since the last export (a fingerprint of the products' sizes and times) — and served
by Python's own HTTP server, bound to the loopback address only.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

from minecarbon import __version__
from minecarbon.view.export import STATIC, export_viewer
from minecarbon.view.limits import MAX_PX

#: The products the viewer reads (their changes trigger a new export).
WATCHED = ("products/agc/*.tif", "products/classification/*.tif", "products/units/*",
           "products/assessment/*", "products/plots/plot_agc.csv", "raw/damage/*",
           "raw/reclamation/*", "raw/plots/*")


def _fingerprint(root: Path, max_px: int) -> str:
    """The watched products' and the viewer's own files' names, sizes and times."""
    items = sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                   for pattern in WATCHED for p in root.glob(pattern) if p.is_file())
    code = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                  for p in STATIC.glob("*") if p.is_file())
    return hashlib.sha256(json.dumps([max_px, items, code, __version__]).encode()).hexdigest()


def prepare(root: Path, max_px: int = MAX_PX) -> Path:
    """Export the viewer into ``work/view`` unless it is up to date; returns the folder."""
    out = root / "work" / "view"
    stamp = out / ".fingerprint"
    key = _fingerprint(root, max_px)
    if not (stamp.exists() and stamp.read_text() == key and (out / "index.html").exists()):
        export_viewer(root, out, max_px=max_px)
        stamp.write_text(key)
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(root: Path, *, port: int = 8765, max_px: int = MAX_PX,
          on_ready: Callable[[str], None] | None = None,
          stop: threading.Event | None = None) -> None:
    """Serve the viewer on ``http://127.0.0.1:port/`` until interrupted (or ``stop`` is set).

    ``port`` 0 picks a free port; ``on_ready`` receives the URL once the server listens.
    """
    folder = prepare(root, max_px)
    handler = partial(_QuietHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        if on_ready is not None:
            on_ready(url)
        if stop is None:
            httpd.serve_forever()
            return
        httpd.timeout = 0.2
        while not stop.is_set():
            httpd.handle_request()
