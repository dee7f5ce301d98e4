"""The pipeline runner: skip, resume, force, ordering, and a run killed mid-step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minecarbon.catalog import Workspace
from minecarbon.errors import PipelineError
from minecarbon.io.files import TMP_MARKER
from minecarbon.pipeline import Step, run_pipeline
from minecarbon.pipeline.runner import order_steps
from minecarbon.pipeline.steps import default_steps
from tests.conftest import REPO, write_tif
from tests.toy_pipeline import STEPS


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "log.txt"
    path.write_text("")
    monkeypatch.setenv("TOY_LOG", str(path))
    monkeypatch.delenv("TOY_SLOW", raising=False)
    return path


def ran(log: Path) -> list[str]:
    lines = log.read_text().split()
    log.write_text("")
    return lines


def statuses(outcomes) -> dict[str, str]:
    return {o.step: o.status for o in outcomes}


def test_runs_in_order_then_skips_everything(ws: Workspace, log: Path) -> None:
    out = run_pipeline(ws, list(reversed(STEPS)))
    assert [o.step for o in out] == ["a", "b", "c"]
    assert ran(log) == ["a", "b", "c"]
    out = run_pipeline(ws, STEPS)
    assert statuses(out) == {"a": "skipped", "b": "skipped", "c": "skipped"}
    assert ran(log) == []


def test_changed_config_section_reruns_step_and_downstream(ws: Workspace, log: Path) -> None:
    run_pipeline(ws, STEPS)
    ran(log)
    toml = ws.path("minecarbon.toml")
    toml.write_text(toml.read_text().replace("alpha = 0.05", "alpha = 0.01"))
    ws2 = Workspace.open(ws.root)
    run_pipeline(ws2, STEPS)
    assert ran(log) == ["a", "b", "c"]
    # a config change in a section no step depends on changes nothing
    toml.write_text(toml.read_text().replace('lang = "zh"', 'lang = "en"'))
    run_pipeline(Workspace.open(ws.root), STEPS)
    assert ran(log) == []


def test_changed_or_deleted_product_reruns_its_step(ws: Workspace, log: Path) -> None:
    run_pipeline(ws, STEPS)
    ran(log)
    ws.path("products/b.txt").write_text("tampered")
    run_pipeline(ws, STEPS)
    # b re-runs and restores identical content, so c's inputs are unchanged: c skips
    assert ran(log) == ["b"]
    ws.path("products/c.txt").unlink()
    run_pipeline(ws, STEPS)
    assert ran(log) == ["c"]


def test_until_and_force(ws: Workspace, log: Path) -> None:
    out = run_pipeline(ws, STEPS, until="b")
    assert [o.step for o in out] == ["a", "b"]
    assert ran(log) == ["a", "b"]
    assert not ws.path("products/c.txt").exists()
    out = run_pipeline(ws, STEPS, force=["a"])
    assert statuses(out) == {"a": "ran", "b": "skipped", "c": "ran"}
    assert ran(log) == ["a", "c"]
    with pytest.raises(PipelineError, match="unknown step"):
        run_pipeline(ws, STEPS, force=["zz"])
    with pytest.raises(PipelineError, match="no step named 'zz'"):
        run_pipeline(ws, STEPS, until="zz")


def test_order_refuses_cycles_duplicates_and_unknown_needs() -> None:
    def noop(ctx):
        return None

    with pytest.raises(PipelineError, match="cycle: x → y → x"):
        order_steps([Step("x", noop, needs=("y",)), Step("y", noop, needs=("x",))])
    with pytest.raises(PipelineError, match="two steps are named 'x'"):
        order_steps([Step("x", noop), Step("x", noop)])
    with pytest.raises(PipelineError, match="needs unknown step 'q'"):
        order_steps([Step("x", noop, needs=("q",))])


def test_failed_step_is_not_recorded_and_reruns(ws: Workspace, log: Path) -> None:
    calls = []

    def flaky(ctx):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        ctx.publish("products/f.txt", lambda p: p.write_text("ok"), kind="product:toy")

    steps = [*STEPS, Step("f", flaky, needs=("a",))]
    with pytest.raises(RuntimeError, match="boom"):
        run_pipeline(ws, steps)
    out = run_pipeline(ws, steps)
    assert statuses(out)["f"] == "ran"
    assert statuses(out)["a"] == "skipped"


def test_step_products_no_longer_made_are_removed(ws: Workspace) -> None:
    years = [2020, 2021]

    def annual(ctx):
        for y in years:
            ctx.publish(f"products/y_{y}.txt", lambda p, y=y: p.write_text(str(y)),
                        kind="product:toy", time=str(y))

    step = Step("annual", annual, config=("project",))
    run_pipeline(ws, [step])
    years.pop()
    run_pipeline(ws, [step], force=["annual"])
    assert ws.path("products/y_2020.txt").exists()
    assert not ws.path("products/y_2021.txt").exists()
    assert [r.path for r in ws.catalog.datasets(step="annual")] == ["products/y_2020.txt"]


def test_killed_mid_step_resumes_with_consistent_catalogue(ws: Workspace, log: Path,
                                                           tmp_path: Path) -> None:
    run_pipeline(ws, STEPS, until="a")
    ran(log)
    marker = tmp_path / "half.txt"
    script = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from minecarbon.catalog import Workspace;"
        "from minecarbon.pipeline import run_pipeline;"
        "from tests.toy_pipeline import STEPS;"
        "run_pipeline(Workspace.open(__import__('pathlib').Path(sys.argv[1])), STEPS)"
    )
    env = {**os.environ, "TOY_SLOW": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(ws.root), str(REPO)], env=env)
    # however long the child takes to start (imports on a busy machine): no time limit here,
    # only a guard against a hung child, far beyond any start-up time
    hung = time.monotonic() + 1800
    while not marker.exists():
        assert proc.poll() is None, "the run ended before reaching the slow write"
        if time.monotonic() > hung:
            proc.kill()
            pytest.fail("the child run hung: no slow write after 30 minutes")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # mid-step: b's product exists only as a temporary file, never at its final path
    assert not ws.path("products/b.txt").exists()
    assert any(TMP_MARKER in p.name for p in ws.path("products").iterdir())
    assert [p for p in ws.verify() if p.status != "untracked"] == []
    assert ran(log) == ["b"]

    out = run_pipeline(Workspace.open(ws.root), STEPS)
    assert statuses(out) == {"a": "skipped", "b": "ran", "c": "ran"}
    assert ws.verify() == []  # no stray temporary file, every file matches its record
    assert len(ws.path("products/b.txt").read_text()) == len("a 0.05\n") * 100_000


def test_second_concurrent_run_is_refused(ws: Workspace) -> None:
    from minecarbon.pipeline.runner import workspace_lock

    with workspace_lock(ws), pytest.raises(PipelineError, match="another minecarbon run"):
        run_pipeline(ws, STEPS)


def test_default_pipeline_imports_hand_placed_raw_and_writes_catalogue(ws: Workspace) -> None:
    out = run_pipeline(ws, default_steps(), until="catalogue")
    assert statuses(out) == {"import": "ran", "catalogue": "ran"}
    assert statuses(run_pipeline(ws, default_steps(), until="catalogue")) == {
        "import": "skipped", "catalogue": "ran"}
    (ws.root / "raw/dem").mkdir()
    write_tif(ws.root / "raw/dem/dem.tif")
    out = run_pipeline(ws, default_steps(), until="catalogue")
    assert statuses(out) == {"import": "ran", "catalogue": "ran"}
    listing = ws.path("products/catalog/datasets.csv").read_text()
    assert "raw/dem/dem.tif" in listing and "raw:dem" in listing
    assert (ws.root / "work/stac/catalog.json").exists()


def test_default_pipeline_refuses_changed_raw(ws: Workspace, projected_tif: Path) -> None:
    from minecarbon.errors import CatalogError

    ws.import_raw("dem", projected_tif)
    target = ws.path("raw/dem/dem.tif")
    target.chmod(0o644)
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CatalogError, match="raw data changed since import: raw/dem/dem.tif"):
        run_pipeline(ws, default_steps())


def test_a_change_in_an_ignored_product_does_not_rerun_the_step(ws: Workspace, log: Path,
                                                                 monkeypatch) -> None:
    from dataclasses import replace

    monkeypatch.setenv("TOY_SIDE", "1")

    def a_with_side_table(ctx) -> None:
        from tests.toy_pipeline import _a

        _a(ctx)
        side = os.environ["TOY_SIDE"]
        ctx.publish("products/side.csv", lambda p: p.write_text(side), kind="product:toy")

    a = replace(STEPS[0], run=a_with_side_table, config=("assessment",), version="side")
    b_ignoring = replace(STEPS[1], ignores=("products/side.*",))
    run_pipeline(ws, [a, b_ignoring, STEPS[2]])
    assert ran(log) == ["a", "b", "c"]
    monkeypatch.setenv("TOY_SIDE", "2")  # a's side table changes, its a.txt does not
    run_pipeline(ws, [replace(a, version="side2"), b_ignoring, STEPS[2]])
    assert ran(log) == ["a"]
    # without the ignore, the same change re-runs b (and c only if b's product changed)
    monkeypatch.setenv("TOY_SIDE", "3")
    run_pipeline(ws, [replace(a, version="side3"), STEPS[1], STEPS[2]])
    assert ran(log) == ["a", "b"]
