"""Incremental runs on the finished small demo (issue 15, point 3).

Importing one file re-runs only the steps that read its kind, and a forced re-run of a step
writes the same bytes, so nothing after it re-runs.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from minecarbon.catalog import Workspace
from minecarbon.pipeline import run_pipeline
from minecarbon.pipeline.admission import admit
from minecarbon.pipeline.steps import default_steps

#: Steps that run on every run or check the raw data: not "re-runs" of a stage.
BOOKKEEPING = {"import", "catalogue"}


@pytest.fixture
def finished(small_site: Path, tmp_path: Path) -> Path:
    """A copy of the finished demo (modification times kept, so nothing looks changed)."""
    root = tmp_path / "demo"
    shutil.copytree(small_site, root)
    return root


def digests(root: Path, top: str) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / top).rglob("*")) if p.is_file()}


def ran(outcomes: list) -> set[str]:  # type: ignore[type-arg]
    return {o.step for o in outcomes if o.status == "ran"}


def test_a_new_climate_series_re_runs_only_the_assessment_and_the_report(
        finished: Path, tmp_path: Path) -> None:
    with Workspace.open(finished) as ws:
        run_pipeline(ws, default_steps())  # the fixture ran up to the report, not the ALS step
        assert ran(run_pipeline(ws, default_steps())) == {"catalogue"}
        (old,) = ws.catalog.datasets(kind="raw:climate")
        rows = list(csv.reader(ws.path(old.path).open(encoding="utf-8-sig")))
        rows[3][2] = f"{float(rows[3][2]) + 50:.1f}"  # a corrected precipitation
        fixed = tmp_path / "climate_corrected.csv"
        with fixed.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        ws.withdraw(old.path, reason="corrected station record")
        admit(ws, "climate", fixed)
        before = digests(finished, "products/units") | digests(finished, "products/agc")
        outcomes = run_pipeline(ws, default_steps())
    assert ran(outcomes) - BOOKKEEPING == {"assessment", "report"}
    assert before == digests(finished, "products/units") | digests(finished, "products/agc")
    assert len(before) > 50


def test_a_forced_re_run_writes_the_same_bytes_and_nothing_after_it_re_runs(
        finished: Path) -> None:
    with Workspace.open(finished) as ws:
        run_pipeline(ws, default_steps())
        products = digests(finished, "products")
        outcomes = run_pipeline(ws, default_steps(), force=["scope", "units"])
    assert ran(outcomes) == {"scope", "units", "catalogue"}
    after = digests(finished, "products")
    assert after == products
    assert "products/units/extent.gpkg" in after and len(after) > 100
