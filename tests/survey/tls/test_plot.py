"""process_plot on simulated TLS plots: detection, DBH, height, density scaling, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import minecarbon.survey.tls.plot as plot_module
from minecarbon.errors import InputDataError
from minecarbon.survey.tls import TREE_COLUMNS, TlsParams, match_to_tally, process_plot
from minecarbon.survey.tls.dbh import StemMeasurement
from tests.survey.tls.conftest import CX, CY, SIDE, SimPlot, simulated


def _errors(result_trees: pd.DataFrame, pairs: pd.DataFrame, column: str) -> np.ndarray:
    tls = pairs[f"{column}_tls_{'cm' if column == 'dbh' else 'm'}"].to_numpy()
    ref = pairs[f"{column}_tally_{'cm' if column == 'dbh' else 'm'}"].to_numpy()
    return np.asarray(tls - ref)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accuracy_on_simulated_plots(seed: int) -> None:
    sim = simulated(seed)
    result, match = sim.run(seed=seed)
    m = match.metrics
    assert m.detection_rate >= 0.95
    assert m.commission_rate <= 0.05
    assert m.dbh.n >= 0.95 * m.matched
    assert m.dbh.rmse <= 1.5
    assert abs(m.dbh.bias) <= 0.5
    # no zero or negative DBH ever; NaN only with the 'failed' flag
    dbh = result.trees["dbh_cm"]
    assert (dbh.dropna() > 0).all()
    assert set(result.trees.loc[dbh.isna(), "dbh_quality"]) <= {"failed"}
    # heights: trees whose top is clear of thicker neighbours' crowns are within 1 m RMSE
    quality = result.trees["height_quality"].to_numpy()[match.pairs["detected_index"]]
    err = _errors(result.trees, match.pairs, "height")
    clear = quality == "ok"
    assert clear.sum() >= 0.3 * len(err)
    assert np.sqrt(np.nanmean(err[clear] ** 2)) <= 1.0
    # overtopped trees are at worst too high, never far too low
    assert np.nanmin(err) >= -1.0
    assert list(result.trees.columns) == list(TREE_COLUMNS)
    assert result.ground.ok and result.ground.coverage > 0.9


def test_positions_density_and_ground(plot1: SimPlot) -> None:
    result, match = plot1.run()
    assert match.pairs["distance_m"].max() < 0.1  # the stem foot, like the tally's position
    assert 3000 < result.density_points_per_m2 < 15000
    assert result.dtm is not None
    t = plot1.tally
    ground = result.dtm.ground_z(t["x"].to_numpy(), t["y"].to_numpy())
    assert np.abs(ground - t["ground_z_m"].to_numpy()).max() < 0.05
    assert result.trees["tree_id"].tolist() == list(range(1, len(result.trees) + 1))


def test_leaning_trees_get_correct_dbh_and_lean(plot1: SimPlot) -> None:
    result, match = plot1.run()
    pairs = match.pairs.merge(plot1.tally[["tree_id", "lean_deg"]], left_on="tally_id",
                              right_on="tree_id")
    leaning = pairs[pairs["lean_deg"] >= 5]
    assert len(leaning) >= 4
    err = (leaning["dbh_tls_cm"] - leaning["dbh_tally_cm"]).abs()
    assert err.max() <= 1.5
    lean_tls = result.trees["lean_deg"].to_numpy()[leaning["detected_index"]]
    assert np.abs(lean_tls - leaning["lean_deg"].to_numpy()).max() <= 2.0


def test_same_seed_same_trees(plot1: SimPlot) -> None:
    a, _ = plot1.run(seed=4)
    b, _ = plot1.run(seed=4)
    assert len(a.trees) >= 30 and a.trees["dbh_cm"].notna().sum() >= 30
    pd.testing.assert_frame_equal(a.trees, b.trees)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_thinned_cloud_still_detected_thanks_to_density_scaling(seed: int) -> None:
    sim = simulated(seed)
    keep = np.random.default_rng(seed).random(len(sim.xyz)) < 0.2
    result, match = sim.run(sim.xyz[keep])
    full, _ = sim.run()
    assert result.density_points_per_m2 < 0.4 * full.density_points_per_m2
    assert result.params.cluster_eps_m > full.params.cluster_eps_m
    assert result.params.min_stem_points < full.params.min_stem_points
    assert match.metrics.detection_rate >= 0.9
    assert match.metrics.dbh.rmse <= 1.5
    # the unscaled (full-density) thresholds miss stems on the thinned cloud
    _, fixed_match = sim.run(sim.xyz[keep], params=full.params)
    assert fixed_match.metrics.matched <= match.metrics.matched


def _remove_near_stem(sim: SimPlot, tree_id: int, lo: float, hi: float,
                      keep_share: float = 0.0) -> tuple[np.ndarray, pd.Series]:
    row = sim.truth.set_index("tree_id").loc[tree_id]
    xyz = sim.xyz
    h = xyz[:, 2] - row["ground_z_m"]
    near = np.hypot(xyz[:, 0] - row["x_m"], xyz[:, 1] - row["y_m"]) < row["dbh_cm"] / 200 + 0.3
    drop = near & (h > lo) & (h < hi)
    drop &= np.random.default_rng(0).random(len(xyz)) >= keep_share
    return xyz[~drop], row


def _upright_in_plot(sim: SimPlot) -> pd.DataFrame:
    t = sim.truth
    return t[t["in_plot"] & (t["lean_deg"] < 3) & (t["dbh_cm"] > 15)]


def test_stem_hidden_at_breast_height_gets_a_fallback_not_zero(plot1: SimPlot) -> None:
    tree = _upright_in_plot(plot1).iloc[0]
    xyz, row = _remove_near_stem(plot1, int(tree["tree_id"]), 0.95, 1.7)
    result, match = plot1.run(xyz)
    pair = match.pairs[match.pairs["tally_id"] == tree["tree_id"]]
    assert len(pair) == 1
    found = result.trees.iloc[int(pair["detected_index"].iloc[0])]
    assert found["dbh_quality"] == "fallback"
    assert abs(found["dbh_cm"] - row["dbh_cm"]) <= 2.0
    assert any(f"tree {found['tree_id']}: DBH from a taper line" in m for m in result.messages)


def test_stem_seen_on_a_narrow_arc_fails_with_nan_not_zero(plot1: SimPlot) -> None:
    t = plot1.truth
    candidates = _upright_in_plot(plot1)
    # a stem without neighbours within 2 m, so nothing else explains its points
    lonely = [r for _, r in candidates.iterrows()
              if np.sort(np.hypot(t["x_m"] - r["x_m"], t["y_m"] - r["y_m"]))[1] > 2.0]
    tree = lonely[0]
    xyz = plot1.xyz
    dx, dy = xyz[:, 0] - tree["x_m"], xyz[:, 1] - tree["y_m"]
    h = xyz[:, 2] - tree["ground_z_m"]
    on_stem = (np.hypot(dx, dy) < tree["dbh_cm"] / 200 + 0.05) & (h > 0.2) & (h < 3.5)
    outside_arc = np.abs(np.degrees(np.arctan2(dy, dx))) > 25.0  # keep a 50° arc facing east
    result, match = plot1.run(xyz[~(on_stem & outside_arc)])
    pair = match.pairs[match.pairs["tally_id"] == tree["tree_id"]]
    assert len(pair) == 1
    found = result.trees.iloc[int(pair["detected_index"].iloc[0])]
    assert found["dbh_quality"] == "failed"
    assert np.isnan(found["dbh_cm"])
    assert any(f"tree {found['tree_id']}: no usable stem slice" in m and "arc covers" in m
               for m in result.messages)
    assert (result.trees["dbh_cm"].dropna() > 0).all()


def test_stem_with_few_points_is_never_given_zero(plot1: SimPlot) -> None:
    tree = _upright_in_plot(plot1).iloc[2]
    xyz, _ = _remove_near_stem(plot1, int(tree["tree_id"]), 0.3, 3.2, keep_share=0.06)
    result, match = plot1.run(xyz)
    pair = match.pairs[match.pairs["tally_id"] == tree["tree_id"]]
    assert len(pair) == 1
    found = result.trees.iloc[int(pair["detected_index"].iloc[0])]
    assert found["dbh_quality"] in {"failed", "fallback"}
    assert np.isnan(found["dbh_cm"]) or abs(found["dbh_cm"] - tree["dbh_cm"]) < 3.0
    assert (result.trees["dbh_cm"].dropna() > 0).all()


def test_one_bad_tree_never_stops_the_plot(plot1: SimPlot, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    calls = {"n": 0}
    real = plot_module.measure_stem

    def flaky(*args: object, **kwargs: object) -> StemMeasurement:
        calls["n"] += 1
        if calls["n"] == 3:
            raise np.linalg.LinAlgError("singular matrix")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plot_module, "measure_stem", flaky)
    result, match = plot1.run()
    assert any("DBH fit failed (LinAlgError" in m for m in result.messages)
    assert match.metrics.detection_rate >= 0.95
    assert (result.trees["dbh_quality"] == "failed").sum() >= 1


# ---------------------------------------------------------------------------- bad input


def test_empty_cloud() -> None:
    with pytest.raises(InputDataError, match="empty"):
        process_plot(np.zeros((0, 3)))
    with pytest.raises(InputDataError, match=r"shape \(5, 2\)"):
        process_plot(np.zeros((5, 2)))


def test_cloud_far_from_the_plot_centre(plot1: SimPlot) -> None:
    with pytest.raises(InputDataError, match=r"is 1000\.\d m from the plot centre") as info:
        process_plot(plot1.xyz[::50], centre_xy=(CX + 1000.0, CY), side_m=SIDE)
    assert "same CRS" in str(info.value)


def test_points_in_the_air_have_no_ground(plot1: SimPlot) -> None:
    h = plot1.xyz[:, 2] - (300.0 + 0.12 * (plot1.xyz[:, 0] - CX) - 0.06 * (plot1.xyz[:, 1] - CY))
    air = plot1.xyz[(plot1.classification != 2) & (h > 3.0)]
    with pytest.raises(InputDataError, match="no ground") as info:
        process_plot(air, centre_xy=(CX, CY), side_m=SIDE)
    assert "ground returns" in str(info.value)
    no_ground_class = plot1.xyz[plot1.classification == 1]
    with pytest.raises(InputDataError, match="no ground"):
        process_plot(no_ground_class, centre_xy=(CX, CY), side_m=SIDE)


def test_plot_arguments_are_checked(plot1: SimPlot) -> None:
    with pytest.raises(InputDataError, match="both centre_xy and side_m"):
        process_plot(plot1.xyz[:100], centre_xy=(CX, CY))
    with pytest.raises(InputDataError, match="not positive"):
        process_plot(plot1.xyz[:100], centre_xy=(CX, CY), side_m=0.0)


def test_non_finite_points_are_ignored_with_a_message(plot1: SimPlot) -> None:
    xyz = plot1.xyz[::4].copy()
    xyz[:10, 2] = np.nan
    result = process_plot(xyz, centre_xy=(CX, CY), side_m=SIDE)
    assert any("10 point(s) with NaN" in m for m in result.messages)
    assert len(result.trees) >= 30


def test_explicit_params_are_used(plot1: SimPlot) -> None:
    params = TlsParams(min_stem_points=10**6)
    result = process_plot(plot1.xyz[::4], centre_xy=(CX, CY), side_m=SIDE, params=params)
    assert result.params is params
    assert result.trees.empty
    assert list(result.trees.columns) == list(TREE_COLUMNS)
    assert match_to_tally(result.trees, plot1.tally).metrics.detection_rate == 0.0
