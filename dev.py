#!/usr/bin/env python3
"""Set up and run minecarbon with nothing but Python ≥ 3.11 and pip.

    python3 dev.py demo     create .venv, install minecarbon, run `minecarbon demo`
    python3 dev.py test     create .venv, install minecarbon with its test tools, run the tests
    python3 dev.py lint     ruff, mypy (strict on src/) and import-linter

Extra arguments after the command go to `minecarbon demo` or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def _run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    done = subprocess.run([str(c) for c in cmd], cwd=ROOT)
    if done.returncode:
        sys.exit(done.returncode)


def setup(extras: str) -> None:
    """Create .venv and install the package (editable) unless pyproject.toml is unchanged."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == key:
        return
    _run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    _run(PY, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(key)


def _workers(rest: list[str]) -> list[str]:
    """Two pytest-xdist workers (docs/decisions.md, 53).

    Not when the caller chose (``-n``, ``-p no:xdist``) or the machine has one core.
    """
    chosen = any(a == "-n" or re.fullmatch(r"-n(\d+|auto|logical)", a)
                 or a.startswith("--numprocesses") or a in ("no:xdist", "-pno:xdist")
                 for a in rest)
    return [] if chosen or (os.cpu_count() or 1) < 2 else ["-n", "2"]


def main(argv: list[str]) -> None:
    """Dispatch the command."""
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "demo":
        setup("")
        _run(BIN / "minecarbon", "demo", *rest)
    elif command == "test":
        setup("dev")
        browser = ROOT / "tools" / "install_test_tools.sh"
        if sys.platform.startswith("linux") and browser.exists():
            subprocess.run(["sh", str(browser)], cwd=ROOT)  # chromium, LibreOffice, poppler
        _run(PY, "-m", "pytest", *_workers(rest), *rest)
    elif command == "lint":
        setup("dev")
        _run(BIN / "ruff", "check", ".")
        _run(BIN / "mypy", "src")
        _run(BIN / "lint-imports")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
