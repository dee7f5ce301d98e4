"""Helpers of the CLI robustness tests: one-line errors and snapshots of a folder."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def open_folder(prefix: str, mode: int) -> Iterator[Path]:
    """A temporary folder other users may enter (pytest's tmp_path parents are private)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(mode)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def single_error_line(err: str) -> str:
    """The CLI's stderr must be exactly one line, an error with a fix."""
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    line = lines[0]
    assert line.startswith("error:") and "Traceback" not in line, line
    assert "fix" in line, line
    return line


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with its sha256; the catalogue by its rows (SQLite may
    checkpoint an unchanged database onto its file)."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir():
            out[rel] = "dir"
        elif path.name.startswith("catalog.sqlite"):
            if path.name == "catalog.sqlite":
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                    out[rel] = "\n".join(conn.iterdump())
                conn.close()
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
