"""Feature selection for AGC models (requirement M2, the guide's appendix C).

The guide lists three ways to choose the features of an AGC model: the correlation coefficient,
principal component analysis and the random-forest importance ranking. Each is a scikit-learn
transformer here (``fit``/``transform``, ``get_support()``, ``get_feature_names_out()``), so it
sits first in a :class:`~sklearn.pipeline.Pipeline` and is *refit inside every cross-validation
fold*: the features a fold's model sees are chosen from that fold's training plots only, and
the accuracy measured on the test plots is not inflated by selection (Ambroise & McLachlan 2002,
"Selection bias in gene extraction", PNAS 99: 6562–6566).

* :class:`CorrelationSelector` ranks features by |r| with the target and drops any feature whose
  |r| with a better-ranked kept feature exceeds ``max_collinearity`` (collinear twins).
* :class:`PCASelector` standardises the features and keeps principal components ``pc1 …``.
* :class:`RFImportanceSelector` ranks features by random-forest importance: by default the
  out-of-bag permutation importance of Breiman (2001), the ``%IncMSE`` of R's randomForest.
* :class:`PassthroughSelector` keeps every (non-constant) feature (``method="none"``).

All of them refuse NaN or infinite values at ``fit`` (naming the column and row) and drop
constant features with a warning that names them. :func:`make_selector` builds one by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.feature_selection import SelectorMixin
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from minecarbon.errors import InputDataError, warn

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

SelectionMethod = Literal["correlation", "pca", "rf_importance", "none"]
SELECTION_METHODS: tuple[str, ...] = ("correlation", "pca", "rf_importance", "none")


def check_finite_features(table: Any, what: str = "feature table") -> None:
    """Raise if ``table`` holds a NaN or infinite value, naming the first column and row.

    Parameters
    ----------
    table
        A DataFrame (rows named by its index) or a 2-D array (rows and columns by position).
    what
        How the message names the table.

    Raises
    ------
    InputDataError
        At the first non-finite value; the message names its column, row and how many there are.

    """
    if isinstance(table, pd.DataFrame):
        values = table.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.asarray(table, dtype=np.float64)
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    if isinstance(table, pd.DataFrame):
        column, label = str(table.columns[col]), f"row {table.index[row]!r}"
    else:
        column, label = f"column {col}", f"row {row}"
    raise InputDataError(
        f"{what}: feature {column!r} is {values[row, col]} at {label} "
        f"({int(bad.sum())} non-finite values in all)",
        fix="drop or fill the plots with missing features before fitting "
        "(fit_stratified drops them with a warning)",
    )


def _input_names(estimator: BaseEstimator, n: int) -> list[str]:
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        return [f"x{i}" for i in range(n)]
    return [str(name) for name in names]


def _varying(xa: FloatArray, names: list[str]) -> BoolArray:
    """Mask of the non-constant columns; warns naming the constant ones."""
    constant = np.ptp(xa, axis=0) == 0
    if constant.all():
        raise InputDataError(
            f"all {xa.shape[1]} features are constant", fix="give features that vary"
        )
    if constant.any():
        dropped = ", ".join(names[i] for i in np.flatnonzero(constant))
        warn(f"constant features dropped: {dropped}", UserWarning, stacklevel=4)
    varying: BoolArray = ~constant
    return varying


class _Selector(SelectorMixin, BaseEstimator):  # type: ignore[misc]
    """Shared fit checks: finite values, a non-constant target, constant features dropped."""

    def _prepare(self, X: Any, y: Any) -> tuple[FloatArray, FloatArray, BoolArray]:  # noqa: N803
        check_finite_features(X)
        xa, ya = validate_data(self, X, y, reset=True, y_numeric=True, dtype=np.float64)
        ya = np.asarray(ya, dtype=np.float64)
        if np.ptp(ya) == 0:
            raise InputDataError(
                f"the target is constant ({ya[0]:g} at all {ya.size} plots)",
                fix="a model needs plots with different AGC",
            )
        return xa, ya, _varying(xa, _input_names(self, xa.shape[1]))

    def _names(self, idx: Sequence[int] | IntArray) -> list[str]:
        names = _input_names(self, max((int(i) for i in idx), default=-1) + 1)
        return [names[i] for i in idx]

    def _get_support_mask(self) -> BoolArray:
        check_is_fitted(self, "support_")
        support: BoolArray = self.support_
        return support

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN is refused at fit; transform lets it through
        return tags


def _keep_best(order: IntArray, k: int | None) -> IntArray:
    return order if k is None else order[: max(int(k), 1)]


class PassthroughSelector(_Selector):
    """Keep every feature that is not constant (``method="none"``)."""

    def fit(self, X: Any, y: Any) -> PassthroughSelector:  # noqa: N803
        """Check ``X`` and drop constant features."""
        _, _, varying = self._prepare(X, y)
        self.support_ = varying
        self.ranking_ = np.flatnonzero(varying)
        self.scores_ = np.full(varying.size, np.nan)
        return self


def _standardise(a: FloatArray) -> FloatArray:
    centred = a - a.mean(axis=0)
    norm = np.sqrt((centred**2).sum(axis=0))
    out: FloatArray = centred / np.where(norm == 0, 1.0, norm)
    return out


class CorrelationSelector(_Selector):
    """Rank features by |r| with the target, dropping collinear ones (appendix C, method 1).

    Features are ordered by |r| with the target, best first; walking down that order a feature
    is kept unless |r| with the target is below ``min_abs_r``, or its |r| with a feature already
    kept exceeds ``max_collinearity``; the walk stops after ``k`` features.

    Parameters
    ----------
    k
        How many features to keep at most; ``None`` keeps all that pass.
    min_abs_r
        Smallest |r| with the target a kept feature may have. If none passes, the best-ranked
        feature is kept alone (a model needs one) and a warning says so.
    max_collinearity
        Largest |r| between two kept features; 1 switches the pruning off.
    method
        ``"pearson"`` (linear) or ``"spearman"`` (Pearson's r of the ranks, average ranks for
        ties; monotone relations).

    Attributes
    ----------
    correlations_
        Signed r of each input feature with the target (NaN for constant features).
    scores_
        |r| with the target (NaN for constant features).
    ranking_
        Input indices of the kept features, best first.
    support_
        Boolean mask of the kept features.

    """

    def __init__(
        self,
        k: int | None = None,
        min_abs_r: float = 0.0,
        max_collinearity: float = 0.9,
        method: Literal["pearson", "spearman"] = "pearson",
    ) -> None:
        self.k = k
        self.min_abs_r = min_abs_r
        self.max_collinearity = max_collinearity
        self.method = method

    def fit(self, X: Any, y: Any) -> CorrelationSelector:  # noqa: N803
        """Rank the features of ``X`` by their correlation with ``y`` and keep the best."""
        if self.method not in ("pearson", "spearman"):
            raise InputDataError(
                f"unknown correlation method {self.method!r}", fix="use 'pearson' or 'spearman'"
            )
        xa, ya, varying = self._prepare(X, y)
        if self.method == "spearman":
            xa = np.apply_along_axis(rankdata, 0, xa)
            ya = rankdata(ya)
        idx = np.flatnonzero(varying)
        z = _standardise(xa[:, idx])
        zy = _standardise(ya[:, None])[:, 0]
        r = np.clip(z.T @ zy, -1.0, 1.0)
        corr = np.full(xa.shape[1], np.nan)
        corr[idx] = r
        order = idx[np.argsort(-np.abs(r), kind="stable")]
        kept: list[int] = []
        for j in order:
            if self.k is not None and len(kept) >= max(int(self.k), 1):
                break
            if abs(corr[j]) < self.min_abs_r:
                break
            zj = z[:, np.searchsorted(idx, j)]
            if kept:
                r_kept = z[:, np.searchsorted(idx, kept)].T @ zj
                if np.max(np.abs(r_kept)) > self.max_collinearity:
                    continue
            kept.append(int(j))
        if not kept:
            kept = [int(order[0])]
            warn(
                f"no feature has |r| ≥ {self.min_abs_r:g} with the target; kept the best, "
                f"{self._names(kept)[0]} (|r| = {abs(corr[kept[0]]):.3f})",
                UserWarning,
                stacklevel=2,
            )
        self.correlations_ = corr
        self.scores_ = np.abs(corr)
        self.ranking_ = np.asarray(kept, dtype=np.intp)
        self.support_ = np.zeros(xa.shape[1], dtype=bool)
        self.support_[self.ranking_] = True
        return self


class RFImportanceSelector(_Selector):
    """Keep the ``k`` features a random forest finds most important (appendix C, method 3).

    ``importance="permutation"`` (default) is Breiman's (2001) out-of-bag permutation
    importance, the ``%IncMSE`` of R's randomForest without scaling (Liaw & Wiener 2002): for
    each tree, the increase of its mean squared error on its out-of-bag plots when one feature's
    values are permuted among them, averaged over the trees. ``"impurity"`` is the mean decrease
    in impurity (scikit-learn's ``feature_importances_``), which is cheaper but measured on the
    training plots, so deep trees credit noise features with the splits that fit the noise
    (Strobl et al. 2007, BMC Bioinformatics 8: 25).

    Parameters
    ----------
    k
        How many features to keep (all when ``None`` or larger than their number).
    n_estimators
        Trees of the ranking forest.
    importance
        ``"permutation"`` or ``"impurity"``.
    seed
        Seeds the forest and the permutations.
    n_jobs
        Threads of the forest.

    Attributes
    ----------
    scores_
        Importance of each input feature (NaN for constant features).
    ranking_
        Input indices of the kept features, most important first.
    support_
        Boolean mask of the kept features.

    """

    def __init__(
        self,
        k: int | None = 10,
        n_estimators: int = 200,
        importance: Literal["permutation", "impurity"] = "permutation",
        seed: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.k = k
        self.n_estimators = n_estimators
        self.importance = importance
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any) -> RFImportanceSelector:  # noqa: N803
        """Fit the ranking forest and keep the ``k`` most important features."""
        if self.importance not in ("permutation", "impurity"):
            raise InputDataError(
                f"unknown importance {self.importance!r}", fix="use 'permutation' or 'impurity'"
            )
        xa, ya, varying = self._prepare(X, y)
        idx = np.flatnonzero(varying)
        forest = RandomForestRegressor(
            n_estimators=self.n_estimators, random_state=self.seed, n_jobs=self.n_jobs
        ).fit(xa[:, idx], ya)
        if self.importance == "impurity":
            imp = np.asarray(forest.feature_importances_, dtype=np.float64)
        else:
            imp = oob_permutation_importance(forest, xa[:, idx], ya, seed=self.seed)
        scores = np.full(xa.shape[1], np.nan)
        scores[idx] = imp
        self.scores_ = scores
        self.ranking_ = _keep_best(idx[np.argsort(-imp, kind="stable")], self.k)
        self.support_ = np.zeros(xa.shape[1], dtype=bool)
        self.support_[self.ranking_] = True
        return self


def oob_permutation_importance(
    forest: RandomForestRegressor, x: FloatArray, y: FloatArray, *, seed: int = 0
) -> FloatArray:
    """Breiman's out-of-bag permutation importance of a fitted bootstrap random forest.

    For tree ``t`` with out-of-bag plots ``O_t``: ``MSE_t`` on ``O_t``, and ``MSE_tj`` on ``O_t``
    with feature ``j`` permuted among them; the importance of ``j`` is the mean over trees of
    ``MSE_tj − MSE_t`` (R randomForest ``importance(type = 1, scale = FALSE)``). Trees without
    out-of-bag plots are skipped.
    """
    rng = np.random.default_rng(seed)
    n, p = x.shape
    total = np.zeros(p)
    used = 0
    for tree, drawn in zip(forest.estimators_, forest.estimators_samples_, strict=True):
        oob = np.ones(n, dtype=bool)
        oob[drawn] = False
        m = int(oob.sum())
        if m < 2:
            continue
        x_oob, y_oob = x[oob], y[oob]
        base = np.mean((tree.predict(x_oob) - y_oob) ** 2)
        stacked = np.tile(x_oob, (p, 1))
        for j in range(p):
            stacked[j * m : (j + 1) * m, j] = x_oob[rng.permutation(m), j]
        err = (tree.predict(stacked).reshape(p, m) - y_oob) ** 2
        total += err.mean(axis=1) - base
        used += 1
    out: FloatArray = total / max(used, 1)
    return out


class PCASelector(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Standardise the features and keep principal components (appendix C, method 2).

    Parameters
    ----------
    n_components
        Number of components; when ``None`` the fewest whose cumulative explained variance
        reaches ``variance``.
    variance
        Share of the (standardised) variance to keep when ``n_components`` is ``None``.

    Attributes
    ----------
    pca_
        The fitted :class:`~sklearn.decomposition.PCA` on the standardised non-constant features.
    scores_
        Explained variance ratio of each kept component.
    loadings_
        DataFrame of the loadings (input features × components).
    support_
        Input features that enter the components (all but constant ones).

    Notes
    -----
    ``get_support()`` marks the *inputs* used, not a subset of outputs: every component mixes
    all non-constant inputs.

    """

    def __init__(self, n_components: int | None = None, variance: float = 0.95) -> None:
        self.n_components = n_components
        self.variance = variance

    def fit(self, X: Any, y: Any = None) -> PCASelector:  # noqa: N803
        """Fit the scaler and the PCA."""
        check_finite_features(X)
        xa = validate_data(self, X, reset=True, dtype=np.float64)
        varying = _varying(xa, _input_names(self, xa.shape[1]))
        n_max = min(int(varying.sum()), xa.shape[0])
        if self.n_components is not None:
            n: int | float = min(max(int(self.n_components), 1), n_max)
        elif not 0.0 < self.variance <= 1.0:
            raise InputDataError(
                f"PCA variance share {self.variance} is not in (0, 1]",
                fix="give e.g. 0.95, or n_components",
            )
        else:
            n = self.variance if self.variance < 1.0 else n_max
        self.support_ = varying
        self.scaler_ = StandardScaler().fit(xa[:, varying])
        pca = PCA(n_components=n, svd_solver="full")
        self.pca_ = pca.fit(self.scaler_.transform(xa[:, varying]))
        self.scores_ = np.asarray(self.pca_.explained_variance_ratio_, dtype=np.float64)
        inputs = [n for n, v in zip(_input_names(self, xa.shape[1]), varying, strict=True) if v]
        self.loadings_ = pd.DataFrame(
            self.pca_.components_.T, index=inputs, columns=list(self.get_feature_names_out())
        )
        return self

    def transform(self, X: Any) -> Any:  # noqa: N803
        """Project standardised ``X`` onto the kept components."""
        check_is_fitted(self, "pca_")
        xa = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=False)
        return self.pca_.transform(self.scaler_.transform(xa[:, self.support_]))

    def get_support(self, indices: bool = False) -> BoolArray | IntArray:
        """Mask (or indices) of the input features that enter the components."""
        check_is_fitted(self, "support_")
        support: BoolArray = self.support_
        return np.flatnonzero(support) if indices else support

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Component names ``pc1``, ``pc2``, …."""
        check_is_fitted(self, "pca_")
        return np.asarray([f"pc{i + 1}" for i in range(self.pca_.n_components_)], dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def make_selector(method: str, **params: Any) -> BaseEstimator:
    """A selector by name: ``"correlation"``, ``"pca"``, ``"rf_importance"`` or ``"none"``.

    ``params`` go to the class (``k``, ``max_collinearity``, ``variance``, ``seed``, …).

    Raises
    ------
    InputDataError
        For an unknown method or a parameter the method does not take.

    """
    classes: dict[str, type[BaseEstimator]] = {
        "correlation": CorrelationSelector,
        "pca": PCASelector,
        "rf_importance": RFImportanceSelector,
        "none": PassthroughSelector,
    }
    if method not in classes:
        raise InputDataError(
            f"unknown feature-selection method {method!r}",
            fix=f"use one of {', '.join(SELECTION_METHODS)}",
        )
    try:
        return classes[method](**params)
    except TypeError as error:
        raise InputDataError(
            f"feature-selection method {method!r}: {error}",
            fix="check the selector's parameter names in docs/models.md",
        ) from None


def selected_feature_scores(selector: Any) -> pd.DataFrame:
    """The features a fitted selector outputs: ``feature``, ``rank`` (1 = best), ``score``.

    ``score`` is |r| (correlation), the importance (random forest), the explained variance
    ratio (PCA components) or NaN (no selection).
    """
    names = [str(n) for n in selector.get_feature_names_out()]
    if isinstance(selector, PCASelector):
        scores = selector.scores_
    else:
        scores = selector.scores_[selector.ranking_]
        inputs = selector.feature_names_in_ if hasattr(selector, "feature_names_in_") else None
        if inputs is not None:
            names = [str(inputs[i]) for i in selector.ranking_]
        else:
            names = [f"x{i}" for i in selector.ranking_]
    return pd.DataFrame(
        {"feature": names, "rank": np.arange(1, len(names) + 1), "score": scores}
    )
