"""The simulated Landsat archive (issue 16): sensors by mission dates, SLC-off gaps, names."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from minecarbon.demo import imagery
from minecarbon.demo.scenes import (
    MISSIONS,
    S2_MISSIONS,
    SLC_FAILURE,
    acquisitions,
    s2_acquisitions,
    scene_schedule,
)
from minecarbon.demo.spec import SiteSpec
from minecarbon.standard.sensors import detect_sensor


@pytest.fixture(scope="module")
def schedule() -> list:  # type: ignore[type-arg]
    return scene_schedule(SiteSpec())


def test_each_scene_is_of_a_satellite_flying_that_day(schedule: list) -> None:  # type: ignore[type-arg]
    assert len(schedule) > 70
    for s in schedule:
        _, start, end, _ = MISSIONS[s.sensor]
        assert start <= date(s.year, s.month, s.day) <= end, s


def test_the_sensors_of_the_archive_by_period(schedule: list) -> None:  # type: ignore[type-arg]
    by_year: dict[int, set[str]] = {}
    for s in schedule:
        by_year.setdefault(s.year, set()).add(s.sensor)
    assert by_year[2012] == {"etm"}  # Landsat 5 stopped in Nov 2011, Landsat 8 began in 2013
    assert all(by_year[y] <= {"tm", "etm"} for y in range(2000, 2013))
    assert all("oli" in by_year[y] for y in range(2014, 2025))
    assert not any({"oli", "oli2"} & by_year[y] for y in range(2000, 2013))
    assert "oli2" not in set().union(*(by_year[y] for y in range(2000, 2022)))
    assert "tm" in set().union(*(by_year[y] for y in range(2000, 2012)))


def test_slc_off_only_for_etm_after_the_failure(schedule: list) -> None:  # type: ignore[type-arg]
    for s in schedule:
        assert s.slc_off == (s.sensor == "etm" and date(s.year, s.month, s.day) >= SLC_FAILURE)
    assert sum(s.slc_off for s in schedule) >= 5


def test_acquisitions_lie_on_16_day_repeats_8_days_apart() -> None:
    days = {}
    for month in range(1, 13):
        for sensor, d in acquisitions(2010, month, seed=0):
            days.setdefault(sensor, []).append(d.toordinal())
    etm = np.diff(sorted(days["etm"]))
    assert set(etm.tolist()) == {16}  # every Landsat 7 acquisition is held
    assert {d % 16 for d in days["etm"]}.isdisjoint({d % 16 for d in days["tm"]})
    assert all(delta % 16 == 0 for delta in np.diff(sorted(days["tm"])))
    assert 0.3 * 23 < len(days["tm"]) < 0.9 * 23  # part of the TM archive is missing


def test_file_names_carry_the_platform_the_readers_detect(schedule: list) -> None:  # type: ignore[type-arg]
    expected = {"tm": "landsat5", "etm": "landsat7", "oli": "landsat8", "oli2": "landsat9"}
    seen = set()
    for s in schedule:
        assert detect_sensor(s.file_name) == expected[s.sensor], s.file_name
        seen.add(s.sensor)
    assert seen == set(expected)


def test_landsat_plus_sentinel2_adds_msi_from_2016_beside_the_same_landsat_scenes(
        schedule: list) -> None:  # type: ignore[type-arg]
    mixed = scene_schedule(SiteSpec(sensor="landsat+s2"))
    assert [s for s in mixed if s.sensor != "s2"] == schedule  # the Landsat part unchanged
    msi = [s for s in mixed if s.sensor == "s2"]
    assert {s.year for s in msi} == set(range(2016, 2025))
    for s in msi:
        start, end, _ = S2_MISSIONS[s.platform]
        assert start <= date(s.year, s.month, s.day) <= end, s
        assert detect_sensor(s.file_name) == "sentinel2"
        assert s.file_name.startswith(f"SIM_{s.platform}_MSIL2A_")
    assert {s.platform for s in msi if s.year == 2016} == {"S2A"}  # 2B from July 2017
    assert {s.platform for s in msi} == {"S2A", "S2B"}
    # every month of a role with a Landsat scene from 2016 has one Sentinel-2 scene too
    landsat = {(s.year, s.month) for s in schedule if s.year >= 2016}
    assert {(s.year, s.month) for s in msi} == landsat and len(msi) == len(landsat)


def test_sentinel2_acquisitions_lie_on_10_day_repeats_5_days_apart() -> None:
    days: dict[str, list[int]] = {}
    for month in range(1, 13):
        for platform, d in s2_acquisitions(2020, month):
            days.setdefault(platform, []).append(d.toordinal())
    for platform in ("S2A", "S2B"):
        assert set(np.diff(sorted(days[platform])).tolist()) == {10}
        assert 36 <= len(days[platform]) <= 37
    assert {(b - a) % 10 for a in days["S2A"][:1] for b in days["S2B"][:1]} == {5}
    assert s2_acquisitions(2015, 7) == []  # before the demo's Sentinel-2 years


def test_slc_gap_geometry_is_22_percent_of_a_scene_and_more_off_nadir() -> None:
    d = np.linspace(-imagery.SLC_HALF_SWATH_M, imagery.SLC_HALF_SWATH_M, 100_001)
    assert float(imagery.slc_gap_share(d).mean()) == pytest.approx(0.22, abs=0.01)
    assert float(imagery.slc_gap_share(0.0)) == 0.0
    assert float(imagery.slc_gap_share(imagery.SLC_HALF_SWATH_M)) == 0.5


def test_gaps_are_stripes_at_a_phase_of_their_own_per_scene() -> None:
    g = SiteSpec().grid
    x, y = np.meshgrid(g.x_min_m + 15 + 30 * np.arange(200), g.y_max_m - 15 - 30 * np.arange(200))
    centre = (g.x_min_m + 3000, g.y_max_m - 3000)
    a = imagery.slc_off_gaps(x, y, centre, 0, 2008, 7, 12)
    b = imagery.slc_off_gaps(x, y, centre, 0, 2008, 8, 13)
    share = float(imagery.slc_gap_share(imagery.SITE_ACROSS_TRACK_M))
    assert a.mean() == pytest.approx(share, abs=0.02)
    assert (a != b).mean() > 0.05  # another scene, other gaps: composites can fill them
    assert (a & b).mean() < a.mean()
    four = [imagery.slc_off_gaps(x, y, centre, 0, 2008, m, 5 + m) for m in (6, 7, 8, 9)]
    assert float(np.logical_and.reduce(four).mean()) < 0.05  # four dates leave little unseen
    runs = np.diff(a[:, 100].astype(int))
    assert 8 <= np.count_nonzero(runs == 1) <= 16  # a gap every 480 m over the 6 km column


def test_tm_and_etm_scenes_carry_the_inverse_of_the_harmonisation() -> None:
    oli = np.full((6, 1, 1), 0.3, np.float32)
    etm = imagery.to_sensor(oli, "etm")
    assert etm[3, 0, 0] == pytest.approx((0.3 - 0.0412) / 0.8462, rel=1e-5)
    np.testing.assert_array_equal(imagery.to_sensor(oli, "oli2"), oli)
    tm = imagery.to_sensor(oli, "tm")  # ETM+'s over the measured ETM+/TM gain
    np.testing.assert_allclose(tm[:, 0, 0], etm[:, 0, 0] / np.array(imagery.ETM_PER_TM_GAIN),
                               rtol=1e-6)
    assert tm[2, 0, 0] > etm[2, 0, 0] and tm[3, 0, 0] < etm[3, 0, 0]  # red up, NIR down
