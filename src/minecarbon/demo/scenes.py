"""The imagery schedule of the simulated site: which scenes a provider delivers each year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from minecarbon.demo.spec import SiteSpec, Size

#: WRS-2 path/row of a Landsat scene over ≈ 112°E, 37°N.
WRS_PATH_ROW = "125034"
#: Sentinel-2 MGRS tile over the same place.
MGRS_TILE = "T49SFB"


#: Landsat missions over the site: sensor code → (platform prefix, first and last day of
#: acquisitions, day of the year 2000 on the 16-day repeat of path 125). Landsat 5 TM imaged
#: until 18 November 2011, Landsat 7 ETM+ (launched April 1999) until its science mission ended
#: in April 2022, Landsat 8 OLI from 11 April 2013, Landsat 9 OLI-2 from 31 October 2021
#: (USGS mission pages). Satellites of a pair fly 8 days apart: Landsat 8 took Landsat 5's
#: slot in the constellation and Landsat 9 took Landsat 7's.
MISSIONS: dict[str, tuple[str, date, date, int]] = {
    "tm": ("LT05", date(1984, 3, 1), date(2011, 11, 18), 13),
    "etm": ("LE07", date(1999, 4, 15), date(2022, 4, 6), 5),
    "oli": ("LC08", date(2013, 4, 11), date(2100, 1, 1), 13),
    "oli2": ("LC09", date(2021, 10, 31), date(2100, 1, 1), 5),
}
#: The scan-line corrector of Landsat 7 ETM+ failed on 31 May 2003: every later scene has gaps.
SLC_FAILURE = date(2003, 5, 31)
#: Share of Landsat 5 acquisitions over the site held in the USGS archive (before 2012, images
#: of China were received by ground stations outside the USGS and the US archive holds
#: fewer of them; our figure, for "fewer clear acquisitions in the TM years").
TM_ARCHIVED_SHARE = 0.6
REPEAT_DAYS = 16
#: Sentinel-2 MSI over the site (``SiteSpec.sensor == "landsat+s2"``): platform → (first and
#: last day of the acquisitions delivered, day of the year 2016 on the 10-day repeat of the
#: tile's relative orbit). Sentinel-2A was launched on 23 June 2015 and Sentinel-2B on
#: 7 March 2017 (ESA); the demo delivers Sentinel-2A from 2016 and Sentinel-2B from July 2017
#: (after their commissioning; our round dates), the two 5 days apart.
S2_MISSIONS: dict[str, tuple[date, date, int]] = {
    "S2A": (date(2016, 1, 1), date(2100, 1, 1), 4),
    "S2B": (date(2017, 7, 1), date(2100, 1, 1), 9),
}
S2_REPEAT_DAYS = 10


@dataclass(frozen=True)
class Scene:
    """One delivered scene."""

    year: int
    month: int
    day: int
    cloud_fraction: float
    role: str  # "summer" (growing season), "leaf-off" (for the RVI rule), "monthly" (phenology)
    sensor: str = "oli"  # tm, etm, oli, oli2 (Landsat 5, 7, 8, 9) or s2
    platform: str = ""  # Sentinel-2: S2A or S2B (empty: S2A)

    @property
    def date(self) -> str:
        """ISO date."""
        return f"{self.year}-{self.month:02d}-{self.day:02d}"

    @property
    def slc_off(self) -> bool:
        """Whether this is a Landsat 7 ETM+ scene with scan-line-corrector gaps."""
        return self.sensor == "etm" and date(self.year, self.month, self.day) >= SLC_FAILURE

    @property
    def file_name(self) -> str:
        """A Landsat- or Sentinel-2-like name; the ``SIM`` prefix says it is simulated."""
        stamp = f"{self.year}{self.month:02d}{self.day:02d}"
        if self.sensor == "s2":
            return f"SIM_{self.platform or 'S2A'}_MSIL2A_{stamp}_{MGRS_TILE}.tif"
        return f"SIM_{MISSIONS[self.sensor][0]}_L2SP_{WRS_PATH_ROW}_{stamp}_SR.tif"


def _roles(spec: SiteSpec, year: int) -> dict[int, str]:
    large = spec.size is Size.LARGE
    summer = (7,) if large else (7, 8)
    months = {m: "summer" for m in summer}
    months[3] = "leaf-off"
    if year in spec.phenology_years and (not large or year == spec.phenology_years[-1]):
        for m in spec.monthly:
            months.setdefault(m, "monthly")
    return dict(sorted(months.items()))


def acquisitions(year: int, month: int, seed: int) -> list[tuple[str, date]]:
    """The Landsat acquisitions over the site in a month that the archive holds: (sensor, day)."""
    out = []
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1)
    for sensor, (_, start, end, offset) in MISSIONS.items():
        day0 = date(2000, 1, 1).toordinal() + offset - 1
        k = -((day0 - first.toordinal()) // REPEAT_DAYS)
        while (d := date.fromordinal(day0 + k * REPEAT_DAYS)) < last:
            if start <= d <= end and d >= first:
                held = sensor != "tm" or np.random.default_rng(
                    [seed, 9191, d.toordinal()]).uniform() < TM_ARCHIVED_SHARE
                if held:
                    out.append((sensor, d))
            k += 1
    return out


def s2_acquisitions(year: int, month: int) -> list[tuple[str, date]]:
    """The Sentinel-2 acquisitions over the site in a month: (platform, day)."""
    out = []
    first = date(year, month, 1)
    last = date(year + (month == 12), month % 12 + 1, 1)
    for platform, (start, end, offset) in S2_MISSIONS.items():
        day0 = date(2016, 1, 1).toordinal() + offset - 1
        k = -((day0 - first.toordinal()) // S2_REPEAT_DAYS)
        while (d := date.fromordinal(day0 + k * S2_REPEAT_DAYS)) < last:
            if start <= d <= end and d >= first:
                out.append((platform, d))
            k += 1
    return out


def scene_schedule(spec: SiteSpec) -> list[Scene]:
    """Scenes per year, as a provider (or a user choosing from the archive) would deliver them.

    Two growing-season scenes (July, August), one leaf-off scene (March), and a monthly series
    (March–November) in the phenology years; the large site gets one growing-season scene a
    year and monthly scenes only in its last phenology year (disk size).

    ``spec.sensor == "landsat"`` (the default) delivers the Landsat archive as it exists: each
    month's scene is one of the acquisitions of the satellites flying then (16-day repeat each,
    8 days apart), picked as a user would — a gap-free sensor before Landsat 7 after its SLC
    failure, then the clearest. 2012 has only Landsat 7 ETM+ (SLC-off); part of the Landsat 5
    acquisitions are missing from the archive, so some TM-era months have no scene. ``oli``
    and ``s2`` deliver one sensor for every year (Landsat 8-like or Sentinel-2), as no archive
    does; they are kept for tests of single-sensor inputs. ``landsat+s2`` delivers the same
    Landsat scenes and, in every month of a role from 2016 on, the clearest Sentinel-2
    acquisition beside them (:data:`S2_MISSIONS`), as a user adds Sentinel-2 to a Landsat
    series.
    """
    rng = np.random.default_rng([spec.seed, 9090])
    out: list[Scene] = []
    for year in spec.years:
        for month, role in _roles(spec, year).items():
            cloud = float(rng.uniform(0.0, 0.30 if role == "summer" else 0.15))
            day = int(rng.integers(3, 27))
            if spec.sensor not in ("landsat", "landsat+s2"):
                out.append(Scene(year, month, day, round(cloud, 3), role, spec.sensor))
                continue
            found = acquisitions(year, month, spec.seed)
            if found:
                out.append(_clearest(found, spec.seed, 9292, year, month, role))
            if spec.sensor == "landsat+s2" and (s2 := s2_acquisitions(year, month)):
                out.append(_clearest(s2, spec.seed, 9393, year, month, role))
    return out


def _clearest(found: list[tuple[str, date]], seed: int, stream: int, year: int, month: int,
              role: str) -> Scene:
    """The acquisition of the month a user picks: a gap-free one before SLC-off ETM+, clearest."""
    pick = np.random.default_rng([seed, stream, year, month])
    # cloud cover of each acquisition: summer is the monsoon season on the Loess Plateau; the
    # user picks the clearest of the month, so the drawn range is wider than that of a single
    # delivered scene of the single-sensor schedules
    clouds = {a: float(pick.uniform(0.0, 0.60 if role == "summer" else 0.30)) for a in found}
    best = min(found, key=lambda a: (a[0] == "etm" and a[1] >= SLC_FAILURE, clouds[a]))
    who, d = best
    if who in S2_MISSIONS:
        return Scene(year, month, d.day, round(clouds[best], 3), role, "s2", who)
    return Scene(year, month, d.day, round(clouds[best], 3), role, who)
