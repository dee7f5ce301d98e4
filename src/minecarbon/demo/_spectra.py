"""Endmember spectra and phenology of the imagery simulator.

The endmember table gives surface reflectance in the OLI bands 2–7 (:data:`OLI_BANDS`), and the
Sentinel-2 bands (:data:`S2_BANDS`) are derived from it through a red-edge shape. The phenology
table drives :func:`leaf_on_fraction`, the share of full foliage of each species (and of grass,
crops and shrubs) by month; the per-code lookup rows (canopy endmember, leaf-on row, branch
share) serve the mixture of :func:`minecarbon.demo.imagery.surface_reflectance`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from minecarbon.demo._imagery_grid import Float

OLI_BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")  # OLI bands 2–7
#: Sentinel-2 MSI B2, B3, B4, B5, B6, B7, B8, B8A, B11, B12 by role.
S2_BANDS = ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08",
            "swir1", "swir2")
leaf_off_month = 3  # early-spring scene for the evergreen/deciduous RVI rule (requirement C2)
growing_season_months = (6, 7, 8, 9)
LEAF_OFF_MONTH = leaf_off_month
GROWING_SEASON_MONTHS = growing_season_months

# Phenology codes beyond the species codes 1–7 of species_groups.csv (0 = unknown broadleaf).
GRASS_CODE, CROP_CODE, SHRUB_CODE = 101, 102, 103

# Surface reflectance (0–1) in OLI bands 2–7, typical values read off and rounded by us from
# laboratory and field spectra convolved to broad bands: USGS Spectral Library v7 (Kokaly et al.
# 2017, USGS Data Series 1035: conifer and broadleaf leaves/canopies, dry grass, coal, water),
# ECOSTRESS Spectral Library v1 (Meerdink et al. 2019, RSE 230:111196; ASTER library v2,
# Baldridge et al. 2009, RSE 113:711–715: soils, man-made materials). Conifer crowns are darker
# than broadleaf crowns in the NIR (clumped needles, shadow); Robinia is the brightest broadleaf,
# Quercus the darkest. Loess is bright and rises towards red/SWIR (iron oxides, Loess Plateau);
# coal spoil is dark and flat; the water is the silty water of Loess-Plateau reservoirs.
_OLI_ENDMEMBERS: dict[str, tuple[float, float, float, float, float, float]] = {
    "pine": (0.025, 0.045, 0.028, 0.240, 0.120, 0.050),
    "arborvitae": (0.028, 0.050, 0.032, 0.220, 0.130, 0.058),
    "larch": (0.030, 0.062, 0.034, 0.310, 0.150, 0.062),
    "robinia": (0.030, 0.075, 0.034, 0.420, 0.190, 0.078),
    "populus": (0.032, 0.072, 0.038, 0.380, 0.180, 0.080),
    "quercus": (0.026, 0.058, 0.030, 0.320, 0.160, 0.068),
    "betula": (0.030, 0.068, 0.034, 0.360, 0.170, 0.072),
    "broadleaf": (0.029, 0.065, 0.034, 0.360, 0.170, 0.074),
    "shrub": (0.035, 0.068, 0.050, 0.300, 0.200, 0.100),
    "branches": (0.060, 0.075, 0.095, 0.170, 0.230, 0.180),
    "grass": (0.040, 0.080, 0.060, 0.300, 0.220, 0.120),
    "dry_grass": (0.070, 0.100, 0.130, 0.220, 0.300, 0.220),
    "crop": (0.030, 0.080, 0.040, 0.420, 0.210, 0.090),
    "loess": (0.100, 0.150, 0.210, 0.260, 0.340, 0.290),
    "coal_spoil": (0.050, 0.053, 0.057, 0.065, 0.075, 0.070),
    "water": (0.060, 0.075, 0.055, 0.030, 0.012, 0.008),
    "built": (0.100, 0.110, 0.120, 0.160, 0.200, 0.180),
    "shadow": (0.010, 0.012, 0.010, 0.030, 0.015, 0.010),
    "cloud": (0.450, 0.450, 0.460, 0.480, 0.350, 0.250),
}
ENDMEMBER_NAMES = tuple(_OLI_ENDMEMBERS)
_EM = {name: i for i, name in enumerate(ENDMEMBER_NAMES)}
# Sentinel-2: share of the red→NIR step (665→865 nm) reached at B5, B6, B7, B8, B8A. Green
# leaves have a steep red edge; soils, water and clouds change about linearly with wavelength.
_RE_VEG = np.array([0.12, 0.55, 0.90, 0.97, 1.0])
_RE_FLAT = np.array([0.24, 0.42, 0.60, 0.88, 1.0])
_CANOPY_BY_SPECIES = {1: "pine", 2: "arborvitae", 3: "larch", 4: "robinia", 5: "populus",
                      6: "quercus", 7: "betula"}
_BRANCH_SHARE = {3: 0.30}  # share of a leafless crown that is wood (larch twigs are sparse)
# code: (winter floor, green-up month, senescence month, transition width, peak month). Months
# are mid-month numbers. Pine and arborvitae keep old needles (floor 0.8); Populus leafs out in
# April and peaks in June, Robinia leafs out late (May) and peaks in July, larch greens later and
# peaks in August; Loess-Plateau grass peaks with the July–August rains, spring maize in Jul–Aug.
_PHENOLOGY: dict[int, tuple[float, float, float, float, float]] = {
    0: (0.00, 4.8, 10.0, 0.40, 7.0),
    1: (0.80, 4.5, 11.0, 0.60, 7.0),
    2: (0.85, 4.5, 11.0, 0.60, 7.5),
    3: (0.00, 5.0, 10.1, 0.35, 8.2),
    4: (0.00, 5.3, 10.2, 0.35, 6.8),
    5: (0.00, 4.0, 9.6, 0.40, 5.8),
    6: (0.00, 4.8, 10.0, 0.40, 7.5),
    7: (0.00, 4.5, 9.7, 0.40, 6.5),
    GRASS_CODE: (0.05, 5.0, 9.8, 0.60, 8.0),
    CROP_CODE: (0.00, 5.8, 9.3, 0.40, 7.8),
    SHRUB_CODE: (0.05, 4.6, 10.0, 0.50, 7.0),
}
_PHENO_TABLE = np.array(list(_PHENOLOGY.values()))
_PHENO_ROW = np.zeros(256, dtype=np.intp)
_CANOPY_ROW = np.full(256, _EM["broadleaf"], dtype=np.intp)
_BRANCH = np.full(256, 0.40)
for _row, _code in enumerate(_PHENOLOGY):
    _PHENO_ROW[_code] = _row
for _code, _name in _CANOPY_BY_SPECIES.items():
    _CANOPY_ROW[_code] = _EM[_name]
for _code, _share in _BRANCH_SHARE.items():
    _BRANCH[_code] = _share


def _s2_row(oli: tuple[float, ...]) -> list[float]:
    blue, green, red, nir, swir1, swir2 = oli
    w = min(max(((nir - red) / (nir + red) - 0.2) / 0.5, 0.0), 1.0)
    share = w * _RE_VEG + (1.0 - w) * _RE_FLAT
    return [blue, green, red, *(red + share * (nir - red)).tolist(), swir1, swir2]


_TABLES: dict[str, Float] = {
    "oli": np.array(list(_OLI_ENDMEMBERS.values())),
    "s2": np.array([_s2_row(v) for v in _OLI_ENDMEMBERS.values()]),
}
# How much each band behaves like NIR (multiple scattering gain with biomass).
_NIR_WEIGHT: dict[str, Float] = {
    "oli": np.array([0.0, 0.0, 0.0, 1.0, 0.0, 0.0]),
    "s2": np.array([0.0, 0.0, 0.0, *_RE_VEG.tolist(), 0.0, 0.0]),
}


def endmembers(sensor: str = "oli") -> dict[str, Float]:
    """The endmember spectra (name → reflectance per band of ``OLI_BANDS`` or ``S2_BANDS``)."""
    table = _table(sensor)
    return {name: table[i].copy() for i, name in enumerate(ENDMEMBER_NAMES)}


def _table(sensor: str) -> Float:
    if sensor not in _TABLES:
        raise ValueError(f"unknown sensor {sensor!r}: use 'oli' (Landsat 8/9) or 's2' (Sentinel-2)")
    return _TABLES[sensor]


def _sigmoid(z: Float) -> Float:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def leaf_on_fraction(species: ArrayLike, month: ArrayLike) -> Float:
    """Share of full foliage (0–1) of a species (or GRASS/CROP/SHRUB_CODE) in a month (1–12).

    A double logistic (green-up, senescence) with a species-specific summer peak; evergreen
    conifers keep a floor of 0.8–0.85. Unknown codes follow a generic deciduous broadleaf.
    """
    m = np.asarray(month, dtype=np.float64)
    if np.any((m < 1.0) | (m >= 13.0)):
        raise ValueError(f"month must be in 1–12, got {month!r}")
    codes = np.clip(np.asarray(species, dtype=np.int64), 0, 255)
    p = _PHENO_TABLE[_PHENO_ROW[codes]]
    floor, up, down, width, peak = (p[..., i] for i in range(5))
    season = _sigmoid((m - up) / width) * _sigmoid((down - m) / width)
    shape = 0.7 + 0.3 * np.exp(-(((m - peak) / 1.4) ** 2))
    out: Float = floor + (1.0 - floor) * season * shape
    return out
