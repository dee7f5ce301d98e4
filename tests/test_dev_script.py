"""dev.py, the quick start's entry: the test command's pytest-xdist workers (decision 53)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

DEV = Path(__file__).resolve().parents[1] / "dev.py"


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", DEV)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("rest", [[], ["-m", "not slow"], ["tests/io", "-x"], ["-k", "-name"]])
def test_two_workers_unless_chosen(rest: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    dev = _dev()
    monkeypatch.setattr(dev.os, "cpu_count", lambda: 2)
    assert dev._workers(rest) == ["-n", "2"]


@pytest.mark.parametrize("rest", [["-n", "0"], ["-n0"], ["-n", "4", "tests/io"], ["-nauto"],
                                  ["--numprocesses=3"], ["-p", "no:xdist"], ["-pno:xdist"]])
def test_the_callers_choice_stands(rest: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    dev = _dev()
    monkeypatch.setattr(dev.os, "cpu_count", lambda: 16)
    assert dev._workers(rest) == []


def test_one_core_runs_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = _dev()
    monkeypatch.setattr(dev.os, "cpu_count", lambda: 1)
    assert dev._workers([]) == []
    monkeypatch.setattr(dev.os, "cpu_count", lambda: None)
    assert dev._workers([]) == []
