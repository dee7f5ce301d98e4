"""One best AGC model per forest type or species group, with a pooled fallback (M4, M5).

:func:`fit_stratified` takes the plot table (one row per plot: AGC, stratum, features) and

1. screens the table (:func:`~.evaluation.screen_plot_table`): drops features missing at most
   plots, then plots with a missing (NaN/inf) feature or AGC, then constant features, each with
   a warning naming them (a plot under cloud in one year should not stop the model);
2. fits the **pooled** model on all plots — it is the fallback for strata with too few plots and
   for strata that appear in a map but have no plots;
3. for each stratum with at least ``min_plots`` plots, runs :func:`~.evaluation.nested_cv` for
   every model kind, **chooses the kind with the lowest out-of-fold RMSE** (ties, within a
   relative 1e-9, go to the kind listed first in ``kinds``), and refits that kind with a grid
   search (``inner_folds``-fold CV, the same procedure each outer fold ran) on all the
   stratum's plots;
4. strata with fewer plots use the pooled model, with a warning naming the stratum, its plot
   count and the minimum; their out-of-fold metrics are the pooled model's on their own plots,
   and the model card records the fallback (``source: pooled`` and a ``note``).

The resulting :class:`StratifiedModel` predicts with each stratum's model, and reports the CV
results, the selected features and a model card.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import platform
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from joblib import Memory
from sklearn.pipeline import Pipeline

from minecarbon.errors import InputDataError, warn
from minecarbon.modeling.evaluation import (
    METRICS,
    CVResult,
    build_pipeline,
    grid_search,
    nested_cv,
    regression_metrics,
    screen_plot_table,
    short_params,
)
from minecarbon.modeling.selection import make_selector, selected_feature_scores
from minecarbon.types import ModelKind

FloatArray = npt.NDArray[np.float64]

#: The stratum label of the model fitted on all plots.
POOLED = "(pooled)"


@dataclass
class StratumFit:
    """The model one stratum uses.

    Attributes
    ----------
    label
        The stratum label (:data:`POOLED` for the pooled model).
    source
        ``"own"`` (fitted on the stratum's plots) or ``"pooled"`` (uses the pooled model).
    n_plots
        Plots of the stratum used (after dropping plots with missing values).
    kind
        The chosen model kind.
    pipeline
        The refit pipeline (selector → regressor); ``None`` for a stratum that uses the pooled.
    params
        Chosen hyper-parameters of the refit (short names).
    features
        Features the refit model uses, best first.
    cv
        Nested-CV result per kind (empty for a stratum that uses the pooled model).
    metrics
        Out-of-fold metrics of the chosen kind on the stratum's plots (for a fallback stratum:
        the pooled model's out-of-fold predictions at those plots; NaN with fewer than 2).
    residuals
        Out-of-fold residuals ``y − ŷ`` behind ``metrics``.
    note
        Why the stratum uses the model it uses, when that is not its own fit (e.g. too few
        plots); empty otherwise.

    """

    label: Any
    source: Literal["own", "pooled"]
    n_plots: int
    kind: ModelKind
    pipeline: Pipeline | None
    params: dict[str, Any]
    features: list[str]
    cv: dict[ModelKind, CVResult] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    residuals: FloatArray = field(default_factory=lambda: np.zeros(0))
    note: str = ""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages that fit the models."""
    out = {"python": platform.python_version()}
    for name in ("minecarbon", "numpy", "pandas", "scikit-learn", "xgboost", "joblib"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class StratifiedModel:
    """Fitted AGC models per stratum, with the pooled model as fallback.

    Build it with :func:`fit_stratified`. Attributes: ``features`` (input features, in order),
    ``target``, ``strata_column``, ``strata`` (label → :class:`StratumFit`, own and fallback),
    ``pooled`` (:class:`StratumFit`), ``settings`` (how it was fitted), ``versions``.
    """

    def __init__(
        self,
        *,
        features: list[str],
        target: str,
        strata_column: str,
        strata: dict[Any, StratumFit],
        pooled: StratumFit,
        settings: dict[str, Any],
    ) -> None:
        self.features = features
        self.target = target
        self.strata_column = strata_column
        self.strata = strata
        self.pooled = pooled
        self.settings = settings
        self.versions = software_versions()

    def model_for(self, label: Any) -> StratumFit:
        """The fit a stratum label predicts with (its own, or the pooled model)."""
        fit = self.strata.get(label)
        return fit if fit is not None and fit.source == "own" else self.pooled

    def _frame(self, X: Any) -> pd.DataFrame:  # noqa: N803
        if isinstance(X, pd.DataFrame):
            missing = [f for f in self.features if f not in X.columns]
            if missing:
                raise InputDataError(
                    f"the prediction table lacks the model's features {missing}",
                    fix="build the feature stack with the features the model was fitted on",
                )
            return X[self.features]
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.features):
            raise InputDataError(
                f"prediction array of shape {arr.shape}, the model needs "
                f"{len(self.features)} feature columns ({', '.join(self.features)})",
                fix="give the features as columns in the model's order",
            )
        return pd.DataFrame(arr, columns=self.features)

    def predict(self, X: Any, strata: Any) -> FloatArray:  # noqa: N803
        """Predict AGC (t C/ha) with each row's stratum model.

        Parameters
        ----------
        X
            Features: a DataFrame with (at least) the columns :attr:`features`, or a 2-D array
            with them as columns in that order.
        strata
            One stratum label per row, or one label for all rows. A label with no model of its
            own (too few plots, or absent from the plot table) uses the pooled model; labels
            absent from the plot table are named in a warning. A missing label (None/NaN)
            gives NaN.

        Returns
        -------
        numpy.ndarray
            Predictions; NaN where a feature is NaN or the label is missing.

        """
        frame = self._frame(X)
        labels = np.asarray(strata, dtype=object)
        if labels.ndim == 0:
            labels = np.full(len(frame), labels.item(), dtype=object)
        if labels.shape != (len(frame),):
            raise InputDataError(
                f"{labels.size} stratum labels for {len(frame)} rows", fix="give one per row"
            )
        out = np.full(len(frame), np.nan)
        finite = np.isfinite(frame.to_numpy(dtype=np.float64, na_value=np.nan)).all(axis=1)
        no_label = pd.isna(pd.Series(labels)).to_numpy()
        usable = finite & ~no_label
        unseen = []
        for label in pd.unique(labels[usable]):
            rows = usable & (labels == label)
            if label not in self.strata and label != POOLED:
                unseen.append(label)
            pipe = self.model_for(label).pipeline
            assert pipe is not None
            out[rows] = pipe.predict(frame.loc[rows])
        if unseen:
            warn(
                f"strata with no plots use the pooled model: {', '.join(map(str, unseen))}",
                UserWarning,
                stacklevel=2,
            )
        return out

    # ------------------------------------------------------------------------- result tables
    def _fits(self) -> list[StratumFit]:
        return [self.pooled, *self.strata.values()]

    @property
    def cv_results(self) -> pd.DataFrame:
        """Per-fold CV metrics: stratum, model, fold, metrics, n_train, n_test, params."""
        frames = []
        for fit in self._fits():
            for kind, cv in fit.cv.items():
                frames.append(cv.folds.assign(stratum=str(fit.label), model=kind.value))
        table = pd.concat(frames, ignore_index=True)
        first = ["stratum", "model", "fold"]
        return table[first + [c for c in table.columns if c not in first]]

    @property
    def model_comparison(self) -> pd.DataFrame:
        """Pooled out-of-fold metrics per stratum and kind, with the chosen one marked."""
        rows = [
            {"stratum": str(fit.label), "model": kind.value, "n_plots": fit.n_plots,
             **cv.metrics, "chosen": kind is fit.kind and fit.source == "own"}
            for fit in self._fits() for kind, cv in fit.cv.items()
        ]
        return pd.DataFrame(rows)

    @property
    def selected_features(self) -> pd.DataFrame:
        """Features of each own model: rank and score in the refit, times chosen in CV folds."""
        frames = []
        for fit in self._fits():
            if fit.pipeline is None:
                continue
            final = selected_feature_scores(fit.pipeline.named_steps["select"])
            folds = fit.cv[fit.kind].selected_features
            counts = pd.concat([f["feature"] for f in folds]).value_counts()
            table = final.merge(
                counts.rename("times_selected_in_folds"), left_on="feature", right_index=True,
                how="outer",
            )
            table["in_final_model"] = table["rank"].notna()
            table["times_selected_in_folds"] = table["times_selected_in_folds"].fillna(0)
            table = table.sort_values(["rank", "times_selected_in_folds", "feature"],
                                      ascending=[True, False, True], na_position="last")
            frames.append(table.assign(stratum=str(fit.label), model=fit.kind.value))
        table = pd.concat(frames, ignore_index=True)
        table["times_selected_in_folds"] = table["times_selected_in_folds"].astype(int)
        first = ["stratum", "model", "feature", "rank", "score", "times_selected_in_folds"]
        return table[[*first, "in_final_model"]]

    def model_card(self) -> dict[str, Any]:
        """A JSON-ready description: per stratum the model, source, plots, metrics, features."""
        def describe(fit: StratumFit) -> dict[str, Any]:
            return {
                "model": fit.kind.value,
                "source": fit.source,
                "n_plots": fit.n_plots,
                "metrics_oof": fit.metrics,
                "features": fit.features,
                "params": fit.params,
                "kinds_compared": {k.value: cv.metrics for k, cv in fit.cv.items()},
                "note": fit.note,
            }

        card = {
            "target": self.target,
            "strata_column": self.strata_column,
            "features_in": self.features,
            "settings": self.settings,
            "selection_rule": "lowest out-of-fold RMSE of nested CV; ties to the first kind "
                              "listed in settings.kinds",
            "pooled": describe(self.pooled),
            "strata": {str(k): describe(v) for k, v in self.strata.items()},
            "software": self.versions,
        }
        out: dict[str, Any] = _jsonable(card)
        return out

    def model_card_json(self) -> str:
        """The model card as indented JSON text."""
        return json.dumps(self.model_card(), indent=2, ensure_ascii=False)


# ----------------------------------------------------------------------------------- fitting
def _choose(results: dict[ModelKind, CVResult]) -> ModelKind:
    kinds = list(results)
    best = kinds[0]
    for kind in kinds[1:]:
        if results[kind].metrics["rmse"] < results[best].metrics["rmse"] * (1.0 - 1e-9):
            best = kind
    return best


def _fit_group(
    label: Any, x: pd.DataFrame, y: FloatArray, groups: npt.NDArray[Any] | None,
    options: dict[str, Any],
) -> StratumFit:
    what = "all plots" if label == POOLED else f"stratum {label!r}"
    selector = make_selector(options["selector_method"], **options["selector_params"])
    seed, inner = options["seed"], options["inner_folds"]
    results: dict[ModelKind, CVResult] = {}
    with tempfile.TemporaryDirectory(prefix="minecarbon-fit-") as cache:
        for kind in options["kinds"]:
            results[kind] = nested_cv(
                x, y, kind, selector, k_folds=options["k_folds"], inner_folds=inner, seed=seed,
                groups=groups, n_jobs=options["n_jobs"], what=what, cache_dir=cache,
            )
        best = _choose(results)
        pipe, grid = build_pipeline(best, selector, seed=seed, memory=Memory(cache, verbose=0))
        search = grid_search(pipe, grid, inner_folds=inner, seed=seed, n_jobs=options["n_jobs"],
                             grouped=groups is not None)
        search.fit(x, y, groups=groups)
    final: Pipeline = search.best_estimator_
    final.set_params(memory=None)
    chosen = results[best]
    return StratumFit(
        label=label, source="own", n_plots=len(y), kind=best, pipeline=final,
        params=short_params(search.best_params_),
        features=selected_feature_scores(final.named_steps["select"])["feature"].tolist(),
        cv=results, metrics=chosen.metrics, residuals=chosen.residuals,
    )


def fit_stratified(
    table: pd.DataFrame,
    target: str,
    strata_column: str,
    features: Sequence[str],
    *,
    kinds: Sequence[ModelKind | str] = tuple(ModelKind),
    selector_method: str = "correlation",
    selector_params: dict[str, Any] | None = None,
    k_folds: int = 5,
    inner_folds: int = 3,
    min_plots: int = 15,
    seed: int = 0,
    plot_id_column: str = "plot_id",
    groups_column: str | None = None,
    n_jobs: int = 1,
    max_missing_share: float = 0.5,
) -> StratifiedModel:
    """Fit, compare and choose AGC models per stratum, with a pooled fallback.

    Parameters
    ----------
    table
        One row per plot: ``target``, ``strata_column``, the features, optionally
        ``plot_id_column`` (names plots in warnings; else the index) and ``groups_column``.
    target
        Column of the plot AGC (t C/ha).
    strata_column
        Column of the stratum (forest type or species-group key). Plots with no label count
        in the pooled model only.
    features
        Feature columns (required: a plot table often carries other numeric columns, such as
        the AGC's Monte-Carlo standard deviation, that must never be predictors).
    kinds
        Model kinds to compare (config ``modeling.models``); the order breaks RMSE ties.
    selector_method, selector_params
        Feature selection (:func:`~.selection.make_selector`), refit in every fold.
    k_folds, inner_folds
        Outer and inner folds of the nested CV (config ``modeling.k_folds``,
        ``modeling.inner_folds``).
    min_plots
        Plots a stratum needs for its own model (config ``modeling.min_plots_per_stratum``).
    seed
        Seeds folds, selectors and regressors (config ``modeling.seed``).
    plot_id_column
        Column naming the plots in warnings (the index when absent).
    groups_column
        Optional plot-group column (e.g. spatial clusters): folds keep a group together.
    n_jobs
        Parallel grid-search fits.
    max_missing_share
        A feature missing at more than this share of the plots is dropped (rather than the
        plots); see :func:`~.evaluation.screen_plot_table`.

    Warns
    -----
    UserWarning
        Naming the features dropped as mostly missing or constant, the plots dropped for missing
        values (with the missing columns), and each stratum with too few plots (its count and
        the minimum) that uses the pooled model.

    Raises
    ------
    InputDataError
        A named column is absent, no plot or no feature is usable, or too few plots remain for
        the pooled model.

    """
    missing = [c for c in (target, strata_column, groups_column) if c and c not in table]
    if missing:
        raise InputDataError(f"the plot table lacks the columns {missing}",
                             fix=f"columns present: {', '.join(map(str, table.columns))}")
    features = [str(f) for f in features]
    if target in features or strata_column in features:
        raise InputDataError(f"the features include the target {target!r} or the stratum "
                             f"column {strata_column!r}", fix="list predictor columns only")
    absent = [f for f in features if f not in table.columns]
    if absent or not features:
        raise InputDataError(f"the plot table lacks the feature columns {absent or 'all'}",
                             fix="extract the plot features first (features.extract)")
    kind_list = list(dict.fromkeys(ModelKind(k) for k in kinds))
    plot_id = table[plot_id_column] if plot_id_column in table else table.index.to_series()
    screen = screen_plot_table(table, target, features, plot_ids=plot_id.tolist(),
                               max_missing_share=max_missing_share)
    features, keep = screen.features, screen.rows
    data = table.loc[keep]
    gone = sorted(set(table[strata_column].dropna()) - set(data[strata_column].dropna()), key=str)
    if gone:
        warn(f"strata {', '.join(map(repr, gone))} lost all their plots to missing values; "
             "they use the pooled model", UserWarning, stacklevel=2)
    x = data[features].astype(np.float64)
    y = data[target].to_numpy(dtype=np.float64)
    groups = None if groups_column is None else data[groups_column].to_numpy()
    options = {"kinds": kind_list, "selector_method": selector_method,
               "selector_params": dict(selector_params or {}), "k_folds": k_folds,
               "inner_folds": inner_folds, "seed": seed, "n_jobs": n_jobs}
    pooled = _fit_group(POOLED, x, y, groups, options)
    pooled_oof = pooled.cv[pooled.kind]
    strata: dict[Any, StratumFit] = {}
    labels = data[strata_column]
    if labels.isna().any():
        warn(f"{int(labels.isna().sum())} plots have no {strata_column!r}; they count in the "
             "pooled model only", UserWarning, stacklevel=2)
    needed = next(n for n in range(max(min_plots, k_folds), 10_000)
                  if n - math.ceil(n / k_folds) >= 2 * inner_folds)
    for label in sorted(labels.dropna().unique(), key=str):
        rows = (labels == label).to_numpy()
        n = int(rows.sum())
        if n == len(y):  # the only stratum: its model is the pooled one
            strata[label] = replace(pooled, label=label, note="the only stratum: the pooled fit")
            continue
        if n >= needed:
            own = _fit_group(
                label, x.loc[rows], y[rows], None if groups is None else groups[rows], options
            )
            pooled_here = regression_metrics(y[rows], pooled_oof.predicted[rows])
            if pooled_here["rmse"] < own.metrics["rmse"]:  # both out of fold, same plots
                note = (f"the pooled model's out-of-fold RMSE on these {n} plots "
                        f"({pooled_here['rmse']:.2f}) is below the own model's "
                        f"({own.metrics['rmse']:.2f}): pooled model")
                warn(f"stratum {label!r}: {note}", UserWarning, stacklevel=2)
                strata[label] = StratumFit(
                    label=label, source="pooled", n_plots=n, kind=pooled.kind, pipeline=None,
                    params=pooled.params, features=pooled.features, metrics=pooled_here,
                    residuals=pooled_oof.residuals[rows], note=note, cv=own.cv)
            else:
                strata[label] = own
            continue
        why = "" if needed == min_plots else (
            f"; {k_folds} outer × {inner_folds} inner folds need {needed}")
        note = (f"{n} plots, fewer than the {needed} needed for an own model (min_plots = "
                f"{min_plots}, config modeling.min_plots_per_stratum{why}): pooled model")
        warn(f"stratum {label!r} has {n} plots, fewer than the {needed} needed for its own "
             f"model (min_plots = {min_plots}, config modeling.min_plots_per_stratum{why}); "
             "it uses the pooled model", UserWarning, stacklevel=2)
        residuals = pooled_oof.residuals[rows]
        metrics = (regression_metrics(y[rows], pooled_oof.predicted[rows]) if n >= 2
                   else dict.fromkeys(METRICS, math.nan))
        strata[label] = StratumFit(
            label=label, source="pooled", n_plots=n, kind=pooled.kind, pipeline=None,
            params=pooled.params, features=pooled.features, metrics=metrics,
            residuals=residuals, note=note,
        )
    settings = {**options, "kinds": [k.value for k in kind_list], "min_plots": min_plots,
                "groups_column": groups_column, "n_plots_used": int(keep.sum()),
                "n_plots_dropped": int((~keep).sum()), "max_missing_share": max_missing_share,
                "plots_dropped": screen.plots_dropped,
                "features_dropped_missing": screen.features_missing,
                "features_dropped_constant": screen.features_constant}
    return StratifiedModel(features=features, target=target, strata_column=strata_column,
                           strata=strata, pooled=pooled, settings=settings)
