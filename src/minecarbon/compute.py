"""Choosing where dask runs: a local scheduler or a dask.distributed cluster.

The library never starts a cluster; :func:`use_scheduler` only points dask at the scheduler the
user named (``compute.scheduler`` or ``--scheduler``) for the duration of a ``with`` block.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import dask

from minecarbon.errors import ConfigError
from minecarbon.types import Scheduler

_LOCAL = {s.value for s in Scheduler}


#: URL schemes of dask.distributed scheduler addresses that minecarbon accepts.
ADDRESS_SCHEMES = ("tcp", "tls")

#: Seconds to wait for a TCP connection to a scheduler before saying it cannot be reached, and
#: again for the first bytes of its handshake (a tcp:// scheduler sends it on connection).
CONNECT_TIMEOUT_S = 3.0

#: Largest first message a dask scheduler's handshake can plausibly be (bytes).
_HANDSHAKE_MAX_BYTES = 1 << 20

_ACCEPTED = "threads, processes, synchronous, tcp://HOST:PORT or tls://HOST:PORT"


def is_address(scheduler: str) -> bool:
    """Whether ``scheduler`` names a dask.distributed scheduler rather than a local one."""
    return scheduler not in _LOCAL


def scheduler_address(scheduler: str, *, name: str = "compute.scheduler") -> tuple[str, int]:
    """The (host, port) of a scheduler address ``tcp://host:port`` or ``tls://host:port``.

    Raises
    ------
    ConfigError
        Naming ``name`` and the value, if it is not such an address.

    """
    def refuse(why: str) -> ConfigError:
        return ConfigError(f"{name} {scheduler!r} {why}", fix=f"use one of: {_ACCEPTED}")

    if "://" not in scheduler:
        raise refuse("is neither a local scheduler nor a scheduler address")
    parts = urlsplit(scheduler)
    if parts.scheme not in ADDRESS_SCHEMES:
        raise refuse(f"has the scheme {parts.scheme!r}, not tcp or tls")
    try:
        port = parts.port
    except ValueError:
        raise refuse("has a port that is not a number 1–65535") from None
    if not parts.hostname:
        raise refuse("names no host")
    if port is None or port == 0:
        raise refuse("names no port (e.g. tcp://HOST:8786)")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise refuse("has more than a host and a port")
    return parts.hostname, port


def check_scheduler(
    scheduler: str, *, name: str = "compute.scheduler", reach: bool = True
) -> str:
    """Check a scheduler value before any work; return it.

    Parameters
    ----------
    scheduler
        ``threads``, ``processes``, ``synchronous``, ``tcp://host:port`` or ``tls://host:port``.
    name
        How the value is called in error messages (``--scheduler`` on the command line).
    reach
        For an address, also open a plain TCP connection to it (at most
        :data:`CONNECT_TIMEOUT_S` seconds) and, for ``tcp://``, read the length of the
        handshake a dask scheduler sends on connection (as long again), so that an unreachable
        address, or one where something else listens, is reported within seconds.

    Raises
    ------
    ConfigError
        Naming ``name`` and the value: not an accepted value, or an address nobody answers at.

    """
    if not is_address(scheduler):
        return scheduler
    host, port = scheduler_address(scheduler, name=name)
    if scheduler.startswith("tls://") and not _tls_configured():
        raise ConfigError(
            f"{name} {scheduler!r} is a TLS address but dask has no TLS client configuration",
            fix="set distributed.comm.tls.ca-file, .client.cert and .client.key in the dask "
                "configuration (or DASK_DISTRIBUTED__COMM__TLS__… variables), or use tcp://",
        )
    if reach:
        why = _probe(host, port, handshake=scheduler.startswith("tcp://"))
        if why is not None:
            raise ConfigError(
                f"cannot reach the dask scheduler {name} {scheduler!r} ({why})",
                fix="start it (`dask scheduler`), check the host and port, or use threads",
            )
    return scheduler


def _tls_configured() -> bool:
    """Whether dask.distributed finds a TLS client context in its configuration."""
    try:
        from distributed import Security
    except ImportError:  # pragma: no cover - distributed is a dependency
        return False
    args = Security().get_connection_args("client")  # type: ignore[no-untyped-call]
    return args.get("ssl_context") is not None


def _probe(host: str, port: int, *, handshake: bool) -> str | None:
    """Why ``host:port`` is no dask scheduler (no answer, refused, not dask), or None."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as conn:
            if not handshake:
                return None
            conn.settimeout(CONNECT_TIMEOUT_S)
            header = b""
            deadline = time.monotonic() + CONNECT_TIMEOUT_S
            while len(header) < 8 and time.monotonic() < deadline:
                chunk = conn.recv(8 - len(header))
                if not chunk:
                    break
                header += chunk
    except TimeoutError:
        return "no answer within " + f"{CONNECT_TIMEOUT_S:g} s"
    except OSError as error:
        return error.strerror or str(error) or type(error).__name__
    if len(header) < 8:
        return "it closed the connection without a dask handshake"
    (length,) = struct.unpack("<Q", header)
    if not 0 < length <= _HANDSHAKE_MAX_BYTES:
        return "something that is not a dask scheduler answers there"
    return None


@contextmanager
def use_scheduler(scheduler: str = "threads") -> Iterator[Any]:
    """Run the dask computations inside the block on ``scheduler``.

    Parameters
    ----------
    scheduler
        ``threads`` (default), ``processes``, ``synchronous``, or the address of a running
        dask.distributed scheduler (``tcp://host:8786``, ``tls://host:8786``), checked by
        :func:`check_scheduler`.

    Yields
    ------
    The :class:`distributed.Client` when an address was given, else ``None``.

    """
    check_scheduler(scheduler)  # a bad value or an unreachable address fails in seconds
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
    except Exception as error:  # what a peer that is not a scheduler makes the client raise
        raise ConfigError(
            f"cannot reach the dask scheduler at {scheduler!r} ({error})",
            fix="start it (dask scheduler) or set compute.scheduler = 'threads'",
        ) from None
    try:
        with client.as_current(), dask.config.set(scheduler=_culled_get(client)):
            yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]


def _culled_get(client: Any) -> Any:
    """``client.get`` that sends the graph as a plain dict, which the scheduler culls.

    ``dask.compute`` hands the scheduler an expression; for xarray's graph-backed arrays the
    scheduler then keeps tasks the requested keys do not need. When such a task's key is still
    held from the previous computation (consecutive computations share keys: the same file
    read, the same reduction) the scheduler looks up its dependencies, which were never
    created, and refuses the whole graph with a ``KeyError`` on one of them
    (distributed 2026.8, ``Scheduler._generate_taskstates``; key reuse as in
    dask/dask#9888). The steps hit it intermittently on a cluster. A plain dict graph is
    culled to the requested keys on the scheduler before its tasks are created, so no
    unreachable task is left.
    """

    def get(dsk: Any, keys: Any, **kwargs: Any) -> Any:
        if not isinstance(dsk, dict) and hasattr(dsk, "__dask_graph__"):
            dsk = dict(dsk.__dask_graph__())
        return client.get(dsk, keys, **kwargs)

    return get
