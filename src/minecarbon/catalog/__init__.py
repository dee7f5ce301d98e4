"""The workspace and its monitoring database (requirement R2).

Every dataset — raw input or product — is recorded in ``catalog.sqlite`` with kind, path,
sha256, CRS, extent, time and lineage (inputs, step, parameters, package versions).
"""

from minecarbon.catalog.database import Catalog, DatasetRecord, Problem, Withdrawal
from minecarbon.catalog.workspace import RAW_KINDS, Workspace

__all__ = ["RAW_KINDS", "Catalog", "DatasetRecord", "Problem", "Withdrawal", "Workspace"]
