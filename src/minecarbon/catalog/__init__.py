"""The workspace and its monitoring database (requirement R2).

Every dataset — raw input or product — is recorded in ``catalog.sqlite`` with kind, path,
sha256, CRS, extent, time and lineage (inputs, step, parameters, package versions).

The names are imported on first use, so that reading :data:`RAW_KINDS` (the CLI's help) does
not load the raster stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from minecarbon._lazy import lazy_getattr
from minecarbon.catalog.kinds import RAW_KINDS

if TYPE_CHECKING:
    from minecarbon.catalog.database import Catalog, DatasetRecord, Problem, Withdrawal
    from minecarbon.catalog.workspace import Workspace

_EXPORTS = {
    "Catalog": "database",
    "DatasetRecord": "database",
    "Problem": "database",
    "Withdrawal": "database",
    "Workspace": "workspace",
}

__all__ = ["RAW_KINDS", "Catalog", "DatasetRecord", "Problem", "Withdrawal", "Workspace"]

__getattr__ = lazy_getattr(__name__, _EXPORTS)
