"""Land-cover classification by random forest from training samples (requirement C1).

:class:`LandCoverClassifier` is a scikit-learn classifier (``get_params``, ``clone``,
``cross_val_score`` work) around :class:`~sklearn.ensemble.RandomForestClassifier` that knows
its features by name, so that :func:`predict_map` can find them in a feature stack. It refuses
samples with a missing feature by default (``on_missing="raise"``; ``"drop"`` drops them with a
warning), drops constant features with a warning, and warns about classes with few samples.
:func:`train_test_accuracy` measures accuracy on a stratified held-out part of the samples
only; :func:`predict_map` classifies a feature stack block by block (0 = no data).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.utils.validation import check_is_fitted

from minecarbon.classify._predict import predict_blocks
from minecarbon.classify.accuracy import AccuracyReport, accuracy_report
from minecarbon.classify.holdout import stratified_split
from minecarbon.config import ClassifyConfig
from minecarbon.errors import InputDataError, warn
from minecarbon.types import LandCover

OnMissing = Literal["raise", "drop"]
_SHOWN = 10  # sample indices named in a message


_LAND_COVER: dict[int, LandCover] = {int(c): c for c in LandCover}


def class_name(label: Hashable) -> str:
    """A class label for messages: ``4 (cropland)`` for a :class:`LandCover` code."""
    if isinstance(label, (int, np.integer)) and int(label) in _LAND_COVER:
        return f"{int(label)} ({_LAND_COVER[int(label)].en})"
    return repr(label.item() if isinstance(label, np.generic) else label)


def _as_frame(X: Any) -> pd.DataFrame:  # noqa: N803
    if isinstance(X, pd.DataFrame):
        return X if all(isinstance(c, str) for c in X.columns) else X.rename(columns=str)
    array = np.asarray(X)
    if array.ndim != 2:
        raise InputDataError(f"X has shape {array.shape}, not (samples, features)",
                             fix="pass a DataFrame with one column per feature")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _numeric(frame: pd.DataFrame, columns: Sequence[str], what: str) -> npt.NDArray[np.float64]:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(f"{what} lacks the features {missing}",
                             fix="extract every feature at the samples (or list fewer features)")
    other = []
    for c in columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            try:
                pd.to_numeric(frame[c])
            except (TypeError, ValueError):
                other.append(c)
    if other:
        raise InputDataError(f"{what}: the columns {other} are not numeric",
                             fix="pass features=[...] naming the numeric feature columns only")
    values: npt.NDArray[np.float64] = frame[list(columns)].to_numpy(dtype=np.float64)
    return values


def _bad_rows(values: npt.NDArray[np.float64], frame: pd.DataFrame, columns: Sequence[str],
              on_missing: OnMissing, what: str) -> npt.NDArray[np.bool_]:
    """Rows with a feature that is NaN or infinite: raise, or return them to be dropped."""
    bad = ~np.isfinite(values)
    rows: npt.NDArray[np.bool_] = np.asarray(bad.any(axis=1))
    if not rows.any():
        return rows
    where = [f"{frame.index[i]!r}: {[columns[int(j)] for j in np.flatnonzero(bad[i])]}"
             for i in np.flatnonzero(rows)[:_SHOWN]]
    more = f" and {int(rows.sum()) - _SHOWN} more" if rows.sum() > _SHOWN else ""
    if on_missing == "raise":
        raise InputDataError(
            f"{what}: {int(rows.sum())} samples have missing (NaN) features — sample index: "
            f"features {'; '.join(where)}{more}",
            fix="move or drop those samples (they fall in gaps of the feature stack), or pass "
                "on_missing='drop'")
    warn(f"{what}: dropped {int(rows.sum())} samples with missing (NaN) features — "
         f"{'; '.join(where)}{more}")
    return rows


class LandCoverClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Random-forest land-cover classifier with named features.

    Parameters
    ----------
    n_estimators, max_features, min_samples_leaf, class_weight, n_jobs
        Passed to :class:`~sklearn.ensemble.RandomForestClassifier`. ``class_weight`` defaults to
        ``"balanced"`` (class weights inversely proportional to class frequency), because
        training samples of rare classes (water, built-up) are usually few.
    random_state
        Seed of the forest (``classify.seed``).
    features
        Feature columns to use; default every column of ``X`` (which must then be numeric).
    on_missing
        Samples with a NaN or infinite feature: ``"raise"`` (default) refuses them with an error
        naming each sample index and feature; ``"drop"`` drops them with a warning.
    min_class_samples
        A class with fewer training samples than this gets a warning naming it.

    Attributes
    ----------
    features_ : list of str
        The features the forest uses, in order (constant features dropped).
    dropped_features_ : list of str
        Features dropped because they were constant over the training samples.
    classes_ : ndarray
        Class labels.
    forest_ : RandomForestClassifier
        The fitted forest.
    feature_names_in_, n_features_in_
        Every feature column seen in ``fit`` (scikit-learn convention).

    """

    def __init__(
        self,
        n_estimators: int = 300,
        *,
        max_features: str | int | float | None = "sqrt",
        min_samples_leaf: int = 1,
        class_weight: str | dict[Hashable, float] | None = "balanced",
        random_state: int | None = 0,
        features: Sequence[str] | None = None,
        on_missing: OnMissing = "raise",
        min_class_samples: int = 5,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.random_state = random_state
        self.features = features
        self.on_missing = on_missing
        self.min_class_samples = min_class_samples
        self.n_jobs = n_jobs

    @classmethod
    def from_config(cls, cfg: ClassifyConfig, **params: Any) -> LandCoverClassifier:
        """A classifier with ``n_estimators`` and ``seed`` from the ``classify`` section."""
        return cls(n_estimators=cfg.n_estimators, random_state=cfg.seed, **params)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LandCoverClassifier:  # noqa: N803
        """Fit the forest on training samples.

        Parameters
        ----------
        X
            DataFrame of feature values at the samples (an array gets columns ``x0, x1 …``).
        y
            Class of each sample (e.g. :class:`~minecarbon.types.LandCover` codes).
        sample_weight
            Optional weight of each sample.

        Raises
        ------
        InputDataError
            On a sample with a missing feature (``on_missing="raise"``), a missing or
            non-numeric feature column, missing labels, or fewer than two classes.

        """
        if self.on_missing not in ("raise", "drop"):
            raise InputDataError(f"on_missing={self.on_missing!r}",
                                 fix="use on_missing='raise' or 'drop'")
        frame = _as_frame(X)
        columns = [str(c) for c in (self.features if self.features is not None
                                    else frame.columns)]
        values = _numeric(frame, columns, "training samples")
        labels = np.asarray(y).reshape(-1)
        if labels.size != len(frame):
            raise InputDataError(f"y has {labels.size} labels for {len(frame)} samples",
                                 fix="give one class per sample")
        if pd.isna(labels).any():
            raise InputDataError("y holds missing class labels",
                                 fix="drop the samples without a class")
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weights is not None and weights.shape != (len(frame),):
            raise InputDataError(f"sample_weight has shape {weights.shape} for {len(frame)} "
                                 "samples", fix="give one weight per sample")
        bad = _bad_rows(values, frame, columns, self.on_missing, "training samples")
        values, labels = values[~bad], labels[~bad]
        weights = None if weights is None else weights[~bad]
        spread = np.ptp(values, axis=0) if len(values) else np.zeros(len(columns))
        constant = [c for c, s in zip(columns, spread, strict=True) if not s > 0]
        if constant:
            warn(f"training samples: dropped the constant features {constant} (one value at "
                 "every sample, no information for the classifier)")
        used = [c for c in columns if c not in constant]
        if not used:
            raise InputDataError("training samples: no feature varies across the samples",
                                 fix="check the feature extraction at the sample points")
        classes, counts = np.unique(labels, return_counts=True)
        if len(classes) < 2:
            raise InputDataError(
                f"training samples hold {len(classes)} class(es); a classifier needs two or more",
                fix="add samples of the other land-cover classes")
        rare = [f"{class_name(c)}: {n}" for c, n in zip(classes, counts, strict=True)
                if n < self.min_class_samples]
        if rare:
            warn(f"training samples: classes with fewer than {self.min_class_samples} samples "
                 f"({', '.join(rare)}); their accuracy will be poor and unreliable")
        forest = RandomForestClassifier(
            n_estimators=self.n_estimators, max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf, class_weight=self.class_weight,
            random_state=self.random_state, n_jobs=self.n_jobs)
        keep = [columns.index(c) for c in used]
        forest.fit(values[:, keep], labels, sample_weight=weights)
        self.forest_ = forest
        self.classes_ = forest.classes_
        self.features_ = used
        self.dropped_features_ = constant
        self.feature_names_in_ = np.asarray(columns, dtype=object)
        self.n_features_in_ = len(columns)
        return self

    def _matrix(self, X: Any) -> npt.NDArray[np.float64]:  # noqa: N803
        check_is_fitted(self, "forest_")
        if isinstance(X, pd.DataFrame):
            frame = _as_frame(X)
            values = _numeric(frame, self.features_, "samples to classify")
        else:
            values = np.asarray(X, dtype=np.float64)
            if values.ndim != 2 or values.shape[1] not in (len(self.features_),
                                                           self.n_features_in_):
                raise InputDataError(
                    f"X has shape {values.shape}; expected {len(self.features_)} columns "
                    f"{self.features_}", fix="pass a DataFrame with the feature columns")
            if values.shape[1] != len(self.features_):
                names = list(self.feature_names_in_)
                values = values[:, [names.index(f) for f in self.features_]]
            frame = pd.DataFrame(index=pd.RangeIndex(len(values)))
        _bad_rows(values, frame, self.features_, "raise", "samples to classify")
        return values

    def predict(self, X: Any) -> npt.NDArray[Any]:  # noqa: N803
        """Class of each sample (a DataFrame with the features, or an array in their order)."""
        values = self._matrix(X)
        return np.asarray(self.forest_.predict(values))

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:  # noqa: N803
        """Class probabilities (share of trees), columns in the order of ``classes_``."""
        values = self._matrix(X)
        return np.asarray(self.forest_.predict_proba(values))

    @property
    def feature_importances_(self) -> pd.Series:
        """Mean decrease in impurity of each used feature (sums to 1)."""
        return pd.Series(self.forest_.feature_importances_, index=self.features_,
                         name="importance")


def _report_labels(classes: npt.NDArray[Any]) -> list[Hashable]:
    """LandCover members where every class is a LandCover code (names them in the report)."""
    if classes.dtype.kind in "iu" and all(int(c) in _LAND_COVER for c in classes):
        return [_LAND_COVER[int(c)] for c in classes]
    return list(classes)


def train_test_accuracy(
    samples: pd.DataFrame,
    label: str,
    features: Sequence[str] | None = None,
    *,
    test_fraction: float = 0.3,
    seed: int = 0,
    refit: bool = False,
    location: str | None = None,
    **params: Any,
) -> tuple[LandCoverClassifier, AccuracyReport]:
    """Fit on a stratified part of the samples, assess accuracy on the held-out rest only.

    Parameters
    ----------
    samples
        One row per sample: the class column ``label`` and the feature columns.
    label
        Name of the class column.
    features
        Feature columns; default every other numeric column.
    test_fraction
        Share of each class held out for the accuracy assessment (stratified split).
    seed
        Seed of the split and of the forest (unless ``random_state`` is in ``params``).
    refit
        Refit the returned model on all samples after the assessment (the report then
        describes the procedure, measured with a model that saw less data).
    location
        Column naming each sample's place (e.g. its pixel). Where a place holds several
        samples (the same point interpreted in several years), all of them fall on one side
        of the split (:func:`minecarbon.classify.holdout.stratified_split`).
    **params
        Further :class:`LandCoverClassifier` parameters.

    Returns
    -------
    tuple
        The fitted classifier and the :class:`~minecarbon.classify.accuracy.AccuracyReport` of
        the held-out samples.

    Raises
    ------
    InputDataError
        If ``label`` is missing, ``test_fraction`` is not in (0, 1), or a class has fewer than
        two samples (it cannot be split).

    """
    if label not in samples.columns:
        raise InputDataError(f"the samples have no column {label!r} (columns: "
                             f"{list(samples.columns)})", fix="name the class column in label=")
    if not 0.0 < test_fraction < 1.0:
        raise InputDataError(f"test_fraction={test_fraction} is not between 0 and 1",
                             fix="use e.g. test_fraction=0.3")
    if features is None:
        features = [str(c) for c in samples.columns
                    if c != label and pd.api.types.is_numeric_dtype(samples[c])]
    params.setdefault("random_state", seed)
    model = LandCoverClassifier(features=list(features), **params)
    values = _numeric(samples, list(features), "samples")
    bad = _bad_rows(values, samples, list(features), model.on_missing, "samples")
    usable = samples.loc[~bad]
    y = usable[label].to_numpy()
    if location is not None and location not in samples.columns:
        raise InputDataError(f"the samples have no column {location!r}",
                             fix="name the sample location column in location=, or leave it "
                             "out")
    train_at, test_at = stratified_split(
        y, test_fraction, seed, None if location is None else usable[location].to_numpy(),
        name=class_name)
    train, test = usable.iloc[train_at], usable.iloc[test_at]
    model.fit(train, train[label].to_numpy())
    report = accuracy_report(test[label].to_numpy(), model.predict(test),
                             labels=_report_labels(model.classes_))
    if refit:
        model.fit(usable, y)
    return model, report


def predict_map(model: Any, stack: xr.Dataset, *,
                mask: xr.DataArray | None = None) -> xr.DataArray:
    """Land-cover map of a feature stack: uint8 class codes, 0 = no data or outside ``mask``.

    Parameters
    ----------
    model
        A fitted :class:`LandCoverClassifier` (or any classifier with ``features_`` or
        ``feature_names_in_`` and integer ``classes_`` in 1 … 255).
    stack
        Feature stack (y, x) holding the model's features; lazy on dask input.
    mask
        Optional boolean (y, x): pixels to classify (e.g. the monitoring extent).

    Returns
    -------
    xarray.DataArray
        ``landcover``, uint8, the stack's coordinates; 0 where any feature is NaN or the mask is
        false.

    Raises
    ------
    InputDataError
        If the classes are not integer codes 1 … 255 or a feature is missing from the stack.

    """
    classes = np.asarray(getattr(model, "classes_", []))
    if classes.dtype.kind not in "iu" or classes.size == 0 or classes.min() < 1 \
            or classes.max() > 255:
        raise InputDataError(
            f"the model's classes {classes.tolist()} are not integer codes 1 … 255",
            fix="train on LandCover codes (0 is reserved for no data)")
    out = predict_blocks(model, stack, dtype=np.uint8, fill=0, method="predict", mask=mask)
    known = ", ".join(class_name(c) for c in classes)
    return out.rename("landcover").assign_attrs(
        long_name="land cover", classes=known, nodata=0)


def forest_mask(landcover: xr.DataArray,
                forest_classes: Sequence[int] = (LandCover.FOREST,)) -> xr.DataArray:
    """True where the land cover is forest (``LandCover.FOREST``, sparse forest included)."""
    out = landcover.isin([int(c) for c in forest_classes])
    return out.rename("forest").assign_attrs(long_name="forest mask")
