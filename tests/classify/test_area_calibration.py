"""Forest-area calibration of the land-cover series (issue 14, point 1: no missed forest).

Known answers: the prior-shift re-weighting of Saerens et al. (2002) by hand; the decoded share
equals the one of :func:`smooth_class_series` (the decoder the pipeline publishes with); the
weight found makes the series map the target share, and on a population whose per-year
probabilities assume equal priors it removes the map's area bias (omission ≈ commission).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from minecarbon.classify.area_calibration import (
    balance_weight,
    decode,
    decoded_share,
    forest_weight,
    reweight,
)
from minecarbon.classify.temporal import probabilities_to_uint8, smooth_class_series
from minecarbon.errors import InputDataError


def test_reweight_by_hand() -> None:
    p = np.array([[[0.3, np.nan], [0.7, np.nan]]])  # (year, class, pixel)
    out = reweight(p, 0, 2.0)
    assert out[0, 0, 0] == pytest.approx(0.6 / 1.3)
    assert out[0, 1, 0] == pytest.approx(0.7 / 1.3)
    assert np.isnan(out[0, :, 1]).all()
    assert np.array_equal(reweight(p, 0, 1.0)[:, :, 0], p[:, :, 0])


def _population(n_forest: int, n_shrub: int, years: int = 12, seed: int = 3
                ) -> tuple[np.ndarray, np.ndarray]:
    """(year, class, pixel) posteriors under equal priors of two overlapping classes.

    Each pixel has a lasting spectral mean (forest N(1, 1), shrubland N(−1, 1)) and a yearly
    noise N(0, 0.5²); the posterior of a year's value under equal priors is logistic in it. The
    first ``n_forest`` pixels are forest.
    """
    rng = np.random.default_rng(seed)
    truth = np.r_[np.ones(n_forest, bool), np.zeros(n_shrub, bool)]
    mean = np.where(truth, 1.0, -1.0) + rng.normal(0.0, 1.0, truth.size)
    x = mean[None, :] + rng.normal(0.0, 0.5, (years, truth.size))
    # the two class densities of x: N(±1, 1 + 0.25); log-odds = 2x / 1.25
    p_forest = 1.0 / (1.0 + np.exp(-2.0 * x / 1.25))
    return np.stack([p_forest, 1.0 - p_forest], axis=1), truth


def test_decoded_share_equals_the_published_decoder() -> None:
    p, _ = _population(300, 200, years=10)
    p[3, :, :50] = np.nan  # unobserved pixel-years
    w = 1.7
    share = decoded_share(p, 0, w, None, stay=0.9, mixing=0.05)
    cube = xr.DataArray(reweight(p, 0, w)[:, :, None, :], dims=("year", "class", "y", "x"))
    codes = smooth_class_series(probabilities_to_uint8(cube), [1, 2], stay=0.9,
                                mixing=0.05).values[:, 0, :]
    observed = np.isfinite(p).all(axis=1)
    assert observed.sum() == 10 * 500 - 50
    assert share == pytest.approx(np.mean(codes[observed] == 1))


def test_weight_removes_the_area_bias_of_equal_priors() -> None:
    # 80 % forest: under equal priors the overlap goes half to shrubland, so the map holds
    # less forest than there is; the weight for the true share balances the errors.
    p, truth = _population(1600, 400)
    target = float(truth.mean())
    before = decoded_share(p, 0, 1.0, None, stay=0.95, mixing=0.05)
    assert before < target - 0.02
    w, start, after = forest_weight(p, 0, target, tol=0.002)
    assert start == pytest.approx(before)
    assert w > 1.0
    assert abs(after - target) <= 0.002
    cube = xr.DataArray(reweight(p, 0, w)[:, :, None, :], dims=("year", "class", "y", "x"))
    forest = smooth_class_series(probabilities_to_uint8(cube), [1, 2]).values[:, 0, :] == 1
    omission = np.count_nonzero(~forest & truth[None, :])
    commission = np.count_nonzero(forest & ~truth[None, :])
    assert omission > 0 and commission > 0
    assert abs(omission - commission) <= 0.01 * forest.size
    plain = smooth_class_series(probabilities_to_uint8(
        xr.DataArray(p[:, :, None, :], dims=("year", "class", "y", "x"))), [1, 2]
    ).values[:, 0, :] == 1
    # and more true forest is mapped than with equal priors
    assert np.count_nonzero(forest & truth[None, :]) > np.count_nonzero(plain & truth[None, :])


def test_weight_below_one_when_the_map_holds_too_much_forest() -> None:
    p, truth = _population(400, 1600)
    w, start, after = forest_weight(p, 0, float(truth.mean()), tol=0.002)
    assert start > truth.mean() + 0.02
    assert w < 1.0 and abs(after - truth.mean()) <= 0.002


def test_target_out_of_reach_stops_at_the_bound() -> None:
    p, _ = _population(100, 100, years=5)
    w, _, after = forest_weight(p, 0, 1.0, bounds=(0.5, 2.0))
    assert w == pytest.approx(2.0)
    assert after < 1.0


def test_target_already_met_keeps_weight_one() -> None:
    p, _ = _population(100, 100, years=5)
    share = decoded_share(p, 0, 1.0, None, stay=0.95, mixing=0.05)
    assert forest_weight(p, 0, share) == (1.0, share, share)


@pytest.mark.parametrize("kwargs", [
    {"proba": np.zeros((3, 1, 4))},
    {"forest_index": 2},
    {"target_share": 1.5},
    {"bounds": (1.5, 2.0)},
    {"free": np.zeros((2, 4), bool)},
])
def test_bad_input_is_refused(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"proba": np.full((3, 2, 4), 0.5), "forest_index": 0,
                               "target_share": 0.5}
    args.update(kwargs)
    with pytest.raises(InputDataError):
        forest_weight(**args)  # type: ignore[arg-type]


def test_decode_is_the_published_decoder_per_pixel_year() -> None:
    p, _ = _population(50, 50, years=8, seed=5)
    p[2, :, :10] = np.nan
    path = decode(p, 0, 1.3, None, stay=0.9, mixing=0.05)
    cube = xr.DataArray(reweight(p, 0, 1.3)[:, :, None, :], dims=("year", "class", "y", "x"))
    codes = smooth_class_series(probabilities_to_uint8(cube), [1, 2], stay=0.9,
                                mixing=0.05).values[:, 0, :]
    assert path.shape == (100, 8)
    assert np.array_equal(path.T + 1, codes.astype(int))


def test_balance_weight_finds_the_crossing_by_hand() -> None:
    # excess(w) = ln w − ln 2 crosses 0 at w = 2; at 1 it is −ln 2
    w, start, end = balance_weight(lambda w: float(np.log(w) - np.log(2.0)), tol=1e-6)
    assert w == pytest.approx(2.0, rel=1e-5)
    assert start == pytest.approx(-np.log(2.0)) and abs(end) <= 1e-6
    # a crossing beyond the bound stops there; one below 1 is found below 1
    assert balance_weight(lambda w: float(np.log(w) - np.log(9.0)))[0] == 4.0
    assert balance_weight(lambda w: float(np.log(w) + np.log(2.0)), tol=1e-6)[0] == \
        pytest.approx(0.5, rel=1e-5)
    # no evidence (NaN at 1): the weight stays 1
    assert balance_weight(lambda w: float("nan"))[0] == 1.0
    with pytest.raises(InputDataError):
        balance_weight(lambda w: w - 1.0, bounds=(1.5, 2.0))
