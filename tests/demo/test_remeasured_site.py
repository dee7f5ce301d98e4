"""Re-measured plots on the simulated site (``minecarbon demo --remeasure YEAR``, issue 14 point 3).

The field crew measures the last year's plots again in an earlier year: same centres, a
``plot_id`` of their own, and tree lists drawn from that year's stand. Checked on a few plots
of the small site without building the whole site.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from minecarbon.allometry.equations import ModelTable
from minecarbon.demo.climate import climate_series, growth_modifier
from minecarbon.demo.generate import Delivery, _remeasurement
from minecarbon.demo.history import simulate_block
from minecarbon.demo.mine import mine_layout
from minecarbon.demo.spec import SiteSpec
from minecarbon.demo.survey import tree_list
from minecarbon.errors import InputDataError
from minecarbon.report.truth_comparison import recorded_site_spec

YEAR = 2014


def _plots(spec: SiteSpec, n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    grid = spec.grid
    cols, rows = rng.integers(20, grid.width - 20, n), rng.integers(20, grid.height - 20, n)
    return pd.DataFrame({"plot_id": [f"P{i + 1:03d}" for i in range(n)],
                         "x": grid.x_coords()[cols], "y": grid.y_coords()[rows]})


def test_remeasured_plots_are_drawn_from_that_years_stand(tmp_path: Path) -> None:
    spec = SiteSpec(seed=1, remeasure_years=(YEAR,))
    plots = _plots(spec)
    x, y = plots["x"].to_numpy()[None, :], plots["y"].to_numpy()[None, :]
    modifier = growth_modifier(climate_series(spec.years, spec.seed))
    state = simulate_block(spec, mine_layout(spec), modifier, x, y, stand_years=(YEAR,))
    # the state of the re-measurement year is kept beside the last year's
    assert state[f"age_{YEAR}"].shape == state["age"].shape
    i = spec.years.index(YEAR)
    forest = state["agc"][i, 0] > 0
    assert forest.sum() >= 4
    assert (state[f"age_{YEAR}"][0][forest] < state["age"][0][forest]).all()

    out = Delivery(tmp_path)
    for sub in ("plots", "trees", "truth"):
        (tmp_path / sub).mkdir()
    _remeasurement(spec, plots, state, YEAR, ModelTable.default(), tmp_path, out)
    record = pd.read_csv(tmp_path / "plots" / f"plots_{YEAR}.csv")
    assert record["plot_id"].tolist() == [f"P{i + 1:03d}-{YEAR}" for i in range(12)]
    np.testing.assert_allclose(record["x"], plots["x"].round(2))  # same centres
    assert record["survey_date"].str.startswith(f"{YEAR}-08-").all()
    truth = pd.read_csv(tmp_path / "truth" / f"plots_truth_{YEAR}.csv")
    np.testing.assert_allclose(truth["agc_t_per_ha"], np.nan_to_num(state["agc"][i, 0]),
                               atol=1e-3)
    tally = pd.read_csv(tmp_path / "trees" / f"trees_{YEAR}.csv")
    assert set(tally["样地号"]) == set(record.loc[forest, "plot_id"])
    measured = tally["树高"].notna().mean()
    assert 0.75 < measured < 0.95  # the crew leaves about 15 % of heights unmeasured
    # each plot's trees carry that year's carbon (the simulator's own allometry), not 2024's
    for j in np.flatnonzero(forest):
        pid = record.at[j, "plot_id"]
        trees = tree_list(pid, float(plots.at[j, "x"]), float(plots.at[j, "y"]),
                          spec.pixel_size_m, float(state["agc"][i, 0, j]),
                          int(truth.at[j, "species"]), int(state[f"species2_{YEAR}"][0, j]),
                          float(state[f"share2_{YEAR}"][0, j]),
                          float(state[f"age_{YEAR}"][0, j]), spec.seed, ModelTable.default())
        assert trees["agc_kg"].sum() / 1000 / (spec.pixel_size_m ** 2 / 1e4) == pytest.approx(
            truth.at[j, "agc_t_per_ha"], rel=0.02, abs=0.05)
        assert trees["dbh_cm"].tolist() == tally.loc[tally["样地号"] == pid, "胸径"].tolist()
    assert [k for k, *_ in out.raw] == ["plots", "trees"]
    with pytest.raises(InputDataError, match="outside the site's years"):
        _remeasurement(spec, plots, state, spec.last_year, ModelTable.default(), tmp_path, out)


def test_the_spec_record_keeps_old_sites_and_reads_the_new_field(tmp_path: Path) -> None:
    assert "remeasure_years" not in SiteSpec().record()  # a site delivered before the field
    spec = dataclasses.replace(SiteSpec(seed=2), remeasure_years=(2010, YEAR))
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "site.json").write_text(json.dumps({"spec": spec.record()}))
    assert recorded_site_spec(tmp_path) == spec
