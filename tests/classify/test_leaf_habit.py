"""Leaf habit (C2): FCLS unmixing, RVI thresholds and the combined rule on synthetic scenes.

Oracles: scipy.optimize.nnls (on the system with a heavily weighted row of ones, Heinz & Chang
2001, and plain NNLS), an exhaustive search over the supports of the fractions, exact recovery of
noise-free mixtures, scikit-image's threshold_otsu and scikit-learn's ROC curve.
"""

from __future__ import annotations

import itertools

import dask
import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from scipy.optimize import nnls
from skimage.filters import threshold_otsu
from sklearn.metrics import roc_curve

from minecarbon.classify.leaf_habit import (
    classify_leaf_habit,
    endmembers_from_samples,
    fcls_unmix,
    leaf_habit_evidence,
    ratio_vegetation_index,
    rvi_threshold_from_samples,
    rvi_threshold_otsu,
    unmix,
)
from minecarbon.errors import GridMismatchError, InputDataError
from minecarbon.types import LeafHabit

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
#: Leaf-off (March) reflectance of three endmembers, plausible values for a temperate forest.
SPECTRA = {
    "evergreen": (0.03, 0.06, 0.04, 0.28, 0.13, 0.06),
    "deciduous": (0.06, 0.08, 0.10, 0.18, 0.24, 0.17),
    "soil": (0.09, 0.13, 0.17, 0.23, 0.31, 0.26),
}
E = np.array(list(SPECTRA.values()))


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed eagerly")


def exhaustive_fcls(pixel: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Oracle: the best sum-to-one least-squares solution over every support with f ≥ 0."""
    k = e.shape[0]
    best, best_cost = None, np.inf
    for size in range(1, k + 1):
        for support in itertools.combinations(range(k), size):
            s = list(support)
            g = e[s] @ e[s].T
            kkt = np.block([[g, np.ones((size, 1))], [np.ones((1, size)), np.zeros((1, 1))]])
            sol = np.linalg.lstsq(kkt, np.r_[e[s] @ pixel, 1.0], rcond=None)[0][:size]
            if (sol < -1e-12).any():
                continue
            f = np.zeros(k)
            f[s] = sol
            cost = np.sum((f @ e - pixel) ** 2)
            if cost < best_cost - 1e-15:
                best, best_cost = f, cost
    assert best is not None
    return best


# ------------------------------------------------------------------------------------- FCLS
def test_fcls_against_exhaustive_search_and_weighted_nnls() -> None:
    rng = np.random.default_rng(0)
    e = rng.uniform(0.02, 0.5, size=(4, 6))
    pixels = rng.uniform(0.0, 0.6, size=(300, 6))  # many far outside the simplex
    fractions = fcls_unmix(pixels, e)
    assert (fractions >= 0).all()
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-12)
    for pixel, f in zip(pixels[:100], fractions[:100], strict=True):
        np.testing.assert_allclose(f, exhaustive_fcls(pixel, e), atol=1e-9)
    weight = 1e4  # Heinz & Chang's augmented system: sum-to-one as a heavily weighted row
    augmented = np.vstack([e.T, weight * np.ones((1, 4))])
    for pixel, f in zip(pixels, fractions, strict=True):
        np.testing.assert_allclose(f, nnls(augmented, np.r_[pixel, weight])[0], atol=1e-6)


def test_nnls_mode_against_scipy() -> None:
    rng = np.random.default_rng(1)
    e = rng.uniform(0.02, 0.5, size=(5, 7))
    pixels = rng.normal(0.2, 0.2, size=(300, 7))
    fractions = fcls_unmix(pixels, e, sum_to_one=False)
    for pixel, f in zip(pixels, fractions, strict=True):
        np.testing.assert_allclose(f, nnls(e.T, pixel)[0], atol=1e-10)


def test_noise_free_mixtures_are_recovered_exactly() -> None:
    rng = np.random.default_rng(2)
    truth = rng.dirichlet(np.ones(3), size=500)
    truth[:50, 0] = 0.0  # on the faces of the simplex too
    truth[:50] /= truth[:50].sum(axis=1, keepdims=True)
    truth[50:60] = np.eye(3)[rng.integers(0, 3, 10)]  # and at its corners
    np.testing.assert_allclose(fcls_unmix(truth @ E, E), truth, atol=1e-12)


def test_least_squares_solution_inside_the_constraints_is_kept() -> None:
    # noise orthogonal to every endmember leaves the least-squares solution at the true
    # fractions, which satisfy the constraints: FCLS must return it unchanged
    rng = np.random.default_rng(3)
    truth = rng.dirichlet(np.ones(3), size=200)
    basis = np.linalg.svd(E)[2][3:]  # orthonormal complement of the endmembers' span
    noise = rng.normal(0, 0.02, size=(200, basis.shape[0])) @ basis
    pixels = truth @ E + noise
    lsq = np.linalg.lstsq(E.T, pixels.T, rcond=None)[0].T
    np.testing.assert_allclose(lsq, truth, atol=1e-12)
    np.testing.assert_allclose(fcls_unmix(pixels, E), lsq, atol=1e-12)


def test_fcls_serial_equals_parallel_nan_rows_and_errors() -> None:
    rng = np.random.default_rng(4)
    pixels = rng.uniform(0, 0.4, size=(1000, 6))
    pixels[7, 2] = np.nan
    a = fcls_unmix(pixels, E, parallel=True)
    b = fcls_unmix(pixels, E, parallel=False)
    np.testing.assert_array_equal(a, b)
    assert np.isnan(a[7]).all() and np.isfinite(np.delete(a, 7, axis=0)).all()
    with pytest.raises(InputDataError, match="not affinely independent"):
        fcls_unmix(pixels, np.vstack([E, 0.5 * E[0] + 0.5 * E[1]]))
    with pytest.raises(InputDataError, match=r"expected \(n, 6\)"):
        fcls_unmix(pixels[:, :4], E)


# ----------------------------------------------------------------------- synthetic scenes
def leaf_off_scene(shape: tuple[int, int] = (40, 50), noise: float = 0.005,
                   seed: int = 0) -> tuple[xr.Dataset, np.ndarray, np.ndarray]:
    """Reflectance mixed from SPECTRA; returns the scene, true habit and evergreen fraction."""
    rng = np.random.default_rng(seed)
    n = shape[0] * shape[1]
    habit = np.where(rng.random(n) < 0.5, LeafHabit.EVERGREEN, LeafHabit.DECIDUOUS)
    f_ever = np.where(habit == LeafHabit.EVERGREEN, rng.uniform(0.6, 1.0, n),
                      rng.uniform(0.0, 0.4, n))
    rest = 1.0 - f_ever
    share = rng.random(n)  # how the rest splits between bare crowns and soil
    fractions = np.stack([f_ever, rest * share, rest * (1 - share)], axis=1)
    pixels = fractions @ E + rng.normal(0.0, noise, size=(n, len(ROLES)))
    y = 4_100_000.0 - 30.0 * np.arange(shape[0])
    x = 500_000.0 + 30.0 * np.arange(shape[1])
    scene = xr.Dataset({role: (("y", "x"), pixels[:, k].reshape(shape).astype(np.float32))
                        for k, role in enumerate(ROLES)}, coords={"y": y, "x": x})
    return (scene.rio.write_crs("EPSG:4546"), habit.reshape(shape).astype(np.uint8),
            f_ever.reshape(shape))


def test_unmix_scene_numpy_and_dask() -> None:
    scene, _, f_ever = leaf_off_scene(noise=0.0)
    endmembers = {name: dict(zip(ROLES, spectrum, strict=True))
                  for name, spectrum in SPECTRA.items()}
    out = unmix(scene, endmembers)
    assert set(out.data_vars) == {"fraction_evergreen", "fraction_deciduous", "fraction_soil",
                                  "unmix_rmse"}
    np.testing.assert_allclose(out["fraction_evergreen"], f_ever, atol=1e-5)  # float32 input
    assert float(out["unmix_rmse"].max()) < 1e-6
    assert out.rio.crs.to_epsg() == 4546
    stack = scene.rename({r: f"sr_{r}" for r in ROLES}).chunk({"y": 16, "x": 32})
    with dask.config.set(scheduler=_no_compute):
        lazy = unmix(stack, endmembers, check_scale=False)
    assert isinstance(lazy["fraction_soil"].data, dsa.Array)
    xr.testing.assert_allclose(lazy.compute(), out, atol=1e-6)


def test_unmix_errors_name_the_band() -> None:
    scene, _, _ = leaf_off_scene((4, 4))
    endmembers = {"evergreen": {"red": 0.04, "nir": 0.3, "tir": 0.1},
                  "soil": {"red": 0.17, "nir": 0.23, "tir": 0.2}}
    with pytest.raises(InputDataError, match="no band 'tir'"):
        unmix(scene, endmembers)
    with pytest.raises(InputDataError, match="same bands"):
        unmix(scene, {"evergreen": {"red": 0.04, "nir": 0.3}, "soil": {"red": 0.17}})
    with pytest.raises(InputDataError, match="digital numbers"):
        unmix(scene * 10_000, {"evergreen": {"red": 0.04, "nir": 0.3},
                               "soil": {"red": 0.17, "nir": 0.23}})


# ------------------------------------------------------------------------------- thresholds
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_otsu_matches_scikit_image(dtype: type) -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.lognormal(0.7, 0.15, 3000), rng.lognormal(1.5, 0.2, 1000)])
    values = values.astype(dtype)
    raw = rvi_threshold_otsu(values, log=False)
    assert raw == pytest.approx(float(threshold_otsu(values)), rel=1e-6)
    logged = rvi_threshold_otsu(values)
    assert logged == pytest.approx(float(np.exp(threshold_otsu(np.log(values)))), rel=1e-6)
    with_nan = np.concatenate([values, np.array([np.nan, np.inf, 0.0], dtype=dtype)])
    assert rvi_threshold_otsu(with_nan) == logged
    lazy = xr.DataArray(dsa.from_array(with_nan[:-1].reshape(-1, 2), chunks=(500, 2)))
    bin_width = (values.max() - values.min()) / 256
    assert abs(rvi_threshold_otsu(lazy, log=False) - raw) <= bin_width + 1e-9
    log_width = np.log(values.max() / values.min()) / 256
    assert abs(np.log(rvi_threshold_otsu(lazy) / logged)) <= log_width + 1e-9
    assert rvi_threshold_otsu(np.full(10, 3.5)) == pytest.approx(3.5)
    with pytest.raises(InputDataError, match="no finite RVI"):
        rvi_threshold_otsu(np.array([np.nan]))


def test_otsu_on_log_rvi_resists_the_ratio_tail() -> None:
    # bare crowns (RVI ~2), evergreen (~4.5) and 1 % of pixels whose Red is nearly 0
    rng = np.random.default_rng(8)
    values = np.concatenate([rng.lognormal(np.log(2.0), 0.12, 2000),
                             rng.lognormal(np.log(4.5), 0.12, 2000),
                             rng.uniform(20, 200, 40)])
    assert 2.4 < rvi_threshold_otsu(values) < 3.8
    assert rvi_threshold_otsu(values, log=False) > 10  # the raw ratio's threshold is dragged


def test_threshold_from_separable_samples_is_the_midpoint_of_the_gap() -> None:
    rvi = [1.5, 2.0, 2.2, 2.6, 4.0, 5.0, 6.5]
    labels = [2, 2, 2, 2, 1, 1, 1]
    assert rvi_threshold_from_samples(rvi, labels) == pytest.approx(3.3)
    names = ["deciduous"] * 4 + ["evergreen"] * 3
    assert rvi_threshold_from_samples(rvi, names) == pytest.approx(3.3)


def test_threshold_from_samples_maximises_balanced_accuracy() -> None:
    rng = np.random.default_rng(6)
    ever = rng.normal(4.0, 0.8, 40)  # few evergreen, many deciduous, overlapping
    deci = rng.normal(2.5, 0.6, 160)
    rvi = np.concatenate([ever, deci])
    labels = np.r_[np.full(40, LeafHabit.EVERGREEN), np.full(160, LeafHabit.DECIDUOUS)]
    t = rvi_threshold_from_samples(rvi, labels)
    fpr, tpr, _ = roc_curve(labels == LeafHabit.EVERGREEN, rvi)
    best = np.max((tpr + 1 - fpr) / 2)
    achieved = ((ever > t).mean() + (deci <= t).mean()) / 2
    assert achieved == pytest.approx(best, abs=1e-12)


def test_threshold_from_samples_errors_and_warnings() -> None:
    with pytest.raises(InputDataError, match="'conifer'"):
        rvi_threshold_from_samples([1.0, 2.0], ["conifer", "deciduous"])
    with pytest.raises(InputDataError, match="0 evergreen"):
        rvi_threshold_from_samples([1.0, 2.0], [2, 2])
    with pytest.warns(UserWarning, match="leaf-off"):
        rvi_threshold_from_samples([5.0, 6.0, 1.0, 2.0], [2, 2, 1, 1])


def test_endmembers_from_samples_are_class_medians() -> None:
    rng = np.random.default_rng(7)
    table = pd.DataFrame(rng.uniform(0, 0.4, size=(30, 3)), columns=["sr_red", "sr_nir", "id"])
    labels = np.array([1] * 10 + [2] * 10 + ["soil"] * 10, dtype=object)
    table.loc[3, "sr_nir"] = np.nan
    with pytest.warns(UserWarning, match=r"ignored 1 samples.*\[3\]"):
        out = endmembers_from_samples(table, labels)
    assert list(out) == ["evergreen", "deciduous", "soil"]
    assert set(out["soil"]) == {"red", "nir"}  # 'id' is no band
    ever = table.iloc[:10].drop(index=3)
    assert out["evergreen"]["nir"] == pytest.approx(ever["sr_nir"].median())
    assert out["soil"]["red"] == pytest.approx(table.iloc[20:]["sr_red"].median())


# --------------------------------------------------------------------------- classification
def pure_samples(seed: int = 11) -> tuple[pd.DataFrame, list[str]]:
    """Noisy pure pixels of each endmember, as a field campaign would label them."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for name, spectrum in SPECTRA.items():
        rows.append(np.asarray(spectrum) + rng.normal(0, 0.005, size=(15, len(ROLES))))
        labels += [name] * 15
    return pd.DataFrame(np.vstack(rows), columns=[f"sr_{r}" for r in ROLES]), labels


def test_synthetic_leaf_off_scene_is_classified_at_95_percent() -> None:
    scene, habit, _ = leaf_off_scene(noise=0.005)
    forest = xr.DataArray(np.ones(habit.shape, bool), dims=("y", "x"),
                          coords={"y": scene["y"], "x": scene["x"]})
    forest[0, :5] = False
    values, labels = pure_samples()
    endmembers = endmembers_from_samples(values, labels)
    # threshold from training pixels of known habit (not the scene's own pixels)
    train, train_habit, _ = leaf_off_scene((10, 30), seed=99)
    rvi_train = ratio_vegetation_index(train).to_numpy().ravel()
    threshold = rvi_threshold_from_samples(rvi_train, train_habit.ravel())
    out = classify_leaf_habit(scene, forest, threshold=threshold, endmembers=endmembers)
    assert out.dtype == np.uint8 and out.name == "leaf_habit"
    assert out.attrs["threshold"] == pytest.approx(threshold)
    assert (out.to_numpy()[0, :5] == 0).all()
    inside = forest.to_numpy()
    accuracy = (out.to_numpy() == habit)[inside].mean()
    assert accuracy >= 0.95
    rvi_only = classify_leaf_habit(scene, forest, threshold="otsu")
    assert (rvi_only.to_numpy() == habit)[inside].mean() >= 0.95
    assert accuracy >= (rvi_only.to_numpy() == habit)[inside].mean()


def test_classification_is_lazy_on_dask_and_equal_to_numpy() -> None:
    scene, habit, _ = leaf_off_scene((20, 24), seed=3)
    scene["red"][2, 3] = np.nan
    forest = xr.DataArray(np.ones(habit.shape, bool), dims=("y", "x"),
                          coords={"y": scene["y"], "x": scene["x"]})
    endmembers = {name: dict(zip(ROLES, spectrum, strict=True))
                  for name, spectrum in SPECTRA.items()}
    eager = classify_leaf_habit(scene, forest, threshold=3.0, endmembers=endmembers)
    with dask.config.set(scheduler=_no_compute):
        lazy = classify_leaf_habit(scene.chunk({"y": 8}), forest.chunk({"y": 8}), threshold=3.0,
                                   endmembers=endmembers, check_scale=False)
    assert isinstance(lazy.data, dsa.Array)
    np.testing.assert_array_equal(lazy.compute().to_numpy(), eager.to_numpy())
    assert eager[2, 3] == 0  # not observed
    assert eager.rio.crs.to_epsg() == 4546


def test_disagreeing_tests_are_decided_by_the_larger_margin() -> None:
    # two endmembers over red and NIR; pixel fractions 0.3 and 0.45 of evergreen
    endmembers = {"evergreen": {"red": 0.04, "nir": 0.30}, "bare": {"red": 0.12, "nir": 0.20}}
    f = np.array([0.3, 0.45, 0.9])
    red = 0.04 * f + 0.12 * (1 - f)
    nir = 0.30 * f + 0.20 * (1 - f)
    scene = xr.Dataset({"red": (("y", "x"), red[None]), "nir": (("y", "x"), nir[None])})
    forest = xr.DataArray(np.ones((1, 3), bool), dims=("y", "x"))
    t = 2.2  # both mixed pixels have RVI > t (2.40, 2.92) but an evergreen fraction < 0.5
    evidence = leaf_habit_evidence(scene, forest, threshold=t, endmembers=endmembers)
    expected = np.log(nir / red / t) / 0.1 + (f - 0.5) / 0.1  # docs/classification.md
    np.testing.assert_allclose(evidence["evergreen_score"].to_numpy()[0], expected, rtol=1e-5)
    np.testing.assert_allclose(evidence["fraction_evergreen"].to_numpy()[0], f, atol=1e-6)
    codes = classify_leaf_habit(scene, forest, threshold=t, endmembers=endmembers)
    # f = 0.3: fraction margin −2 outweighs RVI margin +0.85 → deciduous;
    # f = 0.45: RVI margin +2.8 outweighs fraction margin −0.5 → evergreen
    assert codes.to_numpy()[0].tolist() == [LeafHabit.DECIDUOUS, LeafHabit.EVERGREEN,
                                            LeafHabit.EVERGREEN]
    fraction_only = classify_leaf_habit(scene, forest, threshold=t, endmembers=endmembers,
                                        rvi_scale=1e9)
    assert fraction_only.to_numpy()[0].tolist() == [2, 2, 1]


def test_classification_errors() -> None:
    scene, _, _ = leaf_off_scene((6, 6))
    forest = xr.DataArray(np.ones((6, 5), bool), dims=("y", "x"))
    with pytest.raises(GridMismatchError, match="mask"):
        classify_leaf_habit(scene, forest, threshold=2.0)
    forest = xr.DataArray(np.ones((6, 6), bool), dims=("y", "x"),
                          coords={"y": scene["y"], "x": scene["x"]})
    with pytest.raises(InputDataError, match="no band 'nir'"):
        classify_leaf_habit(scene.drop_vars("nir"), forest, threshold=2.0)
    with pytest.raises(InputDataError, match="positive"):
        classify_leaf_habit(scene, forest, threshold=-1.0)
    with pytest.raises(InputDataError, match="no endmember 'evergreen'"):
        classify_leaf_habit(scene, forest, threshold=2.0,
                            endmembers={"pine": {"red": 0.04, "nir": 0.3},
                                        "soil": {"red": 0.17, "nir": 0.23}})
