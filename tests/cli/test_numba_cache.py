"""minecarbon starts where its package folder cannot be written (issue 15, point 4.3).

numba caches compiled kernels next to the source unless ``NUMBA_CACHE_DIR`` is set; importing
minecarbon sets it to a user cache folder first (unless the user set it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli._helpers import open_folder

PRINT = "import minecarbon, os; print(os.environ.get('NUMBA_CACHE_DIR'))"


def _python(code: str, env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300, **kwargs)  # type: ignore[call-overload]


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "MPLCONFIGDIR")}
    env.update(values)
    return env


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout")
def test_cache_dir_follows_xdg_cache_home(tmp_path: Path) -> None:
    done = _python(PRINT, _env(XDG_CACHE_HOME=str(tmp_path / "xdg")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "xdg" / "minecarbon" / "numba")
    assert (tmp_path / "xdg" / "minecarbon" / "numba").is_dir()


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG layout")
def test_cache_dir_defaults_to_home_cache(tmp_path: Path) -> None:
    done = _python(PRINT, _env(HOME=str(tmp_path)))
    assert done.stdout.strip() == str(tmp_path / ".cache" / "minecarbon" / "numba")


def test_the_users_choice_wins(tmp_path: Path) -> None:
    done = _python(PRINT, _env(NUMBA_CACHE_DIR=str(tmp_path / "mine"),
                               XDG_CACHE_HOME=str(tmp_path / "xdg")))
    assert done.stdout.strip() == str(tmp_path / "mine")
    assert not (tmp_path / "xdg").exists()


@pytest.mark.skipif(not hasattr(os, "getuid") or sys.platform == "darwin", reason="POSIX")
def test_unwritable_home_falls_back_to_a_private_temporary_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # nothing can be created below a file, not even by root
    (tmp_path / "tmp").mkdir()
    done = _python(PRINT, _env(HOME=str(blocker), XDG_CACHE_HOME=str(blocker / "cache"),
                               TMPDIR=str(tmp_path / "tmp")))
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "tmp" / f"minecarbon-{os.getuid()}"
    assert done.stdout.strip() == str(folder / "numba")
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_a_cached_kernel_compiles_into_the_cache_folder(tmp_path: Path) -> None:
    code = (
        "import numpy as np, numba\n"
        "from minecarbon.assessment._jenks_kernel import bin_stats\n"
        "count = bin_stats(np.array([0.0, 1.0, 2.0]), 0, 1.0, 3, 1.0)[0]\n"
        "assert list(count) == [1, 1, 1], count\n"
        "print(numba.config.CACHE_DIR)\n"
    )
    done = _python(code, _env(NUMBA_CACHE_DIR=str(tmp_path / "numba")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "numba")
    assert list((tmp_path / "numba").rglob("*bin_stats*.nbi")), "no index written"
    assert list((tmp_path / "numba").rglob("*bin_stats*.nbc")), "no compiled kernel written"


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    with open_folder("mc-numba-", 0o1777) as base:
        yield base


def test_cli_starts_for_a_user_who_cannot_write_the_package_or_home(open_tmp: Path) -> None:
    """As root, run as ``nobody``: neither the source tree nor a home folder is writable."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to run as another user")
    env = _env(HOME="/nonexistent", TMPDIR=str(open_tmp))
    try:
        done = _python("import minecarbon.cli.main, os; print(os.environ['NUMBA_CACHE_DIR'])",
                       env, user=65534, group=65534, extra_groups=[], cwd=open_tmp)
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot run as nobody: {error}")
    assert done.returncode == 0, done.stderr
    assert "cannot cache function" not in done.stderr
    assert not done.stderr.strip(), done.stderr  # nor matplotlib's warning about its folder
    assert done.stdout.strip() == str(open_tmp / "minecarbon-65534" / "numba")
