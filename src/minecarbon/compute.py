"""Choosing where dask runs: a local scheduler or a dask.distributed cluster.

The library never starts a cluster; :func:`use_scheduler` only points dask at the scheduler the
user named (``compute.scheduler`` or ``--scheduler``) for the duration of a ``with`` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dask

from minecarbon.errors import ConfigError
from minecarbon.types import Scheduler

_LOCAL = {s.value for s in Scheduler}


def is_address(scheduler: str) -> bool:
    """Whether ``scheduler`` names a dask.distributed scheduler rather than a local one."""
    return scheduler not in _LOCAL


@contextmanager
def use_scheduler(scheduler: str = "threads") -> Iterator[Any]:
    """Run the dask computations inside the block on ``scheduler``.

    Parameters
    ----------
    scheduler
        ``threads`` (default), ``processes``, ``synchronous``, or the address of a running
        dask.distributed scheduler (``tcp://host:8786``).

    Yields
    ------
    The :class:`distributed.Client` when an address was given, else ``None``.

    """
    if not is_address(scheduler):
        with dask.config.set(scheduler=scheduler):
            yield None
        return
    try:
        from distributed import Client
    except ImportError as error:  # pragma: no cover - distributed is a dependency
        raise ConfigError(
            f"compute.scheduler = {scheduler!r} needs dask.distributed",
            fix="pip install distributed",
        ) from error
    try:
        client = Client(scheduler, timeout="10s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as error:
        raise ConfigError(
            f"cannot reach the dask scheduler at {scheduler!r} ({error})",
            fix="start it (dask scheduler) or set compute.scheduler = 'threads'",
        ) from None
    try:
        with client.as_current(), dask.config.set(scheduler=client.get):
            yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]
