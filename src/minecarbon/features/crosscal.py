"""Cross-calibration of Landsat 5 TM to Landsat 7 ETM+ from the archive's own overlap years.

No published table gives TM → ETM+ surface-reflectance functions the way Roy et al. (2016)
give ETM+ → OLI, and the two sensors do differ: on the real Harvard Forest series in
``../shared/data`` (WRS-2 p013 r030), clear pixels seen by both within 8 days in 1999–2011 have
an ETM+ NDVI 0.037 above TM's (ETM+ red 11 % darker, NIR 4 % brighter). Berner et al. (2020,
Nature Communications 11: 4621) therefore calibrate TM to ETM+ on the years both flew, per
study area, before building long NDVI series; this module does the same per band.

Method: pairs of a TM and an ETM+ scene of the growing season at most ``max_days`` apart; the
pixels clear in both (SLC-off gaps are fill, so they drop out); pixels whose NDVI changed
between the two dates (outside the median ± 3 robust standard deviations of the difference:
harvest, mining, phenology outliers) are left out; per band and pair the ratio of the means
``Σ ETM+ / Σ TM`` over the kept pixels — unbiased under the per-observation noise of both
sensors, which attenuates a least-squares slope. Reflectance drifts through the season
(phenology), so a pair whose TM date is later than its ETM+ date has a ratio off the gain one
way and a pair the other way round the other way: with pairs of both orders the gain is the
intercept of the per-pair log ratios regressed on the day difference (the ratio at 0 days
apart); otherwise the ratio of the pooled means. Its uncertainty is the standard error over
pairs.

The fitted gain is composed with the standard table's ETM+ → OLI function, so a TM scene is
harmonised as ``OLI = intercept + slope × gain × TM``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from minecarbon.standard.harmonisation import BandTransform

#: The band roles fitted (the reflective bands TM and ETM+ share).
ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")


@dataclass(frozen=True)
class BandGain:
    """The fitted ETM+/TM gain of one band role."""

    role: str
    gain: float
    stderr: float | None  # over scene pairs; None with a single pair
    n_pixels: int
    drift_per_day: float | None = None  # d log(ETM+/TM) / d(TM date − ETM+ date), when fitted


def pair_dates(tm: Sequence[date], etm: Sequence[date], max_days: int,
               most: int = 12) -> list[tuple[int, int]]:
    """Index pairs (TM, ETM+) at most ``max_days`` apart, closest first, each scene once.

    Parameters
    ----------
    tm, etm
        Acquisition dates of the TM and of the ETM+ scenes.
    max_days
        Largest gap between the two dates of a pair.
    most
        At most this many pairs.

    """
    cands = sorted((abs((a - b).days), i, j) for i, a in enumerate(tm) for j, b in enumerate(etm)
                   if abs((a - b).days) <= max_days)
    used_t: set[int] = set()
    used_e: set[int] = set()
    out = []
    for _, i, j in cands:
        if i in used_t or j in used_e:
            continue
        used_t.add(i)
        used_e.add(j)
        out.append((i, j))
        if len(out) == most:
            break
    return out


#: Step by which the pairing window widens: Landsat 5 and 7 imaged the same path 8 days apart.
WIDEN_STEP_DAYS = 8
#: Fewest pairs for the drift regression to have a residual (two coefficients).
MIN_DRIFT_PAIRS = 3


def drift_identifiable(days: Sequence[int]) -> bool:
    """Whether pairs with these day differences (TM − ETM+) let the seasonal drift be fitted.

    The regression of the log ratios on the day difference needs pairs of both orders (TM
    after and before ETM+) and, for a standard error, at least :data:`MIN_DRIFT_PAIRS`.
    """
    d = np.asarray(days, dtype=float)
    return bool(d.size >= MIN_DRIFT_PAIRS and (d > 0).any() and (d < 0).any())


def widening_pairs(tm: Sequence[date], etm: Sequence[date], max_days: int, widest_days: int,
                   most: int = 12) -> tuple[list[tuple[int, int]], int]:
    """Pairs within ``max_days``, the window widened until the seasonal drift can be fitted.

    A thin archive (a few scenes a year, clouds, one sensor per month) may have a single TM/ETM+
    pair within ``max_days``: its ratio carries the phenology of the days between the two
    dates (on the demo archive of seed 1, 24 days: gains 4 % off in green and NIR, an NDVI
    step of −0.02 at 2012) and no second pair can tell that drift from the gain. The window
    then widens by :data:`WIDEN_STEP_DAYS` up to ``widest_days`` until the pairs have both
    orders and at least :data:`MIN_DRIFT_PAIRS` (:func:`drift_identifiable`), so that
    :func:`fit_gains` removes the drift by regression. Pairs already within the narrower
    window stay (closest first). Returns the pairs and the window used.
    """
    window = max_days
    pairs = pair_dates(tm, etm, window, most)
    while window < widest_days and not drift_identifiable(
            [(tm[i] - etm[j]).days for i, j in pairs]):
        window = min(window + WIDEN_STEP_DAYS, widest_days)
        pairs = pair_dates(tm, etm, window, most)
    return pairs, window


def stable_pixels(tm: NDArray[np.floating], etm: NDArray[np.floating]) -> NDArray[np.bool_]:
    """Pixels clear in both and whose NDVI did not change between the dates.

    ``tm`` and ``etm`` are (band, pixel) arrays in :data:`ROLES` order; kept are the pixels
    finite in every band of both, with an NDVI difference within the median ± 3 robust
    standard deviations (1.4826 × MAD) of all such pixels.
    """
    finite: NDArray[np.bool_] = np.isfinite(tm).all(axis=0) & np.isfinite(etm).all(axis=0)
    red, nir = ROLES.index("red"), ROLES.index("nir")
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (etm[nir] - etm[red]) / (etm[nir] + etm[red]) - (tm[nir] - tm[red]) / (
            tm[nir] + tm[red])
    finite &= np.isfinite(d)
    if not finite.any():
        return finite
    med = float(np.median(d[finite]))
    spread = 1.4826 * float(np.median(np.abs(d[finite] - med)))
    keep: NDArray[np.bool_] = finite & (np.abs(d - med) <= 3.0 * max(spread, 1e-6))
    return keep


def fit_gains(pairs: Sequence[tuple[NDArray[np.floating], NDArray[np.floating]]],
              days: Sequence[int] | None = None) -> dict[str, BandGain]:
    """Per-band ETM+/TM gains from pairs of (TM, ETM+) observations of the same pixels.

    Parameters
    ----------
    pairs
        One (tm, etm) tuple per scene pair; each array is (band, pixel) in :data:`ROLES` order,
        NaN where not clear.
    days
        Per pair, the TM date minus the ETM+ date in days. When pairs of both signs are given,
        the per-pair log ratios are regressed on it and the gain is the ratio at 0 days: the
        seasonal drift of reflectance between the two dates (phenology) then cancels instead
        of biasing the gain toward the direction most pairs happen to have. Otherwise (or
        ``None``) the gain is the ratio of the pooled means.

    Returns
    -------
    dict
        Role → :class:`BandGain`; empty when no pixel is usable.

    """
    sums_t = np.zeros(len(ROLES))
    sums_e = np.zeros(len(ROLES))
    ratios = []
    gaps = []
    n = 0
    for p, (tm, etm) in enumerate(pairs):
        keep = stable_pixels(tm, etm)
        k = int(keep.sum())
        if k == 0:
            continue
        st, se = tm[:, keep].sum(axis=1), etm[:, keep].sum(axis=1)
        sums_t += st
        sums_e += se
        ratios.append(se / st)
        gaps.append(0 if days is None else int(days[p]))
        n += k
    if n == 0:
        return {}
    d = np.asarray(gaps, float)
    if (d > 0).any() and (d < 0).any():
        design = np.column_stack([np.ones_like(d), d])
        logs = np.log(np.asarray(ratios))  # (pair, band)
        coef, *_ = np.linalg.lstsq(design, logs, rcond=None)
        gains = np.exp(coef[0])
        dof = len(d) - 2
        spread: list[float | None] = [None] * len(ROLES)
        if dof > 0:
            resid = logs - design @ coef
            cov0 = np.linalg.inv(design.T @ design)[0, 0]
            spread = [float(g * np.sqrt(cov0 * (resid[:, i] ** 2).sum() / dof))
                      for i, g in enumerate(gains)]
        return {r: BandGain(r, float(gains[i]), spread[i], n, float(coef[1, i]))
                for i, r in enumerate(ROLES)}
    spread = ([float(v) for v in np.std(ratios, axis=0, ddof=1) / np.sqrt(len(ratios))]
              if len(ratios) > 1 else [None] * len(ROLES))
    return {r: BandGain(r, float(sums_e[i] / sums_t[i]), spread[i], n)
            for i, r in enumerate(ROLES)}


def compose(gains: Mapping[str, BandGain], etm_to_target: Mapping[str, BandTransform],
            source: str) -> dict[str, BandTransform]:
    """TM → target transforms: the fitted TM → ETM+ gain, then the table's ETM+ → target.

    ``etm_to_target`` empty means the target is ETM+ itself (gain alone).
    """
    out = {}
    for role, g in gains.items():
        t = etm_to_target.get(role)
        slope, intercept = (t.slope, t.intercept) if t is not None else (1.0, 0.0)
        out[role] = BandTransform(role, slope * g.gain, intercept, source)
    return out
