"""Shared fixtures: tiny synthetic data made in code, and the real data in ../shared."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from minecarbon.catalog import Workspace
from minecarbon.cli.main import main

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def docs_script(name: str) -> ModuleType:
    """A script of docs/scripts (e.g. ``als_validation``) loaded as a module, for its functions."""
    path = REPO / "docs" / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def shared_path(*parts: str) -> Path:
    """A file in ../shared/data, or skip the test when the shared data are absent."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace."""
    workspace = Workspace.init(tmp_path / "ws")
    yield workspace
    workspace.close()


def write_tif(path: Path, crs: str | None = "EPSG:4546", *, x0: float = 500_000.0,
              y0: float = 4_100_000.0, size: int = 20, pixel: float = 30.0) -> Path:
    """A small single-band GeoTIFF with a known pattern."""
    data = np.arange(size * size, dtype="float32").reshape(size, size)
    profile = {"driver": "GTiff", "height": size, "width": size, "count": 1, "dtype": "float32",
               "transform": from_origin(x0, y0, pixel, pixel)}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture
def projected_tif(tmp_path: Path) -> Path:
    """A 20 × 20 raster in CGCS2000 GK CM 111E."""
    return write_tif(tmp_path / "dem.tif")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the demo site (``small_site``) ``slow``.

    ``pytest -m "not slow"`` then never builds it (see README, "Quick start").
    """
    for item in items:
        if "small_site" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A delivered small demo workspace with the whole pipeline run, built once per session.

    Shared by every test that needs the simulated site (tests/demo, the CLI's demo test), so
    that the suite builds the demo once per process (≈ 4 min on 2 cores; under ``dev.py
    test`` once in each of its two pytest-xdist workers).
    """
    from minecarbon.demo.deliver import deliver
    from minecarbon.demo.spec import SiteSpec
    from minecarbon.pipeline import run_pipeline
    from minecarbon.pipeline.steps import default_steps

    root = tmp_path_factory.mktemp("site") / "demo"
    with Workspace.init(root) as ws:
        deliver(ws, SiteSpec())
        run_pipeline(ws, default_steps(), until="plots")
        run_pipeline(ws, default_steps(), until="report")
    return root
