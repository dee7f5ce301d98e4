"""Biomass equations: each form's known answers, the default table, ranges and table checks.

Known answers are hand arithmetic with ``math`` on coefficients as published; the comment on each
cites the row of ``../shared/reference/allometry_sources.csv`` (line number, header = line 1) the
coefficients come from.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from minecarbon.allometry.equations import (
    EQUATIONS,
    BiomassModel,
    ModelChoice,
    ModelTable,
    is_official,
)
from minecarbon.errors import InputDataError, UnknownSpeciesError
from minecarbon.standard.biomass_models import (
    COLUMNS,
    FORMS,
    default_model_rows,
    model_rows_from_text,
    validate_model_rows,
)
from minecarbon.standard.species import model_keys, species_keys

DEFAULT_NAME = "minecarbon default (published coefficients; not GB/T 43648—2024)"
POINTS = [(20.0, 12.0), (8.5, 6.3)]  # (D cm, H m)


def row(**overrides: str) -> dict[str, str]:
    """A valid one-row DBH-only model; keyword arguments replace columns."""
    base = {
        "model_id": "m1",
        "species_key": "pinus_tabuliformis",
        "region": "test",
        "form": "a*D^b",
        "units": "D cm; H m; AGB kg",
        "component": "total",
        "a": "0.1",
        "b": "2.4",
        "c": "",
        "residual_sd_log": "",
        "model_sd_rel": "",
        "dbh_min_cm": "5",
        "dbh_max_cm": "40",
        "height_min_m": "2",
        "height_max_m": "25",
        "carbon_fraction": "0.5",
        "carbon_fraction_source": "test",
        "source": "test",
        "confidence": "test",
        "table_name": "test table",
    }
    base.update(overrides)
    return base


def single(form: str, a: float, b: float, c: float | None = None) -> BiomassModel:
    r = row(form=form, a=repr(a), b=repr(b), c="" if c is None else repr(c))
    return ModelTable.from_rows([r], "test.csv").model_for("pinus_tabuliformis")


# ------------------------------------------------------------------ forms


def test_every_supported_form_has_an_equation() -> None:
    assert set(EQUATIONS) == set(FORMS)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_power(d: float, h: float) -> None:
    # line 47: 山杨 Populus davidiana, Shanxi, AGB = 0.077*D^2.423
    expected = 0.077 * math.exp(2.423 * math.log(d))
    assert single("a*D^b", 0.077, 2.423).agb_kg(d, h) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_exp_log(d: float, h: float) -> None:
    # line 26: 油松 Pinus tabuliformis, Shanxi, AGB = exp(-2.4561 + 2.4206*ln D)
    expected = math.exp(-2.4561 + 2.4206 * math.log(d))
    assert single("exp(a+b*ln(D))", -2.4561, 2.4206).agb_kg(d) == pytest.approx(expected, rel=1e-12)


def test_form_exp_log_literal() -> None:
    # line 26 at D = 20: exp(-2.4561 + 2.4206 * 2.995732) = exp(4.795468) = 120.95
    assert single("exp(a+b*ln(D))", -2.4561, 2.4206).agb_kg(20.0) == pytest.approx(120.95, rel=1e-3)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_log10(d: float, h: float) -> None:
    # line 52: 蒙古栎 Quercus mongolica, Heilongjiang, AGB = 10^(-0.998 + 2.456*log10 D)
    expected = math.pow(10.0, -0.998 + 2.456 * math.log10(d))
    model = single("10^(a+b*log10(D))", -0.998, 2.456)
    assert model.agb_kg(d, h) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_d2h_power(d: float, h: float) -> None:
    # line 68: 白桦 Betula platyphylla stem, Inner Mongolia, W = 0.04152*(D^2 H)^0.923
    expected = 0.04152 * math.exp(0.923 * math.log(d * d * h))
    assert single("a*(D^2*H)^b", 0.04152, 0.923).agb_kg(d, h) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_exp_d2h(d: float, h: float) -> None:
    # line 78: 油松 stem, Gansu Xiaolongshan, W = e^-3.8828 * (D^2 H)^0.9359
    expected = math.exp(-3.8828 + 0.9359 * math.log(d * d * h))
    model = single("exp(a)*(D^2*H)^b", -3.8828, 0.9359)
    assert model.agb_kg(d, h) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_d_h_separate(d: float, h: float) -> None:
    # no source row uses this form: synthetic coefficients a=0.05, b=2.1, c=0.7
    expected = 0.05 * math.exp(2.1 * math.log(d)) * math.exp(0.7 * math.log(h))
    assert single("a*D^b*H^c", 0.05, 2.1, 0.7).agb_kg(d, h) == pytest.approx(expected, rel=1e-12)


def test_form_d_h_separate_literal() -> None:
    # 0.05 * 20^2.1 * 12^0.7 = 0.05 * 539.60 * 5.6927 = 153.59
    assert single("a*D^b*H^c", 0.05, 2.1, 0.7).agb_kg(20.0, 12.0) == pytest.approx(153.59, rel=1e-3)


@pytest.mark.parametrize(("d", "h"), POINTS)
def test_form_quadratic(d: float, h: float) -> None:
    # line 19: 华北落叶松 Larix principis-rupprechtii, Hebei, AGB = -25.197 + 0.404*D^2
    expected = -25.197 + 0.404 * d * d
    assert single("a+b*D^2", -25.197, 0.404).agb_kg(d, h) == pytest.approx(expected, rel=1e-12)


def test_components_are_summed() -> None:
    # lines 66-68: 白桦 Betula platyphylla, Inner Mongolia: leaf, branch, stem a*(D^2 H)^b
    coefs = {"leaf": (0.01175, 0.636), "branch": (0.02938, 0.663), "stem": (0.04152, 0.923)}
    rows = [
        row(component=name, form="a*(D^2*H)^b", a=repr(a), b=repr(b), species_key="betula")
        for name, (a, b) in coefs.items()
    ]
    model = ModelTable.from_rows(rows, "birch.csv").model_for("betula")
    assert [c.component for c in model.components] == ["leaf", "branch", "stem"]
    for d, h in POINTS:
        parts = {n: a * math.exp(b * math.log(d * d * h)) for n, (a, b) in coefs.items()}
        assert model.agb_kg(d, h) == pytest.approx(sum(parts.values()), rel=1e-12)
        got = model.component_agb_kg(d, h)
        assert {n: float(v) for n, v in got.items()} == pytest.approx(parts, rel=1e-12)
    # by hand at D=20, H=12 (D^2 H = 4800): 2.6555 + 7.8128 + 103.98 = 114.45
    assert model.agb_kg(20.0, 12.0) == pytest.approx(114.45, rel=1e-3)


# ------------------------------------------------------------------ arrays, height, carbon


def test_vectorised_and_broadcast() -> None:
    model = single("a*(D^2*H)^b", 0.04152, 0.923)
    dbh = np.array([5.0, 10.0, 20.0])
    out = model.agb_kg(dbh, 12.0)
    assert out.shape == (3,) and out.dtype == np.float64
    assert out == pytest.approx([float(model.agb_kg(d, 12.0)) for d in dbh])
    assert model.agb_kg(dbh, np.array([4.0, 8.0, 12.0]))[2] == pytest.approx(out[2])


def test_height_required_by_height_models_only() -> None:
    with pytest.raises(InputDataError, match="needs tree height"):
        single("a*(D^2*H)^b", 0.04152, 0.923).agb_kg([10.0, 20.0])
    assert single("a*D^b", 0.077, 2.423).agb_kg([10.0, 20.0]).shape == (2,)


def test_missing_values_give_nan_and_bad_values_raise() -> None:
    model = single("a*(D^2*H)^b", 0.04152, 0.923)
    out = model.agb_kg([10.0, np.nan, 20.0], [8.0, 9.0, np.nan])
    assert np.isfinite(out[0]) and np.isnan(out[1]) and np.isnan(out[2])
    with pytest.raises(InputDataError, match=r"dbh_cm.*index 1"):
        model.agb_kg([10.0, 0.0], [8.0, 9.0])
    with pytest.raises(InputDataError, match="height_m"):
        model.agb_kg([10.0, 12.0], [8.0, -1.0])
    with pytest.raises(InputDataError, match="do not match"):
        model.agb_kg([10.0, 12.0, 14.0], [8.0, 9.0])


def test_carbon_fraction_applied() -> None:
    r = row(carbon_fraction="0.4750", a="0.077", b="2.423")
    model = ModelTable.from_rows([r], "t.csv").model_for("pinus_tabuliformis")
    # line 47 model at D=20: 0.077 * 20^2.423 = 109.38 kg; × 0.4750 = 51.96 kg C
    assert model.agb_kg(20.0) == pytest.approx(109.38, rel=1e-3)
    assert model.agc_kg(20.0) == pytest.approx(0.077 * 20.0**2.423 * 0.4750, rel=1e-12)


def test_in_range_flags() -> None:
    dbh_model = single("a*D^b", 0.077, 2.423)  # D 5-40 cm, H 2-25 m (see row())
    d = [4.99, 5.0, 20.0, 40.0, 40.01, np.nan]
    assert dbh_model.in_range(d).tolist() == [False, True, True, True, False, False]
    # a DBH-only model ignores height
    assert dbh_model.in_range([20.0], [99.0]).tolist() == [True]
    h_model = single("a*(D^2*H)^b", 0.04152, 0.923)
    got = h_model.in_range([20.0, 20.0, 20.0, 20.0, 3.0], [1.9, 2.0, 25.0, np.nan, 10.0])
    assert got.tolist() == [False, True, True, False, False]
    assert h_model.in_range([20.0]).tolist() == [True]  # no height given: D only


# ------------------------------------------------------------------ the default table

# Hand-computed AGB (kg) at D=20 cm, H=12 m (D^2 H = 4800) from the source rows.
DEFAULT_KNOWN = {
    # lines 78-81: 油松 Gansu Xiaolongshan, e^a (D^2 H)^b: stem, bark, branch, leaf
    "pinus_tabuliformis": sum(
        math.exp(a + b * math.log(4800.0))
        for a, b in [(-3.8828, 0.9359), (-5.1129, 0.8649), (-6.3807, 1.1242), (-5.3277, 0.8812)]
    ),
    # line 38: 侧柏 Jiangsu, 0.081 * D^2.5159
    "platycladus_orientalis": 0.081 * math.exp(2.5159 * math.log(20.0)),
    # lines 63-65: 华北落叶松 (Liu 2012), a (D^2 H)^b: leaf, branch, stem
    "larix_principis_rupprechtii": sum(
        a * math.exp(b * math.log(4800.0))
        for a, b in [(0.0441, 0.5844), (0.0386, 0.7492), (0.0462, 0.8647)]
    ),
    # line 2: 刺槐 (Forrester et al. 2017), exp(-1.8468 + 2.2656 ln D)
    "robinia_pseudoacacia": math.exp(-1.8468 + 2.2656 * math.log(20.0)),
    # lines 72-74: 小叶杨 (Li et al. 2007), a (D^2 H)^b: leaf, branch, stem
    "populus": sum(
        a * math.exp(b * math.log(4800.0))
        for a, b in [(0.012, 0.685), (0.001, 1.157), (0.006, 1.098)]
    ),
    # line 52: 蒙古栎 (Wang 2006), 10^(-0.998 + 2.456 log10 D)
    "quercus": math.pow(10.0, -0.998 + 2.456 * math.log10(20.0)),
    # lines 66-68: 白桦 Inner Mongolia, a (D^2 H)^b: leaf, branch, stem
    "betula": sum(
        a * math.exp(b * math.log(4800.0))
        for a, b in [(0.01175, 0.636), (0.02938, 0.663), (0.04152, 0.923)]
    ),
}
# The fallback models reuse representative species' coefficients (see biomass_models.py):
# conifer ← 油松 (lines 78-81), broadleaf and generic ← 白桦 (lines 66-68).
DEFAULT_KNOWN |= {
    "conifer": DEFAULT_KNOWN["pinus_tabuliformis"],
    "broadleaf": DEFAULT_KNOWN["betula"],
    "generic": DEFAULT_KNOWN["betula"],
}
# The same, rounded by hand, so that a slip in the arithmetic above shows too.
DEFAULT_ROUNDED = {
    "pinus_tabuliformis": 98.4,
    "platycladus_orientalis": 152.0,
    "larix_principis_rupprechtii": 98.8,
    "robinia_pseudoacacia": 139.8,
    "populus": 88.2,
    "quercus": 157.5,
    "betula": 114.4,
    "conifer": 98.4,
    "broadleaf": 114.4,
    "generic": 114.4,
}
CARBON_FRACTIONS = {
    "pinus_tabuliformis": 0.5105,
    "platycladus_orientalis": 0.5010,
    "larix_principis_rupprechtii": 0.5158,
    "robinia_pseudoacacia": 0.48,
    "populus": 0.4880,
    "quercus": 0.4750,
    "betula": 0.5125,
}


def test_default_table_has_one_model_per_model_key() -> None:
    table = ModelTable.default()
    assert sorted(table.species_keys) == sorted(model_keys())
    assert set(species_keys()) < set(table.species_keys)
    assert len(table.models) == 10
    assert len({m.model_id for m in table.models}) == 10


def test_default_table_is_not_official() -> None:
    table = ModelTable.default()
    assert table.name == DEFAULT_NAME
    assert not table.is_official
    assert all(m.table_name == DEFAULT_NAME for m in table.models)


def test_official_only_when_the_name_cites_the_standard() -> None:
    official = ModelTable.from_rows([row(table_name="GB/T 43648—2024 附录 (user copy)")], "u.csv")
    assert official.is_official
    assert not ModelTable.from_rows([row(table_name="my table")], "u.csv").is_official


@pytest.mark.parametrize("key", sorted(DEFAULT_KNOWN))
def test_default_models_match_their_sources(key: str) -> None:
    model = ModelTable.default().model_for(key)
    assert model.agb_kg(20.0, 12.0) == pytest.approx(DEFAULT_KNOWN[key], rel=1e-9)
    assert model.agb_kg(20.0, 12.0) == pytest.approx(DEFAULT_ROUNDED[key], abs=0.06)


@pytest.mark.parametrize("key", sorted(DEFAULT_KNOWN))
def test_default_models_are_plausible_positive_and_increasing(key: str) -> None:
    model = ModelTable.default().model_for(key)
    assert 65.0 <= float(model.agb_kg(20.0, 12.0)) <= 235.0
    dbh = np.linspace(2.0, 60.0, 59)
    for heights in (np.full_like(dbh, 12.0), np.linspace(2.5, 30.0, 59)):
        agb = model.agb_kg(dbh, heights)
        assert np.all(agb > 0)
        assert np.all(np.diff(agb) > 0)


@pytest.mark.parametrize("key", sorted(CARBON_FRACTIONS))
def test_default_carbon_fractions_and_sources(key: str) -> None:
    model = ModelTable.default().model_for(key)
    assert model.carbon_fraction == CARBON_FRACTIONS[key]
    cited = "IPCC 2006" if key == "robinia_pseudoacacia" else "马钦彦 et al. 2002"
    assert cited in model.carbon_fraction_source
    assert model.source and model.region
    assert not model.confidence.lower().startswith("low")
    assert model.agc_kg(20.0, 12.0) == pytest.approx(
        float(model.agb_kg(20.0, 12.0)) * CARBON_FRACTIONS[key], rel=1e-12
    )


def test_default_ranges_come_from_the_sources() -> None:
    table = ModelTable.default()
    assert table.model_for("platycladus_orientalis").dbh_range_cm == (7.0, 12.0)  # line 38
    assert table.model_for("robinia_pseudoacacia").dbh_range_cm == (0.1, 40.1)  # line 2
    assert table.model_for("quercus").dbh_range_cm == (4.3, 57.1)  # line 52
    for model in table.models:
        assert model.height_range_m == (1.3, 40.0)


def test_model_for_unknown_or_missing_species() -> None:
    table = ModelTable.from_rows([row()], "one.csv")
    with pytest.raises(UnknownSpeciesError):
        table.model_for("pinus")
    with pytest.raises(InputDataError, match=r"one\.csv.*no model for 桦木"):
        table.model_for("betula")


def test_two_models_for_one_species_group_are_refused() -> None:
    with pytest.raises(InputDataError, match="two models"):
        ModelTable.from_rows([row(), row(model_id="m2")], "two.csv")


# ------------------------------------------------------------------ table checks


def test_default_rows_validate_and_have_the_schema() -> None:
    rows = default_model_rows()
    validate_model_rows(rows, "default")
    assert tuple(rows[0]) == COLUMNS


def test_rows_from_text() -> None:
    header = ",".join(COLUMNS)
    line = ",".join(row()[c] for c in COLUMNS)
    rows = model_rows_from_text("\ufeff" + header + "\n" + line + "\n")
    assert rows == (row(),)


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        ({"form": "a*D^3"}, "form", "unknown form"),
        ({"form": "A*D^B"}, "form", "unknown form"),
        ({"a": ""}, "a", "missing coefficient"),
        ({"b": " "}, "b", "missing coefficient"),
        ({"b": "2,4"}, "b", "not a number"),
        ({"a": "abc"}, "a", "not a number"),
        ({"a": "nan"}, "a", "not finite"),
        ({"species_key": "Pinus"}, "species_key", "unknown species key"),
        ({"carbon_fraction": "0.7"}, "carbon_fraction", "outside"),
        ({"carbon_fraction": "47"}, "carbon_fraction", "outside"),
        ({"carbon_fraction": "0.29"}, "carbon_fraction", "outside"),
        ({"carbon_fraction": ""}, "carbon_fraction", "missing"),
        ({"form": "a*D^b*H^c"}, "c", "missing coefficient"),
        ({"c": "0.5"}, "c", "takes no coefficient c"),
        ({"component": "root"}, "component", "unknown component"),
        ({"dbh_min_cm": "50"}, "dbh_max_cm", "not above"),
        ({"height_min_m": "0"}, "height_min_m", "not positive"),
        ({"source": ""}, "source", "missing"),
    ],
)
def test_validator_names_row_and_column(bad: dict[str, str], column: str, message: str) -> None:
    rows = [row(), row(model_id="m2", **{"species_key": "betula", **bad})]
    with pytest.raises(InputDataError, match=message) as info:
        validate_model_rows(rows, "my_models.csv")
    text = str(info.value)
    assert "my_models.csv row 2 (line 3)" in text
    assert f"column {column!r}" in text


def test_validator_checks_models_across_rows() -> None:
    stem = row(component="stem")
    with pytest.raises(InputDataError, match=r"row 2 .*'carbon_fraction'.*same model"):
        validate_model_rows([stem, row(component="leaf", carbon_fraction="0.45")], "t.csv")
    with pytest.raises(InputDataError, match=r"row 2 .*'component'.*already has"):
        validate_model_rows([stem, row(component="stem")], "t.csv")
    with pytest.raises(InputDataError, match=r"row 2 .*mixes 'total'"):
        validate_model_rows([stem, row(component="total")], "t.csv")
    with pytest.raises(InputDataError, match=r"row 2 .*'table_name'"):
        validate_model_rows([row(), row(model_id="m2", table_name="other")], "t.csv")


def test_validator_refuses_empty_tables_and_missing_columns() -> None:
    with pytest.raises(InputDataError, match="no rows"):
        validate_model_rows([], "t.csv")
    partial = {k: v for k, v in row().items() if k != "carbon_fraction"}
    with pytest.raises(InputDataError, match="missing column.*carbon_fraction"):
        validate_model_rows([partial], "t.csv")


def test_from_rows_validates() -> None:
    with pytest.raises(InputDataError, match=r"u\.csv row 1 \(line 2\), column 'form'"):
        ModelTable.from_rows([row(form="a*D**b")], "u.csv")


# ------------------------------------------------------------------ fallback models and tables

FALLBACK_CARBON = {"conifer": 0.51, "broadleaf": 0.48, "generic": 0.47}
OFFICIAL_NAME = "GB/T 43648—2024 附录 (user copy)"


@pytest.mark.parametrize("key", sorted(FALLBACK_CARBON))
def test_fallback_models_cite_their_sources(key: str) -> None:
    model = ModelTable.default().model_for(key)
    assert model.species_key == key
    assert model.carbon_fraction == FALLBACK_CARBON[key]
    assert "IPCC 2006" in model.carbon_fraction_source
    assert "Table 4.3" in model.carbon_fraction_source
    assert model.source.startswith("representative-species")
    assert model.confidence.startswith("low")  # one species stands in for a whole group
    assert "Zeng 2018" in model.source  # says why the wood-density model was not used
    assert model.table_name == DEFAULT_NAME and not model.is_official


def test_fallback_models_reuse_the_representative_coefficients() -> None:
    table = ModelTable.default()
    for key, species in (
        ("conifer", "pinus_tabuliformis"),
        ("broadleaf", "betula"),
        ("generic", "betula"),
    ):
        assert table.model_for(key).components == table.model_for(species).components


def test_default_models_give_no_residual_sd() -> None:
    assert all(m.residual_sd_log is None for m in ModelTable.default().models)


def test_model_for_every_model_key() -> None:
    table = ModelTable.default()
    for key in model_keys():
        assert table.model_for(key).species_key == key
    with pytest.raises(UnknownSpeciesError, match="'conifers'"):
        table.model_for("conifers")
    one = ModelTable.from_rows([row()], "one.csv")
    with pytest.raises(InputDataError, match=r"one\.csv.*no model for 针叶树 conifer group"):
        one.model_for("conifer")


def test_fallback_keys_are_valid_in_user_tables() -> None:
    rows = [row(model_id=k, species_key=k) for k in ("conifer", "broadleaf", "generic")]
    table = ModelTable.from_rows(rows, "groups.csv")
    assert table.species_keys == ("conifer", "broadleaf", "generic")


def test_resolve_returns_model_resolution_and_table() -> None:
    table = ModelTable.default()
    choice = table.resolve("白皮松")
    assert isinstance(choice, ModelChoice)
    assert choice.model is table.model_for("pinus_tabuliformis")
    assert choice.resolution.level == "genus"
    assert choice.table_name == DEFAULT_NAME and not choice.official
    assert choice.resolution.note in choice.note and DEFAULT_NAME in choice.note
    assert table.resolve("Picea meyeri").model is table.model_for("conifer")
    assert table.resolve("国槐").model is table.model_for("broadleaf")
    assert table.resolve("xyz").model is table.model_for("generic")
    assert table.resolve("Chinese pine").resolution.level == "species"
    with pytest.raises(InputDataError, match="empty"):
        table.resolve("  ")


def test_user_table_with_one_key_falls_back_to_the_default_table() -> None:
    user = ModelTable.from_rows([row(table_name=OFFICIAL_NAME)], "official.csv")
    combined = user.with_fallback(ModelTable.default())
    assert combined.name == OFFICIAL_NAME and combined.source_name == "official.csv"
    assert sorted(combined.species_keys) == sorted(model_keys())
    assert combined.table_names == (OFFICIAL_NAME, DEFAULT_NAME)
    # the user's own key comes from the user's table …
    pine = combined.resolve("油松")
    assert pine.model.model_id == "m1" and pine.model.components[0].a == 0.1
    assert pine.table_name == OFFICIAL_NAME and pine.official
    genus = combined.resolve("Pinus bungeana")  # genus fallback onto the user's pine model
    assert genus.model.model_id == "m1" and genus.official
    assert genus.resolution.level == "genus"
    # … every other key from the default table, and the record says so
    for name, key in (("白桦", "betula"), ("云杉", "conifer"), ("xyz", "generic")):
        choice = combined.resolve(name)
        assert choice.model is ModelTable.default().model_for(key)
        assert choice.table_name == DEFAULT_NAME and not choice.official
        assert DEFAULT_NAME in choice.note
    # a table completed with unofficial models is not official as a whole
    assert user.is_official and not combined.is_official


def test_user_rows_win_over_the_fallback_table() -> None:
    user = ModelTable.from_rows(
        [row(model_id="my_conifers", species_key="conifer", table_name="my table")], "u.csv"
    )
    combined = user.with_fallback(ModelTable.default())
    assert combined.resolve("云杉").model.model_id == "my_conifers"
    assert combined.resolve("云杉").table_name == "my table"
    assert combined.model_for("pinus_tabuliformis").table_name == DEFAULT_NAME
    assert len(combined.models) == 10


def test_resolve_without_fallback_names_the_missing_model() -> None:
    user = ModelTable.from_rows([row()], "one.csv")
    assert user.resolve("油松").table_name == "test table"
    with pytest.raises(InputDataError, match=r"no model for 桦木 Betula.*with_fallback"):
        user.resolve("白桦")


@pytest.mark.parametrize(
    ("name", "official"),
    [
        ("GB/T 43648—2024", True),
        ("ＧＢ／Ｔ 43648-2024 transcription", True),  # full-width, as typed in Chinese
        ("minecarbon default (published coefficients; not GB/T 43648—2024)", False),
        ("GB/T 43648 draft? not  GB/T 43648", False),
        ("my table", False),
        ("GB/T 4364", False),
    ],
)
def test_official_flag_follows_the_supplying_table_name(name: str, official: bool) -> None:
    assert is_official(name) is official
    table = ModelTable.from_rows([row(table_name=name)], "u.csv")
    assert table.is_official is official
    assert table.resolve("油松").official is official
    assert table.model_for("pinus_tabuliformis").is_official is official


# ------------------------------------------------------------------ residual_sd_log


def test_residual_sd_log_is_read() -> None:
    model = ModelTable.from_rows([row(residual_sd_log="0.31")], "u.csv").model_for(
        "pinus_tabuliformis"
    )
    assert model.residual_sd_log == 0.31


def test_residual_sd_log_column_may_be_absent() -> None:
    old_schema = {k: v for k, v in row().items() if k != "residual_sd_log"}
    table = ModelTable.from_rows([old_schema], "old.csv")
    assert table.model_for("pinus_tabuliformis").residual_sd_log is None


@pytest.mark.parametrize("bad", ["0", "-0.2", "2.5", "25", "abc", "inf"])
def test_residual_sd_log_must_be_a_plausible_log_sd(bad: str) -> None:
    with pytest.raises(InputDataError) as info:
        validate_model_rows(
            [row(), row(model_id="m2", species_key="betula", residual_sd_log=bad)], "u.csv"
        )
    assert "u.csv row 2 (line 3), column 'residual_sd_log'" in str(info.value)


def test_residual_sd_log_is_one_per_model() -> None:
    rows = [
        row(component="stem", residual_sd_log="0.2"),
        row(component="leaf", residual_sd_log="0.3"),
    ]
    with pytest.raises(InputDataError, match=r"row 2 .*'residual_sd_log'.*same model"):
        validate_model_rows(rows, "t.csv")


# ------------------------------------------------------------------ model_sd_rel


def test_model_sd_rel_is_read_and_may_be_absent() -> None:
    model = ModelTable.from_rows([row(model_sd_rel="0.12")], "u.csv").model_for(
        "pinus_tabuliformis")
    assert model.model_sd_rel == 0.12
    old_schema = {k: v for k, v in row().items() if k != "model_sd_rel"}
    assert ModelTable.from_rows([old_schema], "old.csv").model_for(
        "pinus_tabuliformis").model_sd_rel is None


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "10", "abc", "nan"])
def test_model_sd_rel_must_be_a_fraction(bad: str) -> None:
    with pytest.raises(InputDataError) as info:
        validate_model_rows(
            [row(), row(model_id="m2", species_key="betula", model_sd_rel=bad)], "u.csv")
    assert "u.csv row 2 (line 3), column 'model_sd_rel'" in str(info.value)


def test_model_sd_rel_is_one_per_model() -> None:
    rows = [row(component="stem", model_sd_rel="0.1"), row(component="leaf", model_sd_rel="0.2")]
    with pytest.raises(InputDataError, match=r"row 2 .*'model_sd_rel'.*same model"):
        validate_model_rows(rows, "t.csv")


def test_default_models_systematic_error_follows_their_provenance() -> None:
    # biomass_models.py: 0.10 checked two-variable North-China species models … 0.25 stand-ins
    sd = {m.model_id: m.model_sd_rel for m in ModelTable.default().models}
    assert len(sd) == 10 and all(v is not None for v in sd.values())
    assert sd["pinus_tabuliformis_cheng2007"] == 0.10
    assert sd["robinia_pseudoacacia_forrester2017"] == 0.20
    assert all(v == 0.25 for k, v in sd.items() if "representative" in k)
    assert min(sd.values()) == 0.10 and max(sd.values()) == 0.25


def test_model_table_in_other_units_is_refused() -> None:
    from minecarbon.errors import InputDataError
    from minecarbon.standard.biomass_models import UNITS, default_model_rows, validate_model_rows

    rows = [dict(r) for r in default_model_rows()]
    assert {r["units"] for r in rows} == {UNITS}
    validate_model_rows(rows, "default.csv")
    rows[3]["units"] = "D cm; H m; AGB g"
    with pytest.raises(InputDataError, match=r"default.csv row 4.*units.*AGB g"):
        validate_model_rows(rows, "default.csv")
    for r in rows:
        del r["units"]  # the column may be left out
    validate_model_rows(rows, "default.csv")
