"""Accuracy of a classification (requirement C4): error matrix, OA, kappa, PA and UA.

The error (confusion) matrix follows the remote-sensing layout of Congalton (1991, Remote Sens.
Environ. 37:35–46) and Congalton & Green (2019, *Assessing the Accuracy of Remotely Sensed
Data*, 3rd ed.): **rows are the map (classified) classes, columns the reference classes**, so
x[i, j] counts the samples mapped as class i whose reference class is j. With N samples,
row totals x[i, +] and column totals x[+, j]:

- overall accuracy OA = Σ x[i, i] / N;
- producer's accuracy of class j, PA = x[j, j] / x[+, j] (1 − omission error);
- user's accuracy of class i, UA = x[i, i] / x[i, +] (1 − commission error);
- kappa K = (N Σ x[i, i] − Σ x[i, +] x[+, i]) / (N² − Σ x[i, +] x[+, i]) (Cohen 1960).

Note that scikit-learn's ``confusion_matrix`` is the transpose (reference rows, predicted
columns); PA is scikit-learn's recall and UA its precision.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from minecarbon.errors import InputDataError

#: Index and column names of :attr:`AccuracyReport.confusion`.
MAP_AXIS = "map"
REFERENCE_AXIS = "reference"


def _nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _plain(value: Any) -> Any:
    """A label as a plain Python scalar (JSON-ready)."""
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True, eq=False)
class AccuracyReport:
    """Accuracy measures of a classification against reference samples.

    Attributes
    ----------
    confusion
        Error matrix of counts: rows are the **map** (classified) classes (index name
        ``"map"``), columns the **reference** classes (columns name ``"reference"``), both
        labelled by class name in the order of ``labels``.
    labels
        The class labels (codes), in matrix order.
    overall_accuracy
        Share of samples on the diagonal (NaN without samples).
    kappa
        Cohen's kappa; NaN where chance agreement is 1 (a single class everywhere).
    producers_accuracy, users_accuracy
        Per class name; NaN for a class with no reference samples (PA) or no mapped samples (UA).
    n_reference, n_map
        Per class name: column totals (reference samples) and row totals (mapped samples).

    """

    confusion: pd.DataFrame
    labels: tuple[Hashable, ...]
    overall_accuracy: float
    kappa: float
    producers_accuracy: pd.Series
    users_accuracy: pd.Series
    n_reference: pd.Series
    n_map: pd.Series

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.confusion.to_numpy().sum())

    def error_matrix(self) -> pd.DataFrame:
        """The error matrix with totals and accuracies, as printed in reports.

        Rows are map classes plus ``total`` and ``producer's accuracy``; columns are reference
        classes plus ``total`` and ``user's accuracy``.
        """
        table = self.confusion.astype(float)
        table["total"] = self.n_map.astype(float)
        table["user's accuracy"] = self.users_accuracy
        totals = pd.concat([self.n_reference.astype(float), pd.Series({"total": float(self.n)})])
        pa = pd.concat([self.producers_accuracy, pd.Series({"total": self.overall_accuracy})])
        table.loc["total"] = totals
        table.loc["producer's accuracy"] = pa
        return table

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (NaN becomes ``None``); the matrix as a list of map rows."""
        names = [str(c) for c in self.confusion.columns]
        return {
            "layout": "confusion rows = map (classified) classes, columns = reference classes",
            "classes": names,
            "labels": [_plain(label) for label in self.labels],
            "confusion": self.confusion.to_numpy().astype(int).tolist(),
            "n": self.n,
            "overall_accuracy": _nan_to_none(self.overall_accuracy),
            "kappa": _nan_to_none(self.kappa),
            "per_class": {
                name: {
                    "producers_accuracy": _nan_to_none(float(self.producers_accuracy[name])),
                    "users_accuracy": _nan_to_none(float(self.users_accuracy[name])),
                    "n_reference": int(self.n_reference[name]),
                    "n_map": int(self.n_map[name]),
                }
                for name in names
            },
        }


def _as_labels(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        array = array.reshape(-1)
    if array.dtype.kind == "f" and np.isnan(array).any():
        first = int(np.flatnonzero(np.isnan(array))[0])
        raise InputDataError(
            f"{what} holds NaN (first at position {first}); every sample needs a class",
            fix="drop the samples without a class (or without a mapped value) first",
        )
    return array


def _class_names(labels: Sequence[Hashable],
                 names: Sequence[str] | Mapping[Hashable, str] | None) -> list[str]:
    if names is None:
        out = [str(getattr(label, "en", label)) for label in labels]
    elif isinstance(names, Mapping):
        missing = [label for label in labels if label not in names]
        if missing:
            raise InputDataError(f"names has no entry for the classes {missing}",
                                 fix="give a name for every label")
        out = [str(names[label]) for label in labels]
    else:
        out = [str(n) for n in names]
        if len(out) != len(labels):
            raise InputDataError(
                f"names has {len(out)} entries but there are {len(labels)} labels",
                fix="give one name per label, in the order of labels")
    if len(set(out)) != len(out):
        raise InputDataError(f"class names are not unique: {out}", fix="name each class once")
    return out


def _positions(values: np.ndarray, index: pd.Index, what: str) -> np.ndarray:
    pos: np.ndarray = np.asarray(index.get_indexer(values))
    if (pos < 0).any():
        unknown = sorted({_plain(v) for v in values[pos < 0]}, key=str)
        raise InputDataError(
            f"{what} holds the classes {unknown[:10]} that are not in labels "
            f"{[_plain(v) for v in index]}",
            fix="add them to labels (or recode them) before assessing accuracy",
        )
    return pos


def accuracy_report(
    y_true: Any,
    y_pred: Any,
    labels: Sequence[Hashable] | None = None,
    names: Sequence[str] | Mapping[Hashable, str] | None = None,
) -> AccuracyReport:
    """Error matrix, overall accuracy, kappa and per-class accuracies of a classification.

    Parameters
    ----------
    y_true
        Reference class of each sample (1-D array-like).
    y_pred
        Mapped (classified) class of each sample, same length.
    labels
        The classes and their order in the matrix; default the sorted union of both inputs.
        Classes without samples are kept (their PA and UA are NaN).
    names
        Display names of the classes (a sequence in the order of ``labels`` or a mapping
        label → name); default ``str(label)``, or the English label of an enum member such as
        :class:`~minecarbon.types.LandCover`.

    Returns
    -------
    AccuracyReport
        With the error matrix in the remote-sensing layout (map rows × reference columns).

    Raises
    ------
    InputDataError
        If the lengths differ, a class is NaN, or a class of either input is not in ``labels``
        (the message names it).

    """
    truth = _as_labels(y_true, "y_true (reference classes)")
    mapped = _as_labels(y_pred, "y_pred (map classes)")
    if truth.shape != mapped.shape:
        raise InputDataError(
            f"y_true has {truth.size} samples but y_pred has {mapped.size}",
            fix="give one reference and one mapped class per sample")
    if labels is None:
        labels = list(np.unique(np.concatenate([truth, mapped])))
    index = pd.Index(list(labels))
    if not index.is_unique:
        raise InputDataError(f"labels are not unique: {list(labels)}", fix="list each class once")
    class_names = _class_names(list(labels), names)
    k = len(index)
    cells = _positions(mapped, index, "y_pred (map classes)") * k + _positions(
        truth, index, "y_true (reference classes)")
    counts = np.bincount(cells, minlength=k * k).reshape(k, k)

    n = int(counts.sum())
    diag = np.diag(counts).astype(float)
    rows = counts.sum(axis=1).astype(float)  # mapped totals x[i, +]
    cols = counts.sum(axis=0).astype(float)  # reference totals x[+, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = np.where(cols > 0, diag / cols, np.nan)
        ua = np.where(rows > 0, diag / rows, np.nan)
    oa = float(diag.sum() / n) if n else math.nan
    chance = float((rows * cols).sum())
    denominator = float(n) * n - chance
    kappa = (n * float(diag.sum()) - chance) / denominator if denominator > 0 else math.nan

    confusion = pd.DataFrame(counts, index=pd.Index(class_names, name=MAP_AXIS),
                             columns=pd.Index(class_names, name=REFERENCE_AXIS))
    return AccuracyReport(
        confusion=confusion,
        labels=tuple(labels),
        overall_accuracy=oa,
        kappa=float(kappa),
        producers_accuracy=pd.Series(pa, index=class_names, name="producers_accuracy"),
        users_accuracy=pd.Series(ua, index=class_names, name="users_accuracy"),
        n_reference=pd.Series(cols.astype(int), index=class_names, name="n_reference"),
        n_map=pd.Series(rows.astype(int), index=class_names, name="n_map"),
    )
