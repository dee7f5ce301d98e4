"""Admission of raw data: every input is checked for its kind before it enters ``raw/``.

``minecarbon import KIND PATH`` calls :func:`admit`. It reads each file the way the pipeline
will read it — tables with the survey validators, vectors with the scope's, rasters to their
last block, point clouds to their last point — and refuses it with one line naming the file
(and the row, column, band or year) and the fix, before anything is copied or catalogued.
Usable but suspicious input (a scene that covers part of the extent, unknown land-cover codes
beside known ones) is admitted with a warning naming it. Replacing the dataset of a year is
explicit: ``replace=True`` withdraws the old one (see :meth:`Workspace.withdraw`).

Any error a reading library raises (pandas, GDAL, laspy) becomes an :class:`InputDataError`
naming the file, so an import never ends in a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from minecarbon.catalog import DatasetRecord, Workspace
from minecarbon.catalog.workspace import RAW_KINDS
from minecarbon.errors import InputDataError, MinecarbonError, PathNotFoundError
from minecarbon.io.timespec import parse_time
from minecarbon.pipeline.admission.bundles import unpacked_bundles
from minecarbon.pipeline.admission.clouds import check_cloud
from minecarbon.pipeline.admission.context import Project, files_of, year_of_import
from minecarbon.pipeline.admission.rasters import RASTER_KINDS, check_raster, read_stats
from minecarbon.pipeline.admission.tables import check_table
from minecarbon.pipeline.admission.vectors import check_vector

__all__ = ["admit", "check_files"]

_Checker = Callable[[Project, str, Path, str | None], None]


def _checker(kind: str, path: Path) -> _Checker | None:
    from minecarbon.io.bundles import is_scene_metadata
    from minecarbon.io.pointcloud import is_pointcloud
    from minecarbon.io.raster import is_raster
    from minecarbon.io.vector import is_vector

    if kind == "other" or (kind == "scene" and is_scene_metadata(path)):
        return None  # the provider's metadata beside the bands (…_MTL.txt, MTD_MSIL2A.xml)
    if is_raster(path):
        return check_raster
    if is_vector(path):
        return check_vector
    if is_pointcloud(path):
        return check_cloud
    return check_table


def check_files(ws: Workspace, kind: str, files: list[Path], time: str | None, *,
                replace: bool = False, allow_geographic: bool = False,
                skip_invalid: bool = False,
                names: list[Path] | None = None) -> list[DatasetRecord]:
    """Check every file of one import; return the datasets that ``replace`` would withdraw.

    ``names`` are the files' names under ``raw/<kind>/`` (default: their file names).

    Raises
    ------
    InputDataError
        Naming the first bad file, what is wrong and the fix.

    """
    import warnings

    project = Project(ws, allow_geographic=allow_geographic, skip_invalid=skip_invalid)
    with warnings.catch_warnings(record=True) as caught:  # said only if the files are admitted
        warnings.simplefilter("always")
        replaced = project.replaced(kind, files, time, replace=replace, names=names)
        with _reading_ahead(project, kind, files) as ahead:
            for path in files:
                ahead(path)
                _check_one(project, kind, path, time)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return replaced


#: Rasters read at once ahead of the checks (each holds its block statistics until checked).
READ_AHEAD = min(os.cpu_count() or 1, 8)


@contextmanager
def _reading_ahead(project: Project, kind: str,
                   files: list[Path]) -> Iterator[Callable[[Path], None]]:
    """``ahead(path)`` before checking ``path``: its rasters and the next few are read on threads.

    Memory stays bounded: at most :data:`READ_AHEAD` files' statistics are held at a time.
    """
    from minecarbon.io.raster import is_raster

    rasters = [p for p in files if kind in RASTER_KINDS and is_raster(p)]
    if len(rasters) < 2 or READ_AHEAD < 2:
        yield lambda path: None
        return
    pending: dict[Path, Future[Any]] = {}
    queue = iter(rasters)
    with ThreadPoolExecutor(READ_AHEAD, thread_name_prefix="minecarbon-admit") as pool:
        def ahead(path: Path) -> None:
            while len(pending) < READ_AHEAD and (nxt := next(queue, None)) is not None:
                pending[nxt] = pool.submit(read_stats, nxt, kind)
            if path in pending:
                project.read_ahead[path] = pending.pop(path).result()

        try:
            yield ahead
        finally:
            for future in pending.values():
                future.cancel()


def _check_one(project: Project, kind: str, path: Path, time: str | None) -> None:
    if path.stat().st_size == 0:
        raise InputDataError(f"{path} is empty (0 bytes)",
                             fix=f"export the {RAW_KINDS[kind][1]} again and import that file")
    check = _checker(kind, path)
    if check is None:
        return
    try:
        check(project, kind, path, time)
    except MinecarbonError:
        raise
    except Exception as error:  # a reading library's own error: name the file, no traceback
        text = " ".join(str(error).split()) or type(error).__name__
        raise InputDataError(
            f"{path} cannot be read as {RAW_KINDS[kind][1]} ({type(error).__name__}: "
            f"{text[:300]})",
            fix="check that the file is complete and of this kind; export it again",
        ) from None


def admit(ws: Workspace, kind: str, source: Path, *, time: str | None = None,
          allow_geographic: bool = False, replace: bool = False,
          reason: str = "", skip_invalid: bool = False) -> list[DatasetRecord]:
    """Check ``source`` (a file or folder) as ``kind`` and import it; nothing is written on refusal.

    Parameters
    ----------
    ws
        The workspace.
    kind
        One of :data:`~minecarbon.catalog.workspace.RAW_KINDS`.
    source
        A file, or a folder whose files are all of ``kind``. Scene bundles (a Landsat
        ``.tar``, a Sentinel-2 ``.SAFE.zip``) are unpacked: the bands, quality layer and
        metadata enter ``raw/scene/``, each recording the bundle it came from.
    time
        The year (or date, or period) the data describe.
    allow_geographic
        Accept rasters in a geographic CRS.
    replace
        Withdraw the dataset this one replaces (the land-cover map of the same year).
    reason
        Recorded with the withdrawal.
    skip_invalid
        Admit a tree list with invalid rows, naming them in a warning; ``plots agc
        --skip-invalid`` then leaves them out.

    Raises
    ------
    InputDataError, PathNotFoundError
        For an unknown kind, a missing path, or a file that fails its checks.

    """
    if kind not in RAW_KINDS:
        raise InputDataError(f"unknown import kind {kind!r}",
                             fix=f"use one of {', '.join(RAW_KINDS)}")
    if time is not None:
        time = parse_time(time, name="--year")
    if not source.exists():
        raise PathNotFoundError(f"{source} does not exist", fix="check the path")
    files = files_of(source)
    if not files:
        raise InputDataError(f"{source} holds no files", fix="give a file or a folder of files")
    with unpacked_bundles(ws, kind, source, files) as entries:
        paths = [e.path for e in entries]
        year_of_import(kind, paths, time)
        replaced = check_files(ws, kind, paths, time, replace=replace,
                               allow_geographic=allow_geographic, skip_invalid=skip_invalid,
                               names=[e.name for e in entries])
        for rec in replaced:
            ws.withdraw(rec.path, reason=reason or f"replaced by {source.name}")
        return ws.import_files(kind, entries, time=time, allow_geographic=allow_geographic)
