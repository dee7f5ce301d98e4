"""The space-for-time check as the mapping step records it and the totals read it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from minecarbon.mapping.calibration import SOURCE_ONE_SURVEY, SOURCE_REMEASURED
from minecarbon.pipeline.model_steps import CALIBRATION
from minecarbon.pipeline.space_for_time_steps import check_space_for_time
from minecarbon.pipeline.totals_steps import change_variance, space_for_time_terms


def _ctx(root: Path) -> Any:
    return SimpleNamespace(workspace=SimpleNamespace(path=lambda rel: root / rel))


def test_not_applied_where_b_was_measured_over_time_or_too_few_years(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)  # no file is read before these answers
    empty = pd.DataFrame()
    out = check_space_for_time(ctx, None, {2020: tmp_path, 2024: tmp_path}, ["ndvi"], empty,
                               empty, {"source": SOURCE_REMEASURED, "reference_year": 2024}, 0.01)
    assert out == {"applied": False,
                   "reason": "b does not come from one survey year's plots"}
    out = check_space_for_time(ctx, None, {2020: tmp_path, 2024: tmp_path}, ["ndvi"], empty,
                               empty, {"source": SOURCE_ONE_SURVEY, "reference_year": 2024}, 0.01)
    assert out["applied"] is False and "3 years" in out["reason"]


def _write(root: Path, record: dict[str, Any] | None) -> None:
    path = root / CALIBRATION
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"reference_year": 2024}
    if record is not None:
        body["space_for_time"] = record
    path.write_text(json.dumps(body), encoding="utf-8")


def test_totals_take_the_pooled_variance_on_the_log_scale(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    assert space_for_time_terms(ctx) == (0.0, 0.0, {})  # no calibration.json
    _write(tmp_path, None)
    assert space_for_time_terms(ctx) == (0.0, 0.0, {})  # no check recorded
    _write(tmp_path, {"applied": False, "reason": "b does not come from one survey year's"})
    assert space_for_time_terms(ctx) == (0.0, 0.0, {})
    pooled = {"between_var": 0.2, "log_shift": 0.33, "log_var": 0.12,
              "interval_log_var": 0.21, "weight_features": 0.46}
    _write(tmp_path, {"applied": True, "ratio": 2.0, "pooled": pooled, "change_factor": 1.39,
                      "applied_to_maps": True})
    sigma, linear, record = space_for_time_terms(ctx)
    assert sigma == pytest.approx(np.sqrt(0.21)) and linear == 0.0 and record["ratio"] == 2.0
    # the features' change goes the other way: no pooling, a linear variance instead
    _write(tmp_path, {"applied": True, "ratio": -0.5, "log_sd": None, "rel_var": 2.25})
    sigma, linear, _ = space_for_time_terms(ctx)
    assert (sigma, linear) == (0.0, 2.25)


def _oof(root: Path) -> None:
    rng = np.random.default_rng(5)
    observed = rng.uniform(10, 80, 60)
    table = pd.DataFrame({"plot_id": [f"P{i:03d}" for i in range(60)], "stratum": "broadleaf",
                          "source": "own", "observed": observed,
                          "predicted": 20 + 0.55 * observed + rng.normal(0, 5, 60)})
    path = root / "products/models/oof_predictions.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)


def test_change_variance_warns_only_where_the_estimates_disagree(tmp_path: Path) -> None:
    _oof(tmp_path)
    _write(tmp_path, {"applied": False, "reason": "no feature"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = change_variance(_ctx(tmp_path))
    own = (plain["attenuation_se"] / plain["attenuation"]) ** 2 + plain[
        "between_type_var"] / plain["attenuation"] ** 2
    assert plain["change_rel_var"] == pytest.approx(own) and own > 0
    assert plain["change_scale_log_sd"] == 0.0 and plain["change_factor"] == 1.0
    pooled = {"between_var": 0.2, "log_shift": 0.33, "log_var": 0.12,
              "interval_log_var": 0.21, "weight_features": 0.46}
    _write(tmp_path, {"applied": True, "ratio": 2.0, "pooled": pooled, "change_factor": 1.39,
                      "applied_to_maps": True, "differ": True})
    with pytest.warns(UserWarning, match=r"2\.00 × the AGC maps' change.*pooled 1\.39"):
        out = change_variance(_ctx(tmp_path))
    assert out["change_rel_var"] == 0.0  # b's own error is inside the pooled variance
    assert out["change_scale_log_sd"] == pytest.approx(np.sqrt(0.21))
    assert out["space_for_time_ratio"] == 2.0 and out["change_factor"] == 1.39
    _write(tmp_path, {"applied": True, "ratio": 0.9, "change_factor": 0.99,
                      "pooled": {**pooled, "between_var": 0.0}, "differ": False})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = change_variance(_ctx(tmp_path))
    assert out["change_scale_log_sd"] == pytest.approx(np.sqrt(0.21))


def test_change_variance_takes_the_remeasured_ratios_error(tmp_path: Path) -> None:
    _oof(tmp_path)  # present, but b came from the re-measured plots: their error is v_c
    path = tmp_path / CALIBRATION
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "reference_year": 2024, "attenuation": 0.72, "attenuation_se": 0.054,
        "source": SOURCE_REMEASURED, "n_plots": 117,
        "space_for_time": {"applied": False,
                           "reason": "b does not come from one survey year's plots"}}),
        encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = change_variance(_ctx(tmp_path))
    assert out["attenuation"] == 0.72 and out["attenuation_se"] == 0.054
    assert out["change_rel_var"] == pytest.approx((0.054 / 0.72) ** 2)
    assert out["between_type_var"] == 0.0 and out["change_scale_log_sd"] == 0.0
    # a calibration record from before decision 49 (no standard error): the out-of-fold slope
    record = json.loads(path.read_text(encoding="utf-8"))
    del record["attenuation_se"]
    path.write_text(json.dumps(record), encoding="utf-8")
    old = change_variance(_ctx(tmp_path))
    assert old["attenuation"] != 0.72 and old["change_rel_var"] > 0


def test_remeasured_variance_adds_the_types_differences() -> None:
    from minecarbon.assessment.carbon_totals import between_variance
    from minecarbon.mapping.calibration import slope_through_origin
    from minecarbon.pipeline.space_for_time_steps import remeasured_variance

    rng = np.random.default_rng(4)
    rows = []
    for stratum, slope, n in (("coniferous", 0.5, 30), ("broadleaf", 0.9, 30),
                              ("sparse", 0.05, 10)):
        for i in range(n):
            site = f"{stratum}{i}"
            first = rng.uniform(20, 60)
            growth = rng.uniform(2, 15)
            rows += [{"site": site, "year": 2014, "stratum": stratum, "observed": first,
                      "predicted": 30.0},
                     {"site": site, "year": 2024, "stratum": stratum,
                      "observed": first + growth,
                      "predicted": 30.0 + slope * growth + rng.normal(0, 0.3)}]
    oof = pd.DataFrame(rows)
    out = remeasured_variance(oof, 0.7, 0.05, excluded=["sparse"])
    assert set(out["slopes"]) == {"coniferous", "broadleaf"}  # sparse left out of b
    assert out["slopes"]["coniferous"] == pytest.approx(0.5, abs=0.02)
    assert out["slopes"]["broadleaf"] == pytest.approx(0.9, abs=0.02)
    pairs = {k: slope_through_origin(*(lambda g: (g[g.year == 2024].observed.to_numpy()
                                              - g[g.year == 2014].observed.to_numpy(),
                                              g[g.year == 2024].predicted.to_numpy()
                                              - g[g.year == 2014].predicted.to_numpy()))(
        oof[oof.stratum == k].sort_values(["site", "year"]))) for k in ("coniferous",
                                                                         "broadleaf")}
    tau2 = between_variance([v[0] for v in pairs.values()], [v[1] ** 2 for v in pairs.values()])
    assert tau2 > 0.05  # slopes 0.5 and 0.9: far more apart than their sampling errors
    assert out["between_type_var"] == pytest.approx(tau2, rel=1e-9)
    assert out["rel_var"] == pytest.approx((0.05 / 0.7) ** 2 + tau2 / 0.7 ** 2, rel=1e-9)
    # with the sparse pairs kept, their slope (0.05) is outside the credible range: left out
    kept = remeasured_variance(oof, 0.7, 0.05)
    assert kept["left_out"] == ["sparse"] and kept["between_type_var"] == pytest.approx(tau2)
