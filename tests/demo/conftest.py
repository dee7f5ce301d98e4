"""A small simulated site, built once per test session (≈ 30 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from minecarbon.catalog import Workspace
from minecarbon.demo.deliver import deliver
from minecarbon.demo.spec import SiteSpec
from minecarbon.pipeline import run_pipeline
from minecarbon.pipeline.steps import default_steps


@pytest.fixture(scope="session")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A delivered small demo workspace with the pipeline run up to the feature stacks."""
    root = tmp_path_factory.mktemp("site") / "demo"
    with Workspace.init(root) as ws:
        deliver(ws, SiteSpec())
        run_pipeline(ws, default_steps(), until="plots")
        run_pipeline(ws, default_steps(), until="report")
    return root
