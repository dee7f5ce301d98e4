"""Class priors of the mapped area, and classifier probabilities adjusted to them.

A classifier trained with balanced class weights gives probabilities for equal class priors:
as if every class covered the same share of the land. A mine's monitoring extent is far from
that (the small demo is 97 % forest), and where two classes are confusable (sparse forest and
shrubland) the equal prior hands the rare-in-the-area class many pixels it does not have. The
expectation–maximisation procedure of Saerens, Latinne & Decaestecker (2002, *Neural
Computation* 14: 21–41) estimates the area's priors from the classifier's own probabilities on
the unlabelled pixels and re-weights every probability by ``π_area(k) / π_train(k)``:

* E-step: ``p'(k | x) ∝ p(k | x) · π(k) / π_train(k)``, normalised over k;
* M-step: ``π(k) = mean over pixels of p'(k | x)``;

repeated until the priors change by less than ``tol``. The fixed point maximises the
likelihood of the unlabelled pixels under the classifier's class-conditional densities.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from minecarbon.errors import InputDataError


def em_priors(proba: npt.ArrayLike, train_prior: npt.ArrayLike | None = None, *,
              tol: float = 1e-6, max_iter: int = 500,
              floor: float = 1e-4) -> tuple[npt.NDArray[np.float64], int]:
    """Class priors of the population behind ``proba`` (Saerens et al. 2002).

    Parameters
    ----------
    proba
        (n_pixels, K) class probabilities of the classifier (rows with a non-finite value are
        left out).
    train_prior
        (K,) priors the classifier's probabilities assume; default equal (a forest trained with
        balanced class weights).
    tol, max_iter
        Stop when no prior changes by more than ``tol``, or after ``max_iter`` iterations.
    floor
        Smallest prior returned (then renormalised): a class absent from the estimate can still
        be mapped where its evidence is overwhelming.

    Returns
    -------
    tuple
        The priors (K,), summing to 1, and the number of iterations.

    Raises
    ------
    InputDataError
        Not a 2-D array of at least 2 classes, no usable row, or bad priors.

    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise InputDataError(f"probabilities of shape {p.shape}",
                             fix="pass (pixels, classes) with two classes or more")
    p = p[np.isfinite(p).all(axis=1)]
    p = p[p.sum(axis=1) > 0]
    if not len(p):
        raise InputDataError("no pixel with finite class probabilities",
                             fix="classify some pixels before estimating the priors")
    k = p.shape[1]
    base = np.full(k, 1.0 / k) if train_prior is None else np.asarray(train_prior, float)
    if base.shape != (k,) or (base <= 0).any():
        raise InputDataError(f"training priors {base.tolist()} for {k} classes",
                             fix="give one positive prior per class")
    base = base / base.sum()
    prior = base.copy()
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        weighted = p * (prior / base)
        weighted /= weighted.sum(axis=1, keepdims=True)
        new = weighted.mean(axis=0)
        done = bool(np.abs(new - prior).max() < tol)
        prior = new
        if done:
            break
    prior = np.maximum(prior, floor)
    return prior / prior.sum(), iterations
