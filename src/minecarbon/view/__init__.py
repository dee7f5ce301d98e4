"""The interactive web map of a workspace (issue 18): ``minecarbon view``.

:func:`export_viewer` writes the viewer as static files that open offline; :func:`serve` writes
it into ``work/view`` (again only when the products changed) and serves it on 127.0.0.1.
The names are imported on first use; :data:`MAX_PX` is light (the CLI's help shows it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minecarbon._lazy import lazy_getattr
from minecarbon.view.limits import MAX_PX

if TYPE_CHECKING:
    from minecarbon.view.export import export_viewer
    from minecarbon.view.server import serve

_EXPORTS = {"export_viewer": "export", "serve": "server"}

__all__ = ["MAX_PX", "export_viewer", "serve"]

__getattr__ = lazy_getattr(__name__, _EXPORTS)
