"""A pipeline step: a name, what it needs, what it makes, and the function that makes it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minecarbon.catalog import DatasetRecord, Workspace


@dataclass(frozen=True)
class Step:
    """One stage of the pipeline.

    Attributes
    ----------
    name
        Unique name, used by ``--until`` and ``--force``.
    run
        ``run(ctx)`` makes the products through :meth:`StepContext.publish`.
    needs
        Names of the steps whose products it reads (they run first).
    after
        Names of steps that must run first but whose products it does not read: a change in
        their products does not re-run it (the scope runs after the import check, but reads
        only the boundaries, not the inventory of every raw file).
    raw
        Raw kinds it reads (``raw/<kind>/``), e.g. ``("scene", "dem")``.
    ignores
        Glob patterns (workspace-relative) of needed steps' products it does not read: a change
        in them does not re-run it (the classifiers read the feature stacks, not the plots'
        feature table, which changes whenever plots are imported).
    makes
        Glob patterns of the products it writes (documentation and ``minecarbon run --list``).
    config
        Config sections it depends on; a change in one re-runs the step.
    watch
        Glob patterns (workspace-relative) of files that are not catalogued yet but whose
        appearance or change must re-run the step (the import step watches ``raw/**/*``).
    version
        Bump when the step's code changes its products.
    always
        Run on every run (cheap summaries of the whole workspace, such as the catalogue).

    """

    name: str
    run: Callable[[StepContext], None]
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    raw: tuple[str, ...] = ()
    ignores: tuple[str, ...] = ()
    makes: tuple[str, ...] = ()
    config: tuple[str, ...] = ()
    watch: tuple[str, ...] = ()
    version: str = "1"
    description: str = ""
    always: bool = False


@dataclass
class StepContext:
    """What a running step sees: the workspace, its inputs, and a way to publish products."""

    workspace: Workspace
    step: Step
    inputs: list[DatasetRecord]
    published: list[str] = field(default_factory=list)

    @property
    def config(self) -> Any:
        """The workspace's configuration."""
        return self.workspace.config

    def input_paths(self, kind: str | None = None) -> list[Path]:
        """Absolute paths of the inputs, optionally of one kind (prefix match)."""
        return [
            self.workspace.path(r.path)
            for r in self.inputs
            if kind is None or r.kind == kind or r.kind.startswith(f"{kind}:")
        ]

    def publish(
        self,
        rel: str,
        write: Callable[[Path], Any],
        *,
        kind: str,
        inputs: Iterable[str] | None = None,
        parameters: dict[str, Any] | None = None,
        time: str | None = None,
    ) -> DatasetRecord:
        """Write and catalogue a product of this step (see :meth:`Workspace.publish`).

        ``inputs`` default to all of the step's inputs; ``parameters`` to its config sections.
        """
        if parameters is None:
            parameters = {
                s: getattr(self.workspace.config, s).model_dump(mode="json")
                for s in self.step.config
            }
        rec = self.workspace.publish(
            rel,
            write,
            kind=kind,
            step=self.step.name,
            inputs=[r.path for r in self.inputs] if inputs is None else inputs,
            parameters=parameters,
            time=time,
        )
        self.published.append(rel)
        return rec


def moved_from(staged: Path) -> Callable[[Path], None]:
    """A ``publish`` writer that moves an already written temporary file into place."""
    return lambda tmp: os.replace(staged, tmp)
