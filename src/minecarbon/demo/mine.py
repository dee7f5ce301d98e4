"""The mine's history as a real mine's records would give it: polygons with type and year.

Geometry is laid out in relative coordinates (u east, v north, 0–1) over the bounding box of the
mining-right boundary, which is the simulated area shrunk by the monitoring buffer; so every
size of site has the same mine, scaled. Rectangular features (longwall panels) are snapped to
pixel edges. Mining (excavation) starts in ``spec.mining_start_year``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.affinity import rotate
from shapely.geometry import LineString, Point, Polygon, box

from minecarbon.demo.noise import hash_uniform
from minecarbon.demo.spec import SiteSpec
from minecarbon.types import DamageForm

_BOUNDARY_UV = [(0.00, 0.30), (0.10, 0.05), (0.35, 0.00), (0.70, 0.04), (1.00, 0.15),
                (0.96, 0.55), (1.00, 0.85), (0.75, 1.00), (0.40, 0.96), (0.12, 1.00),
                (0.03, 0.70)]
PIT_CENTRE_UV = (0.30, 0.55)
DUMPS = (("dump-A", (0.12, 0.20), 0.07, 2008, 2014), ("dump-B", (0.45, 0.86), 0.06, 2012, 2019))
SOUTH_PANEL_YEARS = (2009, 2011, 2013, 2015, 2017, 2019)
NORTH_PANEL_YEARS = (2021, 2023, 2025, 2027)  # the last two are planned
DRAW_MARGIN_M = 90.0  # subsidence basin beyond the panel (angle of draw), on pixel edges
PLAN_PIT_YEAR = 2025
PLAN_PIT_TARGET_YEAR = 2030
FIRE = ((0.40, 0.15), 0.05, 2015)
ROAD = (((-0.12, 0.33), (0.22, 0.36)), 60.0, 2012)
RESERVOIR = ((0.50, 0.20), 0.035)


@dataclass(frozen=True)
class MineLayout:
    """The mine's polygons, each layer a GeoDataFrame in the site CRS."""

    boundary: gpd.GeoDataFrame
    damage: gpd.GeoDataFrame  # form, year, name
    plan: gpd.GeoDataFrame  # form, year, name
    reclamation: gpd.GeoDataFrame  # year, name, species
    disturbance: gpd.GeoDataFrame  # type, year, name
    water: Polygon


class _Frame:
    """Relative (u, v) → map coordinates over the boundary's bounding box."""

    def __init__(self, spec: SiteSpec) -> None:
        g = spec.grid
        x0, y0, x1, y1 = g.bounds
        b = spec.buffer_m
        self.x0, self.y0 = x0 + b, y0 + b
        self.sx, self.sy = (x1 - x0) - 2 * b, (y1 - y0) - 2 * b
        self.pixel = g.pixel_size_m
        self.gx0, self.gy0 = x0, y0

    def xy(self, u: float, v: float) -> tuple[float, float]:
        return (self.x0 + u * self.sx, self.y0 + v * self.sy)

    def snap(self, value: float, origin: float) -> float:
        return origin + round((value - origin) / self.pixel) * self.pixel

    def rect(self, u0: float, v0: float, u1: float, v1: float) -> Polygon:
        (xa, ya), (xb, yb) = self.xy(u0, v0), self.xy(u1, v1)
        return box(self.snap(xa, self.gx0), self.snap(ya, self.gy0),
                   self.snap(xb, self.gx0), self.snap(yb, self.gy0))

    def length(self, fraction: float) -> float:
        return fraction * min(self.sx, self.sy)


def pit_semi_axis_m(frame: _Frame, year: int, start: int) -> float:
    """Semi-major axis of the open pit at the end of ``year`` (grows linearly)."""
    return frame.length(0.03 + 0.008 * (year - start))


def _ellipse(centre: tuple[float, float], a: float, b: float, angle_deg: float) -> Polygon:
    circle = Point(centre).buffer(1.0, quad_segs=32)
    scaled = shapely.affinity.scale(circle, a, b, origin=centre)
    return rotate(scaled, angle_deg, origin=centre)


def _blob(centre: tuple[float, float], radius: float, seed: int, stream: int) -> Polygon:
    """An irregular heap outline: a circle with hashed, smoothly varying radius."""
    k = np.arange(48)
    wobble = hash_uniform(k, np.full_like(k, stream), seed, 11)
    wobble = np.convolve(np.r_[wobble[-3:], wobble, wobble[:3]], np.ones(7) / 7, "valid")
    r = radius * (0.8 + 0.4 * wobble)
    t = 2 * math.pi * k / 48
    return Polygon(np.c_[centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)])


def mine_layout(spec: SiteSpec) -> MineLayout:
    """All polygon layers of the simulated mine."""
    f = _Frame(spec)
    crs = spec.grid.crs
    start = spec.mining_start_year
    boundary = Polygon([f.xy(u, v) for u, v in _BOUNDARY_UV])

    damage: list[dict[str, object]] = []
    plan: list[dict[str, object]] = []
    pit_c = f.xy(*PIT_CENTRE_UV)
    for year in range(start, spec.last_year + 1):
        a = pit_semi_axis_m(f, year, start)
        damage.append({"name": f"open pit {year}", "form": DamageForm.EXCAVATION.en,
                       "year": year, "geometry": _ellipse(pit_c, a, 0.7 * a, 20.0)})
    a_plan = pit_semi_axis_m(f, PLAN_PIT_TARGET_YEAR, start)
    plan.append({"name": f"open pit extension to {PLAN_PIT_TARGET_YEAR}",
                 "form": DamageForm.EXCAVATION.en, "year": PLAN_PIT_YEAR,
                 "geometry": _ellipse(pit_c, a_plan, 0.7 * a_plan, 20.0)})

    reclamation: list[dict[str, object]] = []
    for i, (name, centre, radius, year, reclaimed) in enumerate(DUMPS):
        heap = _blob(f.xy(*centre), f.length(radius), spec.seed, i)
        damage.append({"name": f"waste dump {name}", "form": DamageForm.OCCUPATION.en,
                       "year": year, "geometry": heap})
        reclamation.append({"name": f"reclamation of {name}", "year": reclaimed,
                            "species": "刺槐/杨树 Robinia pseudoacacia / Populus",
                            "geometry": heap})

    for k, year in enumerate(SOUTH_PANEL_YEARS):
        u0 = 0.60 + 0.055 * k
        _panel(f, (u0, 0.25, u0 + 0.045, 0.75), f"longwall panel S{k + 1}", year,
               damage if year <= spec.last_year else plan)
    for k, year in enumerate(NORTH_PANEL_YEARS):
        u0 = 0.58 + 0.06 * k
        _panel(f, (u0, 0.80, u0 + 0.045, 0.92), f"longwall panel N{k + 1}", year,
               damage if year <= spec.last_year else plan)

    (fc, fr, fyear) = FIRE
    (road_uv, road_width, road_year) = ROAD
    disturbance = [
        {"name": "forest fire", "type": "fire", "year": fyear,
         "geometry": _ellipse(f.xy(*fc), f.length(fr), 0.6 * f.length(fr), -30.0)},
        {"name": "mine access road", "type": "road", "year": road_year,
         "geometry": LineString([f.xy(*p) for p in road_uv]).buffer(road_width / 2,
                                                                      cap_style="flat")},
    ]
    water = Point(f.xy(*RESERVOIR[0])).buffer(f.length(RESERVOIR[1]), quad_segs=24)

    def frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)

    return MineLayout(
        boundary=gpd.GeoDataFrame(
            {"name": ["采矿权范围 mining-right boundary"], "geometry": [boundary]}, crs=crs),
        damage=frame(damage), plan=frame(plan), reclamation=frame(reclamation),
        disturbance=frame(disturbance), water=water,
    )


def _panel(f: _Frame, uv: tuple[float, float, float, float], name: str, year: int,
           out: list[dict[str, object]]) -> None:
    basin = f.rect(*uv).buffer(DRAW_MARGIN_M, join_style="mitre")
    out.append({"name": f"subsidence over {name}", "form": DamageForm.SUBSIDENCE.en,
                "year": year, "geometry": basin})
