"""Species maps from window-summed class probabilities (stand context)."""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from minecarbon.classify.species import predict_species_map
from minecarbon.classify.species_context import contextual_species_map, species_probabilities
from minecarbon.errors import InputDataError
from tests.classify.test_species import HABIT, feature_stack, trained  # noqa: F401

SHAPE = (14, 20)


def _inputs(trained):  # noqa: F811
    model, x_test, y_test = trained
    habit = np.array([HABIT[c] for c in y_test])
    habit[::7] = 0
    stack = feature_stack(x_test, SHAPE)
    habit_map = xr.DataArray(habit.reshape(SHAPE), coords=stack.coords, dims=("y", "x"))
    return model, x_test, stack, habit_map


def test_probabilities_are_the_sub_models_and_zero_elsewhere(trained) -> None:  # noqa: F811
    model, x_test, stack, habit_map = _inputs(trained)
    proba = species_probabilities(model, stack, habit_map)
    assert proba.dims == ("species", "y", "x")
    flat = proba.values.reshape(proba.sizes["species"], -1)
    habit = habit_map.values.ravel()
    codes = list(proba["species"].values)
    for h, sub in model.models_.items():
        rows = np.flatnonzero(habit == h)
        expected = sub.predict_proba(x_test.iloc[rows].to_numpy())  # fitted on arrays
        cols = [codes.index(int(c)) for c in sub.classes_]
        np.testing.assert_allclose(flat[np.ix_(cols, rows)].T, expected, rtol=1e-6)
        others = [i for i in range(len(codes)) if i not in cols]
        assert (flat[np.ix_(others, rows)] == 0).all()
    assert (flat[:, habit == 0] == 0).all()


def test_window_one_is_the_pixel_map(trained) -> None:  # noqa: F811
    model, _, stack, habit_map = _inputs(trained)
    np.testing.assert_array_equal(contextual_species_map(model, stack, habit_map, window=1),
                                  predict_species_map(model, stack, habit_map))


def test_window_sums_probabilities_within_the_pixel_habit(trained) -> None:  # noqa: F811
    model, _, stack, habit_map = _inputs(trained)
    proba = species_probabilities(model, stack, habit_map).values
    codes = np.asarray(species_probabilities(model, stack, habit_map)["species"].values)
    # oracle: scipy's box sum (zeros outside), restricted to the pixel's own habit
    summed = np.stack([ndimage.uniform_filter(p.astype(np.float64), 3, mode="constant") * 9
                       for p in proba])
    habit = habit_map.values
    own = np.where(np.array([HABIT[int(c)] for c in codes])[:, None, None] == habit[None],
                   summed, -1.0)
    expected = np.where(habit > 0, codes[own.argmax(0)], 0)
    eager = contextual_species_map(model, stack, habit_map, window=3)
    np.testing.assert_array_equal(eager.values, expected)
    lazy = contextual_species_map(model, stack.chunk({"y": 5, "x": 6}),
                                  habit_map.chunk({"y": 5, "x": 6}), window=3)
    assert isinstance(lazy.data, dsa.Array) and lazy.dtype == np.uint8
    np.testing.assert_array_equal(lazy.values, expected)
    # a deciduous pixel never takes an evergreen species from its neighbours
    got = np.vectorize(lambda c: HABIT.get(int(c), 0))(eager.values)
    np.testing.assert_array_equal(got, habit)


def test_even_window_is_refused(trained) -> None:  # noqa: F811
    model, _, stack, habit_map = _inputs(trained)
    with pytest.raises(InputDataError, match="odd"):
        contextual_species_map(model, stack, habit_map, window=2)
