"""The height–diameter (H–D) model forms: :class:`HDModel`, its predictions, its input checks.

Part of :mod:`minecarbon.allometry.height`, whose module docstring gives the four forms
(:data:`METHODS`), their parameters (:data:`PARAM_NAMES`) and the conventions of BIOMASS's
``modelHD`` they follow. A fitted model predicts H in m from D in cm; the log forms include the
Baskerville correction. The checks of D and H here are shared by fitting and gap filling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minecarbon.errors import InputDataError

FloatArray = NDArray[np.float64]

HDMethod = Literal["log1", "log2", "weibull", "michaelis"]

#: The H–D model forms, in the order :func:`compare_hd` lists them (and breaks ties).
METHODS: Final[tuple[HDMethod, ...]] = get_args(HDMethod)

#: Parameter names of each form, in the order of :attr:`HDModel.params`.
PARAM_NAMES: Final[dict[HDMethod, tuple[str, ...]]] = {
    "log1": ("a", "b"),
    "log2": ("a", "b", "c"),
    "weibull": ("a", "b", "c"),
    "michaelis": ("A", "B"),
}


# --------------------------------------------------------------------------- input checks


def _dbh(values: ArrayLike, name: str = "dbh_cm") -> FloatArray:
    """D as a 1-d float array; every value must be finite and > 0 (NaN is an error)."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        n_nan = int(np.isnan(array).sum())
        n_bad = int(bad.sum())
        first = int(np.flatnonzero(bad.reshape(-1))[0])
        raise InputDataError(
            f"{name}: {n_bad} of {array.size} diameter(s) are missing, zero, negative or infinite "
            f"({n_nan} missing; first at index {first}: {array.reshape(-1)[first]!r})",
            fix=f"correct those trees or remove them; every {name} must be a number > 0 (cm)",
        )
    return array


def _height(values: ArrayLike, size: int, name: str = "height_m") -> FloatArray:
    """H as a 1-d float array of ``size``; NaN (not measured) passes, ≤ 0 or infinite raise."""
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1 or array.size != size:
        raise InputDataError(
            f"{name} has shape {array.shape} but there are {size} diameters",
            fix="pass one height per tree (NaN where it was not measured)",
        )
    bad = ~np.isnan(array) & ~(np.isfinite(array) & (array > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputDataError(
            f"{name}: {int(bad.sum())} of {size} height(s) are zero, negative or infinite "
            f"(first at index {first}: {array[first]!r})",
            fix="correct those heights, or set them to NaN (not measured) to have them filled",
        )
    return array


def _pair(dbh_cm: ArrayLike, height_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    dbh = _dbh(dbh_cm)
    if dbh.ndim != 1:
        raise InputDataError(
            f"dbh_cm has shape {dbh.shape}; one diameter per tree is expected",
            fix="pass a 1-d sequence of diameters",
        )
    return dbh, _height(height_m, dbh.size)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class HDModel:
    """A fitted height–diameter model.

    Attributes
    ----------
    method
        One of :data:`METHODS`.
    params
        The fitted parameters, named by :data:`PARAM_NAMES` (e.g. ``(a, b)`` for ``log1``).
    rse
        Residual standard error in m on the trees with a measured height (see the module notes).
    rse_log
        Residual standard error on logs (log models only; ``None`` otherwise).
    n
        Number of trees the model was fitted on (those with both D and H).
    average_bias
        Relative bias of the mean predicted height over all trees given to :func:`fit_hd`
        against the mean measured height (see :func:`average_bias`).

    """

    method: HDMethod
    params: tuple[float, ...]
    rse: float
    rse_log: float | None
    n: int
    average_bias: float = float("nan")

    @property
    def n_params(self) -> int:
        """Number of parameters *p* of the form."""
        return len(PARAM_NAMES[self.method])

    @property
    def named_params(self) -> dict[str, float]:
        """The parameters keyed by name."""
        return dict(zip(PARAM_NAMES[self.method], self.params, strict=True))

    def predict(self, dbh_cm: ArrayLike) -> FloatArray:
        """Predicted height in m for each D in cm (same shape as ``dbh_cm``).

        Log models include the Baskerville correction ``exp(RSElog² / 2)``.

        Raises
        ------
        InputDataError
            If a D is missing, zero, negative or infinite.

        """
        dbh = _dbh(dbh_cm)
        shape = np.shape(dbh_cm)
        return _PREDICT[self.method](self.params, self.rse_log or 0.0, dbh).reshape(shape)


def _predict_log(params: tuple[float, ...], rse_log: float, dbh: FloatArray) -> FloatArray:
    log_d = np.log(dbh)
    log_h = np.zeros_like(log_d)
    for power, coefficient in enumerate(params):
        log_h = log_h + coefficient * log_d**power
    return np.asarray(np.exp(log_h + rse_log**2 / 2.0), dtype=np.float64)


def _weibull(params: tuple[float, ...] | FloatArray, dbh: FloatArray) -> FloatArray:
    a, b, c = params
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(a * -np.expm1(-((dbh / b) ** c)), dtype=np.float64)


def _michaelis(params: tuple[float, ...] | FloatArray, dbh: FloatArray) -> FloatArray:
    big_a, big_b = params
    return np.asarray(big_a * dbh / (big_b + dbh), dtype=np.float64)


_PREDICT: Final[dict[HDMethod, Callable[[tuple[float, ...], float, FloatArray], FloatArray]]] = {
    "log1": _predict_log,
    "log2": _predict_log,
    "weibull": lambda p, _s, d: _weibull(p, d),
    "michaelis": lambda p, _s, d: _michaelis(p, d),
}
