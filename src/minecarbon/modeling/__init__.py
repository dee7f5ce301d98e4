"""AGC models from plot features (requirements M2–M5, M7; guide ch. 4, appendices C and D).

* :mod:`~minecarbon.modeling.selection` — feature selection transformers (correlation, PCA,
  random-forest importance), refit inside every CV fold;
* :mod:`~minecarbon.modeling.estimators` — SVR, random forest, GBDT and XGBoost pipelines with
  their hyper-parameter grids;
* :mod:`~minecarbon.modeling.evaluation` — appendix-D metrics and nested cross-validation;
* :mod:`~minecarbon.modeling.stratified` — the best model per stratum, with a pooled fallback;
* :mod:`~minecarbon.modeling.intervals` — conformal prediction intervals (M7);
* :mod:`~minecarbon.modeling.persistence` — what a saved model carries and the checks on
  loading (the files themselves: :mod:`minecarbon.io.models`).

See docs/models.md.
"""

from __future__ import annotations

from minecarbon.modeling.estimators import make_estimator
from minecarbon.modeling.evaluation import (
    METRICS,
    CVResult,
    bias,
    mae,
    mean_relative_error_pct,
    nested_cv,
    r2,
    regression_metrics,
    rmse,
    rrmse_pct,
)
from minecarbon.modeling.intervals import (
    IntervalPrediction,
    conformal_halfwidth,
    interval_halfwidths,
    predict_interval,
)
from minecarbon.modeling.persistence import MODEL_FORMAT, check_loaded, model_payload
from minecarbon.modeling.selection import (
    CorrelationSelector,
    PassthroughSelector,
    PCASelector,
    RFImportanceSelector,
    make_selector,
    selected_feature_scores,
)
from minecarbon.modeling.stratified import POOLED, StratifiedModel, StratumFit, fit_stratified

__all__ = [
    "METRICS",
    "MODEL_FORMAT",
    "POOLED",
    "CVResult",
    "CorrelationSelector",
    "IntervalPrediction",
    "PCASelector",
    "PassthroughSelector",
    "RFImportanceSelector",
    "StratifiedModel",
    "StratumFit",
    "bias",
    "check_loaded",
    "conformal_halfwidth",
    "fit_stratified",
    "interval_halfwidths",
    "mae",
    "make_estimator",
    "make_selector",
    "mean_relative_error_pct",
    "model_payload",
    "nested_cv",
    "predict_interval",
    "r2",
    "regression_metrics",
    "rmse",
    "rrmse_pct",
    "selected_feature_scores",
]
