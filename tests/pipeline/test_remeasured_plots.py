"""Plots from several survey years and re-measured plots in the models step (issue 14, point 3).

A re-measured plot is recorded once per measurement, each with its own ``plot_id`` and
``survey_date``, at the same centre. The models step keys plots by location (``site``): both
measurements stay in the same cross-validation fold, and the out-of-fold predictions carry
``year`` and ``site`` so that the mapping step can measure the compression of change directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from minecarbon.catalog import Workspace
from minecarbon.io.tables import read_table
from minecarbon.mapping.calibration import attenuation_from_remeasurements, remeasured_changes
from tests.pipeline.test_model_bad_input import X0, Y0, _configure, _run_models


def test_remeasured_plots_share_a_site_and_yield_their_changes(ws: Workspace,
                                                               tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 12  # 12 locations, each measured in 2015 and 2020
    ids = [f"P{i:02d}-{y}" for y in (2015, 2020) for i in range(n)]
    xs = np.tile(X0 + 45.0 + 30.0 * np.arange(n) % 270.0, 2)
    ys = np.tile(Y0 - 45.0 - 30.0 * (np.arange(n) // 9), 2)
    records = pd.DataFrame({"plot_id": ids, "x": xs, "y": ys, "crs": "EPSG:4546",
                            "side_m": 30.0,
                            "survey_date": [f"{y}-08-01" for y in (2015, 2020) for _ in range(n)],
                            "forest_type": "针叶林"})
    source = tmp_path / "plots.csv"
    records.to_csv(source, index=False)
    ws.import_raw("plots", source)
    years = np.repeat([2015, 2020], n)
    ndvi = np.concatenate([rng.uniform(0.3, 0.6, n), rng.uniform(0.5, 0.9, n)])
    features = pd.DataFrame({"plot_id": ids, "year": years, "ndvi": ndvi,
                             "tc_wetness": rng.uniform(-0.1, 0.0, 2 * n),
                             "slope_deg": rng.uniform(0, 30, 2 * n), "valid_fraction": 1.0})
    agc = 5 + 80 * ndvi + 300 * features["tc_wetness"] + rng.normal(0, 1, 2 * n)
    plots = pd.DataFrame({"plot_id": ids, "agc_t_per_ha": agc, "forest_type": "coniferous"})
    _run_models(_configure(ws, min_plots_per_stratum=8), features, plots)
    oof = read_table(ws.path("products/models/oof_predictions.csv"))
    assert len(oof) == 2 * n and {"year", "site"} <= set(oof.columns)
    assert oof["site"].nunique() == n  # the two measurements of a plot share its site
    assert sorted(set(oof["year"])) == [2015, 2020]
    changes = remeasured_changes(oof)
    assert len(changes) == n
    assert (changes["first_year"] == 2015).all() and (changes["last_year"] == 2020).all()
    by_id = oof.set_index("plot_id")
    expected = [by_id.at[f"P{i:02d}-2020", "observed"] - by_id.at[f"P{i:02d}-2015", "observed"]
                for i in range(n)]
    got = changes.set_index("site").loc[
        [by_id.at[f"P{i:02d}-2015", "site"] for i in range(n)], "observed_change"]
    np.testing.assert_allclose(got.to_numpy(), expected)
    b = attenuation_from_remeasurements(changes["observed_change"], changes["predicted_change"])
    assert 0.2 <= b <= 1.0
