"""Sensor products of the simulated scenes: other Landsat sensors, digital numbers, quality layers.

Landsat 7 ETM+ SLC-off gaps (:func:`slc_off_gaps`), OLI reflectance as ETM+, TM and the
Sentinel-2 MSI record it (:func:`to_sensor`), Collection-2 Level-2 surface-reflectance numbers
and the ``QA_PIXEL`` layer (:func:`to_landsat_c2_l2`, :func:`from_landsat_c2_l2`,
:func:`qa_pixel`), and the Sentinel-2 L2A numbers and scene classification
(:func:`to_sentinel2_l2a`, :func:`scene_classification`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.demo._imagery_grid import _BLOCK_PIXELS, Bool, Float
from minecarbon.demo._spectra import OLI_BANDS, S2_BANDS
from minecarbon.demo.noise import hash_uniform

C2_SCALE, C2_OFFSET = 2.75e-5, -0.2  # Landsat Collection-2 Level-2 SR: ρ = DN × scale + offset


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
    """OLI-like reflectance as another sensor records it.

    ETM+ surface reflectance is the inverse of the published ETM+ → OLI functions (Roy et al.
    2016, Table 2; ``standard/data/harmonisation.csv``); TM is ETM+'s divided by
    :data:`ETM_PER_TM_GAIN` (measured on real TM/ETM+ pairs): the simulator's own relations
    between the sensors, which harmonisation must undo. OLI-2 equals OLI. Landsat input has
    the bands of :data:`OLI_BANDS`. ``s2``: the input has the bands of :data:`S2_BANDS`, its
    blue, green, red, B8A and SWIR the OLI-like values, and the MSI's are the inverse of the
    HLS bandpass adjustment (Claverie et al. 2018; B8A that of OLI's NIR); the red-edge bands
    and B8 are the simulator's own.
    """
    from minecarbon.standard.harmonisation import transforms

    rho = np.asarray(reflectance, dtype=np.float64)
    if sensor == "s2":
        msi = rho.copy()
        for t in (transforms("sentinel2", "landsat8") or {}).values():
            if t.source_role in S2_BANDS:
                i = S2_BANDS.index(t.source_role)
                msi[i] = (rho[i] - t.intercept) / t.slope
        return np.clip(msi, 0.0, 1.0).astype(np.float32)
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
