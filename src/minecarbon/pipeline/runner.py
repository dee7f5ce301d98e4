"""The runner: executes what is out of date, in dependency order, resumably.

A step is up to date when its *signature* — a hash of its code version, its config sections and
the checksums of its inputs — equals the one recorded at its last completed run and its
products are still on disk unchanged. A step's record is deleted before it runs and written
(in one transaction) only after all its products are published, so a run killed in the middle
of a step re-runs that step next time; products are renamed into place whole, so nothing
half-written is ever left.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Literal

from minecarbon.catalog import DatasetRecord, Workspace
from minecarbon.compute import check_scheduler, use_scheduler
from minecarbon.errors import PipelineError, warning_filters_guard
from minecarbon.io.files import remove_stale_temporaries
from minecarbon.pipeline.step import Step, StepContext


@dataclass(frozen=True)
class StepOutcome:
    """What happened to one step in a run."""

    step: str
    status: Literal["ran", "skipped"]
    seconds: float
    products: tuple[str, ...] = ()


def order_steps(steps: Sequence[Step], until: str | None = None) -> list[Step]:
    """Steps in dependency order; with ``until``, only that step and what it needs.

    Raises
    ------
    PipelineError
        For duplicate or unknown step names, unknown needs, or a cycle.

    """
    by_name: dict[str, Step] = {}
    for s in steps:
        if s.name in by_name:
            raise PipelineError(f"two steps are named {s.name!r}", fix="rename one of them")
        by_name[s.name] = s
    for s in steps:
        for need in (*s.needs, *s.after):
            if need not in by_name:
                raise PipelineError(
                    f"step {s.name!r} needs unknown step {need!r}", fix="check the step list"
                )
    if until is not None and until not in by_name:
        raise PipelineError(
            f"no step named {until!r}", fix=f"use one of: {', '.join(by_name)}"
        )
    ordered: list[Step] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise PipelineError(
                f"steps depend on each other in a cycle: {' → '.join((*chain, name))}",
                fix="remove one of the needs",
            )
        state[name] = "visiting"
        for need in (*by_name[name].needs, *by_name[name].after):
            visit(need, (*chain, name))
        state[name] = "done"
        ordered.append(by_name[name])

    for name in [until] if until is not None else list(by_name):
        visit(name, ())
    return ordered


def step_inputs(ws: Workspace, step: Step) -> list[DatasetRecord]:
    """The catalogued datasets a step reads: its raw kinds and its needed steps' products."""
    found: list[DatasetRecord] = []
    for kind in step.raw:
        found += ws.catalog.datasets(kind=f"raw:{kind}")
    for need in step.needs:
        found += [r for r in ws.catalog.datasets(step=need)
                  if not any(fnmatch(r.path, pattern) for pattern in step.ignores)]
    return sorted(found, key=lambda r: r.path)


def signature(ws: Workspace, step: Step, inputs: Sequence[DatasetRecord]) -> str:
    """Hash of the step's version, config sections and input checksums."""
    payload = {
        "step": step.name,
        "version": step.version,
        "config": {s: ws.config.section_hash(s) for s in step.config},
        "inputs": [(r.path, r.sha256) for r in inputs],
        "watched": sorted(
            (ws.rel(p), p.stat().st_size, p.stat().st_mtime_ns)
            for pattern in step.watch
            for p in ws.root.glob(pattern)
            if p.is_file()
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _up_to_date(ws: Workspace, step: Step, sig: str) -> bool:
    if ws.catalog.step_signature(step.name) != sig:
        return False
    return all(ws.check(r, quick=True) is None for r in ws.catalog.datasets(step=step.name))


@contextmanager
def workspace_lock(ws: Workspace) -> Iterator[None]:
    """Hold an exclusive lock on the workspace for the duration of a run."""
    lock_path = ws.path("work/.run.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(
                f"another minecarbon run is using {ws.root}",
                fix="wait for it to finish (a killed run releases the lock by itself)",
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_pipeline(
    ws: Workspace,
    steps: Sequence[Step],
    *,
    until: str | None = None,
    force: Sequence[str] = (),
    scheduler: str | None = None,
    on_event: Callable[[str, Step, StepOutcome | None], None] | None = None,
) -> list[StepOutcome]:
    """Run every out-of-date step (up to ``until``), forcing the steps named in ``force``.

    Parameters
    ----------
    ws
        The workspace.
    steps
        The pipeline.
    until
        Stop after this step (and run only what it needs).
    force
        Names of steps to run even when up to date.
    scheduler
        Dask scheduler; default ``compute.scheduler`` of the config.
    on_event
        Called with ``("start", step, None)`` and ``("end", step, outcome)`` (progress display).

    """
    plan = order_steps(steps, until)
    unknown = set(force) - {s.name for s in steps}
    if unknown:
        raise PipelineError(
            f"--force names unknown step(s) {sorted(unknown)}",
            fix=f"use one of: {', '.join(s.name for s in steps)}",
        )
    outcomes = []
    chosen = check_scheduler(scheduler or ws.config.compute.scheduler,
                             name="--scheduler" if scheduler else "compute.scheduler")
    with workspace_lock(ws), use_scheduler(chosen), warning_filters_guard():
        remove_stale_temporaries(ws.root)
        for step in plan:
            inputs = step_inputs(ws, step)
            sig = signature(ws, step, inputs)
            if step.name not in force and not step.always and _up_to_date(ws, step, sig):
                outcome = StepOutcome(step.name, "skipped", 0.0)
                if on_event:
                    on_event("end", step, outcome)
                outcomes.append(outcome)
                continue
            if on_event:
                on_event("start", step, None)
            outcome = _run_step(ws, step, inputs, sig)
            if on_event:
                on_event("end", step, outcome)
            outcomes.append(outcome)
    return outcomes


def _run_step(ws: Workspace, step: Step, inputs: list[DatasetRecord], sig: str) -> StepOutcome:
    ws.catalog.forget_step(step.name)
    previous = {r.path for r in ws.catalog.datasets(step=step.name)}
    ctx = StepContext(ws, step, inputs)
    started = time.perf_counter()
    step.run(ctx)
    seconds = time.perf_counter() - started
    ws.remove_products(previous - set(ctx.published))  # products this run no longer makes
    with ws.catalog.transaction() as conn:
        ws.catalog.finish_step(conn, step.name, sig, seconds)
    return StepOutcome(step.name, "ran", seconds, tuple(ctx.published))
