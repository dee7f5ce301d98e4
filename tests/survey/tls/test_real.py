"""The real TLS clouds in ../shared (TreeLS pine plot and single trees); skipped when absent."""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.survey.tls import process_plot
from tests.survey.tls._shared import read_cloud

_read = read_cloud

pytestmark = pytest.mark.shared


def test_treels_pine_plot_every_stem_gets_a_plausible_dbh() -> None:
    result = process_plot(_read("treels_pine_plot.laz"))
    trees = result.trees
    assert len(trees) >= 10
    assert (trees["dbh_quality"] != "failed").all()
    assert trees["dbh_cm"].between(5, 60).all()
    assert trees["height_m"].between(10, 22).all()
    assert result.ground.ok
    xy = trees[["x", "y"]].to_numpy()
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert np.sort(gaps, axis=1)[:, 1].min() > 0.5  # no stem found twice


@pytest.mark.parametrize(("name", "dbh_range"), [("treels_pine.laz", (15, 40)),
                                                 ("treels_spruce.laz", (15, 40))])
def test_treels_single_trees(name: str, dbh_range: tuple[float, float]) -> None:
    result = process_plot(_read(name))
    assert len(result.trees) == 1
    tree = result.trees.iloc[0]
    assert tree["dbh_quality"] == "ok"
    assert dbh_range[0] <= tree["dbh_cm"] <= dbh_range[1]
    assert tree["height_m"] > 10
