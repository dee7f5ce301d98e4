"""Monte-Carlo uncertainty of plot AGC (requirement P6): known answers, error sources,
systematic carbon fraction, determinism, and a slow per-tree reference implementation."""

from __future__ import annotations

import dataclasses
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from minecarbon.allometry.equations import BiomassModel, ModelTable
from minecarbon.allometry.uncertainty import (
    MIN_DBH_CM,
    STREAM_TREES,
    ErrorModel,
    PlotDraws,
    _stream,  # the random streams, to rebuild the same draws in the reference
    normal_draws,
    plot_agc_monte_carlo,
    plot_carbon_draws,
)
from minecarbon.errors import InputDataError
from minecarbon.standard.biomass_models import FORMS

DEFAULT = ModelTable.default()
KEYS = DEFAULT.species_keys  # the 7 species groups
NONE = ErrorModel.none()


def row(**overrides: str) -> dict[str, str]:
    base = {
        "model_id": "m1", "species_key": "pinus_tabuliformis", "region": "test",
        "form": "a*D^b", "component": "total", "a": "0.1", "b": "2.4", "c": "",
        "dbh_min_cm": "5", "dbh_max_cm": "40", "height_min_m": "2", "height_max_m": "25",
        "carbon_fraction": "0.5", "carbon_fraction_source": "test", "source": "test",
        "confidence": "test", "table_name": "test table",
    }
    base.update(overrides)
    return base


def single(form: str, a: float, b: float, c: float | None = None,
           carbon: float = 0.5) -> BiomassModel:
    r = row(form=form, a=repr(a), b=repr(b), c="" if c is None else repr(c),
            carbon_fraction=repr(carbon))
    return ModelTable.from_rows([r], "test.csv").model_for("pinus_tabuliformis")


@dataclass(frozen=True)
class Opaque:
    """Only agb_kg and carbon_fraction (and residual_sd_log): forces the generic path."""

    inner: Any
    residual_sd_log: float | None = None

    @property
    def carbon_fraction(self) -> float:
        return float(self.inner.carbon_fraction)

    def agb_kg(self, dbh_cm: Any, height_m: Any = None) -> np.ndarray:
        return np.asarray(self.inner.agb_kg(dbh_cm, height_m), dtype=np.float64)


def forest(n_plots: int, per_plot: int, keys: tuple[str, ...] = KEYS,
           seed: int = 1) -> tuple[pd.DataFrame, dict[Any, float]]:
    rng = np.random.default_rng(seed)
    n = n_plots * per_plot
    dbh = rng.uniform(5.0, 45.0, n).round(1)
    trees = pd.DataFrame({
        "plot_id": np.repeat([f"P{i:03d}" for i in range(n_plots)], per_plot),
        "dbh_cm": dbh,
        "height_m": (1.3 + 20.0 * (1 - np.exp(-0.05 * dbh)) * rng.uniform(0.8, 1.2, n)).round(1),
        "model_key": rng.choice(np.array(keys), n),
    })
    return trees, {f"P{i:03d}": 0.06 for i in range(n_plots)}


def default_models(keys: tuple[str, ...] = KEYS) -> dict[str, BiomassModel]:
    return {k: DEFAULT.model_for(k) for k in keys}


def width(frame: pd.DataFrame, name: str = "agc") -> np.ndarray:
    return (frame[f"{name}_ci_high"] - frame[f"{name}_ci_low"]).to_numpy()


# ------------------------------------------------------------------ known answers


def test_zero_errors_collapse_to_the_hand_computed_value() -> None:
    model = single("a*D^b", 0.1, 2.4, carbon=0.5)
    trees = pd.DataFrame({"plot_id": ["A", "A", "B"], "dbh_cm": [10.0, 20.0, 30.0],
                          "height_m": [8.0, 12.0, np.nan], "model_key": ["m"] * 3})
    out = plot_agc_monte_carlo(trees, {"m": model}, {"A": 0.04, "B": 0.1, "empty": 0.06},
                               n_draws=50, errors=NONE)
    # AGC = Σ 0.1·D^2.4 × 0.5 kg; t/ha = kg / 1000 / area
    a = (0.1 * 10**2.4 + 0.1 * 20**2.4) * 0.5 / 1000 / 0.04
    b = 0.1 * 30**2.4 * 0.5 / 1000 / 0.1
    assert list(out["plot_id"]) == ["A", "B", "empty"]
    assert out["agc_t_per_ha"].tolist() == pytest.approx([a, b, 0.0], rel=1e-12)
    assert out["agb_t_per_ha"].tolist() == pytest.approx([2 * a, 2 * b, 0.0], rel=1e-12)
    for col in ("agc_mc_mean", "agc_ci_low", "agc_ci_high"):
        assert out[col].tolist() == pytest.approx([a, b, 0.0], rel=1e-6), col
    for col in ("agb_mc_mean", "agb_ci_low", "agb_ci_high"):
        assert out[col].tolist() == pytest.approx([2 * a, 2 * b, 0.0], rel=1e-6), col
    assert out["agc_sd"].max() <= 1e-6 * a
    assert out["n_trees"].tolist() == [2, 1, 0]
    assert out["n_draws"].tolist() == [50, 50, 50]


def test_zero_errors_default_models_equal_the_deterministic_sum() -> None:
    trees, areas = forest(6, 40)
    models = default_models()
    out = plot_agc_monte_carlo(trees, models, areas, n_draws=20, errors=NONE)
    agc = [m.agc_kg(d, h)[()] for d, h, m in zip(
        trees["dbh_cm"], trees["height_m"], trees["model_key"].map(models), strict=True)]
    expected = pd.Series(agc).groupby(trees["plot_id"]).sum() / 1000 / 0.06
    assert out["agc_t_per_ha"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert out["agc_ci_low"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-6)
    assert out["agc_ci_high"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-6)


def test_empty_tree_list_gives_zero_plots() -> None:
    trees = pd.DataFrame({"plot_id": [], "dbh_cm": [], "height_m": [], "model_key": []})
    out = plot_agc_monte_carlo(trees, {}, {"A": 0.06}, n_draws=10)
    assert out.loc[0, ["agc_t_per_ha", "agc_ci_low", "agc_ci_high", "agb_sd"]].tolist() == [0] * 4
    assert out.loc[0, "n_trees"] == 0


def test_default_models_when_none_given() -> None:
    trees, areas = forest(2, 10)
    a = plot_agc_monte_carlo(trees, None, areas, n_draws=30)
    b = plot_agc_monte_carlo(trees, default_models(), areas, n_draws=30)
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------------------------ unbiasedness, error sources


def test_mc_mean_is_close_to_the_deterministic_value_for_small_errors() -> None:
    trees, areas = forest(5, 60)
    small = ErrorModel(dbh_sd_cm=0.05, dbh_sd_rel=0.0, height_sd_rel=0.005,
                       residual_sd_log=0.1, carbon_fraction_sd=0.002)
    out = plot_agc_monte_carlo(trees, default_models(), areas, n_draws=2000, errors=small)
    ratio = out["agc_mc_mean"] / out["agc_t_per_ha"]
    assert ratio.to_numpy() == pytest.approx(1.0, abs=0.004)
    assert (out["agc_ci_low"] < out["agc_t_per_ha"]).all()
    assert (out["agc_ci_high"] > out["agc_t_per_ha"]).all()


def test_residual_factor_has_mean_one() -> None:
    # σ = 0.6 on the log scale: without the −σ²/2 term the mean would be e^0.18 = 1.197 too high
    trees, areas = forest(4, 100)
    errors = dataclasses.replace(NONE, residual_sd_log=0.6)
    out = plot_agc_monte_carlo(trees, default_models(), areas, n_draws=4000, errors=errors)
    # sd of a plot mean over 4000 draws: CV(tree) ≈ 0.66, plot CV ≲ 0.66/sqrt(25) → SE ≈ 0.002
    ratio = out["agb_mc_mean"] / out["agb_t_per_ha"]
    assert ratio.to_numpy() == pytest.approx(1.0, abs=0.012)


SOURCES = {
    "dbh": {"dbh_sd_cm": 0.5, "dbh_sd_rel": 0.02},
    "height": {"height_sd_rel": 0.08},
    "residual": {"residual_sd_log": 0.3},
    "carbon": {"carbon_fraction_sd": 0.02},
    "model": {"model_sd_rel": 0.1},
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_interval_width_grows_with_each_error_source(source: str) -> None:
    trees, areas = forest(5, 50, keys=("pinus_tabuliformis", "betula", "quercus"))
    models = default_models(("pinus_tabuliformis", "betula", "quercus"))
    alone = dataclasses.replace(NONE, **SOURCES[source])
    everything = ErrorModel(**{k: v for s in SOURCES.values() for k, v in s.items()})
    all_but = dataclasses.replace(everything, **dict.fromkeys(SOURCES[source], 0.0))
    runs = {name: plot_agc_monte_carlo(trees, models, areas, n_draws=1500, errors=e)
            for name, e in (("none", NONE), ("alone", alone), ("all", everything),
                            ("all_but", all_but))}
    assert width(runs["none"]) == pytest.approx(0.0, abs=1e-9)
    assert (width(runs["alone"]) > 0.01 * runs["alone"]["agc_t_per_ha"]).all()
    # same random streams for the other sources: the added one can only add variance (the
    # percentile width, noisier, is compared on the mean over plots)
    assert (runs["all"]["agc_sd"] > runs["all_but"]["agc_sd"]).all()
    assert width(runs["all"]).mean() > width(runs["all_but"]).mean()
    if source == "carbon":  # the carbon fraction does not touch biomass
        assert width(runs["alone"], "agb") == pytest.approx(0.0, abs=1e-9)


def test_filled_height_sd_overrides_the_relative_height_error() -> None:
    trees, areas = forest(3, 40, keys=("betula",))
    models = default_models(("betula",))
    height_only = dataclasses.replace(NONE, height_sd_rel=0.05)
    measured = plot_agc_monte_carlo(trees, models, areas, n_draws=1000, errors=height_only)
    filled = plot_agc_monte_carlo(trees.assign(height_sd_m=3.0), models, areas, n_draws=1000,
                                  errors=height_only)
    half = plot_agc_monte_carlo(trees.assign(height_sd_m=np.where(np.arange(120) % 2, 3.0,
                                                                  np.nan)),
                                models, areas, n_draws=1000, errors=height_only)
    assert (width(filled) > 1.5 * width(measured)).all()  # 3 m ≫ 5 % of ~12 m
    assert (width(measured) < width(half)).all()
    assert (width(half) < width(filled)).all()


def test_height_error_does_not_touch_dbh_only_models() -> None:
    trees, areas = forest(3, 30, keys=("quercus", "robinia_pseudoacacia"))
    trees["height_m"] = np.nan  # DBH-only models need no height
    out = plot_agc_monte_carlo(trees.assign(height_sd_m=2.0),
                               default_models(("quercus", "robinia_pseudoacacia")), areas,
                               n_draws=200, errors=dataclasses.replace(NONE, height_sd_rel=0.2))
    assert width(out) == pytest.approx(0.0, abs=1e-9)
    assert out["agc_t_per_ha"].gt(0).all()


def test_model_residual_sd_log_overrides_the_default() -> None:
    trees, areas = forest(3, 40, keys=("betula",))
    inner = DEFAULT.model_for("betula")
    errors = dataclasses.replace(NONE, residual_sd_log=0.25)
    default = plot_agc_monte_carlo(trees, {"betula": Opaque(inner)}, areas, n_draws=800,
                                   errors=errors)
    exact = plot_agc_monte_carlo(trees, {"betula": Opaque(inner, 0.0)}, areas, n_draws=800,
                                 errors=errors)
    wide = plot_agc_monte_carlo(trees, {"betula": Opaque(inner, 0.5)}, areas, n_draws=800,
                                errors=errors)
    assert width(exact) == pytest.approx(0.0, abs=1e-9)
    assert (width(wide) > 1.6 * width(default)).all()


# ------------------------------------------------------------------ systematic carbon fraction


def test_carbon_fraction_error_is_shared_by_all_plots_of_a_model() -> None:
    trees, areas = forest(12, 30, keys=("larix_principis_rupprechtii",))
    models = default_models(("larix_principis_rupprechtii",))
    cf_only = dataclasses.replace(NONE, carbon_fraction_sd=0.02)
    draws = plot_carbon_draws(trees, models, areas, n_draws=500, errors=cf_only)
    corr = np.corrcoef(draws.agc_draws_kg.astype(np.float64))
    assert corr.min() > 0.9999  # one draw per model per iteration: perfectly correlated
    # independent per-tree residuals: plots nearly uncorrelated
    res_only = dataclasses.replace(NONE, residual_sd_log=0.3)
    draws = plot_carbon_draws(trees, models, areas, n_draws=2000, errors=res_only)
    corr = np.corrcoef(draws.agc_draws_kg.astype(np.float64))
    assert np.abs(corr[np.triu_indices(12, 1)]).max() < 0.15
    # both: the shared part shows as a positive correlation
    both = dataclasses.replace(res_only, carbon_fraction_sd=0.02)
    draws = plot_carbon_draws(trees, models, areas, n_draws=2000, errors=both)
    corr = np.corrcoef(draws.agc_draws_kg.astype(np.float64))
    assert corr[np.triu_indices(12, 1)].mean() > 0.2


def test_carbon_fraction_draws_differ_between_models() -> None:
    keys = ("larix_principis_rupprechtii", "betula")
    a, _ = forest(1, 40, keys=(keys[0],))
    b, _ = forest(1, 40, keys=(keys[1],))
    trees = pd.concat([a.assign(plot_id="A"), b.assign(plot_id="B")])
    cf_only = dataclasses.replace(NONE, carbon_fraction_sd=0.02)
    draws = plot_carbon_draws(trees, default_models(keys), {"A": 0.06, "B": 0.06},
                              n_draws=2000, errors=cf_only)
    assert abs(np.corrcoef(draws.agc_draws_kg.astype(np.float64))[0, 1]) < 0.1


def test_keys_sharing_one_model_share_its_carbon_fraction_draw() -> None:
    larix = DEFAULT.model_for("larix_principis_rupprechtii")
    a, _ = forest(1, 40, keys=("conifer",))
    b, _ = forest(1, 40, keys=("larch",))
    trees = pd.concat([a.assign(plot_id="A"), b.assign(plot_id="B")])
    cf_only = dataclasses.replace(NONE, carbon_fraction_sd=0.02)
    draws = plot_carbon_draws(trees, {"conifer": larix, "larch": larix}, {"A": 0.06, "B": 0.06},
                              n_draws=300, errors=cf_only)
    assert np.corrcoef(draws.agc_draws_kg.astype(np.float64))[0, 1] > 0.9999


# ------------------------------------------------------------------ determinism


def test_same_seed_same_result_other_seed_other_result() -> None:
    trees, areas = forest(4, 30)
    models = default_models()
    a = plot_agc_monte_carlo(trees, models, areas, n_draws=300, seed=7)
    b = plot_agc_monte_carlo(trees, models, areas, n_draws=300, seed=7)
    c = plot_agc_monte_carlo(trees, models, areas, n_draws=300, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["agc_ci_high"], c["agc_ci_high"])
    assert a["agc_t_per_ha"].equals(c["agc_t_per_ha"])


def test_result_does_not_depend_on_chunk_size_or_workers() -> None:
    trees, areas = forest(30, 70)  # 2100 trees: several random-stream blocks
    assert len(trees) > 4 * STREAM_TREES
    models = default_models()
    runs = [plot_carbon_draws(trees, models, areas, n_draws=200, seed=3, chunk_trees=chunk,
                              workers=workers)
            for chunk, workers in ((1, 1), (513, 2), (1000, 3), (10**6, 1), (32_768, None))]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].agc_draws_kg, other.agc_draws_kg)
        np.testing.assert_array_equal(runs[0].agb_draws_kg, other.agb_draws_kg)


def test_random_streams_of_different_blocks_are_independent() -> None:
    # 8 plots of 256 identical trees: 4 random-stream blocks, 2 plots each
    n = 8 * 256
    trees = pd.DataFrame({"plot_id": np.repeat(np.arange(8), 256), "dbh_cm": np.full(n, 20.0),
                          "height_m": np.full(n, 12.0), "model_key": "betula"})
    errors = ErrorModel(carbon_fraction_sd=0.0, model_sd_rel=0.0)  # both shared by design
    draws = plot_carbon_draws(trees, default_models(("betula",)), dict.fromkeys(range(8), 0.06),
                              n_draws=1000, errors=errors)
    corr = np.corrcoef(draws.agb_draws_kg.astype(np.float64))
    assert np.abs(corr[np.triu_indices(8, 1)]).max() < 0.15


def test_switching_one_source_off_keeps_the_other_draws() -> None:
    trees, areas = forest(3, 20, keys=("quercus",))  # DBH-only: no height error anyway
    models = default_models(("quercus",))
    a = plot_carbon_draws(trees, models, areas, n_draws=100,
                          errors=dataclasses.replace(NONE, dbh_sd_cm=0.4))
    b = plot_carbon_draws(trees, models, areas, n_draws=100,
                          errors=dataclasses.replace(NONE, dbh_sd_cm=0.4, height_sd_rel=0.3))
    np.testing.assert_array_equal(a.agb_draws_kg, b.agb_draws_kg)


# ------------------------------------------------------------------ fast kernel vs generic


def fast_and_generic(models: dict[str, Any], trees: pd.DataFrame,
                     areas: dict[Any, float]) -> tuple[PlotDraws, PlotDraws]:
    errors = ErrorModel(dbh_sd_cm=1.0, dbh_sd_rel=0.05, height_sd_rel=0.2, residual_sd_log=0.3,
                        model_sd_rel=0.1)  # Opaque models have no model_sd_rel of their own
    fast = plot_carbon_draws(trees, models, areas, n_draws=300, errors=errors)
    generic = plot_carbon_draws(trees, {k: Opaque(m) for k, m in models.items()}, areas,
                                n_draws=300, errors=errors)
    return fast, generic


def test_fast_kernel_equals_the_models_own_equations_default_table() -> None:
    trees, areas = forest(8, 80)
    fast, generic = fast_and_generic(default_models(), trees, areas)
    np.testing.assert_allclose(fast.agb_draws_kg, generic.agb_draws_kg, rtol=2e-5)
    np.testing.assert_allclose(fast.agc_draws_kg, generic.agc_draws_kg, rtol=2e-5)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_fast_kernel_equals_the_models_own_equations_every_form(form: str) -> None:
    coefficients = {"a+b*D^2": (2.0, 0.15, None), "a*D^b*H^c": (0.05, 2.1, 0.7),
                    "exp(a)*(D^2*H)^b": (-3.0, 0.9, None), "exp(a+b*ln(D))": (-2.0, 2.4, None),
                    "10^(a+b*log10(D))": (-1.0, 2.4, None)}
    a, b, c = coefficients.get(form, (0.05, 0.9 if "H" in form else 2.4, None))
    trees, areas = forest(4, 50, keys=("m",))
    # huge errors so that clipping at the floor happens too
    trees.loc[::7, "dbh_cm"] = 0.5
    fast, generic = fast_and_generic({"m": single(form, a, b, c)}, trees, areas)
    np.testing.assert_allclose(fast.agb_draws_kg, generic.agb_draws_kg, rtol=2e-5)


def test_perturbed_values_are_clipped_positive() -> None:
    trees, areas = forest(2, 30, keys=("betula", "quercus"))
    huge = ErrorModel(dbh_sd_cm=40.0, height_sd_rel=3.0)
    draws = plot_carbon_draws(trees, default_models(("betula", "quercus")), areas,
                              n_draws=500, errors=huge)
    assert np.isfinite(draws.agc_draws_kg).all()
    assert (draws.agc_draws_kg > 0).all()
    # a quercus tree at the floor has 10^(−0.998 + 2.456·log10 0.1) kg: the minimum possible
    floor = DEFAULT.model_for("quercus").agb_kg(MIN_DBH_CM)
    assert draws.agb_draws_kg.min() > floor * 0.5


# ------------------------------------------------------------------ slow reference


def reference_draws(trees: pd.DataFrame, model: BiomassModel, key: str, n_draws: int,
                    seed: int, errors: ErrorModel) -> np.ndarray:
    """Plain per-tree loop in float64 using the same random numbers (one plot, one model,
    fewer than STREAM_TREES trees: block 0 in input order)."""
    n = len(trees)
    z_dbh = normal_draws(_stream(seed, 0, 0), n, n_draws).astype(np.float64)
    z_height = normal_draws(_stream(seed, 1, 0), n, n_draws).astype(np.float64)
    z_res = normal_draws(_stream(seed, 2, 0), n, n_draws).astype(np.float64)
    z_cf = np.random.Generator(_stream(seed, 3, zlib.crc32(key.encode()))).standard_normal(
        n_draws)
    z_model = np.random.Generator(_stream(seed, 4, zlib.crc32(key.encode()))).standard_normal(
        n_draws)
    sigma = errors.residual_sd_log
    carbon = model.carbon_fraction + errors.carbon_fraction_sd * z_cf
    s = errors.model_sd(model.model_sd_rel)  # relative sd s ⇒ log-normal σ² = ln(1 + s²)
    factor = np.exp(math.sqrt(math.log1p(s * s)) * z_model - math.log1p(s * s) / 2)
    agc = np.zeros(n_draws)
    for i, (d, h) in enumerate(zip(trees["dbh_cm"], trees["height_m"], strict=True)):
        for j in range(n_draws):
            sd = math.hypot(errors.dbh_sd_cm, errors.dbh_sd_rel * d)
            d_j = max(d + sd * z_dbh[i, j], MIN_DBH_CM)
            h_j = max(h + errors.height_sd_rel * h * z_height[i, j], 0.1)
            agb = float(model.agb_kg(d_j, h_j)) * math.exp(sigma * z_res[i, j] - sigma**2 / 2)
            agc[j] += agb * factor[j] * carbon[j]
    return agc


def test_known_answer_against_a_slow_reference_with_the_same_draws() -> None:
    trees, areas = forest(1, 25, keys=("pinus_tabuliformis",), seed=5)
    model = DEFAULT.model_for("pinus_tabuliformis")
    errors = ErrorModel()
    draws = plot_carbon_draws(trees, {"pinus_tabuliformis": model}, areas, n_draws=200, seed=11,
                              errors=errors)
    expected = reference_draws(trees, model, "pinus_tabuliformis", 200, 11, errors)
    np.testing.assert_allclose(draws.agc_draws_kg[0], expected, rtol=1e-5)
    out = draws.summary()
    per_ha = 1 / 1000 / 0.06
    low, high = np.percentile(expected, [2.5, 97.5]) * per_ha
    assert out.loc[0, "agc_ci_low"] == pytest.approx(low, rel=1e-5)
    assert out.loc[0, "agc_ci_high"] == pytest.approx(high, rel=1e-5)


def test_interval_agrees_with_an_independent_reference_statistically() -> None:
    # independent random numbers (numpy's own normals), two models in one plot, many draws
    keys = ("larix_principis_rupprechtii", "quercus")
    trees, areas = forest(1, 30, keys=keys, seed=9)
    models = default_models(keys)
    errors = ErrorModel(residual_sd_log=0.3, carbon_fraction_sd=0.02)
    n_draws = 20_000
    out = plot_agc_monte_carlo(trees, models, areas, n_draws=n_draws, errors=errors)
    rng = np.random.default_rng(2024)
    carbon = {k: models[k].carbon_fraction + 0.02 * rng.standard_normal(n_draws) for k in keys}
    # each model's systematic factor: mean 1, relative sd = the table's model_sd_rel
    s2 = {k: math.log1p(float(models[k].model_sd_rel) ** 2) for k in keys}
    shared = {k: np.exp(math.sqrt(s2[k]) * rng.standard_normal(n_draws) - s2[k] / 2)
              for k in keys}
    agc = np.zeros(n_draws)
    for d, h, k in trees[["dbh_cm", "height_m", "model_key"]].itertuples(index=False):
        sd = math.hypot(errors.dbh_sd_cm, errors.dbh_sd_rel * d)
        d_draw = np.maximum(d + sd * rng.standard_normal(n_draws), MIN_DBH_CM)
        h_draw = np.maximum(h + errors.height_sd_rel * h * rng.standard_normal(n_draws), 0.1)
        res = np.exp(0.3 * rng.standard_normal(n_draws) - 0.045)
        agc += models[k].agb_kg(d_draw, h_draw) * res * shared[k] * carbon[k]
    agc /= 1000 * 0.06
    low, high = np.percentile(agc, [2.5, 97.5])
    # Monte-Carlo standard errors here are ≈ 0.1 % (mean) and ≈ 0.3 % (percentiles)
    assert out.loc[0, "agc_mc_mean"] == pytest.approx(agc.mean(), rel=0.006)
    assert out.loc[0, "agc_sd"] == pytest.approx(agc.std(), rel=0.03)
    assert out.loc[0, "agc_ci_low"] == pytest.approx(low, rel=0.015)
    assert out.loc[0, "agc_ci_high"] == pytest.approx(high, rel=0.015)


def test_normal_draws_are_standard_normal() -> None:
    z = normal_draws(_stream(0, 0, 0), 301, 333).astype(np.float64).ravel()  # odd size
    assert z.size == 301 * 333
    assert abs(z.mean()) < 0.01
    assert z.std() == pytest.approx(1.0, abs=0.01)
    assert np.mean(np.abs(z) > 1.959964) == pytest.approx(0.05, abs=0.003)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.01
    half = (z.size + 1) // 2  # cosine and sine halves of Box–Muller pairs are independent
    assert abs(np.corrcoef(z[: z.size - half], z[half:])[0, 1]) < 0.01
    assert abs(np.corrcoef(z[: z.size - half] ** 2, z[half:] ** 2)[0, 1]) < 0.01


# ------------------------------------------------------------------ input errors


def test_input_errors() -> None:
    trees, areas = forest(2, 5, keys=("betula",))
    models = default_models(("betula",))
    with pytest.raises(InputDataError, match="model_key"):
        plot_agc_monte_carlo(trees.drop(columns="model_key"), models, areas)
    with pytest.raises(InputDataError, match="without an area"):
        plot_agc_monte_carlo(trees, models, {"P000": 0.06})
    with pytest.raises(InputDataError, match="area"):
        plot_agc_monte_carlo(trees, models, {"P000": 0.06, "P001": 0.0})
    with pytest.raises(InputDataError, match="no biomass model"):
        plot_agc_monte_carlo(trees, {}, areas)
    with pytest.raises(InputDataError, match="dbh_cm"):
        plot_agc_monte_carlo(trees.assign(dbh_cm=-1.0), models, areas)
    with pytest.raises(InputDataError, match="height"):
        plot_agc_monte_carlo(trees.assign(height_m=np.nan), models, areas)  # betula needs H
    with pytest.raises(InputDataError, match="height_sd_m"):
        plot_agc_monte_carlo(trees.assign(height_sd_m=-1.0), models, areas)
    with pytest.raises(InputDataError, match="agb_kg"):
        plot_agc_monte_carlo(trees, {"betula": object()}, areas)
    with pytest.raises(InputDataError, match="n_draws"):
        plot_agc_monte_carlo(trees, models, areas, n_draws=0)
    with pytest.raises(InputDataError, match="dbh_sd_cm"):
        ErrorModel(dbh_sd_cm=-0.1)
    with pytest.raises(InputDataError, match="carbon_fraction_sd"):
        ErrorModel(carbon_fraction_sd=float("nan"))
