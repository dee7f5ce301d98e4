"""Synthetic Landsat 8 OLI (and Sentinel-2 MSI) surface reflectance of the simulated mine.

Every function is pure numpy of per-pixel truth fields and map coordinates, so it runs per dask
block: all randomness comes from :mod:`minecarbon.demo.noise`, hashed from coordinates, and a
scene computed block by block equals the scene computed whole.

Model: a linear mixture of endmember spectra per pixel. Forest pixels mix a species canopy (its
leaf-on share follows :func:`leaf_on_fraction`), branches of leafless crowns and the background
(green grass in summer, dry grass and loess soil otherwise); the canopy spectrum saturates with
above-ground carbon through ``S = 1 − exp(−AGC / K_SATURATION_T_PER_HA)``. Terrain illumination
multiplies, a small per-scene gain/offset and per-pixel sensor noise are added. Coordinates are
map metres, ``x`` east and ``y`` north; the sun azimuth is clockwise from north.

Speed (the simulator renders ~100 scenes per site): on a pixel grid the noise fields are evaluated
from the row and column coordinates, each class is mixed on its own pixels only, and shifted cloud
masks (dilation, shadow) are windows of one evaluation on the union of the shifted coordinates.
All of this performs the per-pixel arithmetic of the plain formulas, so the values are the same as
a pixel-by-pixel evaluation and independent of the block layout.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.demo.noise import fbm, hash_normal, hash_normals, hash_uniform, value_noise
from minecarbon.types import LandCover

Float = NDArray[np.float64]
Bool = NDArray[np.bool_]

OLI_BANDS = ("blue", "green", "red", "nir", "swir1", "swir2")  # OLI bands 2–7
#: Sentinel-2 MSI B2, B3, B4, B5, B6, B7, B8, B8A, B11, B12 by role.
S2_BANDS = ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08",
            "swir1", "swir2")
leaf_off_month = 3  # early-spring scene for the evergreen/deciduous RVI rule (requirement C2)
growing_season_months = (6, 7, 8, 9)
LEAF_OFF_MONTH = leaf_off_month
GROWING_SEASON_MONTHS = growing_season_months

#: AGC (t C/ha) at which the canopy signal reaches 63 % of its saturation level. Optical
#: reflectance saturates at roughly 100–150 t/ha biomass (≈ 50–70 t C/ha; Lu et al. 2016,
#: Int. J. Digital Earth 9:63–105); with k = 30 the signal is 93 % saturated at 80 t C/ha.
K_SATURATION_T_PER_HA = 30.0
SENSOR_NOISE_SIGMA = 0.005  # per-pixel reflectance noise (1 σ)
C2_SCALE, C2_OFFSET = 2.75e-5, -0.2  # Landsat Collection-2 Level-2 SR: ρ = DN × scale + offset

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
# Within-class brightness variation (± fraction) by land-cover code.
_CLASS_VARIATION = np.array([0.0, 0.04, 0.06, 0.06, 0.06, 0.10, 0.10, 0.08])
# Noise streams (distinct bases so fields are independent).
_S_SOIL, _S_BRIGHT, _S_COVER, _S_CROP, _S_MINE, _S_WATER, _S_BUILT = range(1, 8)
_S_NOISE, _S_RADIO, _S_CLOUD, _S_CLOUD_SPEC, _S_SHADOW = 1_000, 2_000, 3_000, 4_000, 5_000
CLOUD_SCALE_M = 500.0  # largest cell scale of the cloud fbm (fair-weather cumulus, 0.1–1 km)
_BLOCK_PIXELS = 32_768  # pixels per piece of the per-pixel arithmetic (keeps it in cache)


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


def _lattice(coord: Float) -> NDArray[np.int64]:
    """Integer lattice of 1/8 m from map coordinates, for per-pixel hashing."""
    return np.rint(coord * 8.0).astype(np.int64)


def _scene_stream(base: int, year: int, month: int) -> int:
    return base * 100_000 + (year % 5000) * 13 + month


def _grid_axes(xs: Float, ys: Float) -> tuple[Float, Float] | None:
    """(x of each column, y of each row) of a north-up pixel grid, else None.

    A grid here: ``x`` varies along rows only and ``y`` along columns only. Noise of the row and
    column vectors broadcast against each other equals noise of the full arrays, at a fraction of
    the cost (see :mod:`minecarbon.demo.noise`).
    """
    if xs.ndim != 2 or xs.shape != ys.shape or xs.size == 0:
        return None
    if not ((xs == xs[:1]).all() and (ys == ys[:, :1]).all()):
        return None
    return xs[0], ys[:, 0]


def _noise_coords(xs: Float, ys: Float) -> tuple[Float, Float]:
    """Coordinates to hand to the noise functions: row/column vectors on a grid, else as given."""
    axes = _grid_axes(xs, ys)
    return (xs, ys) if axes is None else (axes[0][None, :], axes[1][:, None])


def surface_reflectance(landcover: ArrayLike, cover: ArrayLike, species: ArrayLike,
                        agc_t_per_ha: ArrayLike, illumination: ArrayLike, month: int,
                        x: ArrayLike, y: ArrayLike, seed: int, year: int, *,
                        sensor: str = "oli") -> NDArray[np.float32]:
    """Surface reflectance (bands, ny, nx), float32 in [0, 1]; NaN where the land cover is not 1–7.

    ``cover`` is canopy cover (0–1) for forest and shrub pixels and ignored elsewhere; ``species``
    the species code of forest pixels; ``agc_t_per_ha`` the true AGC (t C/ha, NaN read as 0);
    ``illumination`` the terrain factor cos(i)/cos(z); ``x``, ``y`` pixel-centre map coordinates.
    """
    lc = np.asarray(landcover, dtype=np.int64)
    arrays = [np.asarray(a, dtype=np.float64) for a in (cover, agc_t_per_ha, illumination, x, y)]
    if any(a.shape != lc.shape for a in arrays) or np.shape(species) != lc.shape:
        raise ValueError("landcover, cover, species, agc, illumination, x and y must share a shape")
    table = _table(sensor)
    # Leaf-on share of every code 0–255 this month (validates the month even on empty blocks).
    leaf_on = leaf_on_fraction(np.arange(256), month)
    sp = np.asarray(species, dtype=np.int64)
    if lc.ndim == 0:
        one = surface_reflectance(lc[None], arrays[0][None], sp[None], arrays[1][None],
                                  arrays[2][None], month, arrays[3][None], arrays[4][None], seed,
                                  year, sensor=sensor)
        return one[:, 0]
    nx_, ny_ = _noise_coords(arrays[3], arrays[4])

    def field(scale_m: float, octaves: int, stream: int) -> Float:
        out: Float = np.broadcast_to(fbm(nx_, ny_, scale_m, seed, octaves=octaves, stream=stream),
                                     lc.shape)
        return out

    # Noise fields, only for the classes present (each is a function of coordinates alone).
    counts = np.bincount(np.clip(lc, 0, 8).ravel(), minlength=9)
    present = {code for code in range(1, 8) if counts[code]}
    fields: dict[int, Float] = {}
    if present & {LandCover.FOREST, LandCover.SHRUB}:
        fields[_S_SOIL] = field(500.0, 3, _S_SOIL)
    if LandCover.GRASSLAND in present:
        fields[_S_COVER] = field(300.0, 3, _S_COVER)
    if LandCover.CROPLAND in present:
        noise = value_noise(nx_, ny_, 180.0, seed, _S_CROP * 10_000 + year)
        fields[_S_CROP] = np.broadcast_to(noise, lc.shape)
    if LandCover.WATER in present:
        fields[_S_WATER] = field(400.0, 2, _S_WATER)
    if LandCover.BUILT in present:
        fields[_S_BUILT] = field(200.0, 2, _S_BUILT)
    if LandCover.MINING in present:
        fields[_S_MINE] = field(350.0, 3, _S_MINE)
    out: NDArray[np.float32] = np.full((table.shape[1], *lc.shape), np.nan, dtype=np.float32)
    if not present:
        return out
    fields[_S_BRIGHT] = field(400.0, 3, _S_BRIGHT)
    scene = _scene_stream(_S_RADIO, year, month)
    key = np.array([0])
    radiometry = []  # per-band (gain, offset, sensor-noise stream)
    for b in range(table.shape[1]):
        key[0] = b
        radiometry.append((1.0 + 0.01 * hash_normal(key, key, seed, scene)[0],
                           0.001 * hash_normal(key, key, seed, scene + 50_000)[0],
                           _scene_stream(_S_NOISE + b, year, month)))
    ix, iy = _lattice(nx_), _lattice(ny_)
    # Blocks of rows small enough for the temporaries to stay in cache (same values).
    step = max(1, _BLOCK_PIXELS // max(1, lc[0].size))
    for start in range(0, lc.shape[0], step):
        rows = slice(start, start + step)
        lc_b = lc[rows]

        def part(a: np.ndarray, rows: slice = rows) -> np.ndarray:
            return a if a.shape[0] == 1 < lc.shape[0] else a[rows]

        rho = _mix(lc_b, arrays[0][rows], arrays[1][rows], sp[rows], month, leaf_on,
                   {k: v[rows] for k, v in fields.items()}, table, sensor)
        illum = np.nan_to_num(arrays[2][rows], nan=1.0)
        noises = hash_normals(part(ix), part(iy), seed, [r[2] for r in radiometry])
        for b, (band_gain, band_offset, _) in enumerate(radiometry):
            r = rho[b]
            r *= illum
            r *= band_gain
            r += band_offset
            noise = noises[b]
            noise *= SENSOR_NOISE_SIGMA
            r += noise
            np.clip(r, 0.0, 1.0, out=r)
            out[b, rows] = r
    return out


def _mix(lc: NDArray[np.int64], cover: Float, agc_t_per_ha: Float, sp: NDArray[np.int64],
         month: int, leaf_on_by_code: Float, fields: dict[int, Float], table: Float,
         sensor: str) -> Float:
    """Endmember mixture × within-class brightness of a block (bands, ...); NaN off classes 1–7.

    Each class is mixed on its own pixels only, as (bands, n) arrays.
    """
    g, ls = leaf_on_by_code[GRASS_CODE], leaf_on_by_code[SHRUB_CODE]

    def em(name: str) -> Float:
        spectrum: Float = table[_EM[name]][:, None]
        return spectrum

    def background(m: Bool) -> Float:
        # Green grass in the growing season, dry grass and loess otherwise.
        soil = np.clip(0.5 + 0.4 * fields[_S_SOIL][m], 0.0, 1.0)
        dry = soil * em("loess") + (1.0 - soil) * em("dry_grass")
        out: Float = g * em("grass") + (1.0 - g) * dry
        return out

    rho = np.full((table.shape[1], *lc.shape), np.nan)
    for code in range(1, 8):
        m = lc == code
        if not m.any():
            continue
        if code == LandCover.FOREST:
            # Leaf-on canopy (saturating with AGC), leafless crowns (branches), background.
            cov = np.clip(np.nan_to_num(cover[m]), 0.0, 1.0)
            agc = np.clip(np.nan_to_num(agc_t_per_ha[m]), 0.0, None)
            codes = np.clip(sp[m], 0, 255)
            bg = background(m)
            sat = 1.0 - np.exp(-agc / K_SATURATION_T_PER_HA)
            w_nir = _NIR_WEIGHT[sensor][:, None]
            gain = 1.0 + w_nir * (0.55 * sat - 0.45) + (1.0 - w_nir) * 0.35 * (1.0 - sat)
            leaf = table[_CANOPY_ROW[codes]].T
            crown_shadow = 0.2 * sat
            canopy = (1.0 - crown_shadow) * leaf * gain + crown_shadow * em("shadow")
            on = leaf_on_by_code[codes]
            branch = _BRANCH[codes]
            bare_crown = branch * em("branches") + (1.0 - branch) * bg
            spectrum = cov * (on * canopy + (1.0 - on) * bare_crown) + (1.0 - cov) * bg
        elif code == LandCover.SHRUB:
            # Shrub canopy over the background.
            cov = np.clip(np.nan_to_num(cover[m]), 0.0, 1.0)
            bg = background(m)
            shrub_cover = np.where(cov > 0.0, cov, 0.4)
            shrubs = ls * em("shrub") + (1.0 - ls) * (0.5 * em("branches") + 0.5 * bg)
            spectrum = shrub_cover * shrubs + (1.0 - shrub_cover) * bg
        elif code == LandCover.GRASSLAND:
            # Patchy grass cover on loess.
            fg = np.clip(0.75 + 0.3 * fields[_S_COVER][m], 0.3, 1.0)
            grass = g * em("grass") + (1.0 - g) * em("dry_grass")
            spectrum = fg * grass + (1.0 - fg) * em("loess")
        elif code == LandCover.CROPLAND:
            # Field-scale vigour changing every year, ploughed loess before and after.
            vigour = np.clip(0.75 + 0.4 * fields[_S_CROP][m], 0.2, 1.0)
            gc = leaf_on_by_code[CROP_CODE] * vigour
            spectrum = gc * em("crop") + (1.0 - gc) * 0.9 * em("loess")
        elif code == LandCover.WATER:  # silty water
            turbid = np.clip(0.05 + 0.1 * fields[_S_WATER][m], 0.0, 0.1)
            spectrum = (1.0 - turbid) * em("water") + turbid * em("loess")
        elif code == LandCover.BUILT:  # built-up, with loess dust
            dust = np.clip(0.2 + 0.3 * fields[_S_BUILT][m], 0.0, 0.5)
            spectrum = (1.0 - dust) * em("built") + dust * em("loess")
        else:  # mining land: coal spoil and bare loess
            coal = np.clip(0.55 + 0.9 * fields[_S_MINE][m], 0.0, 1.0)
            spectrum = coal * em("coal_spoil") + (1.0 - coal) * em("loess")
        # Within-class brightness variation.
        spectrum *= 1.0 + _CLASS_VARIATION[code] * fields[_S_BRIGHT][m]
        rho[:, m] = spectrum
    return rho


@lru_cache(maxsize=1)
def _cloud_quantiles() -> Float:
    """Sorted sample of the cloud fbm at 40 000 far-apart points (its distribution function)."""
    i = np.arange(40_000)
    px = hash_uniform(i, np.zeros_like(i), 7, 1) * 1e7
    py = hash_uniform(i, np.zeros_like(i), 7, 2) * 1e7
    return np.sort(fbm(px, py, CLOUD_SCALE_M, 7, octaves=4, stream=3))


def _cloud_threshold(cloud_fraction: float) -> float:
    if not 0.0 <= cloud_fraction <= 1.0:
        raise ValueError(f"cloud_fraction must be in 0–1, got {cloud_fraction}")
    if cloud_fraction == 0.0:
        return np.inf
    if cloud_fraction == 1.0:
        return -np.inf
    return float(np.quantile(_cloud_quantiles(), 1.0 - cloud_fraction))


def _cloud_mask(x: Float, y: Float, seed: int, year: int, month: int, threshold: float) -> Bool:
    field = fbm(x, y, CLOUD_SCALE_M, seed, octaves=4, stream=_scene_stream(_S_CLOUD, year, month))
    mask: Bool = field > threshold
    return mask


def _shifted_cloud_masks(xs: Float, ys: Float, shifts: list[tuple[float, float]], seed: int,
                         year: int, month: int, threshold: float) -> list[Bool]:
    """``[_cloud_mask(xs + dx, ys + dy, ...) for dx, dy in shifts]``, evaluated in one go.

    On a pixel grid the shifted grids overlap: the field is computed once on the union of the
    shifted column and row coordinates (each coordinate computed exactly as ``xs + dx``, so every
    value equals the direct evaluation and stays chunk-independent) and every mask is a window of
    it — a slice when the shift is a whole number of pixels.
    """
    axes = _grid_axes(xs, ys)
    if axes is None or not (np.isfinite(axes[0]).all() and np.isfinite(axes[1]).all()):
        return [_cloud_mask(xs + dx, ys + dy, seed, year, month, threshold) for dx, dy in shifts]
    if threshold in (np.inf, -np.inf):  # no cloud at all / all cloud: fbm is finite here
        return [np.full(xs.shape, threshold < 0) for _ in shifts]
    xr, yc = axes
    cols = [xr + dx for dx, _ in shifts]
    rows = [yc + dy for _, dy in shifts]
    ux, uy = np.unique(np.concatenate(cols)), np.unique(np.concatenate(rows))
    union = _cloud_mask(ux[None, :], uy[:, None], seed, year, month, threshold)
    out = []
    for col, row in zip(cols, rows, strict=True):
        window = union[_positions(uy, row)][:, _positions(ux, col)]
        out.append(np.ascontiguousarray(window))
    return out


def _positions(sorted_values: Float, values: Float) -> slice | NDArray[np.intp]:
    """Where ``values`` (all present) sit in ``sorted_values``: a slice when they are a run."""
    pos = np.searchsorted(sorted_values, values)
    if pos.size > 1:
        step = int(pos[1] - pos[0])
        if step in (1, -1) and np.array_equal(np.diff(pos), np.full(pos.size - 1, step)):
            stop = int(pos[-1]) + step
            return slice(int(pos[0]), None if stop < 0 else stop, step)
    return pos


def shadow_offset_m(sun_azimuth_deg: float = 135.0, sun_elevation_deg: float = 60.0,
                    cloud_height_m: float = 1500.0, pixel_size_m: float = 30.0
                    ) -> tuple[float, float]:
    """Ground offset (east, north) in metres from a cloud to its shadow, whole pixels.

    The shadow lies ``height / tan(elevation)`` away from the cloud, opposite to the sun.
    """
    d = cloud_height_m / np.tan(np.radians(sun_elevation_deg))
    az = np.radians(sun_azimuth_deg)
    east = -round(d * np.sin(az) / pixel_size_m) * pixel_size_m
    north = -round(d * np.cos(az) / pixel_size_m) * pixel_size_m
    return float(east), float(north)


def cloud_and_shadow(x: ArrayLike, y: ArrayLike, seed: int, year: int, month: int,
                     cloud_fraction: float, pixel_size_m: float = 30.0,
                     sun_azimuth_deg: float = 135.0, cloud_height_m: float = 1500.0,
                     sun_elevation_deg: float = 60.0) -> tuple[Bool, Bool]:
    """Cumulus-like cloud mask (thresholded fbm, ≈ ``cloud_fraction`` of an area) and its shadow.

    The shadow is the cloud field evaluated at coordinates shifted towards the sun (so it stays
    chunk-independent), excluding cloud pixels.
    """
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    thr = _cloud_threshold(cloud_fraction)
    east, north = shadow_offset_m(sun_azimuth_deg, sun_elevation_deg, cloud_height_m,
                                  pixel_size_m)
    # x − east is x + (−east) exactly (IEEE subtraction adds the negation).
    cloud, shifted = _shifted_cloud_masks(xs, ys, [(0.0, 0.0), (-east, -north)], seed, year,
                                          month, thr)
    shadow = shifted & ~cloud
    return cloud, shadow


def dilated_cloud(x: ArrayLike, y: ArrayLike, seed: int, year: int, month: int,
                  cloud_fraction: float, pixel_size_m: float = 30.0, radius_px: int = 1) -> Bool:
    """The cloud mask dilated by ``radius_px`` pixels: the noise at neighbouring coordinates."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    thr = _cloud_threshold(cloud_fraction)
    shifts = [(di * pixel_size_m, dj * pixel_size_m)
              for di in range(-radius_px, radius_px + 1)
              for dj in range(-radius_px, radius_px + 1)
              if di * di + dj * dj <= radius_px * radius_px + radius_px]
    out = np.zeros(xs.shape, dtype=bool)
    for mask in _shifted_cloud_masks(xs, ys, shifts, seed, year, month, thr):
        out |= mask
    return out


def apply_clouds(reflectance: ArrayLike, cloud: ArrayLike, shadow: ArrayLike, x: ArrayLike,
                 y: ArrayLike, seed: int, year: int, month: int, *,
                 sensor: str = "oli") -> NDArray[np.float32]:
    """Replace cloud pixels by a bright cloud spectrum and darken shadow pixels (× 0.35–0.5)."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    cl, sh = np.asarray(cloud, dtype=bool), np.asarray(shadow, dtype=bool)
    em_cloud = _table(sensor)[_EM["cloud"]]
    rho_in = np.asarray(reflectance)
    if not (rho_in.ndim == 3 and rho_in.shape[0] == em_cloud.size
            and rho_in.shape[1:] == cl.shape == sh.shape == xs.shape == ys.shape):
        return _apply_clouds_broadcast(rho_in, cl, sh, xs, ys, seed, year, month, em_cloud)
    # Clear pixels keep their reflectance (rounding to float32 and clipping to [0, 1] commute);
    # only cloud and shadow pixels are recomputed, with the arithmetic of the general formula.
    if rho_in.dtype == np.float32:
        out: NDArray[np.float32] = np.clip(rho_in, 0.0, 1.0)
    else:
        out = np.clip(rho_in.astype(np.float64), 0.0, 1.0).astype(np.float32)
    nx_, ny_ = _noise_coords(xs, ys)
    shade = sh & ~cl
    if shade.any():
        noise = value_noise(nx_, ny_, 300.0, seed, _scene_stream(_S_SHADOW, year, month))
        dark = 0.425 + 0.075 * np.broadcast_to(noise, cl.shape)[shade]
        darkened = rho_in[:, shade].astype(np.float64) * dark
        out[:, shade] = np.clip(darkened, 0.0, 1.0)
    if cl.any():
        noise = value_noise(nx_, ny_, 200.0, seed, _scene_stream(_S_CLOUD_SPEC, year, month))
        bright = 0.9 + 0.1 * np.broadcast_to(noise, cl.shape)[cl]
        out[:, cl] = np.clip(em_cloud[:, None] * bright, 0.0, 1.0)
    return out


def _apply_clouds_broadcast(rho_in: np.ndarray, cl: Bool, sh: Bool, xs: Float, ys: Float,
                            seed: int, year: int, month: int, em_cloud: Float
                            ) -> NDArray[np.float32]:
    """:func:`apply_clouds` for arrays of other shapes, by plain broadcasting."""
    rho = np.asarray(rho_in, dtype=np.float64)
    stream = _scene_stream(_S_CLOUD_SPEC, year, month)
    bright = 0.9 + 0.1 * value_noise(xs, ys, 200.0, seed, stream)
    cloud_rho = em_cloud[:, None, None] * bright
    dark = 0.425 + 0.075 * value_noise(xs, ys, 300.0, seed, _scene_stream(_S_SHADOW, year, month))
    out = np.where(cl, cloud_rho, np.where(sh & ~cl, rho * dark, rho))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- other Landsat sensors
#: Landsat 7 ETM+ SLC-off gaps (after 31 May 2003). Without the scan-line corrector each
#: 16-line scan (480 m along track) zigzags, leaving wedge-shaped gaps that are absent in a
#: strip about 22 km wide at nadir and widen linearly toward the swath edges, where about half
#: of each scan period is lost; about 22 % of a scene is missing (USGS, "Landsat 7 SLC-off
#: products: background"; Storey et al. 2005). Our model of that geometry: gap share
#: f(d) = 0.5 · clip((|d| − 11 km) / (92.5 km − 11 km), 0, 1) at across-track distance d, the
#: gap occupying a fraction f of every 480 m scan period, at a phase that differs per scene.
SLC_SCAN_PERIOD_M = 480.0
SLC_GAP_FREE_HALF_WIDTH_M = 11_000.0
SLC_HALF_SWATH_M = 92_500.0
SLC_EDGE_GAP_SHARE = 0.5
#: Across-track distance of the simulated site's centre from the nadir of WRS-2 path 125, and
#: the azimuth of the descending ground track at 37° N (clockwise from north).
SITE_ACROSS_TRACK_M = 55_000.0
TRACK_AZIMUTH_DEG = 193.0
_S_SLC = 6_000


def slc_gap_share(across_track_m: ArrayLike) -> Float:
    """Share of each scan period lost in an SLC-off gap at an across-track distance."""
    d = np.abs(np.asarray(across_track_m, dtype=np.float64))
    ramp = (d - SLC_GAP_FREE_HALF_WIDTH_M) / (SLC_HALF_SWATH_M - SLC_GAP_FREE_HALF_WIDTH_M)
    out: Float = SLC_EDGE_GAP_SHARE * np.clip(ramp, 0.0, 1.0)
    return out


def slc_off_gaps(x: ArrayLike, y: ArrayLike, centre: tuple[float, float], seed: int,
                 year: int, month: int, day: int) -> Bool:
    """Pixels of an SLC-off ETM+ scene that fall in a gap (map metres; the site centre given)."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    az = np.deg2rad(TRACK_AZIMUTH_DEG)
    dx, dy = xs - centre[0], ys - centre[1]
    along = dx * np.sin(az) + dy * np.cos(az)
    across = SITE_ACROSS_TRACK_M + dx * np.cos(az) - dy * np.sin(az)
    stream = _S_SLC + (year % 5000) * 400 + month * 32 + day
    phase = float(hash_uniform(np.zeros(1, np.int64), np.zeros(1, np.int64), seed, stream)[0])
    position = np.mod(along / SLC_SCAN_PERIOD_M + phase, 1.0)
    out: Bool = position < slc_gap_share(across)
    return out


#: ETM+ / TM surface-reflectance gain per band (:data:`OLI_BANDS` order) of the simulated
#: Landsat 5 TM: the ratio of means of clear growing-season pixels seen by both sensors at most
#: 32 days apart (42 scene pairs, 4347 stable pixels, 1999–2011) in the real Harvard Forest
#: series of ``../shared/data`` (yatsm, WRS-2 p013 r030), fitted with
#: :func:`minecarbon.features.crosscal.fit_gains`; TM's NDVI there is 0.046 below ETM+'s.
ETM_PER_TM_GAIN = (0.99, 0.92, 0.78, 1.04, 1.01, 0.97)


def to_sensor(reflectance: ArrayLike, sensor: str) -> NDArray[np.float32]:
    """OLI-like reflectance (bands of :data:`OLI_BANDS`) as another Landsat sensor records it.

    ETM+ surface reflectance is the inverse of the published ETM+ → OLI functions (Roy et al.
    2016, Table 2; ``standard/data/harmonisation.csv``); TM is ETM+'s divided by
    :data:`ETM_PER_TM_GAIN` (measured on real TM/ETM+ pairs): the simulator's own relations
    between the sensors, which harmonisation must undo. OLI-2 equals OLI.
    """
    from minecarbon.standard.harmonisation import transforms

    rho = np.asarray(reflectance, dtype=np.float64)
    source = {"tm": "landsat5", "etm": "landsat7"}.get(sensor)
    if source is None:
        return rho.astype(np.float32)
    table = transforms("landsat7", "landsat8") or {}
    out = np.empty_like(rho)
    for i, role in enumerate(OLI_BANDS):
        t = table[role]
        out[i] = (rho[i] - t.intercept) / t.slope
        if source == "landsat5":
            out[i] /= ETM_PER_TM_GAIN[i]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def to_landsat_c2_l2(reflectance: ArrayLike) -> NDArray[np.uint16]:
    """Collection-2 Level-2 SR numbers: round((ρ + 0.2) / 2.75e-5) in 1–65535; NaN → 0 (fill)."""
    rho = np.asarray(reflectance)
    dn: NDArray[np.uint16] = np.empty(rho.shape, dtype=np.uint16)
    flat_in, flat_out = rho.reshape(-1), dn.reshape(-1)
    buf = np.empty(max(1, min(flat_in.size, _BLOCK_PIXELS * 4)))
    with np.errstate(over="ignore"):
        # In cache-sized pieces; ±inf give ±inf here as their nan_to_num stand-ins ±1.8e308 do.
        for start in range(0, flat_in.size, buf.size):
            part = flat_in[start:start + buf.size]
            r = buf[:part.size]
            np.copyto(r, part, casting="unsafe")
            fill = np.isnan(r)
            r -= C2_OFFSET
            r /= C2_SCALE
            np.rint(r, out=r)
            np.clip(r, 1, 65535, out=r)
            r[fill] = 0
            flat_out[start:start + part.size] = r
    return dn


def from_landsat_c2_l2(dn: ArrayLike) -> NDArray[np.float32]:
    """Reflectance from Collection-2 Level-2 SR numbers: DN × 2.75e-5 − 0.2; fill (0) → NaN."""
    d = np.asarray(dn)
    rho = d.astype(np.float64) * C2_SCALE + C2_OFFSET
    return np.where(d == 0, np.nan, rho).astype(np.float32)


def _dilate_1px(mask: Bool) -> Bool:
    """3 × 3 dilation of an array (needs a 1-pixel overlap between blocks to be exact)."""
    padded = np.pad(mask, 1)
    out = np.zeros_like(mask)
    ny, nx = mask.shape
    for di in range(3):
        for dj in range(3):
            out |= padded[di:di + ny, dj:dj + nx]
    return out


def qa_pixel(cloud: ArrayLike, shadow: ArrayLike, water: ArrayLike, fill: ArrayLike | None = None,
             dilated: ArrayLike | None = None) -> NDArray[np.uint16]:
    """Landsat C2 QA_PIXEL: bit 0 fill, 1 dilated cloud, 3 cloud, 4 shadow, 6 clear, 7 water.

    Confidences (2 bits each): cloud 8–9 (3 cloud, else 1), shadow 10–11 (3 shadow, else 1), snow
    12–13 and cirrus 14–15 (1 = low). Clear means neither cloud nor dilated cloud; the water bit is
    set where water is not under cloud; fill pixels carry bit 0 only. ``dilated`` is the dilated
    cloud mask (see :func:`dilated_cloud`, chunk-independent); without it the cloud array is
    dilated by one pixel, which needs a one-pixel overlap when run per block.
    """
    cl = np.asarray(cloud, dtype=bool)
    sh = np.asarray(shadow, dtype=bool) & ~cl
    wa = np.asarray(water, dtype=bool) & ~cl
    dil = (_dilate_1px(cl) if dilated is None else np.asarray(dilated, dtype=bool)) & ~cl
    qa = np.zeros(cl.shape, dtype=np.uint16)
    qa |= dil.astype(np.uint16) << 1
    qa |= cl.astype(np.uint16) << 3
    qa |= sh.astype(np.uint16) << 4
    qa |= (~cl & ~dil).astype(np.uint16) << 6
    qa |= wa.astype(np.uint16) << 7
    qa |= np.where(cl, 3, 1).astype(np.uint16) << 8
    qa |= np.where(sh, 3, 1).astype(np.uint16) << 10
    qa |= np.uint16((1 << 12) | (1 << 14))
    if fill is not None:
        qa = np.where(np.asarray(fill, dtype=bool), np.uint16(1), qa).astype(np.uint16)
    return qa


#: Sentinel-2 L2A: ρ = (DN + BOA_ADD_OFFSET) / 10000, BOA_ADD_OFFSET = −1000 since processing
#: baseline 04.00 (ESA, Sentinel-2 Products Specification Document, 2022).
S2_QUANTIFICATION = 10_000.0
S2_BOA_ADD_OFFSET = -1000.0

#: Sentinel-2 scene classification (SCL) codes used by the simulator.
SCL_NO_DATA, SCL_SHADOW, SCL_VEGETATION, SCL_NOT_VEGETATED = 0, 3, 4, 5
SCL_WATER, SCL_CLOUD_MEDIUM, SCL_CLOUD_HIGH = 6, 8, 9


def to_sentinel2_l2a(reflectance: ArrayLike) -> NDArray[np.uint16]:
    """Sentinel-2 L2A digital numbers (baseline ≥ 04.00): DN = ρ·10000 − BOA_ADD_OFFSET; 0 fill."""
    rho = np.asarray(reflectance, dtype=np.float64)
    dn = np.rint(rho * S2_QUANTIFICATION - S2_BOA_ADD_OFFSET)
    dn = np.where(np.isfinite(dn), np.clip(dn, 1, 65535), 0)
    return dn.astype(np.uint16)


def scene_classification(landcover: ArrayLike, cloud: ArrayLike, shadow: ArrayLike,
                         dilated: ArrayLike | None = None) -> NDArray[np.uint8]:
    """A Sentinel-2 scene-classification (SCL) layer.

    Cloud (high probability in the cloud, medium at its dilated rim), shadow, water, vegetation
    (forest, shrub, grass, crop) and not vegetated (built, mining land).
    """
    lc = np.asarray(landcover)
    scl = np.full(lc.shape, SCL_NOT_VEGETATED, np.uint8)
    scl[np.isin(lc, (1, 2, 3, 4))] = SCL_VEGETATION
    scl[lc == 5] = SCL_WATER
    scl[(lc < 1) | (lc > 7)] = SCL_NO_DATA
    scl[np.asarray(shadow, bool)] = SCL_SHADOW
    if dilated is not None:
        scl[np.asarray(dilated, bool)] = SCL_CLOUD_MEDIUM
    scl[np.asarray(cloud, bool)] = SCL_CLOUD_HIGH
    return scl
