"""The classify step's forest-area calibration on a population with a known truth (decision 42).

Two overlapping classes, forest (code 1, 80 % of the pixels) and shrubland (code 2), whose
yearly probabilities assume equal priors; held-out random samples drawn from each class. The
weight found must make the decoded map's forest area equal the estimate from its own error
matrix, that estimate must be near the true share, and the map's forest omission and
commission must balance.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.classify.area_calibration import decode, reweight
from minecarbon.pipeline.forest_area import apply_forest_weight, forest_area_weight

CFG = SimpleNamespace(forest_area_calibration=True, temporal_stay_probability=0.95,
                      temporal_mixing=0.05)


def _site(ny: int = 60, nx: int = 60, years: int = 10, seed: int = 11
          ) -> tuple[xr.DataArray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.random((ny, nx)) < 0.8  # forest
    mean = np.where(truth, 1.0, -1.0) + rng.normal(0.0, 1.0, truth.shape)
    x = mean[None] + rng.normal(0.0, 0.5, (years, ny, nx))
    p_forest = 1.0 / (1.0 + np.exp(-2.0 * x / 1.25))
    cube = xr.DataArray(np.stack([p_forest, 1.0 - p_forest], axis=1),
                        dims=("year", "class", "y", "x"),
                        coords={"year": np.arange(2000, 2000 + years), "class": [1, 2]})
    return cube, truth


def _held(truth: np.ndarray, per_class: int, years: int, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for code, where in ((1, truth), (2, ~truth)):
        r, c = np.nonzero(where)
        pick = rng.choice(r.size, per_class, replace=False)
        rows.append(pd.DataFrame({"row": r[pick], "col": c[pick],
                                  "year_index": rng.integers(0, years, per_class),
                                  "landcover": code}))
    return pd.concat(rows, ignore_index=True)


def test_the_weight_balances_the_maps_forest_omission_and_commission() -> None:
    cube, truth = _site()
    held = _held(truth, 150, cube.sizes["year"])
    w, info = forest_area_weight(cube, [1, 2], None, held, CFG)
    assert info["forest_area_calibration"] == "made"
    assert w > 1.0  # equal priors under-map the common class
    assert info["forest_share_series"] > info["forest_share_series_unweighted"]
    assert abs(info["forest_share_series"] - info["forest_share_estimated"]) <= 0.01
    assert abs(info["forest_share_estimated"] - truth.mean()) <= 3 * info[
        "forest_share_estimated_se"]
    # the whole map under the weight: omission and commission balance within the sampling
    # error of 300 reference samples
    p = np.asarray(apply_forest_weight(cube, w).values).reshape(10, 2, -1)
    forest = decode(p, 0, 1.0, None, stay=0.95, mixing=0.05) == 0  # (pixel, year)
    is_forest = truth.reshape(-1)[:, None]
    omission = np.count_nonzero(~forest & is_forest)
    commission = np.count_nonzero(forest & ~is_forest)
    assert omission > 0 and commission > 0
    assert abs(omission - commission) <= 2 * info["forest_share_estimated_se"] * forest.size
    # and the map is closer to the truth's area than without the weight
    plain = decode(np.asarray(cube.values).reshape(10, 2, -1), 0, 1.0, None, stay=0.95,
                   mixing=0.05) == 0
    assert abs(forest.mean() - truth.mean()) < abs(plain.mean() - truth.mean())


def test_apply_forest_weight_equals_reweight() -> None:
    cube, _ = _site(ny=4, nx=5, years=3)
    out = apply_forest_weight(cube, 1.7).values
    assert np.allclose(out, reweight(cube.values, 0, 1.7))
    assert apply_forest_weight(cube, 1.0) is cube


@pytest.mark.parametrize("case", ["off", "no samples", "no forest samples"])
def test_no_calibration_says_why(case: str) -> None:
    cube, truth = _site(ny=10, nx=10, years=4)
    held = _held(truth, 5, 4)
    cfg = CFG
    if case == "off":
        cfg = SimpleNamespace(**{**vars(CFG), "forest_area_calibration": False})
    elif case == "no samples":
        held = held.iloc[:0]
    else:
        held = held[held["landcover"] == 2]
    w, info = forest_area_weight(cube, [1, 2], None, held, cfg)
    assert w == 1.0
    assert info["forest_area_calibration"] == ("off" if case == "off" else
                                               "not made: no held-out random forest samples")


def test_only_probability_samples_estimate_areas() -> None:
    from minecarbon.pipeline.forest_area import probability_sample

    samples = pd.DataFrame({"design": ["random", "purposive", " Systematic", "", "random"]})
    assert probability_sample(samples).tolist() == [True, False, True, False, True]
    assert probability_sample(pd.DataFrame({"x": [1, 2]})).tolist() == [True, True]
