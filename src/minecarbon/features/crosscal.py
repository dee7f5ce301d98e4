"""Cross-calibration of Landsat 5 TM to Landsat 7 ETM+ from the archive's own overlap years.

No published table gives TM → ETM+ surface-reflectance functions the way Roy et al. (2016)
give ETM+ → OLI, and the two sensors do differ: on the real Harvard Forest series in
``../shared/data`` (WRS-2 p013 r030), clear pixels seen by both within 8 days in 1999–2011 have
an ETM+ NDVI 0.037 above TM's (ETM+ red 11 % darker, NIR 4 % brighter). Berner et al. (2020,
Nature Communications 11: 4621) therefore calibrate TM to ETM+ on the years both flew, per
study area, before building long NDVI series; this module does the same per band.

Method (:func:`fit_seasonal_gains`, used by the features step): every two growing-season
scenes of one overlap year at most ``max_days`` apart make a pair, whether both are TM, both
ETM+ or one of each (:func:`season_pairs`); per pair, the pixels clear in both whose NDVI did
not change between the dates (outside the median ± 3 robust standard deviations of the
difference: harvest, mining, phenology outliers) give the per-band ratio of the means
``Σ second / Σ first`` — unbiased under the per-observation noise of both scenes, which
attenuates a least-squares slope. Reflectance drifts through the season (phenology), so a
TM/ETM+ pair's ratio carries the drift between its dates as well as the gain; the pairs of one
sensor carry the drift alone. The log ratios of all pairs are fitted together as a seasonal
profile by calendar month plus the gain, so that even a single TM/ETM+ pair, or pairs all in
one order, give the gain free of the season. The uncertainty is the standard error from the
residuals over pairs.

Where the months of the TM/ETM+ pairs are not linked by pairs of one sensor, the TM/ETM+
pairs alone are used (:func:`fit_gains`): with pairs of both orders the gain is the
intercept of the per-pair log ratios regressed on the day difference (the ratio at 0 days
apart); otherwise the ratio of the pooled means.

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


@dataclass(frozen=True)
class PairRatio:
    """Per-band sums of a pair's two scenes over the pixels stable between them."""

    first_sum: NDArray[np.float64]  # (band,) in ROLES order
    second_sum: NDArray[np.float64]
    n_pixels: int
    tm: tuple[bool, bool]  # whether the first, the second scene is TM
    months: tuple[int, int] = (0, 0)  # calendar months of the two scenes (0: not given)

    @property
    def log_ratio(self) -> NDArray[np.float64]:
        """``log(Σ second / Σ first)`` per band."""
        out: NDArray[np.float64] = np.log(self.second_sum / self.first_sum)
        return out


def pair_ratio(first: NDArray[np.floating], second: NDArray[np.floating],
               tm: tuple[bool, bool], months: tuple[int, int] = (0, 0)) -> PairRatio | None:
    """:class:`PairRatio` of two (band, pixel) observations; None without a stable pixel."""
    keep = stable_pixels(first, second)
    k = int(keep.sum())
    if k == 0:
        return None
    a = np.asarray(first[:, keep].sum(axis=1), dtype=np.float64)
    b = np.asarray(second[:, keep].sum(axis=1), dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all() and (a > 0).all() and (b > 0).all()):
        return None
    return PairRatio(a, b, k, (bool(tm[0]), bool(tm[1])), (int(months[0]), int(months[1])))


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
    ratios = [pair_ratio(tm, etm, (True, False)) for tm, etm in pairs]
    return tm_etm_gains(ratios, days)


def tm_etm_gains(ratios: Sequence[PairRatio | None],
                 days: Sequence[int] | None = None) -> dict[str, BandGain]:
    """:func:`fit_gains` on TM/ETM+ pairs already reduced to :class:`PairRatio` (None skipped).

    Each pair's ``tm`` flags say which of its scenes is TM; ``days`` is, per pair, the TM date
    minus the ETM+ date.
    """
    sums_t = np.zeros(len(ROLES))
    sums_e = np.zeros(len(ROLES))
    per_pair = []
    gaps = []
    n = 0
    for p, r in enumerate(ratios):
        if r is None:
            continue
        st, se = (r.first_sum, r.second_sum) if r.tm[0] else (r.second_sum, r.first_sum)
        sums_t += st
        sums_e += se
        per_pair.append(se / st)
        gaps.append(0 if days is None else int(days[p]))
        n += r.n_pixels
    if n == 0:
        return {}
    d = np.asarray(gaps, float)
    if (d > 0).any() and (d < 0).any():
        design = np.column_stack([np.ones_like(d), d])
        logs = np.log(np.asarray(per_pair))  # (pair, band)
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
    spread = ([float(v) for v in np.std(per_pair, axis=0, ddof=1) / np.sqrt(len(per_pair))]
              if len(per_pair) > 1 else [None] * len(ROLES))
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


def season_pairs(dates: Sequence[date], max_days: int, most: int = 40) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` of scenes of one year, ``i`` the earlier, at most ``max_days`` apart.

    Every two scenes qualify whatever their sensors (TM/ETM+, TM/TM, ETM+/ETM+), closest
    first, at most ``most`` pairs. Scenes of different years are never paired: the land
    changes between years, the season does not.
    """
    cands = sorted((abs((dates[j] - dates[i]).days), i, j)
                   for i in range(len(dates)) for j in range(len(dates))
                   if dates[i].year == dates[j].year and dates[i] < dates[j]
                   and (dates[j] - dates[i]).days <= max_days)
    return [(i, j) for _, i, j in cands[:most]]


def fit_seasonal_gains(ratios: Sequence[PairRatio | None]) -> tuple[dict[str, BandGain],
                                                              dict[str, dict[int, float]]]:
    """ETM+/TM gains with the season's drift fitted on every same-year pair, one sensor or two.

    Per band, the log ratio of a pair of scenes (first, second) is modelled as

        log(Σ second / Σ first) = φ(month₂) − φ(month₁) − γ · (TM₂ − TM₁)

    with ``γ = log(gain)`` (a TM scene records ETM+'s reflectance divided by the gain), ``TM``
    1 for a TM scene, and ``φ`` the seasonal profile of the site's reflectance by calendar
    month (the earliest month 0), shared by the overlap years. Pairs of one sensor measure
    the season alone and pin ``φ``; pairs of two sensors then give ``γ`` free of the
    phenology between their dates, whatever their order, and even with a single such pair.
    Solved by least squares per band; the standard error of the gain comes from the residuals
    (None without residual degrees of freedom). A pair given as None (no stable pixel) is
    skipped.

    Returns
    -------
    (gains, profile)
        Role → :class:`BandGain`, and role → month → ``exp(φ)`` (the seasonal profile
        relative to the earliest month); both empty when no pair of two sensors is given or
        the profile and the gain cannot be told apart (the months of the cross-sensor pairs
        are not linked by pairs of one sensor).

    """
    usable = [r for r in ratios if r is not None]
    if not any(r.tm[0] != r.tm[1] for r in usable):
        return {}, {}
    months = sorted({m for r in usable for m in r.months})
    free = months[1:]  # φ of the earliest month is 0
    design = np.array([[-(float(r.tm[1]) - float(r.tm[0]))]
                       + [float(r.months[1] == m) - float(r.months[0] == m) for m in free]
                       for r in usable])
    used = np.abs(design).sum(axis=0) > 0
    used[0] = True
    design, free = design[:, used], [m for m, u in zip(free, used[1:], strict=True) if u]
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return {}, {}
    logs = np.stack([r.log_ratio for r in usable])  # (pair, band)
    coef, *_ = np.linalg.lstsq(design, logs, rcond=None)
    dof = design.shape[0] - design.shape[1]
    cov0 = float(np.linalg.inv(design.T @ design)[0, 0])
    resid = logs - design @ coef
    n = sum(r.n_pixels for r in usable)
    gains: dict[str, BandGain] = {}
    profile: dict[str, dict[int, float]] = {}
    for i, role in enumerate(ROLES):
        g = float(np.exp(coef[0, i]))
        se = float(g * np.sqrt(cov0 * (resid[:, i] ** 2).sum() / dof)) if dof > 0 else None
        gains[role] = BandGain(role, g, se, n)
        profile[role] = {months[0]: 1.0, **{m: float(np.exp(coef[1 + k, i]))
                                            for k, m in enumerate(free)}}
    return gains, profile
