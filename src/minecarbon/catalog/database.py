"""The monitoring database: a SQLite file with one row per dataset and its lineage."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from minecarbon.errors import CatalogError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    crs TEXT,
    bbox TEXT,
    time TEXT,
    step TEXT,
    parameters TEXT NOT NULL DEFAULT '{}',
    versions TEXT NOT NULL DEFAULT '{}',
    source TEXT,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lineage (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    input_path TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    PRIMARY KEY (dataset_id, input_path)
);
CREATE TABLE IF NOT EXISTS step_runs (
    step TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    seconds REAL NOT NULL
);
"""


@dataclass(frozen=True)
class DatasetRecord:
    """One catalogued dataset. ``path`` is relative to the workspace root (POSIX form)."""

    path: str
    kind: str
    sha256: str
    size_bytes: int
    mtime_ns: int
    crs: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    time: str | None = None
    step: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    inputs: tuple[tuple[str, str], ...] = ()
    recorded_at: str = ""
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable view (for ``catalog show --json`` and exports)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["inputs"] = [{"path": p, "sha256": s} for p, s in self.inputs]
        return d


@dataclass(frozen=True)
class Problem:
    """A disagreement between the catalogue and the files."""

    path: str
    status: str  # "missing" | "changed" | "untracked"
    detail: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Catalog:
    """Access to ``catalog.sqlite``. Each write is one transaction.

    Parameters
    ----------
    path
        The database file; created (with its schema) if absent.

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except sqlite3.DatabaseError as error:
            raise CatalogError(
                f"{path} is not a minecarbon monitoring database ({error})",
                fix="restore it from a backup, or move it away and re-import the raw data",
            ) from None

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # ---------------------------------------------------------------- datasets
    def upsert(self, conn: sqlite3.Connection, rec: DatasetRecord) -> int:
        """Insert or replace the row for ``rec.path`` inside an open transaction; return its id."""
        row = (
            rec.path, rec.kind, rec.sha256, rec.size_bytes, rec.mtime_ns, rec.crs,
            json.dumps(rec.bbox) if rec.bbox else None, rec.time, rec.step,
            json.dumps(rec.parameters, sort_keys=True, default=str),
            json.dumps(rec.versions, sort_keys=True), rec.source, rec.recorded_at or _now(),
        )
        cur = conn.execute(
            """INSERT INTO datasets (path, kind, sha256, size_bytes, mtime_ns, crs, bbox, time,
                   step, parameters, versions, source, recorded_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(path) DO UPDATE SET kind=excluded.kind, sha256=excluded.sha256,
                   size_bytes=excluded.size_bytes, mtime_ns=excluded.mtime_ns, crs=excluded.crs,
                   bbox=excluded.bbox, time=excluded.time, step=excluded.step,
                   parameters=excluded.parameters, versions=excluded.versions,
                   source=excluded.source, recorded_at=excluded.recorded_at
               RETURNING id""",
            row,
        )
        dataset_id = int(cur.fetchone()[0])
        conn.execute("DELETE FROM lineage WHERE dataset_id = ?", (dataset_id,))
        conn.executemany(
            "INSERT INTO lineage VALUES (?,?,?)", [(dataset_id, p, s) for p, s in rec.inputs]
        )
        return dataset_id

    def remove(self, conn: sqlite3.Connection, paths: Iterable[str]) -> None:
        """Delete the rows of ``paths`` inside an open transaction."""
        conn.executemany("DELETE FROM datasets WHERE path = ?", [(p,) for p in paths])

    def _records(self, where: str = "", args: tuple[Any, ...] = ()) -> list[DatasetRecord]:
        rows = self._conn.execute(
            "SELECT id, path, kind, sha256, size_bytes, mtime_ns, crs, bbox, time, step, "
            f"parameters, versions, source, recorded_at FROM datasets {where} ORDER BY id",
            args,
        ).fetchall()
        lineage: dict[int, list[tuple[str, str]]] = {}
        query = "SELECT dataset_id, input_path, input_sha256 FROM lineage"
        ids = [r[0] for r in rows]
        if where and len(ids) <= 500:  # a few datasets: only their lineage
            query += f" WHERE dataset_id IN ({','.join('?' * len(ids))})"
        else:
            ids = []
        for did, p, s in self._conn.execute(query + " ORDER BY input_path", ids):
            lineage.setdefault(did, []).append((p, s))
        return [
            DatasetRecord(
                id=r[0], path=r[1], kind=r[2], sha256=r[3], size_bytes=r[4], mtime_ns=r[5],
                crs=r[6], bbox=tuple(json.loads(r[7])) if r[7] else None, time=r[8], step=r[9],
                parameters=json.loads(r[10]), versions=json.loads(r[11]), source=r[12],
                recorded_at=r[13], inputs=tuple(lineage.get(r[0], ())),
            )
            for r in rows
        ]

    def datasets(self, *, kind: str | None = None, step: str | None = None) -> list[DatasetRecord]:
        """All datasets, optionally filtered by kind prefix (``raw``, ``raw:scene``) or step."""
        clauses, args = [], []
        if kind is not None:
            clauses.append("(kind = ? OR kind LIKE ?)")
            args += [kind, f"{kind}:%"]
        if step is not None:
            clauses.append("step = ?")
            args.append(step)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._records(where, tuple(args))

    def checksums(self, paths: Iterable[str]) -> dict[str, str]:
        """sha256 of each catalogued path (one query); unknown paths are left out."""
        wanted = sorted(set(paths))
        out: dict[str, str] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            out.update(self._conn.execute(
                f"SELECT path, sha256 FROM datasets WHERE path IN ({','.join('?' * len(part))})",
                part).fetchall())
        return out

    def get(self, key: str | int) -> DatasetRecord:
        """A dataset by id or by workspace-relative path.

        Raises
        ------
        CatalogError
            If there is no such dataset.

        """
        if isinstance(key, int) or str(key).isdigit():
            found = self._records("WHERE id = ?", (int(key),))
        else:
            found = self._records("WHERE path = ?", (str(key),))
        if not found:
            raise CatalogError(
                f"no dataset {key!r} in {self.path}",
                fix="`minecarbon catalog list` shows the ids and paths",
            )
        return found[0]

    # ---------------------------------------------------------------- step runs
    def step_signature(self, step: str) -> str | None:
        """The input signature of the step's last completed run, or None."""
        row = self._conn.execute(
            "SELECT signature FROM step_runs WHERE step = ?", (step,)
        ).fetchone()
        return None if row is None else str(row[0])

    def forget_step(self, step: str) -> None:
        """Mark a step as not done (before it runs, so a killed run re-runs it)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM step_runs WHERE step = ?", (step,))

    def finish_step(
        self, conn: sqlite3.Connection, step: str, signature: str, seconds: float
    ) -> None:
        """Record a completed step inside an open transaction."""
        conn.execute(
            "INSERT OR REPLACE INTO step_runs VALUES (?,?,?,?)",
            (step, signature, _now(), seconds),
        )
