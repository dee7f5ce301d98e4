"""Fixtures of the pipeline tests: a workspace with one valid input of every kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from minecarbon.cli.main import main
from tests.pipeline._inputs import ORDER, make_good_inputs


@pytest.fixture(scope="session")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One valid file of every kind (see ``_inputs``)."""
    return make_good_inputs(tmp_path_factory.mktemp("good"))


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory, good: dict[str, Path]) -> Path:
    """A workspace into which every good file was imported through the CLI (copy it to change)."""
    root = tmp_path_factory.mktemp("base") / "ws"
    assert main(["--quiet", "init", str(root)]) == 0
    for kind in ORDER:
        extra = ["--year", "2020"] if kind == "landcover" else []
        code = main(["--quiet", "import", kind, str(good[kind]), "-w", str(root), *extra])
        assert code == 0, kind
    return root
