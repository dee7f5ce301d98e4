"""TM → ETM+ cross-calibration on the archive's overlap years (issue 16).

Known answers on constructed pairs, the simulator's own TM/ETM+ relation recovered, and the
real Harvard Forest Landsat 5/7 series: fitted on 1999–2005 pairs, the TM/ETM+ NDVI
difference of the 2006–2011 pairs (not used in the fit) vanishes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr

from minecarbon.demo import imagery
from minecarbon.features import crosscal
from minecarbon.features.preprocess import harmonise
from minecarbon.standard.harmonisation import transforms
from tests.conftest import shared_path

ROLES = crosscal.ROLES


def ndvi(x: np.ndarray) -> np.ndarray:
    return (x[3] - x[2]) / (x[3] + x[2])


def test_pairs_are_closest_first_within_the_gap_and_use_each_scene_once() -> None:
    d = dt.date
    tm = [d(2001, 7, 2), d(2001, 8, 3), d(2005, 7, 10)]
    etm = [d(2001, 7, 10), d(2001, 7, 26), d(2009, 7, 1)]
    # (0,0) 8 d, (1,1) 8 d, (0,1) 24 d, (1,0) 24 d; 2005 and 2009 have no partner
    assert crosscal.pair_dates(tm, etm, 32) == [(0, 0), (1, 1)]
    assert crosscal.pair_dates(tm, etm, 7) == []
    assert crosscal.pair_dates(tm, etm, 32, most=1) == [(0, 0)]


def test_gains_are_recovered_under_noise_where_least_squares_would_attenuate() -> None:
    rng = np.random.default_rng(1)
    gain = np.array([1.02, 0.95, 0.80, 1.05, 1.0, 0.97])
    pairs = []
    for _ in range(5):
        surface = rng.uniform(0.02, 0.4, (6, 20_000))
        tm = surface * (1 + rng.normal(0, 0.08, surface.shape))  # per-observation noise
        etm = gain[:, None] * surface * (1 + rng.normal(0, 0.08, surface.shape))
        pairs.append((tm, etm))
    fitted = crosscal.fit_gains(pairs)
    got = np.array([fitted[r].gain for r in ROLES])
    np.testing.assert_allclose(got, gain, rtol=0.01)
    assert all(fitted[r].stderr is not None and fitted[r].stderr < 0.01 for r in ROLES)
    slope = np.polyfit(pairs[0][0][2], pairs[0][1][2], 1)[0]
    assert slope < 0.97 * gain[2]  # an OLS slope of the same pixels is biased low


def test_changed_pixels_are_left_out_and_do_not_bias_the_gain() -> None:
    rng = np.random.default_rng(2)
    surface = rng.uniform(0.03, 0.35, (6, 10_000))
    surface[3] = rng.uniform(0.25, 0.4, 10_000)  # vegetated: NIR well above red
    tm = surface.copy()
    etm = surface * 1.0
    etm[3, :800] *= 0.3  # harvested between the dates: NIR collapses
    tm[:, :50] = np.nan  # an SLC-off stripe in one of the two
    keep = crosscal.stable_pixels(tm, etm)
    assert not keep[:800].any()
    assert keep[800:].sum() == 9200
    fitted = crosscal.fit_gains([(tm, etm)])
    assert abs(fitted["nir"].gain - 1.0) < 1e-9 and fitted["nir"].n_pixels == 9200
    assert fitted["nir"].stderr is None  # one pair: no spread over pairs


def test_composed_transform_chains_the_gain_and_the_tables_etm_to_oli() -> None:
    table = transforms("landsat7", "landsat8")
    assert table is not None
    gains = {r: crosscal.BandGain(r, 0.9, None, 1) for r in ROLES}
    composed = crosscal.compose(gains, table, "test")
    for r in ROLES:
        x = 0.2
        assert np.isclose(composed[r].intercept + composed[r].slope * x,
                          table[r].intercept + table[r].slope * 0.9 * x)
    values = np.stack([np.full((1, 2), 0.2)] * 6)
    ds = xr.Dataset({r: (("y", "x"), values[i]) for i, r in enumerate(ROLES)},
                    attrs={"sensor": "landsat5"})
    out = harmonise(ds, "landsat8", {"landsat5": composed})
    np.testing.assert_allclose(out["nir"].values, table["nir"].intercept
                               + table["nir"].slope * 0.9 * 0.2, rtol=1e-6)
    assert out.attrs["harmonised_from"] == "landsat5"
    plain = harmonise(ds, "landsat8")  # no fitted functions: the table's TM row
    assert not np.allclose(plain["nir"].values, out["nir"].values)


class _SimulatedSite:
    """A random n × n patch of the simulator's land cover, seen by a sensor in a month."""

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.n = n
        self.lc = rng.choice([1, 2, 3, 4], (n, n), p=[0.6, 0.2, 0.1, 0.1])
        self.cover = rng.uniform(0.3, 0.95, (n, n))
        self.species = rng.choice([1, 3, 4, 5, 6], (n, n))
        self.agc = rng.uniform(5, 90, (n, n))
        self.x, self.y = np.meshgrid(587_000 + 30.0 * np.arange(n),
                                     4_094_000 - 30.0 * np.arange(n))

    def seen(self, sensor: str, month: int, year: int) -> np.ndarray:
        """(band, pixel) surface reflectance as the sensor's Collection-2 product gives it."""
        oli = imagery.surface_reflectance(self.lc, self.cover, self.species, self.agc,
                                          np.ones((self.n, self.n)), month, self.x, self.y, 0,
                                          year)
        dn = imagery.to_landsat_c2_l2(imagery.to_sensor(oli, sensor))
        return imagery.from_landsat_c2_l2(dn).reshape(6, -1).astype(float)


def test_the_simulators_tm_relation_is_recovered_from_simulated_pairs() -> None:
    n = 80
    site = _SimulatedSite(n, 3)
    pairs = []
    for year, order in ((2001, (7, 8)), (2002, (8, 7)), (2007, (7, 8)), (2008, (8, 7))):
        tm, etm = (site.seen(sensor, month, year)
                   for sensor, month in zip(("tm", "etm"), order, strict=True))
        pairs.append((tm, etm))
    fitted = crosscal.fit_gains(pairs)
    got = np.array([fitted[r].gain for r in ROLES])
    np.testing.assert_allclose(got, imagery.ETM_PER_TM_GAIN, rtol=0.03)
    assert fitted["red"].n_pixels > 0.9 * 4 * n * n


def _harvard_series() -> tuple[list[dt.date], np.ndarray, Callable[[int], np.ndarray]]:
    """The real series' dates, whether each is Landsat 5 TM, and a date's clear reflectance.

    Landsat 5 and 7 image the path 8 days apart, so the phase of the 16-day cycle tells them
    apart; the phase with SLC-off stripes after 31 May 2003 is Landsat 7.
    """
    data = np.load(shared_path("yatsm_landsat_harvard_forest", "p013r030_r50_n423_b8.npz"))
    y = data["Y"]
    dates = [dt.date.fromordinal(int(o)) for o in data["dates"]]
    phase = np.array([d.toordinal() % 16 for d in dates])
    post = np.array([d >= dt.date(2003, 6, 1) for d in dates])
    fill = (y[0] == -9999).mean(axis=1)
    gapped = {int(p): float(fill[post & (phase == p)].mean()) for p in np.unique(phase[post])}
    is_tm = phase != max(gapped, key=lambda p: gapped[p])

    def clear(i: int) -> np.ndarray:  # Fmask 0 = clear land; -9999 = fill
        bad = (y[:6, i] == -9999) | (y[7, i] != 0)[None]
        return np.where(bad, np.nan, y[:6, i] * 1e-4)

    return dates, is_tm, clear


def _growing_season(dates: list[dt.date], is_tm: np.ndarray, last_year: int) -> list[int]:
    """June–September dates of 1999 to ``last_year``; ETM+ from its first scene (April 1999)."""
    return [i for i, d in enumerate(dates) if 6 <= d.month <= 9 and 1999 <= d.year <= last_year
            and (is_tm[i] or d >= dt.date(1999, 4, 15))]


def _harvard_pairs() -> tuple[list[tuple[np.ndarray, np.ndarray]], list[dt.date], list[int]]:
    """Growing-season (June–September) TM/ETM+ pairs ≤ 32 days apart of the real series."""
    dates, is_tm, clear = _harvard_series()
    season = _growing_season(dates, is_tm, 9999)
    tm = [i for i in season if is_tm[i]]
    etm = [i for i in season if not is_tm[i]]
    pairs = crosscal.pair_dates([dates[i] for i in tm], [dates[i] for i in etm], 32, most=100)
    return ([(clear(tm[i]), clear(etm[j])) for i, j in pairs],
            [dates[etm[j]] for _, j in pairs],
            [(dates[tm[i]] - dates[etm[j]]).days for i, j in pairs])


def test_real_tm_etm_ndvi_difference_vanishes_on_pairs_not_fitted() -> None:
    """Harvard Forest, leave one pair out: fit on the other pairs, check the one left out.

    The check is averaged per direction (TM after / before ETM+) and the two averaged, so the
    seasonal drift between the dates does not decide it.
    """
    pairs, _, days = _harvard_pairs()
    assert min(days) < 0 < max(days)  # both orders: the seasonal drift is fitted
    before: dict[int, list[float]] = {1: [], -1: []}
    after: dict[int, list[float]] = {1: [], -1: []}
    for q, (tm, etm) in enumerate(pairs):
        keep = crosscal.stable_pixels(tm, etm)
        if keep.sum() < 20:
            continue
        gains = crosscal.fit_gains([p for i, p in enumerate(pairs) if i != q],
                                   [d for i, d in enumerate(days) if i != q])
        assert all(gains[r].drift_per_day is not None for r in ROLES)
        g = np.array([gains[r].gain for r in ROLES])[:, None]
        side = int(np.sign(days[q]))
        before[side].append(float(np.mean((ndvi(etm) - ndvi(tm))[keep])))
        after[side].append(float(np.mean((ndvi(etm) - ndvi(tm * g))[keep])))
    assert len(before[1]) >= 10 and len(before[-1]) >= 10
    b = (np.mean(before[1]) + np.mean(before[-1])) / 2
    a = (np.mean(after[1]) + np.mean(after[-1])) / 2
    assert b > 0.02  # real TM NDVI is below ETM+'s
    assert abs(a) <= 0.01
    whole = crosscal.fit_gains(pairs, days)
    assert whole["red"].gain < 0.95 and whole["nir"].gain > 1.0


def test_pairs_of_both_orders_cancel_the_seasonal_drift() -> None:
    """Reflectance drifting through the season biases a pooled ratio toward the direction
    most pairs have; the per-pair regression on the day difference removes it."""
    rng = np.random.default_rng(5)
    gain = np.array([1.0, 0.95, 0.8, 1.04, 1.0, 0.97])
    drift = np.array([0.0, 0.0, -0.004, 0.001, 0.0, 0.0])  # per day, log units (phenology)
    pairs, days = [], []
    for d in (24, 24, 24, -24, 8):
        surface = rng.uniform(0.02, 0.4, (6, 5000))
        # TM sees the surface d days after ETM+: its reflectance has drifted by exp(-drift·d)
        tm = surface * np.exp(-drift * d)[:, None]
        pairs.append((tm, gain[:, None] * surface))
        days.append(d)
    fitted = crosscal.fit_gains(pairs, days)
    np.testing.assert_allclose([fitted[r].gain for r in ROLES], gain, rtol=1e-6)
    np.testing.assert_allclose([fitted[r].drift_per_day for r in ROLES], drift, atol=1e-9)
    pooled = crosscal.fit_gains(pairs)  # same pairs, no day differences
    assert abs(pooled["red"].gain - gain[2]) > 0.03 * gain[2]  # the three TM-later pairs win
    one_side = crosscal.fit_gains(pairs[:3], days[:3])  # one order only: pooled ratio
    assert one_side["red"].drift_per_day is None


# --- the seasonal fit: pairs of one sensor pin the season, one TM/ETM+ pair gives the gain ---

GAIN = np.array([0.99, 0.92, 0.78, 1.04, 1.01, 0.97])
#: Reflectance of a month relative to June, per band (a greening July, a browning September).
SEASON = {6: np.ones(6), 7: np.array([0.97, 1.03, 0.9, 1.08, 1.0, 0.95]),
          8: np.array([0.99, 1.05, 0.88, 1.1, 1.02, 0.96]),
          9: np.array([1.04, 1.0, 1.05, 0.97, 1.06, 1.05])}


def _scene(surface: np.ndarray, month: int, tm: bool,
           rng: np.random.Generator | None = None) -> np.ndarray:
    out = surface * SEASON[month][:, None] / (GAIN[:, None] if tm else 1.0)
    if rng is not None:  # per-scene radiometry (1 % per band), as the simulator has
        out = out * rng.normal(1.0, 0.01, (6, 1))
    return out


def _ratio(surface: np.ndarray, first: tuple[int, bool], second: tuple[int, bool],
           rng: np.random.Generator | None = None) -> crosscal.PairRatio:
    r = crosscal.pair_ratio(_scene(surface, *first, rng), _scene(surface, *second, rng),
                            (first[1], second[1]), (first[0], second[0]))
    assert r is not None
    return r


def test_season_pairs_are_of_one_year_closest_first_any_sensor() -> None:
    d = dt.date
    dates = [d(2004, 7, 2), d(2004, 7, 10), d(2004, 8, 27), d(2005, 7, 5), d(2005, 7, 21)]
    assert crosscal.season_pairs(dates, 64) == [(0, 1), (3, 4), (1, 2), (0, 2)]
    assert crosscal.season_pairs(dates, 16) == [(0, 1), (3, 4)]  # 8 and 16 days
    assert crosscal.season_pairs(dates, 64, most=2) == [(0, 1), (3, 4)]
    assert crosscal.season_pairs(dates[:1], 64) == []


def test_one_tm_etm_pair_gives_the_gain_once_pairs_of_one_sensor_pin_the_season() -> None:
    """Seed 2's archive in miniature: one TM/ETM+ pair, TM in July and ETM+ in August; alone
    its ratio is the gain times August's reflectance over July's. Two ETM+ pairs and a TM pair
    measure the season, and the joint fit returns the gain and the profile exactly."""
    rng = np.random.default_rng(21)
    surface = rng.uniform(0.02, 0.4, (6, 3000))
    cross = _ratio(surface, (7, True), (8, False))
    alone = np.exp(cross.log_ratio)
    assert np.abs(alone / GAIN - 1).max() > 0.015  # the season in the ratio (July → August)
    ratios = [cross, _ratio(surface, (7, False), (8, False)),
              _ratio(surface, (6, False), (7, False)), _ratio(surface, (8, True), (9, True))]
    gains, profile = crosscal.fit_seasonal_gains(ratios)
    np.testing.assert_allclose([gains[r].gain for r in ROLES], GAIN, rtol=1e-9)
    for month in (7, 8, 9):
        np.testing.assert_allclose([profile[r][month] for r in ROLES], SEASON[month],
                                   rtol=1e-9)
    assert all(profile[r][6] == 1.0 for r in ROLES)
    assert 0.8 * 4 * 3000 < gains["red"].n_pixels <= 4 * 3000  # NDVI outliers left out
    assert gains["red"].stderr is None  # four pairs, four unknowns: no residual
    more, _ = crosscal.fit_seasonal_gains([*ratios, _ratio(surface, (6, True), (9, True))])
    assert more["red"].stderr is not None and more["red"].stderr < 1e-9  # exact data


def test_pairs_that_cannot_tell_the_season_from_the_gain_give_nothing() -> None:
    rng = np.random.default_rng(2)
    surface = rng.uniform(0.02, 0.4, (6, 500))
    # every TM/ETM+ pair is TM-July/ETM+-August, and no pair of one sensor links the months
    confounded = [_ratio(surface, (7, True), (8, False)), _ratio(surface, (7, True), (8, False))]
    assert crosscal.fit_seasonal_gains(confounded) == ({}, {})
    # pairs of one sensor only: the season, but no gain
    assert crosscal.fit_seasonal_gains([_ratio(surface, (7, False), (8, False))]) == ({}, {})
    # one TM/ETM+ pair within one month needs no season: the ratio is the gain
    same_month, _ = crosscal.fit_seasonal_gains([_ratio(surface, (7, True), (7, False))])
    np.testing.assert_allclose([same_month[r].gain for r in ROLES], GAIN, rtol=1e-9)
    assert same_month["red"].stderr is None  # no residual left


def test_the_seasonal_fit_under_scene_noise_has_an_honest_standard_error() -> None:
    """Per-scene radiometric noise (1 % per band): over repeated archives the gains scatter
    about the truth, and the reported standard errors match that scatter."""
    rng = np.random.default_rng(8)
    layout = [((7, True), (8, False)), ((6, False), (7, False)), ((7, False), (8, False)),
              ((8, True), (9, True)), ((6, True), (8, True)), ((8, False), (9, True)),
              ((6, False), (9, False))]
    est, se = [], []
    for _ in range(200):
        surface = rng.uniform(0.02, 0.4, (6, 400))
        gains, _ = crosscal.fit_seasonal_gains([_ratio(surface, a, b, rng) for a, b in layout])
        est.append([gains[r].gain for r in ROLES])
        se.append([gains[r].stderr for r in ROLES])
    est_a, se_a = np.array(est), np.array(se, dtype=float)
    assert est_a.shape == (200, 6)
    np.testing.assert_allclose(est_a.mean(axis=0), GAIN, rtol=0.005)  # unbiased
    ratio = np.median(se_a, axis=0) / est_a.std(axis=0)
    assert np.all((ratio > 0.6) & (ratio < 1.4)), ratio


def test_the_simulators_tm_relation_is_recovered_from_pairs_all_in_one_order() -> None:
    """The demo's reflectance changes by month; with every TM/ETM+ pair TM-July/ETM+-August,
    the ratios of the pairs are off by the season, and the pairs of one sensor remove it."""
    seen = _SimulatedSite(60, 4).seen
    ratios, cross = [], []
    for year in (2004, 2007):
        tm7, etm8 = seen("tm", 7, year), seen("etm", 8, year)
        cross.append((tm7, etm8))
        ratios.append(crosscal.pair_ratio(tm7, etm8, (True, False), (7, 8)))
        ratios.append(crosscal.pair_ratio(seen("tm", 7, year), seen("tm", 8, year),
                                          (True, True), (7, 8)))
    gains, _ = crosscal.fit_seasonal_gains([r for r in ratios if r is not None])
    got = np.array([gains[r].gain for r in ROLES])
    np.testing.assert_allclose(got, imagery.ETM_PER_TM_GAIN, rtol=0.015)
    pooled = crosscal.fit_gains(cross)
    off = np.abs(np.array([pooled[r].gain for r in ROLES]) / imagery.ETM_PER_TM_GAIN - 1)
    assert off.max() > 0.04  # the TM/ETM+ pairs alone carry July → August


def test_real_seasonal_fit_leaves_no_tm_etm_ndvi_difference_on_pairs_not_fitted() -> None:
    """Harvard Forest: the seasonal fit on every same-year pair (one sensor or two) of
    1999–2005, checked on the TM/ETM+ pairs of 2006–2011 (per direction, then averaged)."""
    dates, is_tm, clear = _harvard_series()
    season = _growing_season(dates, is_tm, 2011)
    fit_idx = [i for i in season if dates[i].year <= 2005]
    pairs = crosscal.season_pairs([dates[i] for i in fit_idx], 32, most=400)
    ratios = [crosscal.pair_ratio(clear(fit_idx[a]), clear(fit_idx[b]),
                                  (bool(is_tm[fit_idx[a]]), bool(is_tm[fit_idx[b]])),
                                  (dates[fit_idx[a]].month, dates[fit_idx[b]].month))
              for a, b in pairs]
    gains, _ = crosscal.fit_seasonal_gains([r for r in ratios if r is not None])
    g = np.array([gains[r].gain for r in ROLES])[:, None]
    check = [i for i in season if dates[i].year >= 2006]
    before: dict[int, list[float]] = {1: [], -1: []}
    after: dict[int, list[float]] = {1: [], -1: []}
    for a, b in crosscal.season_pairs([dates[i] for i in check], 32, most=400):
        i, j = check[a], check[b]
        if is_tm[i] == is_tm[j]:
            continue
        tm, etm = (i, j) if is_tm[i] else (j, i)
        t, e = clear(tm), clear(etm)
        keep = crosscal.stable_pixels(t, e)
        if keep.sum() < 20:
            continue
        side = int(np.sign((dates[tm] - dates[etm]).days))
        before[side].append(float(np.mean((ndvi(e) - ndvi(t))[keep])))
        after[side].append(float(np.mean((ndvi(e) - ndvi(t * g))[keep])))
    assert len(before[1]) >= 5 and len(before[-1]) >= 5
    b = (np.mean(before[1]) + np.mean(before[-1])) / 2
    a = (np.mean(after[1]) + np.mean(after[-1])) / 2
    assert b > 0.02
    assert abs(a) <= 0.01, (b, a)


def test_pairs_with_etm_first_give_the_same_tm_etm_gains() -> None:
    """The TM/ETM+ fit on pairs already reduced to sums reads each pair's order from its
    flags: ETM+-first pairs give the gains of the same pairs given TM first."""
    rng = np.random.default_rng(13)
    drift = np.array([0.0, 0.0, -0.004, 0.001, 0.0, 0.0])
    tm_first, etm_first, days = [], [], []
    for d in (24, -24, 16, -8):
        surface = rng.uniform(0.02, 0.4, (6, 2000))
        tm, etm = surface * np.exp(-drift * d)[:, None], GAIN[:, None] * surface
        tm_first.append((tm, etm))
        etm_first.append(crosscal.pair_ratio(etm, tm, (False, True)))
        days.append(d)
    direct = crosscal.fit_gains(tm_first, days)
    reduced = crosscal.tm_etm_gains(etm_first, days)
    for r in ROLES:
        assert reduced[r].gain == pytest.approx(direct[r].gain, rel=1e-12)
        assert reduced[r].drift_per_day == pytest.approx(direct[r].drift_per_day, rel=1e-9)
    np.testing.assert_allclose([direct[r].gain for r in ROLES], GAIN, rtol=1e-9)
    assert crosscal.tm_etm_gains([None, None]) == {}
