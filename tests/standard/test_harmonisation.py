"""Cross-sensor harmonisation functions (issue 16): the table is Roy et al. (2016), Table 2."""

from __future__ import annotations

import pytest

from minecarbon.errors import InputDataError
from minecarbon.standard.harmonisation import harmonised_pairs, target_sensor, transforms

#: Roy, D.P. et al. (2016) Characterization of Landsat-7 to Landsat-8 reflective wavelength and
#: NDVI continuity. Remote Sensing of Environment 185: 57–70, Table 2: OLS functions
#: OLI = intercept + slope × ETM+ for surface reflectance.
ROY_2016_OLS = {
    "blue": (0.8474, 0.0003), "green": (0.8483, 0.0088), "red": (0.9047, 0.0061),
    "nir": (0.8462, 0.0412), "swir1": (0.8937, 0.0254), "swir2": (0.9071, 0.0172),
}


@pytest.mark.parametrize("source", ["landsat7", "landsat5", "landsat4"])
def test_tm_and_etm_to_oli_are_roy_2016_table_2(source: str) -> None:
    table = transforms(source, "landsat8")
    assert table is not None and set(table) == set(ROY_2016_OLS)
    for role, (slope, intercept) in ROY_2016_OLS.items():
        assert table[role].slope == slope
        assert table[role].intercept == intercept
        assert "Roy et al. 2016" in table[role].source


def test_a_known_answer_and_its_inverse() -> None:
    nir = transforms("landsat7", "landsat8")["nir"]  # type: ignore[index]
    assert nir.slope * 0.30 + nir.intercept == pytest.approx(0.29506)  # 0.0412 + 0.8462 × 0.3
    assert nir.inverse(0.29506) == pytest.approx(0.30)


def test_oli2_is_oli_and_a_sensor_is_itself() -> None:
    table = transforms("landsat9", "landsat8")
    assert table is not None and len(table) == 6
    assert all(t.slope == 1.0 and t.intercept == 0.0 for t in table.values())
    assert transforms("landsat8", "landsat8") == {}


#: HLS v2.0 bandpass adjustment, Sentinel-2A MSI → Landsat 8 OLI (Claverie, M. et al. 2018, The
#: Harmonized Landsat and Sentinel-2 surface reflectance data set. Remote Sensing of
#: Environment 219: 145–161; coefficients as published for HLS v2.0 on
#: hls.gsfc.nasa.gov/algorithms/bandpass-adjustment): OLI = intercept + slope × MSI, OLI's NIR
#: from MSI B8A.
HLS_S2A = {
    "coastal": (0.9959, -0.0002), "blue": (0.9778, -0.004), "green": (1.0053, -0.0009),
    "red": (0.9765, 0.0009), "nir": (0.9983, -0.0001), "swir1": (0.9987, -0.0011),
    "swir2": (1.003, -0.0012),
}


def test_sentinel2_to_oli_is_the_hls_bandpass_adjustment_with_nir_from_b8a() -> None:
    table = transforms("sentinel2", "landsat8")
    assert table is not None and set(table) == set(HLS_S2A)
    for role, (slope, intercept) in HLS_S2A.items():
        assert (table[role].slope, table[role].intercept) == (slope, intercept)
        assert "Claverie et al. 2018" in table[role].source
        assert table[role].source_role == ("nir08" if role == "nir" else role)
    assert ("sentinel2", "landsat8") in harmonised_pairs()
    # Roy et al.'s rows are computed from their own band
    assert all(t.source_role == t.role for t in transforms("landsat7", "landsat8").values())  # type: ignore[union-attr]


def test_unknown_pairs_and_targets() -> None:
    assert transforms("gf6_wfv", "landsat8") is None
    assert ("landsat7", "landsat8") in harmonised_pairs()
    assert target_sensor("oli") == "landsat8"
    with pytest.raises(InputDataError, match="harmonise_to"):
        target_sensor("msi")
