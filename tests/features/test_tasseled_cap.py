"""Tasseled cap (F4): coefficient tables, band order by role, real Landsat data, DI, traps.

The expected coefficients below are typed from ../shared/reference/tasseled_cap_bands_indices.md
(Crist 1985; Huang et al. 2002; Baig et al. 2014; Zhai et al. 2022; Shi & Xu 2019; Nedkov 2017),
keyed by band id in each paper's own band order, so a table stored in another order, or read by
position, fails.
"""

from __future__ import annotations

import datetime as dt
import warnings

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr

from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.features.tasseled_cap import (
    DisturbanceStats,
    disturbance_stats,
    tasseled_cap,
    tasseled_cap_derived,
)
from minecarbon.standard.tasseled_cap import coefficient_set, coefficient_sets
from tests.conftest import shared_path

TM = ("B1", "B2", "B3", "B4", "B5", "B7")
OLI = ("B2", "B3", "B4", "B5", "B6", "B7")
S2_SHI = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
S2_NEDKOV = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12", "B8A")

#: set → (sensor, product level, band ids in the paper's order, {component: coefficients}).
REFERENCE: dict[str, tuple[str, str, tuple[str, ...], dict[str, tuple[float, ...]]]] = {
    "crist1985": ("landsat5", "sr", TM, {
        "brightness": (0.2043, 0.4158, 0.5524, 0.5741, 0.3124, 0.2303),
        "greenness": (-0.1603, -0.2819, -0.4934, 0.7940, -0.0002, -0.1446),
        "wetness": (0.0315, 0.2021, 0.3102, 0.1594, -0.6806, -0.6109)}),
    "huang2002": ("landsat7", "toa", TM, {
        "brightness": (0.3561, 0.3972, 0.3904, 0.6966, 0.2286, 0.1596),
        "greenness": (-0.3344, -0.3544, -0.4556, 0.6966, -0.0242, -0.2630),
        "wetness": (0.2626, 0.2141, 0.0926, 0.0656, -0.7629, -0.5388),
        "fourth": (0.0805, -0.0498, 0.1950, -0.1327, 0.5752, -0.7775)}),
    "baig2014": ("landsat8", "toa", OLI, {
        "brightness": (0.3029, 0.2786, 0.4733, 0.5599, 0.5080, 0.1872),
        "greenness": (-0.2941, -0.2430, -0.5424, 0.7276, 0.0713, -0.1608),
        "wetness": (0.1511, 0.1973, 0.3283, 0.3407, -0.7117, -0.4559),
        "fourth": (-0.8239, 0.0849, 0.4396, -0.0580, 0.2013, -0.2773)}),
    "zhai2022_sr": ("landsat8", "sr", OLI[1:], {
        "brightness": (0.4596, 0.5046, 0.5458, 0.4114, 0.2589),
        "greenness": (-0.3374, -0.4901, 0.7909, 0.0177, -0.1416),
        "wetness": (0.2254, 0.3681, 0.2250, -0.6053, -0.6298)}),
    "shi_xu2019": ("sentinel2", "toa", S2_SHI, {
        "brightness": (0.2381, 0.2569, 0.2934, 0.3020, 0.3099, 0.3740, 0.4180, 0.3580, 0.3834,
                       0.0103, 0.0020, 0.0896, 0.0780),
        "greenness": (-0.2266, -0.2818, -0.3020, -0.4283, -0.2959, 0.1602, 0.3127, 0.3138,
                      0.4261, 0.1454, -0.0017, -0.1341, -0.2538),
        "wetness": (0.1825, 0.1763, 0.1615, 0.0486, 0.0170, 0.0223, 0.0219, -0.0755, -0.0910,
                    -0.1369, 0.0003, -0.7701, -0.5293)}),
    "nedkov2017": ("sentinel2", "toa", S2_NEDKOV, {
        "brightness": (0.0356, 0.0822, 0.1360, 0.2611, 0.2964, 0.3338, 0.3877, 0.3895, 0.0949,
                       0.0009, 0.3882, 0.1366, 0.4750),
        "greenness": (-0.0635, -0.1128, -0.1680, -0.3480, -0.3303, 0.0852, 0.3302, 0.3165,
                      0.0467, -0.0009, -0.4578, -0.4064, 0.3625),
        "wetness": (0.0649, 0.1363, 0.2802, 0.3072, 0.5288, 0.1379, -0.0001, -0.0807, -0.0302,
                    0.0003, -0.4064, -0.5602, -0.1389)}),
}

#: Band id → role, per sensor family (the brief's band table).
ROLE = {
    "landsat5": dict(zip(TM, ("blue", "green", "red", "nir", "swir1", "swir2"), strict=True)),
    "landsat7": dict(zip(TM, ("blue", "green", "red", "nir", "swir1", "swir2"), strict=True)),
    "landsat8": dict(zip(("B1", *OLI), ("coastal", "blue", "green", "red", "nir", "swir1",
                                        "swir2"), strict=True)),
    "sentinel2": dict(zip(S2_SHI, ("coastal", "blue", "green", "red", "rededge1", "rededge2",
                                   "rededge3", "nir", "nir08", "watervapour", "cirrus", "swir1",
                                   "swir2"), strict=True)),
}


def _bands(sensor: str, ids: tuple[str, ...], values: dict[str, float] | None = None,
           attrs: dict[str, str] | None = None) -> xr.Dataset:
    values = values or {}
    data = {ROLE[sensor][b]: (("y", "x"), np.full((2, 2), values.get(b, 0.1), np.float32))
            for b in ids}
    return xr.Dataset(data, coords={"y": [1.0, 0.0], "x": [0.0, 1.0]}, attrs=attrs or {})


# --- coefficients -------------------------------------------------------------------------


def test_sets_present_with_units_and_sources() -> None:
    sets = coefficient_sets()
    assert set(sets) == set(REFERENCE)
    for name, (sensor, unit, ids, _) in REFERENCE.items():
        assert sensor in sets[name].sensors and sets[name].input_unit == unit
        assert len(sets[name].roles) == len(ids) and sets[name].source


@pytest.mark.parametrize("name", list(REFERENCE))
def test_table_matches_reference(name: str) -> None:
    _, _, ids, table = REFERENCE[name]
    stored = coefficient_set(name)
    for component, coefs in table.items():
        got = {stored.bands[role]: c for role, c in stored.coefficients[component].items()}
        assert got == dict(zip(ids, coefs, strict=True)), component


@pytest.mark.parametrize("name", list(REFERENCE))
def test_pure_band_input_returns_that_bands_coefficient(name: str) -> None:
    """Reflectance 1 in one role, 0 elsewhere: each component is that band's coefficient."""
    sensor, unit, ids, table = REFERENCE[name]
    for i, band in enumerate(ids):
        ds = _bands(sensor, ids, {b: float(b == band) for b in ids})
        out = tasseled_cap(ds, sensor, coefficient_set=name, product_level=unit)  # type: ignore[arg-type]
        for component in ("brightness", "greenness", "wetness"):
            got = float(out[f"tc_{component}"][0, 0])
            assert got == pytest.approx(table[component][i], abs=1e-7), (band, component)


# --- traps --------------------------------------------------------------------------------


def test_tm_traps_wetness_b5_sign_and_greenness_b1() -> None:
    """A public copy has +0.6806 for TM wetness-B5, another −0.1063 for greenness-B1."""
    ds = _bands("landsat5", TM, {b: float(b == "B5") for b in TM})
    assert float(tasseled_cap(ds, "landsat5").tc_wetness[0, 0]) == pytest.approx(-0.6806)
    ds = _bands("landsat5", TM, {b: float(b == "B1") for b in TM})
    assert float(tasseled_cap(ds, "landsat5").tc_greenness[0, 0]) == pytest.approx(-0.1603)


def test_shi_xu_on_six_band_subset_refused() -> None:
    ds = _bands("sentinel2", ("B2", "B3", "B4", "B8", "B11", "B12"),
                {}, {"product_level": "toa"})
    with pytest.raises(InputDataError, match=r"shi_xu2019 .*13 bands; missing: coastal \(B1\)"
                       r".*nir08 \(B8A\)"):
        tasseled_cap(ds, "sentinel2")


def test_band_ids_instead_of_roles_refused() -> None:
    ds = xr.Dataset({b: (("y", "x"), np.full((2, 2), 0.1)) for b in OLI})
    with pytest.raises(InputDataError, match="missing: green \\(B3\\).*has B2, B3"):
        tasseled_cap(ds, "landsat8")


def test_sentinel2_l2a_without_cirrus() -> None:
    full = _bands("sentinel2", S2_SHI, {"B10": 0.0})
    l2a = full.drop_vars("cirrus")
    with pytest.raises(InputDataError, match=r"cirrus \(B10\).*fill_missing=\{'cirrus': 0.0\}"
                       ".*nedkov2017"):
        tasseled_cap(l2a, "sentinel2", product_level="toa")
    filled = tasseled_cap(l2a, "sentinel2", product_level="toa", fill_missing={"cirrus": 0.0})
    xr.testing.assert_allclose(filled.drop_attrs(), tasseled_cap(full, "sentinel2",
                               product_level="toa").drop_attrs())
    assert filled.tc_brightness.attrs["filled"] == "cirrus=0"


def test_unit_warning_and_defaults() -> None:
    tm = _bands("landsat7", TM)
    with pytest.warns(UserWarning, match="huang2002 was derived for toa reflectance, the data "
                      "are sr"):
        tasseled_cap(tm, "landsat7", coefficient_set="huang2002")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tasseled_cap(tm, "landsat7").tc_wetness.attrs["coefficient_set"] == "crist1985"
        assert tasseled_cap(tm, "landsat7", product_level="toa").tc_wetness.attrs[
            "coefficient_set"] == "huang2002"
        oli = _bands("landsat8", ("B1", *OLI), attrs={"product_level": "toa"})
        assert tasseled_cap(oli, "landsat8").tc_brightness.attrs["coefficient_set"] == "baig2014"
        oli.attrs["product_level"] = "sr"
        assert tasseled_cap(oli, "landsat8").tc_brightness.attrs[
            "coefficient_set"] == "zhai2022_sr"
    with pytest.warns(UserWarning, match="shi_xu2019 was derived for toa"):
        tasseled_cap(_bands("sentinel2", S2_SHI), "sentinel2")


def test_wrong_sensor_or_set_refused() -> None:
    oli = _bands("landsat8", ("B1", *OLI), attrs={"sensor": "landsat8"})
    with pytest.raises(InputDataError, match="dataset says 'landsat8'"):
        tasseled_cap(oli, "landsat5")
    with pytest.raises(InputDataError, match="'shi_xu2019' is for sentinel2, not 'landsat8'"):
        tasseled_cap(oli, "landsat8", coefficient_set="shi_xu2019")
    with pytest.raises(InputDataError, match="no tasseled-cap coefficient set for sensor"):
        tasseled_cap(oli.assign_attrs(sensor="gf1_wfv"), "gf1_wfv")
    with pytest.raises(InputDataError, match="digital numbers"):
        tasseled_cap(oli * 10_000, "landsat8")


def test_lazy_on_dask() -> None:
    rng = np.random.default_rng(1)
    ds = xr.Dataset({r: (("y", "x"), rng.uniform(0.01, 0.4, (20, 20)).astype(np.float32))
                     for r in ROLE["landsat5"].values()})
    lazy = tasseled_cap(ds.chunk({"y": 5}), "landsat5")
    assert all(isinstance(v.data, dsa.Array) for v in lazy.data_vars.values())
    xr.testing.assert_allclose(lazy.compute(), tasseled_cap(ds, "landsat5"))


# --- real data: Harvard Forest, Landsat 4/5/7 SR (yatsm test data) ------------------------


@pytest.fixture(scope="module")
def harvard() -> xr.Dataset:
    """Clear (Fmask 0) July–August observations of one image row over Harvard Forest."""
    npz = np.load(shared_path("yatsm_landsat_harvard_forest", "p013r030_r50_n423_b8.npz"))
    y, dates = npz["Y"], npz["dates"]
    months = np.array([dt.date.fromordinal(int(d)).month for d in dates])
    roles = ("blue", "green", "red", "nir", "swir1", "swir2")
    data = {r: (("time", "x"), np.where(y[7] == 0, y[i] * 1e-4, np.nan).astype(np.float32))
            for i, r in enumerate(roles)}
    ds = xr.Dataset(data, coords={"time": dates}, attrs={"product_level": "sr"})
    return ds.isel(time=np.flatnonzero((months == 7) | (months == 8)))


def test_harvard_forest_summer_pixel(harvard: xr.Dataset) -> None:
    ndvi = (harvard.nir - harvard.red) / (harvard.nir + harvard.red)
    t, x = np.argwhere((ndvi > 0.85).to_numpy())[0]  # first dense-canopy clear observation
    pixel = harvard.isel(time=[t], x=[x])
    out = tasseled_cap(pixel, "landsat5")
    bands = np.array([float(pixel[r][0, 0]) for r in ROLE["landsat5"].values()])
    for component, coefs in REFERENCE["crist1985"][3].items():
        if component == "fourth":
            continue
        assert float(out[f"tc_{component}"][0, 0]) == pytest.approx(
            float(np.dot(coefs, bands)), abs=1e-6)
    # plausible closed-canopy forest (Crist 1985 reflectance units)
    assert 0.15 < float(out.tc_brightness[0, 0]) < 0.45
    assert 0.15 < float(out.tc_greenness[0, 0]) < 0.40
    assert -0.15 < float(out.tc_wetness[0, 0]) < 0.02


def test_harvard_forest_summer_medians(harvard: xr.Dataset) -> None:
    out = tasseled_cap(harvard.chunk({"time": 10}), "landsat5").compute()
    med = {k: float(v.median()) for k, v in out.data_vars.items()}
    assert med["tc_greenness"] > 0.15 > 0.0 > med["tc_wetness"] > -0.15
    assert med["tc_brightness"] > med["tc_greenness"]
    angle = tasseled_cap_derived(out, stats={f"{c}_{s}": 1.0 for c in
                                             ("brightness", "greenness", "wetness")
                                             for s in ("mean", "std")}).tc_angle_deg
    assert 30 < float(angle.median()) < 50  # forest: greenness close to brightness


# --- derived indices ----------------------------------------------------------------------


def _tc(b: np.ndarray, g: np.ndarray, w: np.ndarray) -> xr.Dataset:
    dims = ("y", "x")
    coords = {"y": np.arange(b.shape[0], 0, -1.0), "x": np.arange(b.shape[1], dtype=float)}
    return xr.Dataset({"tc_brightness": (dims, b), "tc_greenness": (dims, g),
                       "tc_wetness": (dims, w)}, coords=coords)


def test_angle_and_distance_known_answers() -> None:
    tc = _tc(np.array([[0.3, 0.3, 0.4]]), np.array([[0.3, -0.3, 0.0]]), np.zeros((1, 3)))
    out = tasseled_cap_derived(tc, stats=DisturbanceStats(
        {"brightness": 0, "greenness": 0, "wetness": 0},
        {"brightness": 1, "greenness": 1, "wetness": 1}, 3, "test"))
    np.testing.assert_allclose(out.tc_angle_deg, [[45.0, -45.0, 0.0]], atol=1e-5)
    np.testing.assert_allclose(out.tc_distance, [[0.3 * 2**0.5, 0.3 * 2**0.5, 0.4]], rtol=1e-6)
    np.testing.assert_allclose(out.tc_disturbance, [[0.0, 0.6, 0.4]], rtol=1e-6)


@pytest.fixture
def cleared() -> tuple[xr.Dataset, xr.DataArray]:
    """A 10 × 10 forest with noise, one cleared pixel (bright, not green, dry) and water."""
    rng = np.random.default_rng(7)
    b = rng.normal(0.25, 0.02, (10, 10))
    g = rng.normal(0.22, 0.02, (10, 10))
    w = rng.normal(-0.05, 0.01, (10, 10))
    b[4, 4], g[4, 4], w[4, 4] = 0.45, 0.05, -0.20  # cleared
    b[0, :], g[0, :], w[0, :] = 0.05, -0.05, 0.10  # water row, not forest
    b[9, 9] = np.nan
    tc = _tc(b, g, w)
    mask = xr.DataArray(np.ones((10, 10), bool), dims=("y", "x"), coords=tc.coords,
                        name="forest_2015")
    mask[0, :] = False
    return tc, mask


def test_disturbance_stats_over_mask(cleared: tuple[xr.Dataset, xr.DataArray]) -> None:
    tc, mask = cleared
    stats = disturbance_stats(tc, forest_mask=mask)
    keep = mask.to_numpy() & np.isfinite(tc.tc_brightness.to_numpy())
    for c in ("brightness", "greenness", "wetness"):
        values = tc[f"tc_{c}"].to_numpy()[keep]
        assert stats.mean[c] == pytest.approx(values.mean())
        assert stats.std[c] == pytest.approx(values.std())
    assert stats.n_pixels == 89 and stats.domain == "forest_mask forest_2015"
    lazy = disturbance_stats(tc.chunk({"y": 3}), forest_mask=mask.chunk({"y": 5}))
    assert lazy.mean == pytest.approx(stats.mean) and lazy.std == pytest.approx(stats.std)


def test_disturbance_index_flags_the_cleared_pixel(
        cleared: tuple[xr.Dataset, xr.DataArray]) -> None:
    tc, mask = cleared
    out = tasseled_cap_derived(tc.chunk({"y": 5}), forest_mask=mask)
    assert isinstance(out.tc_disturbance.data, dsa.Array)
    di = out.tc_disturbance.compute()
    s = disturbance_stats(tc, forest_mask=mask)
    hand = ((tc.tc_brightness - s.mean["brightness"]) / s.std["brightness"]
            - ((tc.tc_greenness - s.mean["greenness"]) / s.std["greenness"]
               + (tc.tc_wetness - s.mean["wetness"]) / s.std["wetness"]))
    np.testing.assert_allclose(di, hand, rtol=1e-5, atol=1e-5)
    forest_di = di.where(mask)
    assert int(np.nanargmax(forest_di.to_numpy())) == 44 and float(di[4, 4]) > 5
    assert di.attrs["stats_n_pixels"] == 89


def test_shared_stats_and_warnings(cleared: tuple[xr.Dataset, xr.DataArray]) -> None:
    tc, mask = cleared
    record = disturbance_stats(tc, forest_mask=mask).to_dict()
    later = tc + 0.01
    out = tasseled_cap_derived(later, stats=record)
    assert out.tc_disturbance.attrs["stats_brightness_mean"] == record["brightness_mean"]
    again = tasseled_cap_derived(tc, stats=record).tc_disturbance
    expected_shift = 0.01 * (1 / record["brightness_std"] - 1 / record["greenness_std"]
                             - 1 / record["wetness_std"])  # type: ignore[operator]
    shift = (out.tc_disturbance - again).to_numpy()
    np.testing.assert_allclose(shift[np.isfinite(shift)], expected_shift, rtol=1e-4)
    with pytest.warns(UserWarning, match="not a forest mask"):
        tasseled_cap_derived(tc)
    with pytest.raises(InputDataError, match="both forest_mask and stats"):
        tasseled_cap_derived(tc, forest_mask=mask, stats=record)
    with pytest.raises(InputDataError, match="wetness_std"):
        tasseled_cap_derived(tc, stats={k: v for k, v in record.items() if k != "wetness_std"})
    with pytest.raises(GridMismatchError, match="forest_mask"):
        disturbance_stats(tc, forest_mask=mask[:5])
    with pytest.raises(InputDataError, match="no valid pixel"):
        disturbance_stats(tc, forest_mask=mask & False)
