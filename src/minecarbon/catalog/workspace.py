"""A workspace: one folder per monitoring project, its layout, raw imports and products."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minecarbon.catalog.database import Catalog, DatasetRecord, Problem
from minecarbon.catalog.kinds import RAW_KINDS as RAW_KINDS
from minecarbon.catalog.provenance import software_versions
from minecarbon.config import CONFIG_FILE, Config, config_template, load_config
from minecarbon.errors import CatalogError, InputDataError, NotAWorkspaceError, PathNotFoundError
from minecarbon.io.files import TMP_MARKER, atomic_path, sha256_file
from minecarbon.io.raster import SpatialInfo, check_raster_crs, describe_raster, is_raster
from minecarbon.io.timespec import parse_time
from minecarbon.io.vector import describe_vector, is_vector

CATALOG_FILE = "catalog.sqlite"

#: Folders of a workspace (DESIGN.md, "Workspace").
LAYOUT = (
    "raw", "work",
    "products/plots", "products/tls", "products/features", "products/classification",
    "products/models", "products/agc", "products/units", "products/assessment",
    "products/catalog", "reports",
)

_SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


@dataclass(frozen=True)
class RawFile:
    """A file to import.

    Where it is, its name under ``raw/<kind>/``, the source to record (the file's own path
    when None), and whether it is moved rather than copied.
    """

    path: Path
    name: Path
    source: str | None = None
    move: bool = False


def spatial_info(path: Path, *, check: bool = False) -> SpatialInfo:
    """CRS and bounds of a raster or vector file; empty for anything else."""
    if is_raster(path):
        return check_raster_crs(path) if check else describe_raster(path)
    if is_vector(path):
        return describe_vector(path)
    return SpatialInfo(None, None)


class Workspace:
    """An opened workspace. Use :meth:`init` to create one and :meth:`open` to open one."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.catalog = Catalog(self.root / CATALOG_FILE)
        self._config: Config | None = None

    # ------------------------------------------------------------- life cycle
    @classmethod
    def init(cls, root: Path) -> Workspace:
        """Create the layout, a commented config template and an empty catalogue.

        Raises
        ------
        InputDataError
            If ``root`` is already a workspace, or a non-empty folder.

        """
        if (root / CONFIG_FILE).exists():
            raise InputDataError(
                f"{root} is already a minecarbon workspace",
                fix="use it as it is, or choose another folder",
            )
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise InputDataError(
                f"{root} exists and is not an empty folder", fix="choose a new or empty folder"
            )
        for sub in LAYOUT:
            (root / sub).mkdir(parents=True, exist_ok=True)
        ws = cls(root)
        with atomic_path(root / CONFIG_FILE) as tmp:
            tmp.write_text(config_template(), encoding="utf-8")
        return ws

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open an existing workspace.

        Raises
        ------
        PathNotFoundError
            If ``root`` does not exist.
        NotAWorkspaceError
            If it has no ``minecarbon.toml`` or no ``catalog.sqlite``.

        """
        if not root.exists():
            raise PathNotFoundError(
                f"workspace {root} does not exist", fix=f"create it with `minecarbon init {root}`"
            )
        missing = [f for f in (CONFIG_FILE, CATALOG_FILE) if not (root / f).is_file()]
        if missing:
            raise NotAWorkspaceError(
                f"{root} is not a minecarbon workspace (no {' or '.join(missing)})",
                fix="pass --workspace DIR of a workspace, or create one with `minecarbon init DIR`",
            )
        return cls(root)

    def close(self) -> None:
        """Close the catalogue."""
        self.catalog.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reload_config(self) -> Config:
        """Re-read ``minecarbon.toml`` (after it was rewritten)."""
        self._config = None
        return self.config

    def override_config(self, section: str, **values: Any) -> Config:
        """Change config values for this session only (``minecarbon.toml`` is not rewritten).

        The values are validated like the file's; steps whose sections change re-run.
        """
        current = self.config
        merged = {**getattr(current, section).model_dump(), **values}
        self._config = current.model_validate({**current.model_dump(), section: merged})
        return self._config

    @property
    def config(self) -> Config:
        """The validated ``minecarbon.toml`` (read once)."""
        if self._config is None:
            self._config = load_config(self.root / CONFIG_FILE)
        return self._config

    # ---------------------------------------------------------------- paths
    def path(self, rel: str) -> Path:
        """Absolute path of a workspace-relative path."""
        return self.root / rel

    def rel(self, path: Path) -> str:
        """Workspace-relative POSIX path of an absolute path inside the workspace."""
        return path.resolve().relative_to(self.root).as_posix()

    # ---------------------------------------------------------------- products
    def publish(
        self,
        rel: str,
        write: Callable[[Path], Any],
        *,
        kind: str,
        step: str | None = None,
        inputs: Iterable[str] = (),
        parameters: dict[str, Any] | None = None,
        time: str | None = None,
        source: str | None = None,
        spatial: SpatialInfo | None = None,
    ) -> DatasetRecord:
        """Write a product through a temporary file and record it in the catalogue.

        ``write(tmp_path)`` writes the file. Its checksum, CRS and extent are taken from the
        temporary file; the rename onto ``rel`` and the catalogue row happen in one database
        transaction, so a failure leaves neither a half-written file nor a stale row.

        Parameters
        ----------
        rel
            Workspace-relative destination, e.g. ``products/agc/agc_2020.tif``.
        write
            Callable writing the file at the path it is given.
        kind
            Dataset kind, e.g. ``product:agc``.
        step
            The pipeline step that made it.
        inputs
            Workspace-relative paths of catalogued datasets it was made from (lineage).
        parameters
            The parameters it was made with (JSON-serialisable).
        time
            The time it describes: a year (``"2020"``), a period (``"2000/2024"``) or ISO date.
        source
            Where an imported file came from.
        spatial
            CRS and extent, when they cannot be read from the file alone (a shapefile's
            ``.shp`` without its sidecars); by default read from the written file.

        """
        wanted = sorted(set(inputs))
        known = self.catalog.checksums(wanted)
        unknown = [p for p in wanted if p not in known]
        if unknown:
            self.catalog.get(unknown[0])  # raises CatalogError naming it
        lineage = tuple((p, known[p]) for p in wanted)
        target = self.root / rel
        pending: list[DatasetRecord] = []

        @contextmanager
        def record() -> Iterator[None]:
            with self.catalog.transaction() as conn:
                self.catalog.upsert(conn, pending[0])
                yield

        with atomic_path(target, guard=record) as tmp:
            write(tmp)
            if not tmp.exists():
                raise CatalogError(f"the writer of {rel} wrote nothing", fix="report this bug")
            info = spatial if spatial is not None else spatial_info(tmp)
            st = tmp.stat()
            pending.append(
                DatasetRecord(
                    path=rel, kind=kind, sha256=sha256_file(tmp), size_bytes=st.st_size,
                    mtime_ns=st.st_mtime_ns, crs=info.crs, bbox=info.bounds, time=time,
                    step=step, parameters=parameters or {}, versions=software_versions(),
                    inputs=lineage, source=source,
                )
            )
        return self.catalog.get(rel)

    # ---------------------------------------------------------------- raw data
    def import_raw(
        self,
        kind: str,
        source: Path,
        *,
        time: str | None = None,
        allow_geographic: bool = False,
        move: bool = False,
        source_note: str | None = None,
    ) -> list[DatasetRecord]:
        """Copy a file (or every file of a folder) into ``raw/<kind>/``, read-only, catalogued.

        A shapefile brings its sidecar files. Importing the same content again is a no-op;
        a different file under a name already in ``raw/`` is refused (raw data never change).

        Raises
        ------
        PathNotFoundError, InputDataError, MissingCRSError, GeographicCRSError
            For a missing path, an unknown kind, a raster without CRS or (unless
            ``allow_geographic``) in a geographic CRS.

        Notes
        -----
        ``move=True`` moves instead of copying (the demo delivers from a staging folder on the
        same file system); ``source_note`` replaces the recorded source path.

        """
        if kind not in RAW_KINDS:
            raise InputDataError(
                f"unknown import kind {kind!r}", fix=f"use one of {', '.join(RAW_KINDS)}"
            )
        if time is not None:
            time = parse_time(time)
        if not source.exists():
            raise PathNotFoundError(f"{source} does not exist", fix="check the path")
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        base = source if source.is_dir() else source.parent
        if source.is_file() and source.suffix.lower() == ".shp":
            files += [s for ext in _SHAPEFILE_SIDECARS if (s := source.with_suffix(ext)).exists()]
        entries = [RawFile(f, f.relative_to(base), source_note, move) for f in files]
        return self.import_files(kind, entries, time=time, allow_geographic=allow_geographic)

    def import_files(self, kind: str, files: list[RawFile], *, time: str | None = None,
                     allow_geographic: bool = False) -> list[DatasetRecord]:
        """Import files under the names given, ``raw/<kind>/<name>``; see :meth:`import_raw`.

        Every raster's CRS is checked before anything is copied (or moved).
        """
        if kind not in RAW_KINDS:
            raise InputDataError(
                f"unknown import kind {kind!r}", fix=f"use one of {', '.join(RAW_KINDS)}"
            )
        for f in files:  # check everything before copying anything
            if is_raster(f.path):
                check_raster_crs(f.path, allow_geographic=allow_geographic)
        return [self._import_one(kind, f.path, f.name, time, f.move, f.source) for f in files]

    def _import_one(
        self, kind: str, src: Path, name: Path, time: str | None, move: bool = False,
        source_note: str | None = None,
    ) -> DatasetRecord:
        rel = (Path("raw") / kind / name).as_posix()
        target = self.root / rel
        if target.exists():  # (a new file is hashed once, as published)
            if sha256_file(target) == sha256_file(src):
                known = self._known(rel)
                return self.catalog.get(rel) if known else self._register(rel, kind, time)
            raise InputDataError(
                f"{rel} already holds a different file; raw data are never overwritten",
                fix=f"rename {src.name} before importing it",
            )
        info = spatial_info(src)
        origin = source_note or str(src.resolve())
        transfer = shutil.move if move else shutil.copyfile  # move: a copy across disks
        self.publish(
            rel, lambda tmp: transfer(src, tmp), kind=f"raw:{kind}", time=time,
            source=origin, spatial=info,
        )
        target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        return self.catalog.get(rel)

    def raw_files(self, rel: str) -> list[DatasetRecord]:
        """The catalogued raw dataset at ``rel`` with its shapefile sidecars, or those under it.

        Raises
        ------
        CatalogError
            If ``rel`` is not a catalogued raw dataset nor a folder of them.

        """
        rel = rel.strip().removeprefix("./").rstrip("/")
        raws = self.catalog.datasets(kind="raw")
        found = [r for r in raws if r.path == rel or r.path.startswith(f"{rel}/")]
        if len(found) == 1 and rel.lower().endswith(".shp"):
            stem = rel[:-4]
            found += [r for r in raws if r.path != rel and r.path[:-4] == stem
                      and r.path[-4:].lower() in _SHAPEFILE_SIDECARS]
        if not found or not rel.startswith("raw/"):
            listing = "`minecarbon catalog list --kind raw`"
            raise CatalogError(
                f"{rel} is not an imported raw dataset of this workspace",
                fix=f"give a path under raw/ as {listing} shows it (products are re-made by "
                "`minecarbon run`, not withdrawn)",
            )
        return sorted(found, key=lambda r: r.path)

    def withdraw(self, rel: str, *, reason: str = "") -> list[str]:
        """Take imported raw data out of use, keeping the bytes and recording why.

        The files move to ``withdrawn/<timestamp>/<their raw path>``; their catalogue rows
        become rows of the ``withdrawals`` table, so the history stays in the catalogue and the
        steps that read them re-run. Nothing is deleted.

        Returns
        -------
        The workspace-relative paths the files were moved to.

        """
        from datetime import UTC, datetime

        records = self.raw_files(rel)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        moved: list[tuple[Path, Path]] = []
        try:
            with self.catalog.transaction() as conn:
                for rec in records:
                    target = self.root / "withdrawn" / stamp / rec.path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self.catalog.record_withdrawal(conn, rec, self.rel(target),
                                                   reason or "withdrawn")
                    os.replace(self.root / rec.path, target)
                    moved.append((self.root / rec.path, target))
        except BaseException:
            for back, target in moved:  # the rows were rolled back: put the files back too
                os.replace(target, back)
            raise
        return [self.rel(target) for _, target in moved]

    def undo_import(self, paths: Iterable[str]) -> None:
        """Take back raw files imported by a command that then failed (file and row).

        Only for the command's own imports, in the same session: anything imported earlier is
        withdrawn with :meth:`withdraw`, which keeps a record.
        """
        paths = [p for p in paths if p.startswith("raw/")]
        with self.catalog.transaction() as conn:
            self.catalog.remove(conn, paths)
        for p in paths:
            (self.root / p).unlink(missing_ok=True)

    def _known(self, rel: str) -> bool:
        return any(d.path == rel for d in self.catalog.datasets(kind="raw"))

    def _register(self, rel: str, kind: str, time: str | None) -> DatasetRecord:
        path = self.root / rel
        info = spatial_info(path)
        st = path.stat()
        rec = DatasetRecord(
            path=rel, kind=f"raw:{kind}", sha256=sha256_file(path), size_bytes=st.st_size,
            mtime_ns=st.st_mtime_ns, crs=info.crs, bbox=info.bounds, time=time,
            versions=software_versions(),
        )
        with self.catalog.transaction() as conn:
            self.catalog.upsert(conn, rec)
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        return self.catalog.get(rel)

    def register_untracked_raw(self) -> list[DatasetRecord]:
        """Catalogue files placed under ``raw/<kind>/`` by hand (kind = the first folder)."""
        known = {d.path for d in self.catalog.datasets(kind="raw")}
        added = []
        for path in sorted((self.root / "raw").rglob("*")):
            rel = self.rel(path)
            if not path.is_file() or rel in known or TMP_MARKER in path.name:
                continue
            parts = Path(rel).parts
            kind = parts[1] if len(parts) > 2 and parts[1] in RAW_KINDS else "other"
            added.append(self._register(rel, kind, None))
        return added

    # ---------------------------------------------------------------- checks
    def verify(self, *, quick: bool = False) -> list[Problem]:
        """Compare every catalogued file with its record.

        Parameters
        ----------
        quick
            Trust files whose size and modification time are unchanged (used by the pipeline);
            the default re-hashes every file.

        Returns
        -------
        Missing and changed files, and files under ``raw/`` or ``products/`` that the catalogue
        does not know (untracked).

        """
        problems = []
        known = set()
        for rec in self.catalog.datasets():
            known.add(rec.path)
            problem = self.check(rec, quick=quick)
            if problem is not None:
                problems.append(problem)
        for top in ("raw", "products"):
            for path in sorted((self.root / top).rglob("*")):
                if path.is_file() and self.rel(path) not in known:
                    problems.append(Problem(self.rel(path), "untracked", "not in the catalogue"))
        return problems

    def check(self, rec: DatasetRecord, *, quick: bool = False) -> Problem | None:
        """The problem with one catalogued file, or None if it matches its record."""
        path = self.root / rec.path
        if not path.is_file():
            return Problem(rec.path, "missing", "catalogued but not on disk")
        st = path.stat()
        if quick and st.st_size == rec.size_bytes and st.st_mtime_ns == rec.mtime_ns:
            return None
        digest = sha256_file(path)
        if digest != rec.sha256:
            detail = f"sha256 {digest[:12]}… ≠ recorded {rec.sha256[:12]}…"
            return Problem(rec.path, "changed", detail)
        return None

    def remove_products(self, paths: Iterable[str]) -> None:
        """Delete product files and their catalogue rows (never raw data)."""
        paths = [p for p in paths if not p.startswith("raw/")]
        with self.catalog.transaction() as conn:
            self.catalog.remove(conn, paths)
        for p in paths:
            (self.root / p).unlink(missing_ok=True)

