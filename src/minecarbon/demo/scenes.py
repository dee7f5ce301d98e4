"""The imagery schedule of the simulated site: which scenes a provider delivers each year."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minecarbon.demo.spec import SiteSpec, Size

#: WRS-2 path/row of a Landsat scene over ≈ 112°E, 37°N.
WRS_PATH_ROW = "125034"
#: Sentinel-2 MGRS tile over the same place.
MGRS_TILE = "T49SFB"


@dataclass(frozen=True)
class Scene:
    """One delivered scene."""

    year: int
    month: int
    day: int
    cloud_fraction: float
    role: str  # "summer" (growing season), "leaf-off" (for the RVI rule), "monthly" (phenology)
    sensor: str = "oli"

    @property
    def date(self) -> str:
        """ISO date."""
        return f"{self.year}-{self.month:02d}-{self.day:02d}"

    @property
    def file_name(self) -> str:
        """A Landsat- or Sentinel-2-like name; the ``SIM`` prefix says it is simulated."""
        stamp = f"{self.year}{self.month:02d}{self.day:02d}"
        if self.sensor == "s2":
            return f"SIM_S2A_MSIL2A_{stamp}_{MGRS_TILE}.tif"
        return f"SIM_LC08_L2SP_{WRS_PATH_ROW}_{stamp}_SR.tif"


def scene_schedule(spec: SiteSpec) -> list[Scene]:
    """Scenes per year, as a provider would deliver them.

    Two growing-season scenes, one leaf-off scene (March), and a monthly series
    (March–November) in the phenology years. The large site gets one growing-season scene a
    year and monthly scenes only in its last phenology year (disk size).
    """
    rng = np.random.default_rng([spec.seed, 9090])
    out: list[Scene] = []
    large = spec.size is Size.LARGE
    for year in spec.years:
        summer = (7,) if large else (7, 8)
        months = {m: "summer" for m in summer}
        months[3] = "leaf-off"
        if year in spec.phenology_years and (not large or year == spec.phenology_years[-1]):
            for m in spec.monthly:
                months.setdefault(m, "monthly")
        for month in sorted(months):
            role = months[month]
            cloud = float(rng.uniform(0.0, 0.30 if role == "summer" else 0.15))
            out.append(Scene(year, month, int(rng.integers(3, 27)), round(cloud, 3), role,
                             spec.sensor))
    return out
