"""The four AGC regressors of requirement M3 with small hyper-parameter grids (M4).

:func:`make_estimator` returns an unfitted :class:`~sklearn.pipeline.Pipeline` and the grid
that :class:`~sklearn.model_selection.GridSearchCV` searches. The regressor is always the step
named ``"model"``, so the grid keys read ``model__…``; the evaluation puts a feature selector in
front of it (step ``"select"``).

Grids are deliberately small: AGC models are fitted on 30–300 plots, and the whole nested
cross-validation of the four kinds (5 outer × 3 inner folds) on 200 plots must run in under a
minute on two cores (docs/models.md, "Timings").

* **SVR** (RBF kernel; Drucker et al. 1997): the features are standardised and so is the
  target (``TransformedTargetRegressor``), so that ``C`` and ``epsilon`` are in units of the
  target's standard deviation whatever the AGC level. Grid: ``C`` ∈ {1, 10, 100},
  ``gamma`` ∈ {"scale", 0.02, 0.1}, ``epsilon`` ∈ {0.05, 0.2}.
* **Random forest** (Breiman 2001), 100 trees (the error of a forest levels off after about
  100 trees; Probst & Boulesteix 2018, JMLR 18: 181): ``max_features`` ∈ {1/3, 1.0} (regression
  default of R's randomForest vs bagging), ``min_samples_leaf`` ∈ {1, 5}.
* **GBDT** (Friedman 2001; scikit-learn ``GradientBoostingRegressor``), 200 stages, subsample
  0.8: ``learning_rate`` ∈ {0.05, 0.1}, ``max_depth`` ∈ {2, 3}.
* **XGBoost** (Chen & Guestrin 2016; ``xgboost.XGBRegressor``, ``tree_method="hist"``), 200
  rounds, subsample 0.8, L2 leaf penalty 1 (its default): ``learning_rate`` ∈ {0.05, 0.1},
  ``max_depth`` ∈ {2, 3}, the grid of GBDT: shallow trees suit the few plots an AGC model
  has, and the constructor defaults are a grid point (0.1, 3) rather than XGBoost's (0.3, 6).

Tree models see the raw features (splits do not depend on scale). Every random component is
seeded with ``seed``.
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from minecarbon.errors import InputDataError
from minecarbon.types import ModelKind

ParamGrid = dict[str, list[Any]]


def _kind(kind: ModelKind | str) -> ModelKind:
    try:
        return ModelKind(kind)
    except ValueError:
        raise InputDataError(
            f"unknown model kind {kind!r}",
            fix=f"use one of {', '.join(k.value for k in ModelKind)}",
        ) from None


def make_estimator(
    kind: ModelKind | str, seed: int = 0, *, n_jobs: int = 1
) -> tuple[Pipeline, ParamGrid]:
    """An unfitted regressor pipeline of one kind and its hyper-parameter grid.

    Parameters
    ----------
    kind
        :class:`~minecarbon.types.ModelKind` or its value (``"svr"``, ``"rf"``, ``"gbdt"``,
        ``"xgboost"``).
    seed
        Random state of the forest, the boosting subsamples and XGBoost.
    n_jobs
        Threads of the random forest and XGBoost (keep 1 when the grid search runs folds in
        parallel).

    Returns
    -------
    (Pipeline, dict)
        The pipeline (last step ``"model"``) and the grid, keys prefixed ``model__``.

    Raises
    ------
    InputDataError
        For an unknown kind.

    """
    kind = _kind(kind)
    if kind is ModelKind.SVR:
        svr = TransformedTargetRegressor(
            regressor=SVR(kernel="rbf"), transformer=StandardScaler()
        )
        grid: ParamGrid = {
            "model__regressor__C": [1.0, 10.0, 100.0],
            "model__regressor__gamma": ["scale", 0.02, 0.1],
            "model__regressor__epsilon": [0.05, 0.2],
        }
        return Pipeline([("scale", StandardScaler()), ("model", svr)]), grid
    if kind is ModelKind.RANDOM_FOREST:
        rf = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=n_jobs)
        grid = {"model__max_features": [1.0 / 3.0, 1.0], "model__min_samples_leaf": [1, 5]}
        return Pipeline([("model", rf)]), grid
    if kind is ModelKind.GBDT:
        gbdt = GradientBoostingRegressor(n_estimators=200, subsample=0.8, random_state=seed)
        grid = {"model__learning_rate": [0.05, 0.1], "model__max_depth": [2, 3]}
        return Pipeline([("model", gbdt)]), grid
    from xgboost import XGBRegressor

    xgb = XGBRegressor(
        n_estimators=200,
        learning_rate=0.1,
        max_depth=3,
        tree_method="hist",
        subsample=0.8,
        random_state=seed,
        n_jobs=n_jobs,
        verbosity=0,
    )
    grid = {"model__learning_rate": [0.05, 0.1], "model__max_depth": [2, 3]}
    return Pipeline([("model", xgb)]), grid
