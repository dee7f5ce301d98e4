"""Vector files (GeoPackage, shapefile, GeoJSON) through geopandas/pyogrio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minecarbon.errors import InputDataError, MissingCRSError, PathNotFoundError
from minecarbon.io.raster import SpatialInfo

VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".fgb", ".kml")


def is_vector(path: Path) -> bool:
    """Whether the file name says vector."""
    return path.suffix.lower() in VECTOR_SUFFIXES


def describe_vector(path: Path) -> SpatialInfo:
    """CRS and total bounds of a vector file, without reading its geometries."""
    import pyogrio

    try:
        info = pyogrio.read_info(path)
    except Exception as error:  # pyogrio raises its own DataSourceError family
        raise InputDataError(
            f"{path} is not a readable vector file ({error})", fix="export it as GeoPackage"
        ) from None
    bounds = info.get("total_bounds")
    if bounds is None:
        return SpatialInfo(info.get("crs"), None)
    x0, y0, x1, y1 = (float(b) for b in bounds)
    return SpatialInfo(info.get("crs"), (x0, y0, x1, y1))


def read_vector(path: Path, *, layer: str | None = None) -> Any:
    """Read a vector file into a GeoDataFrame, refusing one without a CRS.

    Parameters
    ----------
    path
        A GeoPackage, shapefile, GeoJSON, FlatGeobuf or KML file.
    layer
        The layer to read from a multi-layer file (GeoPackage); default the first.

    Raises
    ------
    PathNotFoundError
        If the file does not exist.
    InputDataError
        If it cannot be read as a vector file.
    MissingCRSError
        If it carries no coordinate reference system.

    """
    import geopandas as gpd

    if not path.exists():
        raise PathNotFoundError(f"vector file {path} does not exist", fix="check the path")
    try:
        gdf = gpd.read_file(path, layer=layer)
    except Exception as error:  # pyogrio raises its own DataSourceError family
        raise InputDataError(
            f"{path} is not a readable vector file ({error})", fix="export it as GeoPackage"
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputDataError(f"{path} holds no geometries", fix="export the polygons with them")
    if gdf.crs is None:
        raise MissingCRSError(
            f"vector file {path} has no coordinate reference system",
            fix="assign the CRS it was drawn in (e.g. in QGIS: Layer ▸ Set CRS) and re-export it"
            " (a shapefile needs its .prj)",
        )
    return gdf


#: The ``last_change`` written into GeoPackages: fixed, so that equal layers give equal bytes.
FIXED_GPKG_DATE = "2000-01-01T00:00:00.000Z"


def write_vector(frame: Any, path: Path, *, layer: str | None = None) -> None:
    """Write a GeoDataFrame to a GeoPackage (or the driver the suffix names), atomically.

    The bytes depend only on the frame: GDAL stamps a GeoPackage's ``gpkg_contents`` with the
    current time unless ``OGR_CURRENT_DATE`` is set, so it is set to a fixed date here. Without
    it every re-run made a new extent file and every later step re-ran (issue 15).
    """
    import pyogrio

    from minecarbon.io.files import atomic_path

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GPKG_DATE})

    if frame.crs is None:
        raise InputDataError(f"cannot write {path}: the layer has no CRS", fix="set its CRS")
    with atomic_path(path) as tmp:
        frame.to_file(tmp, layer=layer or path.stem, engine="pyogrio")
