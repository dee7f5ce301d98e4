"""Accuracy assessment (C4): published error matrix, hand-computed matrix, scikit-learn oracle."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    precision_score,
    recall_score,
)

from minecarbon.classify.accuracy import accuracy_report
from minecarbon.errors import InputDataError
from minecarbon.types import LandCover

# Congalton (1991, Remote Sens. Environ. 37:35-46, table 1), reprinted in Congalton & Green
# ("Assessing the Accuracy of Remotely Sensed Data"): rows = classification, columns = reference;
# D deciduous, C conifer, BA barren/agriculture, SB shrub. Printed results: overall accuracy
# 321/434 = 74 %, producer's D 65/75 = 87 %, C 81/103 = 79 %, BA 85/115 = 74 %, SB 90/141 = 64 %,
# user's D 65/115 = 57 %, C 81/100 = 81 %, BA 85/115 = 74 %, SB 90/104 = 87 %; KHAT = 0.65.
CONGALTON = np.array([
    [65, 4, 22, 24],
    [6, 81, 5, 8],
    [0, 11, 85, 19],
    [4, 7, 3, 90],
])
CLASSES = ["D", "C", "BA", "SB"]


def samples_of(matrix: np.ndarray, labels: list) -> tuple[np.ndarray, np.ndarray]:
    """Reference and mapped label per sample for a map-rows × reference-columns matrix."""
    truth, mapped = [], []
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            truth += [labels[j]] * int(count)
            mapped += [labels[i]] * int(count)
    order = np.random.default_rng(0).permutation(len(truth))
    return np.array(truth)[order], np.array(mapped)[order]


def test_congalton_1991_error_matrix() -> None:
    truth, mapped = samples_of(CONGALTON, CLASSES)
    report = accuracy_report(truth, mapped, labels=CLASSES)
    assert report.confusion.index.name == "map"
    assert report.confusion.columns.name == "reference"
    np.testing.assert_array_equal(report.confusion.to_numpy(), CONGALTON)
    assert report.n == 434
    assert round(report.overall_accuracy, 2) == 0.74
    assert report.overall_accuracy == pytest.approx(321 / 434)
    assert round(report.kappa, 2) == 0.65
    printed_pa = {"D": 0.87, "C": 0.79, "BA": 0.74, "SB": 0.64}
    printed_ua = {"D": 0.57, "C": 0.81, "BA": 0.74, "SB": 0.87}
    for name in CLASSES:
        assert round(report.producers_accuracy[name], 2) == printed_pa[name]
        assert round(report.users_accuracy[name], 2) == printed_ua[name]
    assert report.n_reference.tolist() == [75, 103, 115, 141]
    assert report.n_map.tolist() == [115, 100, 115, 104]


def test_hand_computed_matrix() -> None:
    # map rows × reference columns; worked by hand:
    #   [[4, 1], [2, 3]]: N 10, diagonal 7 → OA 0.7; rows (5, 5), columns (6, 4);
    #   chance Σ rows·cols = 5·6 + 5·4 = 50; K = (10·7 − 50)/(100 − 50) = 0.4;
    #   PA a 4/6, b 3/4; UA a 4/5, b 3/5.
    truth, mapped = samples_of(np.array([[4, 1], [2, 3]]), ["a", "b"])
    report = accuracy_report(truth, mapped)
    assert report.overall_accuracy == pytest.approx(0.7)
    assert report.kappa == pytest.approx(0.4)
    assert report.producers_accuracy.tolist() == pytest.approx([4 / 6, 3 / 4])
    assert report.users_accuracy.tolist() == pytest.approx([4 / 5, 3 / 5])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = [1, 2, 3, 4, 5]
    truth = rng.choice(labels, size=500, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    mapped = np.where(rng.random(500) < 0.7, truth, rng.choice(labels, size=500))
    report = accuracy_report(truth, mapped, labels=labels)
    # scikit-learn's matrix is reference rows × predicted columns: the transpose
    np.testing.assert_array_equal(report.confusion.to_numpy(),
                                  confusion_matrix(truth, mapped, labels=labels).T)
    assert report.overall_accuracy == pytest.approx(accuracy_score(truth, mapped), abs=1e-12)
    assert report.kappa == pytest.approx(cohen_kappa_score(truth, mapped), abs=1e-12)
    np.testing.assert_allclose(report.producers_accuracy.to_numpy(),
                               recall_score(truth, mapped, labels=labels, average=None))
    np.testing.assert_allclose(report.users_accuracy.to_numpy(),
                               precision_score(truth, mapped, labels=labels, average=None))


def test_class_without_reference_samples_has_nan_producers_accuracy() -> None:
    truth = np.array([1, 1, 2, 2])
    mapped = np.array([1, 3, 2, 2])
    report = accuracy_report(truth, mapped, labels=[1, 2, 3, 4])
    assert math.isnan(report.producers_accuracy["3"])
    assert report.users_accuracy["3"] == 0.0
    assert math.isnan(report.producers_accuracy["4"]) and math.isnan(report.users_accuracy["4"])
    assert report.n_reference["3"] == 0 and report.n_map["3"] == 1


def test_mapped_label_outside_labels_is_named() -> None:
    with pytest.raises(InputDataError, match=r"y_pred.*\[7\]"):
        accuracy_report([1, 2, 2], [1, 2, 7], labels=[1, 2])
    with pytest.raises(InputDataError, match=r"y_true.*\[9\]"):
        accuracy_report([1, 9, 2], [1, 2, 2], labels=[1, 2])


def test_input_errors() -> None:
    with pytest.raises(InputDataError, match="3 samples but y_pred has 2"):
        accuracy_report([1, 2, 2], [1, 2])
    with pytest.raises(InputDataError, match="NaN"):
        accuracy_report([1.0, np.nan], [1.0, 1.0])
    with pytest.raises(InputDataError, match="not unique"):
        accuracy_report([1, 2], [1, 2], labels=[1, 2, 1])
    with pytest.raises(InputDataError, match="one name per label"):
        accuracy_report([1, 2], [1, 2], names=["a"])


def test_single_class_kappa_is_nan() -> None:
    report = accuracy_report([1, 1, 1], [1, 1, 1])
    assert report.overall_accuracy == 1.0
    assert math.isnan(report.kappa)


def test_enum_labels_name_the_classes_and_to_dict_is_json() -> None:
    truth = [1, 1, 4, 4, 5]
    mapped = [1, 4, 4, 4, 5]
    report = accuracy_report(truth, mapped,
                             labels=[LandCover.FOREST, LandCover.CROPLAND, LandCover.WATER,
                                     LandCover.BUILT])
    assert list(report.confusion.columns) == ["forest", "cropland", "water", "built-up"]
    out = report.to_dict()
    text = json.dumps(out, allow_nan=False)  # NaN must have become null
    back = json.loads(text)
    assert back["labels"] == [1, 4, 5, 6]
    assert back["confusion"][1] == [1, 2, 0, 0]  # mapped cropland: 1 forest, 2 cropland
    assert back["per_class"]["built-up"]["producers_accuracy"] is None
    assert back["per_class"]["forest"]["producers_accuracy"] == 0.5
    assert back["overall_accuracy"] == pytest.approx(0.8)
    assert "rows = map" in back["layout"]


def test_names_mapping_and_error_matrix_totals() -> None:
    truth, mapped = samples_of(CONGALTON, [1, 2, 3, 4])
    report = accuracy_report(truth, mapped, names={1: "D", 2: "C", 3: "BA", 4: "SB"})
    table = report.error_matrix()
    assert table.loc["total", "total"] == 434
    assert table.loc["D", "total"] == 115 and table.loc["total", "D"] == 75
    assert table.loc["D", "user's accuracy"] == pytest.approx(65 / 115)
    assert table.loc["producer's accuracy", "SB"] == pytest.approx(90 / 141)
    assert table.loc["producer's accuracy", "total"] == pytest.approx(321 / 434)
