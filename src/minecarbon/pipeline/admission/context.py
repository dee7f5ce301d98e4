"""What the admission checks know of the project: its CRS, extent and what is already imported."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

from minecarbon.catalog import DatasetRecord, Workspace
from minecarbon.catalog.workspace import _SHAPEFILE_SIDECARS, RAW_KINDS
from minecarbon.errors import InputDataError, warn
from minecarbon.io.files import sha256_file

#: Kinds of which a workspace holds one dataset per year (a second one replaces the first).
ONE_PER_YEAR = ("landcover",)

_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")


def files_of(source: Path) -> list[Path]:
    """The files an import of ``source`` brings: a folder's files, a shapefile's sidecars."""
    if source.is_dir():
        return sorted(p for p in source.rglob("*") if p.is_file())
    files = [source]
    if source.suffix.lower() == ".shp":
        files += [s for ext in _SHAPEFILE_SIDECARS if (s := source.with_suffix(ext)).exists()]
    return files


def year_in(path: Path, time: str | None) -> int | None:
    """The year of a dataset: from ``--year`` (its first four digits), else from its name."""
    if time and time[:4].isdigit():
        return int(time[:4])
    found = _YEAR.findall(path.stem)
    return int(found[-1]) if found else None


def year_of_import(kind: str, files: list[Path], time: str | None) -> None:
    """Refuse an import of a one-per-year kind whose year cannot be told."""
    if kind not in ONE_PER_YEAR:
        return
    for path in files:
        if year_in(path, time) is None:
            raise InputDataError(
                f"cannot tell the year of {RAW_KINDS[kind][1]} {path}",
                fix="import it with --year YYYY, or put the year in its file name",
            )


class Project:
    """The workspace as the checks see it; everything is read lazily, nothing is written."""

    def __init__(self, ws: Workspace, *, allow_geographic: bool = False,
                 skip_invalid: bool = False) -> None:
        self.ws = ws
        self.allow_geographic = allow_geographic
        self.skip_invalid = skip_invalid
        #: Rasters' block statistics read ahead on other threads (``rasters.read_stats``).
        self.read_ahead: dict[Path, Any] = {}

    @property
    def crs(self) -> str:
        """The project CRS (``[project] crs``)."""
        return str(self.ws.config.project.crs)

    def imported(self, kind: str) -> list[DatasetRecord]:
        """The catalogued raw datasets of ``kind``."""
        return self.ws.catalog.datasets(kind=f"raw:{kind}")

    @cached_property
    def extent(self) -> Any | None:
        """The monitoring extent from the imported boundaries (None before a boundary exists)."""
        from minecarbon.io.vector import read_vector
        from minecarbon.scope.extent import monitoring_extent

        layers = {}
        for kind in ("boundary", "influence"):
            paths = [self.ws.path(r.path) for r in self.imported(kind)
                     if r.path.lower().endswith((".gpkg", ".shp", ".geojson", ".fgb", ".json"))]
            if paths:
                import geopandas as gpd
                import pandas as pd

                frames = [read_vector(p).to_crs(self.crs) for p in paths]
                layers[kind] = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True),
                                                crs=self.crs)
        if "boundary" not in layers:
            return None
        return monitoring_extent(layers["boundary"], self.ws.config.scope.buffer_m,
                                 layers.get("influence"), self.crs)

    def overlap(self, what: str, footprint: Any, *, covers: bool = False) -> None:
        """Refuse a footprint (in the project CRS) outside the extent; warn when it is partial.

        With ``covers`` (an image, a DEM, a land-cover map) the warning says how much of the
        extent it covers; otherwise (polygons, a point-cloud tile) how much of it lies outside.
        """
        extent = self.extent
        if extent is None or footprint is None or footprint.is_empty:
            return
        common = extent.intersection(footprint).area
        if common <= 0.0:
            b = extent.bounds
            raise InputDataError(
                f"{what} does not overlap the monitoring extent ({b[0]:.0f}, {b[1]:.0f}) – "
                f"({b[2]:.0f}, {b[3]:.0f}) in {self.crs}",
                fix="check that it is of this mine and in the CRS its file states (a wrong "
                ".prj or CRS tag moves data far away)",
            )
        if covers and common / extent.area < 0.999:
            warn(f"{what} covers {common / extent.area:.0%} of the monitoring extent")
        elif not covers and footprint.area > 0 and common / footprint.area < 0.999:
            warn(f"{what}: {1 - common / footprint.area:.0%} of it lies outside the monitoring "
                 "extent and is not used")

    def replaced(self, kind: str, files: list[Path], time: str | None, *,
                 replace: bool, names: list[Path] | None = None) -> list[DatasetRecord]:
        """The datasets this import replaces; refused unless ``replace``.

        A file under a name already in ``raw/<kind>/`` with other content, and for land cover
        the map of a year that has one, are replaced only on request. ``names`` are the
        files' names under ``raw/<kind>/`` (default: their file names).
        """
        out: dict[str, DatasetRecord] = {}
        for path, name in zip(files, names or [Path(f.name) for f in files], strict=True):
            rel = f"raw/{kind}/{name.as_posix()}"
            target = self.ws.path(rel)
            if target.exists() and sha256_file(target) != sha256_file(path):
                if rel in self._paths(kind):
                    out[rel] = self.ws.catalog.get(rel)
                if not replace or rel not in out:
                    raise InputDataError(
                        f"{rel} already holds a different file (raw data are never overwritten)",
                        fix=f"import with --replace to withdraw the old {rel} and import "
                        f"{path.name}, or rename {path.name}",
                    )
        if kind in ONE_PER_YEAR:
            for path in files:
                year = year_in(path, time)
                for rec in self.imported(kind):
                    same = rec.path == f"raw/{kind}/{path.name}"
                    if year_in(Path(rec.path), rec.time) != year or same:
                        continue
                    if not replace:
                        raise InputDataError(
                            f"{RAW_KINDS[kind][1]} of {year} is already imported as {rec.path}; "
                            f"{path.name} would be a second one",
                            fix=f"import with --replace to withdraw {rec.path}, or give "
                            "another --year",
                        )
                    out[rec.path] = rec
        return list(out.values())

    def _paths(self, kind: str) -> set[str]:
        return {r.path for r in self.imported(kind)}
