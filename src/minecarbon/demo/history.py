"""The site's yearly history on a block of pixels: events, growth, land cover, truth units.

:func:`simulate_block` is the simulator's core. It takes pixel-centre coordinates and returns
every true field for every year; the whole site is this function mapped over blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from minecarbon.demo.forest import (
    chapman_richards,
    forest_type,
    mean_height_m,
    pixel_variation,
    stands,
)
from minecarbon.demo.mine import MineLayout
from minecarbon.demo.noise import fbm
from minecarbon.demo.spec import SiteSpec
from minecarbon.types import AssessmentUnit, DamageForm, LandCover

NEVER = 9999
SPARSE_MIN_COVER = 0.10  # forest objects include sparse forest (requirement S2)


@dataclass
class Events:
    """Per-pixel event years and forms, from the simulator's own geometry (2-D arrays)."""

    damage_year: np.ndarray
    damage_form: np.ndarray
    plan_year: np.ndarray
    plan_form: np.ndarray
    reclamation_year: np.ndarray
    fire_year: np.ndarray
    road_year: np.ndarray
    water: np.ndarray
    in_extent: np.ndarray
    subsidence_depth: np.ndarray  # 0–1 share of AGC lost where subsided


def _earliest(layer: object, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earliest year (and its form code) of the layer's polygons containing each pixel centre."""
    year = np.full(x.shape, NEVER, dtype=np.int32)
    form = np.zeros(x.shape, dtype=np.uint8)
    rows = sorted(
        layer.itertuples(),  # type: ignore[attr-defined]
        key=lambda r: (r.year, _form_code(getattr(r, "form", None))),
    )
    for r in reversed(rows):  # earliest last, so it wins
        inside = shapely.contains_xy(r.geometry, x, y)
        year[inside] = r.year
        form[inside] = _form_code(getattr(r, "form", None))
    return year, form


def _form_code(name: object) -> int:
    for f in DamageForm:
        if name == f.en:
            return int(f)
    return 0


def events_at(layout: MineLayout, spec: SiteSpec, x: np.ndarray, y: np.ndarray) -> Events:
    """Rasterise the mine's history at pixel centres (x, y)."""
    damage_year, damage_form = _earliest(layout.damage, x, y)
    plan_year, plan_form = _earliest(layout.plan, x, y)
    reclamation_year, _ = _earliest(layout.reclamation, x, y)
    fire = layout.disturbance[layout.disturbance["type"] == "fire"]
    road = layout.disturbance[layout.disturbance["type"] == "road"]
    fire_year, _ = _earliest(fire, x, y)
    road_year, _ = _earliest(road, x, y)
    extent = layout.boundary.geometry.iloc[0].buffer(spec.buffer_m)
    depth = np.clip(0.27 + 0.25 * fbm(x, y, 400.0, spec.seed, octaves=2, stream=150), 0.1, 0.5)
    return Events(
        damage_year, damage_form, plan_year, plan_form, reclamation_year, fire_year, road_year,
        shapely.contains_xy(layout.water, x, y), shapely.contains_xy(extent, x, y),
        np.where(damage_form == DamageForm.SUBSIDENCE, depth, 0.0),
    )


def simulate_block(spec: SiteSpec, layout: MineLayout, climate_modifier: np.ndarray,
                   x: np.ndarray, y: np.ndarray, *,
                   stand_years: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
    """Every true field of a block for every year.

    Parameters
    ----------
    spec
        The site.
    layout
        The mine's polygons.
    x, y
        2-D arrays of pixel-centre coordinates.
    climate_modifier
        The growth modifier per year (``growth_modifier(climate)``).
    stand_years
        Years whose stand state (``age_<year>``, ``species2_<year>``, ``share2_<year>``) is
        also returned, for the tree lists of plots measured then (re-measured plots).

    Returns
    -------
    dict with (year, y, x) arrays ``agc`` (t C/ha, float32), ``cover`` (0–1), ``species``,
    ``forest_type``, ``landcover``, ``units_l1``, ``units_l2`` (uint8), ``height`` (stand mean
    height, m), and (y, x) arrays of the event years.

    """
    st = stands(x, y, spec.seed, spec.first_year)
    ev = events_at(layout, spec, x, y)
    agc_var, cover_var = pixel_variation(x, y, spec.seed)
    years = spec.years
    n = len(years)
    shape = (n, *x.shape)
    agc = np.zeros(shape, np.float32)
    cover = np.zeros(shape, np.float32)
    species = np.zeros(shape, np.uint8)
    ftype = np.zeros(shape, np.uint8)
    landcover = np.zeros(shape, np.uint8)
    height = np.zeros(shape, np.float32)

    forest_stand = st.landuse == LandCover.FOREST
    age = np.where(forest_stand, st.age0, 0.0)
    sp = st.species.copy()
    sp2, share2 = st.species2.copy(), st.share2.copy()
    cover_max = st.cover_max.copy()
    growth = np.ones(x.shape)
    plant_age = np.zeros(x.shape)
    stand_at: dict[str, np.ndarray] = {}
    for i, t in enumerate(years):
        if i:
            age = age + climate_modifier[i] * growth
        # Grain-for-Green afforestation and reclamation planting: young plantations
        planted = (st.afforest_year <= t) | (ev.reclamation_year <= t)
        start = np.minimum(np.where(ev.reclamation_year <= t, ev.reclamation_year, NEVER),
                           np.where(st.afforest_year <= t, st.afforest_year, NEVER))
        new = planted & (start == t)
        sp = np.where(new, st.plantation_species, sp)
        sp2 = np.where(new, 0, sp2)
        share2 = np.where(new, 0.0, share2)
        cover_max = np.where(new, 0.75, cover_max)
        plant_age = np.where(planted, t - start + 1, 0)
        age = np.where(new, 1.0, age)
        # fire: stand replaced by pioneer regrowth (poplar) from the fire year
        burnt = ev.fire_year == t
        sp = np.where(burnt, 5, sp)
        sp2 = np.where(burnt, 0, sp2)
        share2 = np.where(burnt, 0.0, share2)
        age = np.where(burnt, 0.0, age)
        cover_max = np.where(burnt, 0.65, cover_max)
        # subsidence: a permanent loss and slower growth from the subsidence year
        subsided = (ev.damage_form == DamageForm.SUBSIDENCE) & (ev.damage_year <= t)
        growth = np.where(subsided, 0.7, 1.0)
        keep = np.where(subsided, 1.0 - ev.subsidence_depth, 1.0)

        has_trees = forest_stand | planted | (ev.fire_year <= t)
        potential = (1.0 - share2) * chapman_richards(sp, age) + share2 * chapman_richards(
            sp2, age)
        a = potential * st.site_index * agc_var * keep
        closure = np.where(planted, (1.0 - np.exp(-np.maximum(plant_age - 1, 0) / 5.0)) ** 1.5,
                           1.0 - np.exp(-age / 7.0))
        c = cover_max * closure * cover_var * np.where(subsided, 1.0 - 0.5 * (
            ev.subsidence_depth), 1.0)
        gone = ((ev.damage_year <= t) & (ev.damage_form != DamageForm.SUBSIDENCE)
                & ~(ev.reclamation_year <= t)) | (ev.road_year <= t) | ev.water | ~has_trees
        a = np.where(gone, 0.0, a)
        c = np.clip(np.where(gone, 0.0, c), 0.0, 0.95)
        is_forest = c >= SPARSE_MIN_COVER

        lc = st.landuse.copy()
        lc[forest_stand | planted | (ev.fire_year <= t)] = LandCover.GRASSLAND
        lc[is_forest] = LandCover.FOREST
        lc[(ev.damage_year <= t) & (ev.damage_form != DamageForm.SUBSIDENCE)
           & ~(ev.reclamation_year <= t)] = LandCover.MINING
        lc[ev.road_year <= t] = LandCover.BUILT
        lc[ev.water] = LandCover.WATER

        agc[i] = np.where(is_forest, a, 0.0)
        cover[i] = c
        species[i] = np.where(is_forest, sp, 0)
        ftype[i] = forest_type(c, np.where(is_forest, sp, 0), sp2, share2)
        landcover[i] = lc
        height[i] = np.where(is_forest, mean_height_m(sp, age), 0.0)
        if t in stand_years:
            stand_at[f"age_{t}"] = age.astype(np.float32)
            stand_at[f"species2_{t}"] = sp2.copy()
            stand_at[f"share2_{t}"] = share2.astype(np.float32)

    l1, l2 = truth_units(landcover == LandCover.FOREST, ev, years)
    return {
        "agc": agc, "cover": cover, "species": species, "forest_type": ftype,
        "landcover": landcover, "height": height, "units_l1": l1, "units_l2": l2,
        "damage_year": ev.damage_year, "plan_year": ev.plan_year,
        "reclamation_year": ev.reclamation_year, "in_extent": ev.in_extent,
        "water": ev.water,
        # the last year's stand state, for tree lists
        "age": age.astype(np.float32), "species2": sp2, "share2": share2.astype(np.float32),
        **stand_at,
    }


def truth_units(forest: np.ndarray, ev: Events, years: list[int]) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """True level-1 and level-2 units, from the simulator's own event history.

    Walks the years keeping each pixel's story (was it ever forest, always forest, forest just
    before its damage, forest since its reclamation) and names the unit the guide gives that
    story (REQUIREMENTS S3; precedence documented in docs/assessment-units.md).
    """
    l1 = np.zeros(forest.shape, np.uint8)
    l2 = np.zeros(forest.shape, np.uint8)
    ever = np.zeros(forest.shape[1:], bool)
    always = np.ones(forest.shape[1:], bool)
    forest_before_damage = np.zeros(forest.shape[1:], bool)
    forest_since_reclamation = np.zeros(forest.shape[1:], bool)
    first = years[0]
    for i, t in enumerate(years):
        f = forest[i]
        ever |= f
        always &= f
        # forest in [first, damage_year - 1] (or at the first year when damaged before it)
        before = (t < ev.damage_year) | ((ev.damage_year <= first) & (t == first))
        forest_before_damage |= f & before
        forest_since_reclamation |= f & (ev.reclamation_year <= t)
        obj = ever & ev.in_extent
        reclaimed = obj & forest_since_reclamation
        damaged = obj & ~reclaimed & (ev.damage_year <= t) & forest_before_damage
        future = (ev.plan_year != NEVER) | ((ev.damage_year > t) & (ev.damage_year != NEVER))
        tbd = obj & ~reclaimed & ~damaged & f & future
        persistent = obj & ~reclaimed & ~damaged & ~tbd & always
        other = obj & ~reclaimed & ~damaged & ~tbd & ~persistent
        unit = np.zeros(f.shape, np.uint8)
        unit[persistent] = AssessmentUnit.PERSISTENT
        unit[tbd] = AssessmentUnit.TO_BE_DAMAGED
        unit[damaged] = AssessmentUnit.DAMAGED
        unit[reclaimed] = AssessmentUnit.RECLAIMED
        unit[other] = AssessmentUnit.OTHER_DISTURBANCE
        form = np.zeros(f.shape, np.uint8)
        form[damaged] = ev.damage_form[damaged]
        plan_or_damage = np.where(ev.plan_year != NEVER, ev.plan_form, ev.damage_form)
        form[tbd] = plan_or_damage[tbd]
        form[reclaimed] = ev.damage_form[reclaimed]
        l1[i] = unit
        l2[i] = np.where(unit > 0, unit * 10 + form, 0)
    return l1, l2
