"""Spectral indices (F3): known answers, hand formulas, peer libraries, traps and bad input.

Known answers: the 120 Landsat-8 Collection-2 surface-reflectance samples shipped with spyndex
(``spyndex/data/spectral.json``, ../shared/data/spyndex_landsat8_samples) and the numbers
spyndex 0.12 gives for sample 0, recorded in ../shared/reference/tasseled_cap_bands_indices.md
§1.3. Hand formulas are typed from the papers cited in ``standard/data/indices.csv``.
"""

from __future__ import annotations

import warnings

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import xarray as xr
import xrspatial.multispectral as xrs

from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.features.spectral import (
    BAND_SYMBOLS,
    available_indices,
    compute_indices,
    index_info,
)
from minecarbon.standard.indices import standard_indices
from tests.compare import assert_close_counted
from tests.conftest import REPO, shared_path

OLI_ROLES = {"SR_B1": "coastal", "SR_B2": "blue", "SR_B3": "green", "SR_B4": "red",
             "SR_B5": "nir", "SR_B6": "swir1", "SR_B7": "swir2"}
REQUIRED = ["NDVI", "RVI", "DVI", "EVI", "SAVI", "MSAVI", "NDWI", "NDMI", "NBR", "GNDVI"]


@pytest.fixture(scope="module")
def samples() -> xr.Dataset:
    """The 120 real Landsat-8 SR samples as a Dataset of roles (Landsat 8 B5 passed as nir)."""
    df = pd.read_json(shared_path("spyndex_landsat8_samples", "spectral.json"))
    return xr.Dataset({role: ("sample", df[band].to_numpy()) for band, role in OLI_ROLES.items()},
                      attrs={"sensor": "landsat8", "product_level": "sr"})


def _scene(n: int = 6, seed: int = 0, **extra: float) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    roles = ["blue", "green", "red", "nir", "swir1", "swir2", *extra]
    data = {r: (("y", "x"), rng.uniform(0.02, 0.4, (n, n)).astype(np.float32)) for r in roles}
    coords = {"y": 4_100_000.0 - 30.0 * np.arange(n), "x": 500_000.0 + 30.0 * np.arange(n)}
    return xr.Dataset(data, coords=coords)


# --- known answers ------------------------------------------------------------------------


def test_sample0_golden_numbers(samples: xr.Dataset) -> None:
    """spyndex 0.12 on sample 0 (reference §1.3); EVI with the MODIS L = 1, see next test."""
    out = compute_indices(samples.isel(sample=[0]), ["NDVI", "EVI", "SAVI", "MSAVI", "NDWI",
                                                     "DVI", "RVI"])
    got = {k: float(v[0]) for k, v in out.data_vars.items()}
    expected = {"ndvi": 0.23755, "savi": 0.16574, "msavi": 0.14868, "ndwi_mcfeeters": -0.34097,
                "dvi": 0.10329, "rvi_nir_red": 1.62312,
                # EVI = 2.5 (N - R) / (N + 6R - 7.5B + 1) by hand on sample 0 (Huete et al. 2002)
                "evi": 2.5 * (0.269054 - 0.165764) / (0.269054 + 6 * 0.165764
                                                        - 7.5 * 0.100795 + 1.0)}
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=6e-6), name


def test_reference_evi_number_is_evi_with_savi_l(samples: xr.Dataset) -> None:
    """The reference's EVI 0.25626 was computed with SAVI's L = 0.5 shared by both formulas.

    ASI uses one constant ``L`` for SAVI and EVI: passing L = 0.5 globally changes EVI too. The
    standard pins EVI's L = 1, so a global override warns and reproduces the 0.25626.
    """
    with pytest.warns(UserWarning, match="overrides EVI's L = 1"):
        out = compute_indices(samples.isel(sample=[0]), ["EVI", "SAVI"], constants={"L": 0.5})
    assert float(out.evi[0]) == pytest.approx(0.25626, abs=6e-6)
    assert float(out.savi[0]) == pytest.approx(0.16574, abs=6e-6)


def test_all_samples_match_hand_formulas(samples: xr.Dataset) -> None:
    out = compute_indices(samples, REQUIRED)
    b, g, r = (samples[k].to_numpy() for k in ("blue", "green", "red"))
    n, s1, s2 = (samples[k].to_numpy() for k in ("nir", "swir1", "swir2"))
    hand = {
        "ndvi": (n - r) / (n + r),  # Rouse et al. 1974
        "rvi_nir_red": n / r,  # Jordan 1969
        "dvi": n - r,
        "evi": 2.5 * (n - r) / (n + 6.0 * r - 7.5 * b + 1.0),  # Huete et al. 2002
        "savi": 1.5 * (n - r) / (n + r + 0.5),  # Huete 1988, L = 0.5
        "msavi": (2 * n + 1 - np.sqrt((2 * n + 1) ** 2 - 8 * (n - r))) / 2,  # Qi et al. 1994
        "ndwi_mcfeeters": (g - n) / (g + n),  # McFeeters 1996
        "ndmi_gao": (n - s1) / (n + s1),  # Gao 1996 / Wilson & Sader 2002
        "nbr": (n - s2) / (n + s2),  # Key & Benson 2006
        "gndvi": (n - g) / (n + g),  # Gitelson et al. 1996
    }
    assert set(out.data_vars) == set(hand)
    for name, expected in hand.items():
        assert out[name].dtype == np.float32
        np.testing.assert_allclose(out[name].to_numpy(), expected, rtol=2e-6, atol=2e-7,
                                   err_msg=name)


def test_xrspatial_agrees_on_real_sentinel2() -> None:
    """Peer oracle: xarray-spatial's NDVI, EVI, NDMI and NBR on a real Sentinel-2 subset.

    (xarray-spatial 0.5's SAVI divides by (1 + L) instead of multiplying, so it is not used.)
    """
    bands = {}
    for role in ("blue", "red", "nir", "swir1", "swir2"):
        path = shared_path("xrspatial_sentinel2", f"{role}_band.nc")
        with xr.open_dataset(path) as nc:
            band = (nc["__xarray_dataarray_variable__"] * 1e-4).astype("float32").load()
        bands[role] = band.drop_vars("band", errors="ignore").squeeze(drop=True)
    # the SWIR bands are 20 m, the others 10 m: xr.Dataset(...) would align them on the union
    # of their coordinates and leave both sides all NaN (issue 19); put them on the red grid
    red = bands["red"]
    bands = {k: v if v.shape == red.shape and all(
        np.array_equal(v[d].values, red[d].values) for d in red.dims)
        else v.interp_like(red, method="nearest") for k, v in bands.items()}
    ds = xr.Dataset(bands)
    out = compute_indices(ds, ["NDVI", "EVI", "NDMI", "NBR"])
    peers = {"ndvi": xrs.ndvi(ds.nir, ds.red), "evi": xrs.evi(ds.nir, ds.red, ds.blue),
             "ndmi_gao": xrs.ndmi(ds.nir, ds.swir1), "nbr": xrs.nbr(ds.nir, ds.swir2)}
    for name, peer in peers.items():
        assert_close_counted(out[name].to_numpy(), peer.to_numpy(), min_count=1000, rtol=1e-5,
                             atol=1e-6, err_msg=name)


def test_kndvi_is_tanh_ndvi_squared(samples: xr.Dataset) -> None:
    """Camps-Valls et al. 2021: with σ = 0.5 (N + R), kNDVI = tanh(NDVI²)."""
    out = compute_indices(samples, ["kNDVI", "NDVI"])
    np.testing.assert_allclose(out.kndvi, np.tanh(out.ndvi.astype(np.float64) ** 2), atol=1e-6)
    assert "0.5 (a + b)" in out.kndvi.attrs["kernel"]


def test_kernel_index_with_fixed_sigma(samples: xr.Dataset) -> None:
    n, r, b = (samples[k].to_numpy() for k in ("nir", "red", "blue"))
    with pytest.raises(InputDataError, match="sigma"):
        compute_indices(samples, ["kEVI"])
    out = compute_indices(samples, ["kEVI"], constants={"kEVI": {"sigma": 0.3}})

    def k(a: np.ndarray | float, c: np.ndarray | float) -> np.ndarray:
        return np.exp(-((np.asarray(a) - c) ** 2) / (2 * 0.3**2))

    hand = 2.5 * (1 - k(n, r)) / (1 + 6 * k(n, r) - 7.5 * k(n, b) + k(n, 1.0))
    np.testing.assert_allclose(out.kevi, hand, rtol=1e-5)


# --- the traps ----------------------------------------------------------------------------


def test_standard_rvi_is_nir_over_red_not_asi_rvi() -> None:
    ds = _scene(rededge2=0.0)
    info = index_info("RVI")
    assert (info.asi_key, info.feature_name, info.roles) == ("SR", "rvi_nir_red", ("nir", "red"))
    assert index_info("asi:RVI").roles == ("rededge2", "red")
    out = compute_indices(ds, ["RVI", "asi:RVI"])
    np.testing.assert_allclose(out.rvi_nir_red, ds.nir / ds.red, rtol=1e-6)
    np.testing.assert_allclose(out.asi_rvi, ds.rededge2 / ds.red, rtol=1e-6)
    assert not np.allclose(out.rvi_nir_red, out.asi_rvi)
    compute_indices(ds.drop_vars("rededge2"), ["RVI"])  # needs no red-edge band


def test_ndwi_names_say_which() -> None:
    ds = _scene()
    out = compute_indices(ds, ["NDWI", "NDMI", "NDWI_GAO"])
    assert set(out.data_vars) == {"ndwi_mcfeeters", "ndmi_gao"}
    np.testing.assert_allclose(out.ndwi_mcfeeters, (ds.green - ds.nir) / (ds.green + ds.nir),
                               rtol=1e-6)
    np.testing.assert_allclose(out.ndmi_gao, (ds.nir - ds.swir1) / (ds.nir + ds.swir1), rtol=1e-6)
    assert index_info("NDWI_GAO").asi_key == index_info("NDMI").asi_key == "NDMI"


def test_savi_uses_l_half_and_per_index_override() -> None:
    ds = _scene()
    n, r = ds.nir.astype(np.float64), ds.red.astype(np.float64)
    out = compute_indices(ds, ["SAVI"])
    assert out.savi.attrs["constants"] == "L=0.5"
    np.testing.assert_allclose(out.savi, 1.5 * (n - r) / (n + r + 0.5), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = compute_indices(ds, ["SAVI", "EVI"], constants={"SAVI": {"L": 1.0}})
    np.testing.assert_allclose(both.savi, 2.0 * (n - r) / (n + r + 1.0), rtol=1e-6)
    assert both.evi.attrs["constants"] == "g=2.5; C1=6; C2=7.5; L=1"


def test_sentinel2_nir_is_b8_not_b8a() -> None:
    ds = _scene(nir08=0.0)
    ds["nir08"] = ds.nir * 1.1
    out = compute_indices(ds, ["NDVI"])
    np.testing.assert_allclose(out.ndvi, (ds.nir - ds.red) / (ds.nir + ds.red), rtol=1e-6)
    assert BAND_SYMBOLS["nir"] == "N" and BAND_SYMBOLS["nir08"] == "N2"
    assert "nir08" in index_info("CRSWIR").roles  # an ASI index on N2 takes B8A


# --- dask, coordinates --------------------------------------------------------------------


def test_lazy_on_dask_and_same_values() -> None:
    ds = _scene(n=40)
    lazy = compute_indices(ds.chunk({"y": 10, "x": 10}), REQUIRED)
    eager = compute_indices(ds, REQUIRED)
    for name in eager.data_vars:
        assert isinstance(lazy[name].data, dsa.Array), name
        assert lazy[name].chunks == ((10,) * 4, (10,) * 4)
        np.testing.assert_allclose(lazy[name].compute(), eager[name], rtol=1e-6)


def test_dask_reads_only_a_sample_of_chunks() -> None:
    """The scale check computes at most 4 of the 16 chunks; the indices compute nothing."""
    seen: list[tuple[int, ...]] = []

    def fill(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        seen.append(tuple(block_info[None]["chunk-location"]))  # type: ignore[index]
        return np.full(block.shape, 0.2, np.float32)

    base = dsa.zeros((40, 40), chunks=10, dtype=np.float32)
    red = xr.DataArray(base.map_blocks(fill, dtype=np.float32), dims=("y", "x"))
    out = compute_indices({"red": red, "nir": red * 2}, ["NDVI"])
    assert 0 < len(seen) <= 4
    seen.clear()
    assert float(out.ndvi.mean()) == pytest.approx(1 / 3)
    assert len(seen) == 16


def test_check_scale_off_computes_nothing() -> None:
    def boom(block: np.ndarray) -> np.ndarray:
        raise AssertionError("computed")

    lazy = dsa.zeros((20, 20), chunks=10).map_blocks(boom, dtype=float)
    red = xr.DataArray(lazy, dims=("y", "x"))
    out = compute_indices({"red": red, "nir": red}, ["NDVI"], check_scale=False)
    assert isinstance(out.ndvi.data, dsa.Array)


def test_coords_and_crs_kept() -> None:
    ds = _scene().rio.write_crs("EPSG:4546")
    out = compute_indices(ds, ["NDVI", "NBR"])
    assert out.rio.crs == ds.rio.crs
    assert out.ndvi.rio.crs.to_epsg() == 4546
    np.testing.assert_array_equal(out.x, ds.x)
    assert out.ndvi.attrs["asi_key"] == "NDVI" and out.ndvi.attrs["formula"] == "(N-R)/(N+R)"


# --- bad input ----------------------------------------------------------------------------


def test_missing_band_names_index_role_and_dataset() -> None:
    ds = _scene().drop_vars("swir2")
    with pytest.raises(InputDataError, match=r"NBR .*swir2.*has blue, green, red, nir, swir1"):
        compute_indices(ds, ["NDVI", "NBR"])


def test_band_ids_instead_of_roles_get_a_hint() -> None:
    ds = _scene().rename({"red": "B4", "nir": "B5"})
    with pytest.raises(InputDataError, match="named by band role, not band id"):
        compute_indices(ds, ["NDVI"])


def test_bands_on_different_grids() -> None:
    ds = _scene()
    shifted = ds.nir.assign_coords(x=ds.x + 15.0)
    with pytest.raises(GridMismatchError, match="'red'.*'nir'.*x coordinates"):
        compute_indices({"red": ds.red, "nir": shifted}, ["NDVI"])
    coarse = xr.Dataset({"red": ds.red, "nir": ds.nir[::2, ::2].rename(y="y20", x="x20")})
    with pytest.raises(GridMismatchError, match="not on the same grid"):
        compute_indices(coarse, ["NDVI"])


def test_digital_numbers_refused() -> None:
    ds = _scene()
    dn = ds.assign(nir=ds.nir * 10_000)
    with pytest.raises(InputDataError, match="'nir' looks like digital numbers.*scale and offset"):
        compute_indices(dn, ["NDVI"])
    with pytest.raises(InputDataError, match="'nir' looks like digital numbers"):
        compute_indices(dn.chunk({"y": 2, "x": 2}), ["NDVI"])
    with pytest.raises(InputDataError, match="integer dtype"):
        compute_indices(ds.assign(red=(ds.red * 10_000).astype("int16")), ["NDVI"])


def test_real_sentinel2_dn_refused() -> None:
    with xr.open_dataset(shared_path("xrspatial_sentinel2", "nir_band.nc")) as nc:
        nir = nc["__xarray_dataarray_variable__"].load()
    with pytest.raises(InputDataError, match="'nir' looks like digital numbers"):
        compute_indices({"nir": nir, "red": nir / 2e4}, ["NDVI"])


def test_unknown_index_lists_close_matches() -> None:
    with pytest.raises(InputDataError, match="did you mean.*NDVI"):
        compute_indices(_scene(), ["NDIV"])
    with pytest.raises(InputDataError, match="ambiguous"):
        index_info("bai")


def test_refusals_with_reasons() -> None:
    ds = _scene()
    with pytest.raises(InputDataError, match="radar"):
        index_info("DpRVIVV")
    with pytest.raises(InputDataError, match="lambdaN"):
        compute_indices(ds, ["NIRvH2"])
    with pytest.raises(InputDataError, match="'l' is used by none"):
        compute_indices(ds, ["SAVI"], constants={"l": 0.5})
    with pytest.raises(InputDataError, match="not requested"):
        compute_indices(ds, ["NDVI"], constants={"SAVI": {"L": 0.5}})


def test_available_indices_and_info() -> None:
    names = available_indices()
    assert names[:11] == ("NDVI", "RVI", "DVI", "EVI", "SAVI", "MSAVI", "NDWI", "NDWI_GAO",
                          "NDMI", "NBR", "GNDVI")
    assert {"kNDVI", "NIRv", "EVI2", "MNDWI", "NDREI"} <= set(names)
    assert names.count("RVI") == 1  # ASI's RVI only as asi:RVI
    info = index_info("savi")
    assert info.constants == {"L": 0.5} and "Huete 1988" in info.source
    assert index_info("evi2").feature_name == "evi2"


def test_docs_table_lists_every_standard_index() -> None:
    """docs/spectral.md must show each standard name with its ASI key and feature name."""
    text = (REPO / "docs" / "spectral.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].split()[0]: line for line in text.splitlines()
            if line.startswith("| ") and "`" in line}
    for record in standard_indices():
        assert record.name in rows, record.name
        assert f"`{record.asi_key}`" in rows[record.name] and \
            f"`{record.feature_name}`" in rows[record.name], record.name
