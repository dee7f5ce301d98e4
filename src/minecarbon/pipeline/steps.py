"""The steps of the standard pipeline (later stages add theirs here)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from minecarbon.catalog import RAW_KINDS
from minecarbon.catalog.stac import export_stac
from minecarbon.errors import CatalogError
from minecarbon.pipeline.assessment_steps import ASSESSMENT
from minecarbon.pipeline.classify_steps import CLASSIFY
from minecarbon.pipeline.feature_steps import FEATURES
from minecarbon.pipeline.lidar_steps import ALS
from minecarbon.pipeline.model_steps import MAPPING, MODELS
from minecarbon.pipeline.report_steps import REPORT_STEP
from minecarbon.pipeline.scope_steps import SCOPE, UNITS
from minecarbon.pipeline.step import Step, StepContext
from minecarbon.pipeline.survey_steps import PLOT_AGC
from minecarbon.pipeline.tls_steps import TLS


def _import(ctx: StepContext) -> None:
    """Check the raw data are unchanged and catalogue files dropped into raw/ by hand."""
    ws = ctx.workspace
    bad = [p for r in ws.catalog.datasets(kind="raw") if (p := ws.check(r)) is not None]
    if bad:
        listing = "; ".join(f"{p.path} {p.status}" for p in bad)
        raise CatalogError(
            f"raw data changed since import: {listing}",
            fix="restore the original files (raw data are never modified), or import the new "
            "version under another name",
        )
    ws.register_untracked_raw()
    inventory = [
        {"path": r.path, "kind": r.kind, "sha256": r.sha256, "crs": r.crs, "time": r.time}
        for r in ws.catalog.datasets(kind="raw")
    ]
    ctx.publish(
        "work/raw_inventory.json",
        lambda tmp: tmp.write_text(json.dumps(inventory, indent=1), encoding="utf-8"),
        kind="work:raw-inventory",
        inputs=[r.path for r in ws.catalog.datasets(kind="raw")],
    )


def _catalogue(ctx: StepContext) -> None:
    """Write the dataset listing (CSV) and the STAC catalogue of the rasters."""
    ws = ctx.workspace
    rows = [r for r in ws.catalog.datasets() if not r.path.startswith("products/catalog/")]

    def write_csv(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["id", "path", "kind", "sha256", "size_bytes", "crs", "time", "step",
                          "inputs"])
            for r in rows:
                out.writerow([r.id, r.path, r.kind, r.sha256, r.size_bytes, r.crs or "",
                              r.time or "", r.step or "", " ".join(p for p, _ in r.inputs)])

    ctx.publish("products/catalog/datasets.csv", write_csv, kind="product:catalog", inputs=[])
    export_stac(ws, ws.path("work/stac"))


IMPORT = Step(
    "import",
    _import,
    raw=tuple(RAW_KINDS),
    watch=("raw/**/*",),
    makes=("work/raw_inventory.json",),
    description="check raw data are unchanged; catalogue files added to raw/ by hand",
)

STAGES: list[Step] = [IMPORT, SCOPE, FEATURES, CLASSIFY, UNITS, TLS, PLOT_AGC, ALS, MODELS,
                      MAPPING, ASSESSMENT, REPORT_STEP]
"""The stage steps in the standard's order; later stages append theirs."""


def default_steps() -> list[Step]:
    """The standard pipeline: the stages, then the catalogue step (run every time, last)."""
    catalogue = Step(
        "catalogue",
        _catalogue,
        needs=("import",),
        makes=("products/catalog/datasets.csv",),
        description="list every dataset with checksum and lineage; STAC catalogue in work/stac",
        config=("project",),
        always=True,
    )
    return [*STAGES, catalogue]
