"""Single-tree clouds and stem slices (issue 19, point 2), on the real files in ../shared.

Segmentation tools deliver trees cut out of their plot: one stem, no ground. They are measured
from their base; the DBH is checked against an independent algebraic circle fit (Kåsa 1976) of
the points 1.25–1.35 m above the tree's lowest points. Stem slices are refused saying why.
"""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.errors import InputDataError
from minecarbon.survey.tls import process_plot
from tests.survey.tls._shared import read_cloud

_read = read_cloud

pytestmark = pytest.mark.shared


def _reference_dbh_cm(pts: np.ndarray) -> float:
    """Kåsa's algebraic circle through the breast-height slice (centred coordinates)."""
    base = np.quantile(pts[:, 2], 0.001)
    ring = pts[(pts[:, 2] > base + 1.25) & (pts[:, 2] < base + 1.35), :2]
    assert len(ring) >= 30, "too few points at breast height for the reference fit"
    xy = ring - ring.mean(axis=0)
    a = np.column_stack([2 * xy, np.ones(len(xy))])
    cx, cy, c = np.linalg.lstsq(a, (xy ** 2).sum(axis=1), rcond=None)[0]
    return float(200 * np.sqrt(c + cx ** 2 + cy ** 2))


@pytest.mark.parametrize("name", ["itsme_pc_tree.las", "itsme_tree_2_pc.txt",
                                  "arbor_tree_qsm.laz"])
def test_a_single_tree_cloud_is_measured_from_its_base(name: str) -> None:
    pts = _read(name)
    result = process_plot(pts)
    trees = result.trees
    assert len(trees) == 1
    assert any("single-tree cloud" in m for m in result.messages)
    reference = _reference_dbh_cm(pts)
    print(f"{name}: DBH {trees['dbh_cm'].iloc[0]:.1f} cm, reference {reference:.1f} cm")
    assert trees["dbh_quality"].iloc[0] == "ok"
    assert abs(trees["dbh_cm"].iloc[0] - reference) <= 2.0
    top = pts[:, 2].max() - np.quantile(pts[:, 2], 0.001)
    assert trees["height_m"].iloc[0] == pytest.approx(top, abs=0.5)


@pytest.mark.parametrize("name", ["arbor_complex_slice0.las", "arbor_complex_slice3.las",
                                  "arbor_double_ring_slice1.las"])
def test_a_stem_slice_is_refused_saying_what_is_missing(name: str) -> None:
    with pytest.raises(InputDataError, match="stem slice or a piece of a tree"):
        process_plot(_read(name))


def test_a_short_synthetic_cloud_is_refused_before_any_ground_search() -> None:
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 500)
    pts = np.column_stack([0.2 * np.cos(angle), 0.2 * np.sin(angle), rng.uniform(0, 0.5, 500)])
    with pytest.raises(InputDataError, match="only 0.5. m tall"):
        process_plot(pts)
