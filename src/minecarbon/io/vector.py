"""Vector files (GeoPackage, shapefile, GeoJSON) through geopandas/pyogrio."""

from __future__ import annotations

from pathlib import Path

from minecarbon.errors import InputDataError
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
