"""minecarbon: forest above-ground carbon in coal-mining areas.

Implements the group standard 煤炭矿区森林地上碳储量监测与评估技术指南 (GRMP—2025—3):
monitoring extent and assessment units, plot survey and plot carbon, remote-sensing features,
forest type and species maps, AGC models, annual AGC maps, assessment and the report.
"""

# The numba cache folder is chosen before anything imports numba (numba reads NUMBA_CACHE_DIR
# once, when it is imported). Without it numba caches compiled kernels next to the source, in
# the installed package's __pycache__, or else in ~/.cache/numba; where neither is writable (a
# system-wide install used by a service account without a home) every ``@njit(cache=True)``
# kernel fails at import with "cannot cache function …". Only os, sys and pathlib here.
# Matplotlib likewise gets a writable config folder when its own cannot be made, instead of
# warning on stderr at every start.
import os as _os
import sys as _sys
from pathlib import Path as _Path


def _user_cache_root() -> _Path | None:
    """The user's cache folder for minecarbon (platformdirs' convention), or None."""
    try:
        home = _Path.home()
    except (RuntimeError, KeyError):  # no home directory can be determined
        home = _Path("~")
    if _sys.platform == "win32":
        local = _os.environ.get("LOCALAPPDATA", "")
        base = _Path(local) if _os.path.isabs(local) else home / "AppData" / "Local"
    elif _sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        xdg = _os.environ.get("XDG_CACHE_HOME", "")
        base = _Path(xdg) if _os.path.isabs(xdg) else home / ".cache"
    return base / "minecarbon" if base.is_absolute() else None


def _usable(folder: _Path, *, private: bool = False) -> bool:
    """Whether ``folder`` exists (created if need be) and this user may write in it.

    ``private``: it must also belong to this user and be writable by nobody else (a shared
    temporary folder, where another user could otherwise plant compiled code).
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if private and hasattr(_os, "getuid"):
            st = folder.stat()
            if st.st_uid != _os.getuid() or st.st_mode & 0o022:
                return False
    except OSError:
        return False
    return _os.access(folder, _os.W_OK | _os.X_OK)


def cache_dir() -> _Path | None:
    r"""The cache folder of minecarbon for this user, created if need be; None if none can be.

    ``$XDG_CACHE_HOME/minecarbon`` (else ``~/.cache/minecarbon``; on Windows
    ``%LOCALAPPDATA%\minecarbon``, on macOS ``~/Library/Caches/minecarbon``), or, when that
    cannot be created, a private ``minecarbon-<uid>`` folder in the temporary folder.
    """
    root = _user_cache_root()
    if root is not None and _usable(root):
        return root
    import tempfile

    uid = _os.getuid() if hasattr(_os, "getuid") else 0
    fallback = _Path(tempfile.gettempdir()) / f"minecarbon-{uid}"
    return fallback if _usable(fallback, private=True) else None


def numba_cache_dir() -> _Path | None:
    """Where numba caches compiled kernels when ``NUMBA_CACHE_DIR`` is not set.

    ``numba`` in :func:`cache_dir`; None when it cannot be written (numba then uses its own
    places: ``__pycache__`` next to the source, then ``~/.cache/numba``).
    """
    root = cache_dir()
    return root / "numba" if root is not None and _usable(root / "numba") else None


def _set_numba_cache_dir() -> None:
    """Point numba's cache at :func:`numba_cache_dir` unless the user chose a folder."""
    if _os.environ.get("NUMBA_CACHE_DIR"):
        return
    folder = numba_cache_dir()
    if folder is None:
        return
    _os.environ["NUMBA_CACHE_DIR"] = str(folder)
    numba_config = _sys.modules.get("numba.core.config")  # numba imported before minecarbon
    if numba_config is not None and not getattr(numba_config, "CACHE_DIR", ""):
        setattr(numba_config, "CACHE_DIR", str(folder))  # noqa: B010


def _set_matplotlib_config_dir() -> None:
    """Give matplotlib a writable folder when its own cannot be made (no warning on stderr)."""
    if _os.environ.get("MPLCONFIGDIR") or _sys.platform == "win32":
        return
    try:
        xdg = _os.environ.get("XDG_CONFIG_HOME", "")
        default = (_Path(xdg) if _os.path.isabs(xdg) else _Path.home() / ".config") / "matplotlib"
    except (RuntimeError, KeyError):
        default = _Path("~")
    if default.is_absolute() and _usable(default):
        return
    root = cache_dir()
    if root is not None and _usable(root / "matplotlib"):
        _os.environ["MPLCONFIGDIR"] = str(root / "matplotlib")


_set_numba_cache_dir()
_set_matplotlib_config_dir()

from importlib.metadata import PackageNotFoundError, version  # noqa: E402

try:
    __version__ = version("minecarbon")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__", "cache_dir", "numba_cache_dir"]
