"""File primitives: checksums, atomic writes, spatial descriptions of any dataset."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

#: Marker in the names of temporary files; a file containing it is never a product.
TMP_MARKER = ".mc-tmp-"


def sha256_file(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def temporary_sibling(path: Path) -> Path:
    """A unique temporary path in the same folder, keeping the suffix (drivers look at it)."""
    return path.with_name(f"{path.stem}{TMP_MARKER}{uuid.uuid4().hex[:12]}{path.suffix}")


@contextmanager
def atomic_path(
    path: Path, guard: Callable[[], AbstractContextManager[Any]] | None = None
) -> Iterator[Path]:
    """Yield a temporary path to write to; on success rename it onto ``path``.

    The temporary file lies in the same folder, so the rename is atomic on POSIX. If the block
    raises, the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path
        The final path.
    guard
        A context-manager factory entered around the rename (the catalogue passes a database
        transaction, so that the file and its record change together or not at all).

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"the writer did not create {tmp}")
        _fsync(tmp)
        with guard() if guard is not None else nullcontext():
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Delete temporary files left by a killed process below ``root``; return what was removed."""
    removed = []
    for p in root.rglob(f"*{TMP_MARKER}*"):
        if p.is_file():
            p.unlink()
            removed.append(p)
    return removed
