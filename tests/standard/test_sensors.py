"""Sensor registry (F1): bands by role, scale and offset, detection from product names."""

from __future__ import annotations

import pytest

from minecarbon.errors import InputDataError
from minecarbon.standard.sensors import (
    ROLES,
    detect_sensor,
    normalise_band_id,
    qa_flags,
    sensor,
    sensor_ids,
    sentinel2_offset,
)


def test_all_sensors_of_appendix_a_are_registered() -> None:
    assert set(sensor_ids()) == {"landsat5", "landsat7", "landsat8", "landsat9", "sentinel2",
                                 "gf1_wfv", "gf2_pms", "gf6_wfv"}


def test_every_band_has_a_known_role_and_a_source() -> None:
    for sid in sensor_ids():
        s = sensor(sid)
        assert len(set(s.roles)) == len(s.roles), sid  # a role once per sensor
        for b in s.bands:
            assert b.role in ROLES and b.source and b.centre_nm > 0 and b.resolution_m > 0


@pytest.mark.parametrize(("sid", "role", "band", "centre", "res"), [
    # tasseled_cap_bands_indices.md §1.2 (ASI bands.json; mission documentation)
    ("landsat5", "swir2", "B7", 2215, 30),
    ("landsat8", "nir", "B5", 865, 30),
    ("landsat8", "swir1", "B6", 1610, 30),
    ("sentinel2", "nir", "B8", 832.8, 10),
    ("sentinel2", "nir08", "B8A", 864.7, 20),
    ("sentinel2", "rededge1", "B5", 704.1, 20),
    ("sentinel2", "coastal", "B1", 442.7, 60),
    ("gf2_pms", "pan", "PAN", 675, 1),
    ("gf2_pms", "nir", "B4", 830, 4),
])
def test_band_table_known_values(sid: str, role: str, band: str, centre: float,
                                 res: float) -> None:
    b = sensor(sid).band(role)
    assert (b.band, b.centre_nm, b.resolution_m) == (band, centre, res)


def test_gf6_wfv_band_numbers_are_not_spectral_order() -> None:
    # eoPortal WFV (GF-6): red-edge 1/2 are B5/B6, purple B7 (400–450 nm), yellow B8 (590–630)
    s = sensor("gf6_wfv")
    assert s.band("rededge1").band == "B5" and s.band("purple").band == "B7"
    assert s.band("yellow").band == "B8"
    assert s.reflective_roles == ("purple", "blue", "green", "yellow", "red", "rededge1",
                                  "rededge2", "nir")


def test_scale_and_offset() -> None:
    # USGS Collection-2 Level-2: ρ = DN × 2.75e-5 − 0.2; ESA L2A: ρ = DN / 10 000
    for sid in ("landsat5", "landsat7", "landsat8", "landsat9"):
        b = sensor(sid).band("red")
        assert (b.scale, b.offset) == (2.75e-05, -0.2)
    b = sensor("sentinel2").band("red")
    assert (b.scale, b.offset) == (1e-4, 0.0)
    assert sensor("gf1_wfv").band("red").scale is None  # DN: calibration needed


def test_sentinel2_offset_of_processing_baseline_04() -> None:
    assert sentinel2_offset(4.0) == pytest.approx(-0.1)
    assert sentinel2_offset(3.01) == 0.0
    assert sentinel2_offset(None, -1000.0) == pytest.approx(-0.1)
    assert sentinel2_offset(5.0, 0.0) == 0.0  # harmonised collections state 0


def test_missing_role_names_what_the_sensor_has() -> None:
    with pytest.raises(InputDataError, match="no 'rededge1' band.*blue"):
        sensor("landsat8").band("rededge1")


def test_unknown_sensor_suggests() -> None:
    with pytest.raises(InputDataError, match="landsat8"):
        sensor("landsat-88")
    assert sensor("S2").id == "sentinel2" and sensor("OLI").id == "landsat8"


@pytest.mark.parametrize(("name", "sid"), [
    ("LC08_L2SP_125034_20200715_20200912_02_T1_SR_B4.TIF", "landsat8"),
    ("LC09_L2SP_125034_20220715_20220717_02_T1", "landsat9"),
    ("LE07_L2SP_125034_20010715_20200917_02_T1", "landsat7"),
    ("LT05_L2SP_125034_19990715_20200907_02_T1", "landsat5"),
    ("S2B_MSIL2A_20220715T031541_N0400_R118_T49SFB_20220715T072511", "sentinel2"),
    ("SIM_LC08_L2SP_125034_20000305_SR", "landsat8"),
    ("GF6_WFV_E112.5_N37.1_20200715_L1A1120012345", "gf6_wfv"),
    ("readme", None),
])
def test_detect_sensor(name: str, sid: str | None) -> None:
    assert detect_sensor(name) == sid


@pytest.mark.parametrize(("text", "band"), [("SR_B4", "B4"), ("B04", "B4"), ("b4", "B4"),
                                            ("B8A", "B8A"), ("B08", "B8"), ("ST_B10", "B10")])
def test_normalise_band_id(text: str, band: str) -> None:
    assert normalise_band_id(text) == band


def test_qa_flags_defaults() -> None:
    landsat = {f.meaning for f in qa_flags("landsat_c2_qa_pixel") if f.masked_by_default}
    assert {"fill", "cloud", "cloud shadow", "dilated cloud"} <= landsat
    scl = {f.value for f in qa_flags("sentinel2_scl") if f.masked_by_default}
    assert scl == {0, 1, 3, 8, 9, 10, 11}
    with pytest.raises(InputDataError):
        qa_flags("modis")
