"""Area priors by EM (Saerens, Latinne & Decaestecker 2002) and span-wise modes of class codes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from minecarbon.classify.priors import em_priors
from minecarbon.classify.temporal import span_mode
from minecarbon.errors import InputDataError


def test_em_recovers_the_priors_of_a_shifted_population() -> None:
    """Exact posteriors of two Gaussian classes under equal priors; the area is 80/20."""
    rng = np.random.default_rng(11)
    n = 200_000
    labels = rng.random(n) < 0.2
    x = np.where(labels, rng.normal(1.5, 1.0, n), rng.normal(0.0, 1.0, n))
    like = np.column_stack([norm.pdf(x, 0.0, 1.0), norm.pdf(x, 1.5, 1.0)])
    posterior = like / like.sum(axis=1, keepdims=True)  # what a balanced classifier gives
    prior, iterations = em_priors(posterior)
    assert prior.shape == (2,) and iterations > 1
    np.testing.assert_allclose(prior, [0.8, 0.2], atol=0.01)
    # stated training priors are divided out first
    skewed = like * [0.3, 0.7]
    skewed /= skewed.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(em_priors(skewed, [0.3, 0.7])[0], [0.8, 0.2], atol=0.01)


def test_em_floors_absent_classes_and_skips_bad_rows() -> None:
    p = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [np.nan, 0.5, 0.5]])
    prior, _ = em_priors(p, floor=1e-3)
    assert prior.sum() == pytest.approx(1.0)
    assert prior[2] == pytest.approx(1e-3, rel=0.01)
    with pytest.raises(InputDataError, match="no pixel"):
        em_priors(np.full((3, 2), np.nan))
    with pytest.raises(InputDataError, match="two classes"):
        em_priors(np.ones((3, 1)))


def test_span_mode_gives_each_forest_span_its_most_frequent_code() -> None:
    codes = np.array([[1, 2, 1, 1, 0, 3, 3, 2, 0, 0],   # span 0–3 → 1; span 5–7 → 3
                      [2, 2, 1, 1, 0, 0, 0, 0, 0, 0]],  # tie 2:2 → lowest code 1
                     dtype=np.uint8)
    inside = np.array([[1, 1, 1, 1, 0, 1, 1, 1, 0, 1],
                       [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]], dtype=bool)
    da = xr.DataArray(codes.T[:, :, None], dims=("year", "y", "x"))
    mask = xr.DataArray(inside.T[:, :, None], dims=("year", "y", "x"))
    out = span_mode(da.chunk({"y": 1}), mask).values[:, :, 0].T
    np.testing.assert_array_equal(out[0], [1, 1, 1, 1, 0, 3, 3, 3, 0, 0])
    np.testing.assert_array_equal(out[1], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert out.size == 20
    with pytest.raises(InputDataError, match="one grid"):
        span_mode(da, mask.isel(year=slice(0, 5)))
