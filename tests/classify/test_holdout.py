"""Held-out samples never share a location with training samples (minecarbon.classify.holdout).

Known answers: without repeated locations the splits are scikit-learn's stratified
``train_test_split`` and NumPy's uniform draws, unchanged; with a panel (one place
interpreted in several years) every place is on one side only, each class keeps about its
share, and the row-wise split that the location split replaces does leak.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from minecarbon.classify.holdout import random_holdout, stratified_split
from minecarbon.errors import InputDataError


def _panel(places: int = 200, years: int = 4, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``places`` points interpreted in each of ``years`` years; 10 % change class once."""
    rng = np.random.default_rng(seed)
    first = rng.integers(1, 5, places)
    labels = np.repeat(first[:, None], years, axis=1)
    change = rng.random(places) < 0.1
    labels[change, years // 2:] = 1  # e.g. reclaimed to forest
    location = np.repeat(np.arange(places)[:, None] * 7 + 1000, years, axis=1)
    return labels.ravel(), location.ravel()


def test_unique_locations_give_the_split_made_without_them() -> None:
    y = np.repeat([1, 2, 3], [40, 25, 35])
    train, test = stratified_split(y, 0.3, 5, groups=np.arange(100) * 3)
    want_train, want_test = train_test_split(np.arange(100), test_size=0.3, random_state=5,
                                             stratify=y)
    assert train.tolist() == list(want_train) and test.tolist() == list(want_test)
    train2, test2 = stratified_split(y, 0.3, 5)
    assert train2.tolist() == train.tolist() and test2.tolist() == test.tolist()
    held = random_holdout(100, 0.3, 9, groups=np.arange(100))
    assert held.tolist() == (np.random.default_rng(9).random(100) < 0.3).tolist()


def test_a_place_is_held_out_whole() -> None:
    y, location = _panel()
    train, test = stratified_split(y, 0.3, 1, groups=location)
    assert len(train) + len(test) == len(y) and not set(train) & set(test)
    assert not set(location[train]) & set(location[test])
    share = len(test) / len(y)
    assert 0.25 <= share <= 0.35
    for c in np.unique(y):  # each class keeps about its share in the held-out part
        of_class = np.count_nonzero(y[test] == c) / np.count_nonzero(y == c)
        assert 0.15 <= of_class <= 0.45, (c, of_class)
    # the row-wise split this replaces puts most places on both sides
    row_train, row_test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=1,
                                           stratify=y)
    leaked = set(location[row_train]) & set(location[row_test])
    assert len(leaked) > 100


def test_random_holdout_draws_once_per_place() -> None:
    _, location = _panel(places=300)
    held = random_holdout(len(location), 0.3, 4, groups=location)
    per_place = {loc: set(held[location == loc].tolist()) for loc in np.unique(location)}
    assert all(len(v) == 1 for v in per_place.values())
    places_held = sum(v == {True} for v in per_place.values())
    assert 60 <= places_held <= 120  # about 30 % of 300


def test_unstratified_when_a_class_has_one_place() -> None:
    y = np.array([1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1])
    location = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])  # class 1 … 3 by place
    y[:2] = 9  # a class found at one place only
    train, test = stratified_split(y, 0.3, 0, groups=location)
    assert not set(location[train]) & set(location[test])
    assert len(test) == 4  # two of six places (scikit-learn rounds 0.3 × 6 up)


def test_one_location_per_sample() -> None:
    with pytest.raises(InputDataError, match="3 sample locations for 4 samples"):
        stratified_split(np.array([1, 1, 2, 2]), 0.5, 0, groups=np.array([1, 2, 3]))


def test_a_class_with_one_sample_cannot_be_split() -> None:
    with pytest.raises(InputDataError, match=r"my samples: the classes \['c'\] have fewer than 2"):
        stratified_split(np.array(["a", "a", "b", "b", "c"]), 0.4, 0, what="my samples",
                         name=str)
