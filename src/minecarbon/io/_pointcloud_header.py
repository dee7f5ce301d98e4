"""LAS/LAZ headers, the optional laspy, pyproj and lazrs imports, and the point-cloud CRS check.

:func:`read_las_header` reads what a header says (counts, bounds, scales, CRS, dimensions) into a
:class:`LasHeaderInfo` without reading the points. laspy and pyproj ship no type information, so
they are imported through :func:`_laspy` and :func:`_pyproj` as untyped modules; both raise a
:class:`~minecarbon.errors.MissingDependencyError` naming the fix when absent, as does
:func:`_require_lazrs` for a LAZ file without the lazrs backend (:func:`_lazrs_available` is a
function of this module, so tests can pretend lazrs is missing). :func:`_resolve_crs` checks a
cloud's CRS against the expected one, comparing their horizontal parts.

Everything public here is re-exported by :mod:`minecarbon.io.pointcloud`, the module to import.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minecarbon.errors import InputDataError, MissingDependencyError, PathNotFoundError, warn

#: Suffixes this module reads and writes.
POINTCLOUD_SUFFIXES = (".las", ".laz")


@dataclass(frozen=True)
class LasHeaderInfo:
    """What a LAS/LAZ header says about its file, without reading the points."""

    path: Path
    version: str
    point_format: int
    point_count: int
    compressed: bool
    scales: tuple[float, float, float]
    offsets: tuple[float, float, float]
    mins: tuple[float, float, float]
    maxs: tuple[float, float, float]
    crs_wkt: str | None
    crs_epsg: int | None
    dimensions: tuple[str, ...]
    extra_dimensions: tuple[str, ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Horizontal bounds (xmin, ymin, xmax, ymax)."""
        return (self.mins[0], self.mins[1], self.maxs[0], self.maxs[1])


def is_pointcloud(path: Path) -> bool:
    """Whether the file name says LAS or LAZ."""
    return path.suffix.lower() in POINTCLOUD_SUFFIXES


def _laspy() -> Any:
    try:
        return importlib.import_module("laspy")
    except ImportError:
        raise MissingDependencyError(
            "reading or writing LAS/LAZ point clouds needs laspy", fix="pip install laspy lazrs"
        ) from None


def _pyproj() -> Any:
    try:
        return importlib.import_module("pyproj")
    except ImportError:
        raise MissingDependencyError(
            "storing or reading a point cloud's CRS needs pyproj", fix="pip install pyproj"
        ) from None


def _lazrs_available() -> bool:
    """Whether the lazrs LAZ backend is importable (a function, so tests can pretend it is not)."""
    return importlib.util.find_spec("lazrs") is not None


def _require_lazrs(path: Path, action: str) -> None:
    if not _lazrs_available():
        raise MissingDependencyError(
            f"{action} the LAZ file {path} needs the LAZ backend lazrs, which is not installed",
            fix="pip install lazrs (or use a .las path for an uncompressed file)",
        )


def read_las_header(path: Path | str) -> LasHeaderInfo:
    """Read a LAS/LAZ file's header (counts, bounds, scales, CRS, dimensions), not its points.

    Raises
    ------
    PathNotFoundError
        If the file does not exist.
    InputDataError
        If the file is not a readable LAS/LAZ file.
    MissingDependencyError
        If the file is compressed and lazrs is not installed.

    """
    path = Path(path)
    if not path.exists():
        raise PathNotFoundError(f"point cloud {path} does not exist", fix="check the path")
    laspy = _laspy()
    if path.suffix.lower() == ".laz":
        _require_lazrs(path, "reading")
    try:
        with laspy.open(path) as reader:
            header = reader.header
    except laspy.errors.LaspyException as error:
        raise InputDataError(
            f"{path} is not a readable LAS/LAZ file ({error})", fix="re-export it as LAS 1.2–1.4"
        ) from None

    crs_wkt: str | None = None
    crs_epsg: int | None = None
    try:
        crs = header.parse_crs()
    except Exception:  # a malformed CRS VLR: report no CRS rather than fail the header read
        crs = None
    if crs is not None:
        crs_wkt = str(crs.to_wkt())
        epsg = crs.to_epsg()
        crs_epsg = int(epsg) if epsg is not None else None

    fmt = header.point_format
    return LasHeaderInfo(
        path=path,
        version=f"{header.version.major}.{header.version.minor}",
        point_format=int(fmt.id),
        point_count=int(header.point_count),
        compressed=bool(header.are_points_compressed),
        scales=_triple(header.scales),
        offsets=_triple(header.offsets),
        mins=_triple(header.mins),
        maxs=_triple(header.maxs),
        crs_wkt=crs_wkt,
        crs_epsg=crs_epsg,
        dimensions=tuple(str(d) for d in fmt.dimension_names),
        extra_dimensions=tuple(str(d) for d in fmt.extra_dimension_names),
    )


def _triple(values: Any) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return (a, b, c)


def _crs_text(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg is not None else str(crs.name)


def _horizontal(crs: Any) -> Any:
    return crs.sub_crs_list[0] if crs.is_compound and crs.sub_crs_list else crs


def _resolve_crs(file_crs: Any, expected_crs: Any, label: str) -> Any:
    """The cloud's CRS, checked against the expected one (horizontal parts compared)."""
    if expected_crs is None:
        return file_crs
    pyproj = _pyproj()
    try:
        expected = pyproj.CRS.from_user_input(expected_crs)
    except pyproj.exceptions.CRSError as error:
        raise InputDataError(
            f"expected CRS {expected_crs!r} for {label} is not a recognised CRS ({error})",
            fix="name it as EPSG:nnnn",
        ) from None
    if file_crs is None:
        warn(
            f"{label} carries no CRS; assuming the expected {_crs_text(expected)}",
            UserWarning,
            stacklevel=3,
        )
        return expected
    if _horizontal(file_crs) != _horizontal(expected):
        raise InputDataError(
            f"{label} is in {_crs_text(file_crs)}, but {_crs_text(expected)} is expected",
            fix="reproject the cloud into the project CRS, or correct the expected CRS",
        )
    return file_crs
