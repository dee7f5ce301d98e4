"""Which reference samples are held out for accuracy: never one place on both sides.

Samples are often a panel: the same points interpreted in every sample year (the stable
samples of annual land-cover products, e.g. Yang & Huang 2021, *Earth System Science Data*
13: 3907–3925, CLCD). Split row by row, a place interpreted in 2010 trains the forest that is
tested on the same place in 2014, whose features are nearly the same (the ±4-year context
features are): accuracy and the area estimates built on it look better than they are
(spatial and temporal leakage; Roberts et al. 2017, *Ecography* 40: 913–929). Here a
*location* (the pixel a sample falls in) is held out whole, as the AGC models hold out a plot
whole (:mod:`minecarbon.modeling.evaluation`).

Where every sample has its own location the splits are the ones made before locations were
considered, so results on such samples do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import train_test_split

from minecarbon.errors import InputDataError

BoolArray = npt.NDArray[np.bool_]

#: Column of a sample's location (its pixel on the grid, row × width + column): the samples
#: of one location are held out together.
LOCATION = "location_px"


def _repeated(groups: npt.ArrayLike | None, n: int) -> npt.NDArray[np.int64] | None:
    """Integer location codes when some location holds several samples, else None."""
    if groups is None:
        return None
    g = np.asarray(groups)
    if g.shape != (n,):
        raise InputDataError(f"{g.size} sample locations for {n} samples",
                             fix="give one location per sample")
    _, codes = np.unique(g, return_inverse=True)
    codes = codes.astype(np.int64)
    return codes if np.bincount(codes).max() > 1 else None


def stratified_split(labels: npt.ArrayLike, test_fraction: float, seed: int,
                     groups: npt.ArrayLike | None = None, *, what: str = "samples",
                     name: Callable[[Any], str] = repr
                     ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Positions of the training and the held-out samples: about ``test_fraction`` of each class.

    Without repeated ``groups`` (locations) this is scikit-learn's stratified
    ``train_test_split`` of the samples, in its order. With them, the locations are split
    instead, stratified by each location's most frequent class where every such class has
    two locations or more (else unstratified), and each sample follows its location.

    Raises
    ------
    InputDataError
        A class with fewer than two samples (it cannot be split), named by ``name`` in a
        message about ``what``.

    """
    y = np.asarray(labels)
    classes, counts = np.unique(y, return_counts=True)
    single = [name(c) for c, n in zip(classes, counts, strict=True) if n < 2]
    if single:
        raise InputDataError(f"{what}: the classes {single} have fewer than 2 samples and "
                             "cannot be split into training and test parts",
                             fix="collect more samples of them or merge them into another class")
    index = np.arange(len(y), dtype=np.int64)
    codes = _repeated(groups, len(y))
    if codes is None:
        train, test = train_test_split(index, test_size=test_fraction, random_state=seed,
                                       stratify=y)
        return np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)
    n_groups = int(codes.max()) + 1
    _, y_codes = np.unique(y, return_inverse=True)
    counts = np.zeros((n_groups, int(y_codes.max()) + 1), dtype=np.int64)
    np.add.at(counts, (codes, y_codes), 1)
    modal = counts.argmax(axis=1)
    per_class = np.bincount(modal)
    stratify = modal if (per_class[per_class > 0] >= 2).all() else None
    _, test_groups = train_test_split(np.arange(n_groups), test_size=test_fraction,
                                      random_state=seed, stratify=stratify)
    held = np.isin(codes, test_groups)
    return index[~held], index[held]


def random_holdout(n: int, test_fraction: float, seed: int,
                   groups: npt.ArrayLike | None = None) -> BoolArray:
    """True for the samples held out: each with probability ``test_fraction``.

    Without repeated ``groups`` one uniform draw per sample (``numpy.random.default_rng(seed)``);
    with them one draw per location, which all its samples follow.
    """
    rng = np.random.default_rng(seed)
    codes = _repeated(groups, n)
    if codes is None:
        return np.asarray(rng.random(n) < test_fraction)
    draws = rng.random(int(codes.max()) + 1) < test_fraction
    return np.asarray(draws[codes])
