"""The monitoring database: a SQLite file with one row per dataset and its lineage."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from minecarbon.errors import CatalogError, MinecarbonError

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
CREATE TABLE IF NOT EXISTS withdrawals (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    time TEXT,
    source TEXT,
    recorded_at TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL,
    moved_to TEXT NOT NULL,
    reason TEXT NOT NULL
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
class Withdrawal:
    """A raw dataset taken out of the workspace: what it was, when, why and where it is kept."""

    path: str
    kind: str
    sha256: str
    time: str | None
    source: str | None
    recorded_at: str
    withdrawn_at: str
    moved_to: str
    reason: str


@dataclass(frozen=True)
class Problem:
    """A disagreement between the catalogue and the files."""

    path: str
    status: str  # "missing" | "changed" | "untracked"
    detail: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------ storage errors, explained
# SQLite and the OS name the same few causes in their own words; each becomes one CatalogError
# that says what is wrong with the workspace and what to do. A damaged file is the only cause
# for which moving the catalogue away is the right advice.
_NOT_WRITABLE = ("attempt to write a readonly database", "unable to open database file",
                 "readonly database", "read-only file system")
_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")
_LOCKED = ("database is locked", "database table is locked", "database schema is locked")
_DAMAGED = ("file is not a database", "database disk image is malformed")


class CatalogStorageError(CatalogError, sqlite3.OperationalError):
    """A SQLite error of the catalogue, explained by its cause.

    Still a :class:`sqlite3.OperationalError`, for code that catches those.
    """


def not_writable_error(path: Path | str, detail: str = "") -> CatalogError:
    """``path`` (the catalogue, a folder or a file of the workspace) cannot be written."""
    note = f" ({detail})" if detail else ""
    folder = Path(path).parent if Path(path).name == "catalog.sqlite" else Path(path)
    return CatalogError(
        f"{path} is not writable{note}, so the workspace cannot be changed",
        fix=f"give yourself write permission (e.g. chmod -R u+w {folder}) or copy the "
            "workspace to a folder you can write to and use the copy; the catalogue is intact, "
            "and catalog list, show, verify and export (to a folder outside it) work as it is",
    )


def disk_full_error(path: Path | str, detail: str = "") -> CatalogError:
    """The disk holding ``path`` is full."""
    note = f" ({detail})" if detail else ""
    return CatalogError(
        f"the disk is full: {path} cannot be written{note}",
        fix="free space on that disk (or move the workspace to a larger one) and run again; "
            "the catalogue is intact and nothing half-written was kept",
    )


def sqlite_cause(error: sqlite3.Error) -> str | None:
    """``"not writable"``, ``"disk full"``, ``"locked"``, ``"damaged"`` or None (other)."""
    text = str(error).lower()
    for cause, phrases in (("not writable", _NOT_WRITABLE), ("disk full", _FULL),
                           ("locked", _LOCKED), ("damaged", _DAMAGED)):
        if any(phrase in text for phrase in phrases):
            return cause
    return None


def explain_sqlite_error(path: Path | str, error: sqlite3.Error) -> CatalogError | None:
    """The :class:`CatalogStorageError` for a SQLite error on ``path`` by its cause, or None.

    Causes (:func:`sqlite_cause`): not writable, disk full, locked by another process, damaged
    file. None for any other error (a bug, which should keep its traceback).
    """
    cause = sqlite_cause(error)
    if isinstance(error, MinecarbonError) or cause is None:
        return None
    if cause == "not writable":
        plain = not_writable_error(path, str(error))
    elif cause == "disk full":
        plain = disk_full_error(path, str(error))
    elif cause == "locked":
        plain = CatalogError(
            f"{path} is locked by another process ({error})",
            fix="wait for the other minecarbon run (or the program holding the catalogue, e.g. "
                "a database browser) to finish, then run again",
        )
    else:  # damaged
        plain = CatalogError(
            f"{path} is not a minecarbon monitoring database ({error})",
            fix="restore it from a backup, or move it away and re-import the raw data",
        )
    return CatalogStorageError(plain.message, fix=plain.fix)


def explain_os_error(error: OSError) -> CatalogError | None:
    """The :class:`CatalogError` for a file-system error while writing, or None.

    Permission denied or a read-only file system: not writable. No space left or quota
    exceeded: disk full. None for any other error.
    """
    where = error.filename if error.filename is not None else "a file of the workspace"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return CatalogError(
            f"{where} cannot be written ({error.strerror})",
            fix=f"give yourself write permission on {where} or its folder (chmod u+w), or copy "
                "the workspace to a folder you can write to and work in the copy",
        )
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full_error(str(where), str(error.strerror))
    return None


def writable(path: Path) -> bool:
    """Whether the catalogue ``path`` (and its folder, for SQLite's journal files) can be written.

    A user without write permission (or a read-only file system) gets a read-only catalogue.
    """
    folder_ok = os.access(path.parent, os.W_OK)
    return folder_ok and (not path.exists() or os.access(path, os.W_OK))


class Catalog:
    """Access to ``catalog.sqlite``. Each write is one transaction.

    Parameters
    ----------
    path
        The database file; created (with its schema) if absent.

    Notes
    -----
    A catalogue this user cannot write (:func:`writable`) is opened read-only: it can be read
    (``catalog list``, ``verify``), and every write raises a :class:`CatalogError` saying the
    workspace is not writable. SQLite errors are explained by their cause
    (:func:`explain_sqlite_error`): not writable, disk full, locked, damaged.

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read_only = not writable(path)
        try:
            if self.read_only:
                self._conn = self._connect_read_only()
            else:
                self._conn = self._connect()
        except sqlite3.Error as error:
            if sqlite_cause(error) == "not writable" and path.exists() and not self.read_only:
                self.read_only = True  # e.g. a read-only mount that os.access did not see
                try:
                    self._conn = self._connect_read_only()
                    return
                except sqlite3.Error:
                    pass
            raise explain_sqlite_error(path, error) or CatalogError(
                f"{path} is not a minecarbon monitoring database ({error})",
                fix="restore it from a backup, or move it away and re-import the raw data",
            ) from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """Open without writing anything; ``immutable`` when SQLite cannot share the WAL."""
        if not self.path.exists():
            raise sqlite3.OperationalError("unable to open database file")
        uri = f"file:{quote(str(self.path.resolve()))}"
        last: sqlite3.Error | None = None
        # mode=ro needs the WAL's -shm file (or a writable folder to create it); a folder
        # nobody may write to has neither, and there no writer can change the file anyway.
        for query in ("mode=ro", "mode=ro&immutable=1"):
            conn = sqlite3.connect(f"{uri}?{query}", uri=True, isolation_level=None,
                                   timeout=30.0)
            try:
                conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            except sqlite3.Error as error:
                conn.close()
                last = error
                if "unable to open" in str(error) or "readonly" in str(error):
                    continue
                raise
            return conn
        assert last is not None
        raise last

    @contextmanager
    def _explained(self) -> Iterator[None]:
        """Turn a SQLite error of a known cause into a :class:`CatalogError` saying so."""
        try:
            yield
        except sqlite3.Error as error:
            explained = explain_sqlite_error(self.path, error)
            if explained is None:
                raise
            raise explained from None

    def require_writable(self) -> None:
        """Raise a :class:`CatalogError` if the catalogue was opened read-only."""
        if self.read_only:
            raise not_writable_error(self.path, "no write permission")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Raises
        ------
        CatalogError
            If the catalogue cannot be written (read-only, disk full, locked).

        """
        self.require_writable()
        with self._explained():
            self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException as error:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            explained = (explain_sqlite_error(self.path, error)
                         if isinstance(error, sqlite3.Error) else None)
            if explained is not None:
                raise explained from None
            raise
        with self._explained():
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                raise

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
        with self._explained():
            return self._read_records(where, args)

    def _read_records(self, where: str, args: tuple[Any, ...]) -> list[DatasetRecord]:
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
        with self._explained():
            for i in range(0, len(wanted), 500):
                part = wanted[i:i + 500]
                out.update(self._conn.execute(
                    f"SELECT path, sha256 FROM datasets WHERE path IN "
                    f"({','.join('?' * len(part))})", part).fetchall())
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
        with self._explained():
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

    # ---------------------------------------------------------------- withdrawals
    def record_withdrawal(self, conn: sqlite3.Connection, rec: DatasetRecord, moved_to: str,
                          reason: str) -> None:
        """Delete the row of ``rec`` and record its withdrawal, inside an open transaction."""
        conn.execute(
            "INSERT INTO withdrawals (path, kind, sha256, time, source, recorded_at, withdrawn_at,"
            " moved_to, reason) VALUES (?,?,?,?,?,?,?,?,?)",
            (rec.path, rec.kind, rec.sha256, rec.time, rec.source, rec.recorded_at, _now(),
             moved_to, reason),
        )
        conn.execute("DELETE FROM datasets WHERE path = ?", (rec.path,))

    def withdrawals(self) -> list[Withdrawal]:
        """Every withdrawal, oldest first."""
        rows = self._conn.execute(
            "SELECT path, kind, sha256, time, source, recorded_at, withdrawn_at, moved_to, reason"
            " FROM withdrawals ORDER BY id").fetchall()
        return [Withdrawal(*row) for row in rows]
