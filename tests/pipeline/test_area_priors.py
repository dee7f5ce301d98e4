"""The classify step's optional prior adjustment (``classify.prior_adjustment``, Saerens et al.
2002) on a population with known class shares: two Gaussian classes whose yearly
probabilities assume equal priors, 80 % forest and 20 % shrubland."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm

from minecarbon.classify.priors import em_priors
from minecarbon.pipeline.landcover_series import adjust_to_area_priors


def _cube(ny: int = 80, nx: int = 80, years: int = 6, seed: int = 5
          ) -> tuple[xr.DataArray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shrub = rng.random((ny, nx)) < 0.2
    x = np.where(shrub[None], 1.5, 0.0) + rng.normal(0.0, 1.0, (years, ny, nx))
    like = np.stack([norm.pdf(x, 0.0, 1.0), norm.pdf(x, 1.5, 1.0)], axis=1)
    posterior = like / like.sum(axis=1, keepdims=True)  # equal priors, as balanced forests give
    cube = xr.DataArray(posterior, dims=("year", "class", "y", "x"),
                        coords={"year": np.arange(2000, 2000 + years), "class": [1, 2]})
    return cube, shrub


def test_prior_adjustment_finds_the_area_shares_and_reweights_every_pixel_year() -> None:
    cube, shrub = _cube()
    adjusted, record = adjust_to_area_priors(cube, [1, 2])
    prior = np.array([record["area_priors"]["1"], record["area_priors"]["2"]])
    # the EM priors of all pixel-years (the cube is under the sampling limit: no stride)
    expected, iterations = em_priors(cube.values.transpose(0, 2, 3, 1).reshape(-1, 2))
    np.testing.assert_allclose(prior, expected, atol=1e-5)
    assert record["prior_iterations"] == iterations > 1
    assert prior[1] == pytest.approx(shrub.mean(), abs=0.02)  # the true shrub share
    # p'(k|x) = p(k|x) π(k) / Σ_j p(j|x) π(j), by hand on every pixel-year
    p = cube.values
    by_hand = p * expected[None, :, None, None]
    by_hand /= by_hand.sum(axis=1, keepdims=True)
    got = adjusted.values
    assert got.shape == p.shape and np.isfinite(got).sum() == p.size
    np.testing.assert_allclose(got, by_hand, rtol=1e-9)
    # fewer pixels go to the rare class than with equal priors
    assert (got[:, 1] > 0.5).mean() < (p[:, 1] > 0.5).mean()


def test_prior_adjustment_keeps_unobserved_pixel_years_unobserved() -> None:
    cube, _ = _cube(ny=20, nx=20, years=3)
    values = cube.values.copy()
    values[1, :, 3, 4] = np.nan  # a year without observation at one pixel
    adjusted, _ = adjust_to_area_priors(cube.copy(data=values), [1, 2])
    assert np.isnan(adjusted.values[1, :, 3, 4]).all()
    assert np.isfinite(adjusted.values).sum() == values.size - 2
