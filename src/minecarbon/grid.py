"""The one analysis grid of a project: extent, projected CRS and pixel size.

Every raster product lives on this grid; :func:`assert_on_grid` refuses anything else.
The grid is an odc-geo :class:`~odc.geo.geobox.GeoBox` underneath, kept here as a small frozen
record so that it serialises to the workspace and compares by value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import rioxarray  # noqa: F401  (the .rio accessor, to read an array's CRS)
from pyproj import CRS
from pyproj.exceptions import CRSError

from minecarbon.errors import (
    GeographicCRSError,
    GridMismatchError,
    InputDataError,
    MissingCRSError,
)

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from shapely.geometry.base import BaseGeometry

#: CGCS2000 3-degree Gauss–Krüger zones with central meridians 75°E … 135°E (no zone prefix).
_CGCS2000_GK3_CM_FIRST_EPSG = 4534
_CGCS2000_GK3_FIRST_CM = 75


def suggest_projected_crs(lon: float, lat: float) -> str:
    """Name a projected metric CRS suited to a longitude and latitude.

    Inside China's 3-degree zones (central meridians 75°E–135°E) this is the CGCS2000
    3-degree Gauss–Krüger zone with the nearest central meridian (EPSG:4534–4554, the "CM"
    variants without the zone prefix in the easting); elsewhere the WGS 84 UTM zone.

    Examples
    --------
    >>> suggest_projected_crs(112.3, 37.0)
    'EPSG:4546 (CGCS2000 / 3-degree Gauss-Kruger CM 111E)'

    """
    cm = 3 * math.floor(lon / 3 + 0.5)  # halves go east, consistently
    if _CGCS2000_GK3_FIRST_CM <= cm <= 135 and 15 <= lat <= 55:
        epsg = _CGCS2000_GK3_CM_FIRST_EPSG + (cm - _CGCS2000_GK3_FIRST_CM) // 3
    else:
        zone = int((lon + 180) // 6) % 60 + 1
        epsg = (32600 if lat >= 0 else 32700) + zone
    return f"EPSG:{epsg} ({CRS.from_epsg(epsg).name})"


def require_projected(crs: Any, what: str, lonlat: tuple[float, float] | None = None) -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` if it is projected and metric, else raise.

    Parameters
    ----------
    crs
        Anything pyproj understands, or ``None``.
    what
        The input it belongs to (a file name or config key), named in the message.
    lonlat
        A representative longitude and latitude, used to suggest a suitable CRS.

    """
    if crs is None or crs == "":
        raise MissingCRSError(
            f"{what} has no coordinate reference system",
            fix="assign the CRS the data was produced in (e.g. gdal_edit.py -a_srs EPSG:4546)",
        )
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as error:
        raise InputDataError(
            f"{what}: {crs!r} is not a recognised CRS ({error})",
            fix="name it as EPSG:nnnn, e.g. EPSG:4546",
        ) from None
    if not parsed.is_projected:
        hint = suggest_projected_crs(*lonlat) if lonlat else "a CGCS2000 Gauss–Krüger zone"
        raise GeographicCRSError(
            f"{what} is in a geographic CRS ({parsed.to_string()}); analysis needs metres",
            fix=f"use a projected CRS such as {hint}",
        )
    unit = parsed.axis_info[0].unit_name if parsed.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise InputDataError(
            f"{what} is in a projected CRS with units of {unit} ({parsed.to_string()})",
            fix="use a metric CRS such as a CGCS2000 Gauss–Krüger zone or UTM",
        )
    return parsed


@dataclass(frozen=True)
class AnalysisGrid:
    """A north-up raster grid: origin at the top-left corner, square pixels.

    Attributes
    ----------
    crs
        The projected CRS as ``"EPSG:nnnn"`` or WKT.
    pixel_size_m
        Side of a pixel in metres.
    x_min_m, y_max_m
        Top-left corner of the grid in CRS coordinates.
    width, height
        Number of columns and rows.

    """

    crs: str
    pixel_size_m: float
    x_min_m: float
    y_max_m: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.pixel_size_m <= 0 or self.width <= 0 or self.height <= 0:
            raise GridMismatchError(
                f"analysis grid needs a positive pixel size and shape, got {self.pixel_size_m} m "
                f"and {self.height} × {self.width}",
                fix="check scope.pixel_size_m and the extent polygon",
            )
        require_projected(self.crs, "the analysis grid")

    @classmethod
    def from_extent(
        cls, extent: BaseGeometry, crs: Any, pixel_size_m: float, *, what: str = "extent"
    ) -> AnalysisGrid:
        """Build the grid covering a polygon, with its corners snapped to the pixel size.

        A geographic CRS is refused, naming a projected CRS suitable for the extent.
        """
        parsed = CRS.from_user_input(crs) if crs is not None else None
        if parsed is not None and parsed.is_geographic:
            c = extent.centroid
            require_projected(parsed, what, (c.x, c.y))
        proj = require_projected(parsed, what)
        x0, y0, x1, y1 = extent.bounds
        # bounds a hair (0.1 mm) off a pixel edge, from buffer arithmetic, do not grow the grid
        eps = max(1e-6, 1e-4 / pixel_size_m)
        x_min = math.floor(x0 / pixel_size_m + eps) * pixel_size_m
        y_max = math.ceil(y1 / pixel_size_m - eps) * pixel_size_m
        width = max(1, math.ceil((x1 - x_min) / pixel_size_m - eps))
        height = max(1, math.ceil((y_max - y0) / pixel_size_m - eps))
        epsg = proj.to_epsg()
        crs_text = f"EPSG:{epsg}" if epsg else proj.to_wkt()
        return cls(crs_text, float(pixel_size_m), float(x_min), float(y_max), width, height)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) in CRS units."""
        return (
            self.x_min_m,
            self.y_max_m - self.height * self.pixel_size_m,
            self.x_min_m + self.width * self.pixel_size_m,
            self.y_max_m,
        )

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """The affine transform as GDAL's (a, b, c, d, e, f) in rasterio's order."""
        p = self.pixel_size_m
        return (p, 0.0, self.x_min_m, 0.0, -p, self.y_max_m)

    @property
    def pixel_area_ha(self) -> float:
        """Area of one pixel in hectares."""
        return self.pixel_size_m**2 / 10_000.0

    def x_coords(self) -> np.ndarray:
        """Pixel-centre x coordinates, west to east."""
        return self.x_min_m + (np.arange(self.width) + 0.5) * self.pixel_size_m

    def y_coords(self) -> np.ndarray:
        """Pixel-centre y coordinates, north to south."""
        return self.y_max_m - (np.arange(self.height) + 0.5) * self.pixel_size_m

    def cells(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(row, col, inside)`` of points given in the grid's CRS.

        The pixel each point falls in (an edge belongs to the pixel east and south of it), and
        whether the point lies in the grid at all.
        """
        col = np.floor((np.asarray(x, dtype=np.float64) - self.x_min_m)
                       / self.pixel_size_m).astype(int)
        row = np.floor((self.y_max_m - np.asarray(y, dtype=np.float64))
                       / self.pixel_size_m).astype(int)
        inside = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        return row, col, inside

    def geobox(self) -> GeoBox:
        """The equivalent odc-geo GeoBox."""
        from affine import Affine
        from odc.geo.geobox import GeoBox

        return GeoBox((self.height, self.width), Affine(*self.transform), self.crs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable record."""
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> AnalysisGrid:
        """Inverse of :meth:`to_dict`."""
        return cls(**record)


def assert_on_grid(da: xr.DataArray | xr.Dataset, grid: AnalysisGrid, what: str) -> None:
    """Raise :class:`GridMismatchError` unless ``da`` lies exactly on ``grid``.

    Checks the CRS (when the object carries one), the shape of the ``y``/``x`` dims and the
    pixel-centre coordinates (to a thousandth of a pixel).
    """
    ny, nx = da.sizes.get("y"), da.sizes.get("x")
    if (ny, nx) != grid.shape:
        raise GridMismatchError(
            f"{what} has shape {ny} × {nx}, the project grid is {grid.height} × {grid.width}",
            fix="reproject it onto the project grid (minecarbon.io.raster.read_on_grid)",
        )
    crs = da.rio.crs
    if crs is not None and CRS.from_user_input(crs) != CRS.from_user_input(grid.crs):
        raise GridMismatchError(
            f"{what} is in {crs}, the project grid in {grid.crs}",
            fix="reproject it onto the project grid",
        )
    tol = grid.pixel_size_m * 1e-3
    if not (
        np.allclose(da["x"].values, grid.x_coords(), rtol=0.0, atol=tol)
        and np.allclose(da["y"].values, grid.y_coords(), rtol=0.0, atol=tol)
    ):
        raise GridMismatchError(
            f"{what} is offset from the project grid (pixel centres differ)",
            fix="resample it onto the project grid",
        )
