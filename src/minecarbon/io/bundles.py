"""Imagery bundles as providers deliver them: unpacked member by member (requirement F2).

USGS EarthExplorer and the M2M bulk download deliver a Landsat Collection-2 Level-2 scene as
one ``.tar`` (``LC08_L2SP_125034_20200715_20200912_02_T1.tar``: ``…_SR_B1.TIF`` …
``…_SR_B7.TIF``, ``…_QA_PIXEL.TIF``, the surface-temperature bands, ``…_MTL.txt`` and more);
the Copernicus Data Space delivers a Sentinel-2 product as a ``.zip`` of its ``.SAFE`` folder
(``GRANULE/…/IMG_DATA/R10m/T49SFB_…_B04_10m.jp2``, each band at up to three resolutions).
:func:`unpack` reads such a bundle and writes the members the pipeline reads — the optical
bands of the sensor, the quality band (``QA_PIXEL``, ``SCL``) and the product's metadata
(``_MTL``, ``MTD_``) — each band at its finest resolution only; it names the members it leaves
out. Member names are kept (the ``.SAFE`` folder name carries the level and processing
baseline that :func:`minecarbon.io.scenes.find_scenes` reads), and a Landsat bundle's flat
members go into a folder named after the bundle.

Members are streamed, never extracted by path: a member whose name would leave the target
folder (an absolute path, ``..``) or that is not a plain file refuses the bundle.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from minecarbon.errors import InputDataError
from minecarbon.io.raster import is_raster
from minecarbon.io.scenes import QA_NAMES, band_of_file
from minecarbon.standard.sensors import detect_sensor, sensor

__all__ = ["BUNDLE_SUFFIXES", "Unpacked", "bundle_stem", "is_bundle", "is_scene_ancillary",
           "is_scene_metadata", "unpack"]

BUNDLE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".zip")
_METADATA = re.compile(r"(_(MTL|ANG)\.(txt|xml|json)|^MTD_[A-Z0-9]+\.xml)$", re.IGNORECASE)
_LANDSAT_EXTRA = re.compile(
    r"^L[COTEM]0[0-9]_.+_(QA_RADSAT|SR_QA_AEROSOL|SR_ATMOS_OPACITY|SR_CLOUD_QA"
    r"|ST_(QA|ATRAN|CDIST|DRAD|EMIS|EMSD|TRAD|URAD)|[SV][AZ]A|thumb_(small|large))\.[a-z0-9]+$",
    re.IGNORECASE)
_RESOLUTION = re.compile(r"_([0-9]+)m$", re.IGNORECASE)
_CHUNK = 4 * 2**20


def is_scene_metadata(path: Path | PurePosixPath) -> bool:
    """Whether the file is a scene's metadata (``…_MTL.txt``, ``…_ANG.txt``, ``MTD_MSIL2A.xml``)."""
    return _METADATA.search(path.name) is not None


def is_bundle(path: Path) -> bool:
    """Whether the file name says a tar or zip bundle."""
    name = path.name.lower()
    return any(name.endswith(s) for s in BUNDLE_SUFFIXES)


def bundle_stem(path: Path) -> str:
    """The name less the archive suffix (``x.tar.gz`` → ``x``, ``y.SAFE.zip`` → ``y.SAFE``)."""
    name = path.name
    for suffix in sorted(BUNDLE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


@dataclass
class Unpacked:
    """What :func:`unpack` wrote.

    Attributes
    ----------
    bundle
        The bundle read.
    files
        (written file, its name relative to the folder written into, its member name in the
        bundle), sorted by name.
    left_out
        Names of the members not written (not read by the pipeline, or a coarser copy of a
        band written at a finer resolution).

    """

    bundle: Path
    files: list[tuple[Path, Path, str]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Member:
    name: PurePosixPath
    size: int
    handle: object


def _safe_name(bundle: Path, raw: str) -> PurePosixPath:
    name = PurePosixPath(raw.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or not name.parts or ":" in name.parts[0]:
        raise InputDataError(
            f"bundle {bundle.name} holds a member named {raw!r} that would be written outside "
            "its folder",
            fix="download the bundle again from the provider; do not import archives of "
                "unknown origin",
        )
    return name


#: What reading a damaged or truncated archive raises (``zlib.error`` from a bad deflate stream).
_READ_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError)


def _unreadable(bundle: Path, error: BaseException) -> InputDataError:
    return InputDataError(
        f"bundle {bundle.name} cannot be read as a tar or zip archive "
        f"({type(error).__name__}: {error})",
        fix="the download is probably incomplete: download it again",
    )


def _listing(bundle: Path, archive: zipfile.ZipFile | tarfile.TarFile) -> list[_Member]:
    if isinstance(archive, zipfile.ZipFile):
        return [_Member(_safe_name(bundle, i.filename), i.file_size, i)
                for i in archive.infolist() if not i.is_dir()]
    members = []
    for m in archive.getmembers():
        if m.isdir():
            continue
        if not m.isfile():
            raise InputDataError(
                f"bundle {bundle.name} holds {m.name!r}, which is a link or a device, not a "
                "plain file",
                fix="download the bundle again from the provider",
            )
        members.append(_Member(_safe_name(bundle, m.name), m.size, m))
    return members


@contextmanager
def _members(bundle: Path) -> Iterator[tuple[list[_Member], zipfile.ZipFile | tarfile.TarFile]]:
    """The bundle's plain-file members and the open archive; reading errors name the bundle.

    Only reading is guarded: an error writing a member (a full disk) is not a bad download.
    """
    try:
        archive: zipfile.ZipFile | tarfile.TarFile = (
            zipfile.ZipFile(bundle) if bundle.name.lower().endswith(".zip")
            else tarfile.open(bundle, "r:*"))  # noqa: SIM115 (closed by the with below)
    except _READ_ERRORS as error:
        raise _unreadable(bundle, error) from None
    with archive:
        try:
            members = _listing(bundle, archive)
        except _READ_ERRORS as error:
            raise _unreadable(bundle, error) from None
        yield members, archive


def _copy(bundle: Path, src: IO[bytes], target: Path) -> None:
    with open(target, "wb") as dst:
        while True:
            try:
                chunk = src.read(_CHUNK)
            except _READ_ERRORS as error:
                raise _unreadable(bundle, error) from None
            if not chunk:
                return
            dst.write(chunk)


def _open_member(bundle: Path, archive: zipfile.ZipFile | tarfile.TarFile,
                 member: _Member) -> IO[bytes]:
    try:
        if isinstance(archive, zipfile.ZipFile):
            return archive.open(member.handle)  # type: ignore[arg-type]
        handle = archive.extractfile(member.handle)  # type: ignore[arg-type]
    except _READ_ERRORS as error:
        raise _unreadable(bundle, error) from None
    assert handle is not None  # plain files only (checked in _listing)
    return handle


def is_scene_ancillary(path: Path) -> bool:
    """Whether a file is one a provider delivers with a scene but the pipeline does not read.

    Landsat Collection-2 ancillaries by name (``…_QA_RADSAT.TIF``, ``…_SR_QA_AEROSOL.TIF``,
    ``…_ST_QA.TIF``, ``…_thumb_small.jpeg``, …), and any file inside a ``.SAFE`` folder that is
    neither a band, the SCL layer nor metadata (``manifest.safe``, ``QI_DATA/…``).
    """
    if _LANDSAT_EXTRA.match(path.name):
        return True
    in_safe = any(part.upper().endswith(".SAFE") for part in path.parts[:-1])
    return (in_safe and not is_scene_metadata(path)
            and _band_key(Path(), PurePosixPath(*path.parts)) is None)


def _band_key(bundle: Path, name: PurePosixPath) -> tuple[str, str] | None:
    """(scene stem, band) of a member the pipeline reads as a band or QA layer, else None."""
    path = Path(*name.parts)
    if not is_raster(path):
        return None
    found = band_of_file(path)
    if found is None:
        return None
    stem, band = found
    if band in QA_NAMES:
        return stem, band
    sensor_id = detect_sensor(stem) or next(
        (s for part in (*name.parts[::-1], bundle.name) if (s := detect_sensor(part))), None)
    known = sensor(sensor_id).band_by_id(band) if sensor_id is not None else None
    return (stem, known.band) if known is not None else None


def _resolution_m(name: PurePosixPath) -> float:
    m = _RESOLUTION.search(PurePosixPath(name.name).stem)
    return float(m.group(1)) if m else 0.0


def unpack(bundle: Path, into: Path) -> Unpacked:
    """Write the members of ``bundle`` that the pipeline reads into the folder ``into``.

    Parameters
    ----------
    bundle
        A ``.tar``, ``.tar.gz``, ``.tgz`` or ``.zip`` file (:data:`BUNDLE_SUFFIXES`).
    into
        The folder to write into (created). Members keep their names; a bundle whose members
        are not all inside one folder gets a folder named after it (:func:`bundle_stem`).

    Returns
    -------
    Unpacked
        The files written and the members left out.

    Raises
    ------
    InputDataError
        Naming the bundle: unreadable (an incomplete download), a member that would be written
        outside ``into`` or is not a plain file, or no band the pipeline reads.

    """
    out = Unpacked(bundle)
    with _members(bundle) as (members, archive):
        tops = {m.name.parts[0] for m in members if len(m.name.parts) > 1}
        one_folder = len(tops) == 1 and all(len(m.name.parts) > 1 for m in members)
        prefix = PurePosixPath() if one_folder else PurePosixPath(bundle_stem(bundle))
        finest: dict[tuple[str, str], _Member] = {}
        keep: list[_Member] = []
        for m in members:
            key = _band_key(bundle, m.name)
            if key is None:
                if is_scene_metadata(m.name):
                    keep.append(m)
                else:
                    out.left_out.append(str(m.name))
                continue
            held = finest.get(key)
            if held is None or _resolution_m(m.name) < _resolution_m(held.name):
                if held is not None:
                    out.left_out.append(str(held.name))
                finest[key] = m
            else:
                out.left_out.append(str(m.name))
        if not finest:
            raise InputDataError(
                f"bundle {bundle.name} holds no band the pipeline reads ({len(members)} "
                "members, none a surface-reflectance band or quality layer of a known sensor)",
                fix="import the provider's Level-2 (surface reflectance) bundle of the scene",
            )
        for m in sorted([*finest.values(), *keep], key=lambda m: str(m.name)):
            name = prefix / m.name
            target = into.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with _open_member(bundle, archive, m) as src:
                _copy(bundle, src, target)
            out.files.append((target, Path(*name.parts), str(m.name)))
    out.left_out.sort()
    return out
