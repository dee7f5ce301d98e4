"""Errors about the workspace name the real cause (issue 15, point 4.2).

Not writable, disk full, locked and damaged are four different messages; only a damaged
catalogue is told to restore or move it away. A workspace the user cannot write can still be
listed, verified and exported.

Root ignores file permissions, so the real read-only test runs the CLI as the user ``nobody``
when the tests run as root (and is skipped where that is impossible); the message mapping is
tested everywhere by simulating SQLite's and the OS's errors.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from minecarbon.catalog import Workspace, database
from minecarbon.catalog.database import Catalog, explain_os_error, explain_sqlite_error
from minecarbon.errors import CatalogError
from tests.cli._helpers import open_folder, single_error_line, snapshot
from tests.conftest import write_tif

NOBODY = 65534


@pytest.fixture
def filled(cli, tmp_path: Path) -> Path:
    """A workspace with one imported raster and the catalogue step run."""
    ws = tmp_path / "ws"
    assert cli("init", ws)[0] == 0
    assert cli("import", "dem", write_tif(tmp_path / "dem.tif"), "-w", ws, "--year",
               "2020")[0] == 0
    assert cli("-q", "run", "-w", ws, "--until", "catalogue")[0] == 0
    return ws


# ------------------------------------------------------------------ a read-only workspace
def _can_run_as_nobody() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    try:
        # nobody must also reach this interpreter and package (a checkout under a private
        # folder, e.g. one made by mktemp -d, is closed to other users)
        done = subprocess.run([sys.executable, "-c", "import minecarbon"], user=NOBODY,
                              group=NOBODY, extra_groups=[], capture_output=True, timeout=60,
                              cwd="/")
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    return done.returncode == 0


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder others may enter (tmp_path's parents are private to root)."""
    with open_folder("mc-ro-", 0o755) as base:
        yield base


_DRIVER = """
import contextlib, io, json, sys
from minecarbon.cli.main import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def _as_nobody(base: Path, calls: list[list[str]]) -> list[tuple[int, str, str]]:
    """Run CLI calls (in one process) as ``nobody``, whose home cannot be written."""
    cache = base / "cache"
    cache.mkdir(exist_ok=True)
    cache.chmod(0o777)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "MPLCONFIGDIR", "XDG_CONFIG_HOME")}
    env.update(HOME="/nonexistent", XDG_CACHE_HOME=str(cache), TMPDIR=str(cache),
               COLUMNS="200")
    done = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps(calls)],
                          user=NOBODY, group=NOBODY, extra_groups=[], capture_output=True,
                          text=True, env=env, cwd=base, timeout=300)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    return [(code, out, err) for code, out, err in json.loads(done.stdout)]


def _read_only_calls(ws: Path, outside: Path) -> list[list[str]]:
    return [[str(a) for a in args] for args in (
        ["--json", "catalog", "list", "-w", ws],
        ["catalog", "verify", "-w", ws],
        ["catalog", "show", "raw/dem/dem.tif", "-w", ws],
        ["catalog", "export", "--stac", outside, "-w", ws],
        ["run", "-w", ws],
        ["import", "dem", ws / "raw/dem/dem.tif", "-w", ws, "--year", "2021"],
    )]


def _check_read_only_results(results: list[tuple[int, str, str]], outside: Path) -> None:
    """Reading works; writing is refused with one line."""
    (code, out, err), *rest = results
    assert code == 0, err
    assert "raw/dem/dem.tif" in {d["path"] for d in json.loads(out)}
    code, out, err = rest[0]
    assert code == 0 and "0 missing or changed" in out, err
    assert rest[1][0] == 0, rest[1][2]
    assert rest[2][0] == 0 and (outside / "catalog.json").exists(), rest[2][2]
    for code, _, err in rest[3:]:
        assert code == 2
        line = single_error_line(err)
        assert "not writable" in line and "chmod -R u+w" in line
        assert "re-import" not in line  # the catalogue is fine: never advise moving it away


def _check_read_only_behaviour(cli: Any, ws: Path, outside: Path) -> None:
    before = snapshot(ws)
    _check_read_only_results([cli(*args) for args in _read_only_calls(ws, outside)], outside)
    assert snapshot(ws) == before


def test_read_only_workspace_for_real(cli, filled: Path, tmp_path: Path,
                                      shared_tmp: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # an ordinary user: chmod is enough
        modes = {p: p.stat().st_mode for p in [filled, *filled.rglob("*")]}
        for p in modes:
            p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
        try:
            _check_read_only_behaviour(cli, filled, tmp_path / "stac")
        finally:
            for p, mode in modes.items():
                p.chmod(stat.S_IMODE(mode))
        return
    if not _can_run_as_nobody():
        pytest.skip("running as root without the means to run as another user")
    ws = shared_tmp / "ws"
    shutil.copytree(filled, ws)  # root's files: readable, not writable, for nobody
    for p in [ws, *ws.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    outside = shared_tmp / "stac"
    outside.mkdir()
    outside.chmod(0o777)
    before = snapshot(ws)
    _check_read_only_results(_as_nobody(shared_tmp, _read_only_calls(ws, outside)), outside)
    assert snapshot(ws) == before


def test_read_only_workspace_simulated(cli, filled: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """As root: the catalogue believes it may not write, and SQLite opens it read-only."""
    monkeypatch.setattr(database, "writable", lambda path: False)
    _check_read_only_behaviour(cli, filled, tmp_path / "stac")


def test_read_only_catalogue_refuses_writes_by_itself(filled: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "writable", lambda path: False)
    with Workspace.open(filled) as ws:
        assert ws.catalog.read_only
        assert ws.catalog.get("raw/dem/dem.tif").time == "2020"
        with pytest.raises(CatalogError, match="is not writable"):
            ws.catalog.forget_step("catalogue")


# ------------------------------------------------------------------ the four causes
CAUSES = [
    ("attempt to write a readonly database", "is not writable", "chmod -R u+w"),
    ("unable to open database file", "is not writable", "copy the workspace"),
    ("database or disk is full", "the disk is full", "free space"),
    ("database is locked", "locked by another process", "wait for the other"),
    ("file is not a database", "not a minecarbon monitoring database", "restore it"),
    ("database disk image is malformed", "not a minecarbon monitoring database", "restore it"),
]


@pytest.mark.parametrize(("sqlite_message", "says", "fix"), CAUSES)
def test_sqlite_errors_are_explained(sqlite_message: str, says: str, fix: str) -> None:
    error = explain_sqlite_error(Path("/w/catalog.sqlite"),
                                 sqlite3.OperationalError(sqlite_message))
    assert error is not None
    assert says in str(error) and fix in str(error) and "/w/catalog.sqlite" in str(error)
    assert isinstance(error, sqlite3.OperationalError)  # callers catching those still do
    if "restore it" not in fix:
        assert "re-import" not in str(error)


def test_other_sqlite_errors_keep_their_traceback() -> None:
    assert explain_sqlite_error("x", sqlite3.IntegrityError("UNIQUE constraint failed")) is None


@pytest.mark.parametrize(("sqlite_message", "says", "fix"), CAUSES)
def test_opening_the_catalogue_names_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               sqlite_message: str, says: str,
                                               fix: str) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError(sqlite_message)

    monkeypatch.setattr(database.sqlite3, "connect", refuse)
    with pytest.raises(CatalogError) as caught:
        Catalog(path)
    assert says in str(caught.value) and fix in str(caught.value)


class _Failing:
    """A connection whose statements starting with ``when`` fail with ``message``."""

    def __init__(self, conn: sqlite3.Connection, when: str, message: str) -> None:
        self.conn, self.when, self.message = conn, when, message

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith(self.when):
            raise sqlite3.OperationalError(self.message)
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@pytest.mark.parametrize(("when", "sqlite_message", "says"), [
    ("BEGIN", "database is locked", "locked by another process"),
    ("BEGIN", "attempt to write a readonly database", "is not writable"),
    ("COMMIT", "database or disk is full", "the disk is full"),
    ("DELETE", "database or disk is full", "the disk is full"),
])
def test_writes_name_the_cause_and_leave_the_catalogue_as_it_was(
    ws: Workspace, when: str, sqlite_message: str, says: str
) -> None:
    with ws.catalog.transaction() as conn:
        ws.catalog.finish_step(conn, "catalogue", "sig", 1.0)
    real = ws.catalog._conn
    ws.catalog._conn = _Failing(real, when, sqlite_message)  # type: ignore[assignment]
    with pytest.raises(CatalogError, match=says):
        ws.catalog.forget_step("catalogue")
    ws.catalog._conn = real
    assert ws.catalog.step_signature("catalogue") == "sig"  # rolled back
    assert not real.in_transaction


def test_a_damaged_catalogue_keeps_the_restore_advice(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", ws)
    (ws / "catalog.sqlite").write_bytes(b"this is not SQLite " * 100)
    code, _, err = cli("catalog", "list", "-w", ws)
    assert code == 2
    line = single_error_line(err)
    assert "not a minecarbon monitoring database" in line and "restore it from a backup" in line


# ------------------------------------------------------------------ errors of the OS
@pytest.mark.parametrize(("error", "says"), [
    (OSError(errno.ENOSPC, "No space left on device", "/w/products/agc/agc_2020.tif"),
     "the disk is full"),
    (PermissionError(errno.EACCES, "Permission denied", "/w/products/agc"),
     "/w/products/agc cannot be written"),
    (OSError(errno.EROFS, "Read-only file system", "/w/work/.run.lock"), "cannot be written"),
    (sqlite3.OperationalError("database is locked"), "locked by another process"),
    (RuntimeError("/w/products/x.tif: Free disk space available is 0 bytes, whereas 1 are "
                  "at least necessary. No space left on device"), "the disk is full"),
])
def test_cli_names_the_cause_of_a_failed_write(cli, filled: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               error: Exception, says: str) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("minecarbon.cli.main.run_with_progress", fail)
    code, _, err = cli("run", "-w", filled)
    assert code == 2
    line = single_error_line(err)
    assert says in line
    assert "re-import" not in line


def test_other_os_errors_are_not_dressed_up(cli, filled: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("minecarbon.cli.main.run_with_progress", fail)
    assert explain_os_error(OSError(errno.EIO, "Input/output error")) is None
    with pytest.raises(OSError, match="Input/output"):
        cli("run", "-w", filled)
