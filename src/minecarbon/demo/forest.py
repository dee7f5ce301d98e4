"""Stands, species and the yearly growth and disturbance of the simulated forest.

Everything here is a function of map coordinates (see :mod:`minecarbon.demo.noise`), so a block
of the site computed alone equals the same block computed as part of the whole.

Growth follows a Chapman–Richards curve of a *physiological age* that advances each year by the
climate growth modifier (:func:`minecarbon.demo.climate.growth_modifier`):
``AGC = A_max · SI · (1 − exp(−k·age))^p`` (t C/ha), canopy cover
``cover = cover_max · (1 − exp(−age/7))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minecarbon.demo.noise import fbm, hash_normal, hash_uniform
from minecarbon.demo.terrain import elevation_m
from minecarbon.types import ForestType, LandCover

STAND_SPACING_M = 210.0

#: code → (A_max t C/ha, k 1/yr, p, H_max m, D_max cm, conifer)
SPECIES_GROWTH: dict[int, tuple[float, float, float, float, float, bool]] = {
    1: (75.0, 0.045, 1.8, 18.0, 36.0, True),   # 油松 Pinus tabuliformis
    2: (50.0, 0.035, 1.6, 12.0, 30.0, True),   # 侧柏 Platycladus orientalis
    3: (85.0, 0.055, 1.9, 24.0, 38.0, True),   # 华北落叶松 Larix principis-rupprechtii
    4: (55.0, 0.090, 1.7, 16.0, 30.0, False),  # 刺槐 Robinia pseudoacacia
    5: (65.0, 0.080, 1.6, 22.0, 40.0, False),  # 杨树 Populus
    6: (80.0, 0.035, 1.5, 17.0, 42.0, False),  # 栎类 Quercus
    7: (60.0, 0.050, 1.6, 18.0, 32.0, False),  # 桦木 Betula
}
PLANTATION_SPECIES = (1, 2, 4, 5)
IS_CONIFER = np.array([False] + [SPECIES_GROWTH[c][5] for c in range(1, 8)])


def chapman_richards(species: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Potential AGC (t C/ha) of a fully stocked stand of ``species`` at ``age`` years."""
    out = np.zeros(np.shape(age), dtype=np.float64)
    for code, (a_max, k, p, *_rest) in SPECIES_GROWTH.items():
        sel = species == code
        out[sel] = a_max * (1.0 - np.exp(-k * np.maximum(age[sel], 0.0))) ** p
    return out


def mean_height_m(species: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Stand mean height at ``age`` (m): ``H_max · (1 − exp(−0.05·age))^1.2``."""
    h_max = np.array([0.0] + [SPECIES_GROWTH[c][3] for c in range(1, 8)])[species]
    return np.asarray(h_max * (1.0 - np.exp(-0.05 * np.maximum(age, 0.0))) ** 1.2, float)


def mean_dbh_cm(species: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Stand quadratic-mean DBH at ``age`` (cm): ``D_max · (1 − exp(−0.035·age))``."""
    d_max = np.array([0.0] + [SPECIES_GROWTH[c][4] for c in range(1, 8)])[species]
    return np.asarray(np.maximum(d_max * (1.0 - np.exp(-0.035 * np.maximum(age, 0.0))), 5.0),
                      float)


@dataclass
class Stands:
    """Per-pixel stand attributes (2-D arrays)."""

    stand_id: np.ndarray  # int64 hash of the stand's lattice cell
    landuse: np.ndarray  # LandCover code of the stand at the start
    species: np.ndarray  # dominant species code (0 for non-forest)
    species2: np.ndarray  # secondary species code (0 when pure)
    share2: np.ndarray  # share of the secondary species
    age0: np.ndarray  # age in the first year
    cover_max: np.ndarray
    site_index: np.ndarray
    afforest_year: np.ndarray  # Grain-for-Green planting year on farmland (9999 = never)
    plantation_species: np.ndarray  # species planted on reclaimed / afforested land


def _terrain_at(px: np.ndarray, py: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    d = 30.0
    z = elevation_m(px, py, seed).astype(np.float64)
    dzdx = (elevation_m(px + d, py, seed) - elevation_m(px - d, py, seed)) / (2 * d)
    dzdy = (elevation_m(px, py + d, seed) - elevation_m(px, py - d, seed)) / (2 * d)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    northness = -dzdy / np.maximum(np.hypot(dzdx, dzdy), 1e-9)  # facing north: ground falls north
    return z, slope, northness


def stands(x: np.ndarray, y: np.ndarray, seed: int, first_year: int) -> Stands:
    """Stands as cells of a jittered-lattice Voronoi diagram, with terrain-driven species."""
    s = STAND_SPACING_M
    cx, cy = np.floor(x / s).astype(np.int64), np.floor(y / s).astype(np.int64)
    best = np.full(x.shape, np.inf)
    bx, by = cx.copy(), cy.copy()
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            ix, iy = cx + dx, cy + dy
            px = (ix + 0.15 + 0.7 * hash_uniform(ix, iy, seed, 101)) * s
            py = (iy + 0.15 + 0.7 * hash_uniform(ix, iy, seed, 102)) * s
            dist = (x - px) ** 2 + (y - py) ** 2
            closer = dist < best
            best = np.where(closer, dist, best)
            bx, by = np.where(closer, ix, bx), np.where(closer, iy, by)
    px = (bx + 0.15 + 0.7 * hash_uniform(bx, by, seed, 101)) * s
    py = (by + 0.15 + 0.7 * hash_uniform(bx, by, seed, 102)) * s
    z, slope, north = _terrain_at(px, py, seed)

    def u(stream: int) -> np.ndarray:
        return hash_uniform(bx, by, seed, stream)

    landuse = np.full(x.shape, int(LandCover.GRASSLAND), dtype=np.uint8)
    crop = (slope < 6.0) & (u(103) < 0.65)
    p_forest = np.clip(0.50 + 0.30 * north + 0.15 * (slope > 15.0), 0.1, 0.9)
    forest = ~crop & (u(104) < p_forest)
    landuse[crop] = LandCover.CROPLAND
    landuse[~crop & ~forest & (u(105) < 0.4)] = LandCover.SHRUB
    landuse[forest] = LandCover.FOREST

    gumbel = [-np.log(-np.log(np.clip(u(110 + c), 1e-12, 1 - 1e-12))) * 0.6 for c in range(8)]
    score = {
        1: 0.9 - np.abs(z - 1390.0) / 120.0 + gumbel[1],
        2: (1380.0 - z) / 80.0 - north + (slope - 15.0) / 20.0 + gumbel[2],
        3: (z - 1460.0) / 50.0 + north + gumbel[3],
        4: (1370.0 - z) / 60.0 - 0.3 * north + gumbel[4],
        5: (1360.0 - z) / 50.0 - slope / 20.0 + gumbel[5],
        6: 0.8 - np.abs(z - 1400.0) / 80.0 + 0.5 * north + gumbel[6],
        7: (z - 1440.0) / 60.0 + 1.2 * north + gumbel[7],
    }
    codes = np.array(list(score))
    species = codes[np.argmax(np.stack(list(score.values())), axis=0)].astype(np.uint8)
    species[~forest] = 0

    mixed = forest & (u(120) < 0.25)
    conifer = IS_CONIFER[species]
    partner_conifer = np.where(u(121) < 0.5, 1, 3)
    partner_broad = np.where(u(121) < 0.5, 6, 7)
    species2 = np.where(mixed, np.where(conifer, partner_broad, partner_conifer), 0).astype(
        np.uint8)
    share2 = np.where(mixed, 0.36 + 0.14 * u(122), 0.0)

    planted = np.isin(species, PLANTATION_SPECIES)
    age0 = np.where(planted, 4.0 + 31.0 * u(123), 8.0 + 52.0 * u(124))
    sparse = forest & (u(125) < 0.12)
    cover_max = np.where(sparse, 0.12 + 0.07 * u(126), 0.45 + 0.45 * u(126))
    site_index = 0.75 + 0.5 * u(127)
    farmland = (landuse == LandCover.CROPLAND) | (landuse == LandCover.GRASSLAND)
    afforest = farmland & (u(128) < 0.10)
    afforest_year = np.where(afforest, first_year + 2 + np.floor(u(129) * 15), 9999)
    plantation_species = np.where(u(130) < 0.6, 4, 5).astype(np.uint8)
    plantation_species = np.where(afforest & (u(131) < 0.4), 1, plantation_species)
    stand_id = (bx * 1_000_003 + by).astype(np.int64)
    return Stands(stand_id, landuse, species, species2, share2, age0, cover_max, site_index,
                  afforest_year.astype(np.int32), plantation_species.astype(np.uint8))


def pixel_variation(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Within-stand multiplicative variation of AGC and canopy cover (smooth, ±10–15 %)."""
    agc = 1.0 + 0.10 * fbm(x, y, 120.0, seed, octaves=3, stream=140) + 0.03 * hash_normal(
        np.floor(x), np.floor(y), seed, 141)
    cover = 1.0 + 0.12 * fbm(x, y, 150.0, seed, octaves=3, stream=142)
    return agc, cover


def forest_type(cover: np.ndarray, species: np.ndarray, species2: np.ndarray,
                share2: np.ndarray, *, forest_min: float = 0.20, sparse_min: float = 0.10,
                dominant: float = 0.65) -> np.ndarray:
    """Forest type per requirement S2: sparse below ``forest_min`` cover, else by conifer share."""
    conifer_share = (1.0 - share2) * IS_CONIFER[species] + share2 * IS_CONIFER[species2]
    out = np.where(conifer_share >= dominant, ForestType.CONIFEROUS,
                   np.where(conifer_share <= 1.0 - dominant, ForestType.BROADLEAF,
                            ForestType.MIXED)).astype(np.uint8)
    out[cover < forest_min] = ForestType.SPARSE
    out[(cover < sparse_min) | (species == 0)] = 0
    return out
