"""Progress display for pipeline runs (rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from minecarbon.cli._common import console

if TYPE_CHECKING:
    from minecarbon.catalog import Workspace
    from minecarbon.pipeline import Step, StepOutcome


def run_with_progress(
    ws: Workspace,
    steps: Sequence[Step],
    *,
    until: str | None,
    force: Sequence[str],
    scheduler: str | None,
    show: bool,
) -> list[StepOutcome]:
    """Run the pipeline, showing one line per step."""
    from minecarbon.pipeline import run_pipeline

    if not show:
        return run_pipeline(ws, steps, until=until, force=force, scheduler=scheduler)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def on_event(event: str, step: Step, outcome: StepOutcome | None) -> None:
            if event == "start":
                tasks[step.name] = progress.add_task(f"{step.name}: {step.description}", total=1)
                return
            assert outcome is not None
            if step.name not in tasks:
                tasks[step.name] = progress.add_task("", total=1)
            note = "up to date" if outcome.status == "skipped" else (
                f"done, {len(outcome.products)} product(s)")
            progress.update(tasks[step.name], completed=1,
                            description=f"{step.name}: {note}")

        return run_pipeline(
            ws, steps, until=until, force=force, scheduler=scheduler, on_event=on_event
        )
