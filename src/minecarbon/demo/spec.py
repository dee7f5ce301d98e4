"""Sizes, place and time frame of the simulated site."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the grid loads the raster stack; the CLI reads this module for its help
    from minecarbon.grid import AnalysisGrid

#: CGCS2000 / 3-degree Gauss–Krüger CM 111E — what a Shanxi provider delivers near 112°E.
SITE_CRS = "EPSG:4546"
#: Top-left corner of the simulated area (≈ 112.0°E, 37.0°N), on the 30 m lattice.
SITE_X_MIN_M = 585_000.0
SITE_Y_MAX_M = 4_100_010.0


class Size(StrEnum):
    """Sizes of the simulated site."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class Sensor(StrEnum):
    """Imagery the simulator can deliver: the Landsat archive (with Sentinel-2), or one sensor."""

    LANDSAT = "landsat"
    LANDSAT_S2 = "landsat+s2"
    OLI = "oli"
    S2 = "s2"


_PIXELS = {Size.SMALL: 200, Size.MEDIUM: 1000, Size.LARGE: 4000}


@dataclass(frozen=True)
class SiteSpec:
    """Everything that fixes a simulated site: same spec, same site, bit for bit.

    Attributes
    ----------
    size
        small (200 × 200 px, tests), medium (1000 × 1000), large (4000 × 4000, benchmarks).
    seed
        Seed of every random choice.
    first_year, last_year
        The annual time steps (inclusive).
    mining_start_year
        First year of mining; the years before it are the base period.
    pixel_size_m
        Pixel side (Landsat: 30 m).
    buffer_m
        Buffer of the monitoring extent around the mining-right boundary (the guide's 500 m).
    phenology_years
        Years with an intra-annual (monthly, March–November) image series.
    chunk_px
        Block side for chunked generation.
    sensor
        ``landsat`` (default): the Landsat archive as it exists — TM, ETM+ (SLC-off after
        May 2003), OLI and OLI-2 Collection-2 Level-2 scenes by their mission dates
        (:func:`minecarbon.demo.scenes.scene_schedule`); ``landsat+s2``: the same archive
        and, from 2016, Sentinel-2A/2B MSI Level-2A scenes beside it; ``oli``: Landsat 8-like
        scenes every year; ``s2``: Sentinel-2 MSI Level-2A scenes (10 bands and SCL),
        simulated at the site's pixel size.
    remeasure_years
        Years in which the field crew also measured the last year's plots (re-measured plots,
        issue 14 point 3): every plot gets one more record per year at the same centre, with
        its own ``plot_id`` (``P001-2012``) and survey date, and a tree list drawn from that
        year's stand. Empty (the default): one survey, in the last year.

    """

    size: Size = Size.SMALL
    seed: int = 0
    first_year: int = 2000
    last_year: int = 2024
    mining_start_year: int = 2006
    pixel_size_m: float = 30.0
    buffer_m: float = 500.0
    phenology_years: tuple[int, ...] = (2004, 2014, 2024)
    chunk_px: int = 512
    sensor: str = "landsat"  # the Landsat 5/7/8/9 archive; "landsat+s2"; "oli", "s2": one sensor
    remeasure_years: tuple[int, ...] = ()
    monthly: tuple[int, ...] = field(default=(3, 4, 5, 6, 7, 8, 9, 10, 11))

    def record(self) -> dict[str, object]:
        """The spec as ``truth/site.json`` records it.

        ``remeasure_years`` only when set, so that a site delivered before the field existed
        reads as the same site.
        """
        values = {**asdict(self), "size": self.size.value}
        if not self.remeasure_years:
            values.pop("remeasure_years")
        return values

    @property
    def years(self) -> list[int]:
        """All simulated years."""
        return list(range(self.first_year, self.last_year + 1))

    @property
    def base_years(self) -> list[int]:
        """The base period: years before mining starts."""
        return [y for y in self.years if y < self.mining_start_year]

    @property
    def n_pixels(self) -> int:
        """Pixels along each side."""
        return _PIXELS[self.size]

    @property
    def side_m(self) -> float:
        """Side of the simulated square area in metres."""
        return self.n_pixels * self.pixel_size_m

    @property
    def grid(self) -> AnalysisGrid:
        """The simulated area's grid (equal to the grid derived from its monitoring extent)."""
        from minecarbon.grid import AnalysisGrid

        n = self.n_pixels
        return AnalysisGrid(SITE_CRS, self.pixel_size_m, SITE_X_MIN_M, SITE_Y_MAX_M, n, n)
