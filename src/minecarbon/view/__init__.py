"""The interactive web map of a workspace (issue 18): ``minecarbon view``.

:func:`export_viewer` writes the viewer as static files that open offline; :func:`serve` writes
it into ``work/view`` (again only when the products changed) and serves it on 127.0.0.1.
"""

from __future__ import annotations

from minecarbon.view.export import MAX_PX, export_viewer
from minecarbon.view.server import serve

__all__ = ["MAX_PX", "export_viewer", "serve"]
