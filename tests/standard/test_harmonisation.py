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


def test_unknown_pairs_and_targets() -> None:
    assert transforms("sentinel2", "landsat8") is None
    assert ("landsat7", "landsat8") in harmonised_pairs()
    assert target_sensor("oli") == "landsat8"
    with pytest.raises(InputDataError, match="harmonise_to"):
        target_sensor("msi")
