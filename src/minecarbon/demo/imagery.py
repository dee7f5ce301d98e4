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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.demo._clouds import (
    CLOUD_SCALE_M,
    apply_clouds,
    cloud_and_shadow,
    dilated_cloud,
    shadow_offset_m,
)
from minecarbon.demo._clouds import _cloud_mask as _cloud_mask
from minecarbon.demo._clouds import _cloud_threshold as _cloud_threshold
from minecarbon.demo._imagery_grid import (
    _BLOCK_PIXELS,
    _S_BRIGHT,
    _S_BUILT,
    _S_COVER,
    _S_CROP,
    _S_MINE,
    _S_NOISE,
    _S_RADIO,
    _S_SOIL,
    _S_WATER,
    Bool,
    Float,
    _lattice,
    _noise_coords,
    _scene_stream,
)
from minecarbon.demo._sensor_products import (
    C2_OFFSET,
    C2_SCALE,
    ETM_PER_TM_GAIN,
    S2_BOA_ADD_OFFSET,
    S2_QUANTIFICATION,
    SCL_CLOUD_HIGH,
    SCL_CLOUD_MEDIUM,
    SCL_NO_DATA,
    SCL_NOT_VEGETATED,
    SCL_SHADOW,
    SCL_VEGETATION,
    SCL_WATER,
    SITE_ACROSS_TRACK_M,
    SLC_EDGE_GAP_SHARE,
    SLC_GAP_FREE_HALF_WIDTH_M,
    SLC_HALF_SWATH_M,
    SLC_SCAN_PERIOD_M,
    TRACK_AZIMUTH_DEG,
    from_landsat_c2_l2,
    qa_pixel,
    scene_classification,
    slc_gap_share,
    slc_off_gaps,
    to_landsat_c2_l2,
    to_sensor,
    to_sentinel2_l2a,
)
from minecarbon.demo._sensor_products import _dilate_1px as _dilate_1px
from minecarbon.demo._spectra import (
    _BRANCH,
    _CANOPY_ROW,
    _EM,
    _NIR_WEIGHT,
    CROP_CODE,
    ENDMEMBER_NAMES,
    GRASS_CODE,
    GROWING_SEASON_MONTHS,
    LEAF_OFF_MONTH,
    OLI_BANDS,
    S2_BANDS,
    SHRUB_CODE,
    _table,
    endmembers,
    growing_season_months,
    leaf_off_month,
    leaf_on_fraction,
)
from minecarbon.demo.noise import fbm, hash_normal, hash_normals, value_noise
from minecarbon.types import LandCover

# The names of the split-out modules are re-exported here; the `as` imports above re-export
# the private helpers that the tests call (_cloud_mask, _cloud_threshold, _dilate_1px).
__all__ = [
    "C2_OFFSET", "C2_SCALE", "CLOUD_SCALE_M", "CROP_CODE", "ENDMEMBER_NAMES", "ETM_PER_TM_GAIN",
    "GRASS_CODE", "GROWING_SEASON_MONTHS", "K_SATURATION_T_PER_HA", "LEAF_OFF_MONTH",
    "OLI_BANDS", "S2_BANDS", "S2_BOA_ADD_OFFSET", "S2_QUANTIFICATION", "SCL_CLOUD_HIGH",
    "SCL_CLOUD_MEDIUM", "SCL_NOT_VEGETATED", "SCL_NO_DATA", "SCL_SHADOW", "SCL_VEGETATION",
    "SCL_WATER", "SENSOR_NOISE_SIGMA", "SHRUB_CODE", "SITE_ACROSS_TRACK_M", "SLC_EDGE_GAP_SHARE",
    "SLC_GAP_FREE_HALF_WIDTH_M", "SLC_HALF_SWATH_M", "SLC_SCAN_PERIOD_M", "TRACK_AZIMUTH_DEG",
    "Bool", "Float", "apply_clouds", "cloud_and_shadow", "dilated_cloud", "endmembers",
    "from_landsat_c2_l2", "growing_season_months", "leaf_off_month", "leaf_on_fraction",
    "qa_pixel", "scene_classification", "shadow_offset_m", "slc_gap_share", "slc_off_gaps",
    "surface_reflectance", "to_landsat_c2_l2", "to_sensor", "to_sentinel2_l2a",
]

#: AGC (t C/ha) at which the canopy signal reaches 63 % of its saturation level. Optical
#: reflectance saturates at roughly 100–150 t/ha biomass (≈ 50–70 t C/ha; Lu et al. 2016,
#: Int. J. Digital Earth 9:63–105); with k = 30 the signal is 93 % saturated at 80 t C/ha.
K_SATURATION_T_PER_HA = 30.0
SENSOR_NOISE_SIGMA = 0.005  # per-pixel reflectance noise (1 σ)
# Within-class brightness variation (± fraction) by land-cover code.
_CLASS_VARIATION = np.array([0.0, 0.04, 0.06, 0.06, 0.06, 0.10, 0.10, 0.08])


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
