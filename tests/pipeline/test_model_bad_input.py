"""Bad input where the pipeline meets the data (issue 7), on tiny synthetic workspaces.

* the real ``models`` step, run by the runner on hand-written ``plot_features.csv`` and
  ``plot_agc.csv`` (stub ``plots``/``features`` steps publish them): a stratum with too few
  plots, a constant feature, NaN features at a plot and a mostly-missing feature;
* the features step's plot extraction (``_plot_features``) on an imported plot table and a
  written feature stack: plots outside the grid or the stack's valid area, and all of them;
  and the same rules of ``extract_plot_features`` itself;
* the species classifier's fit with an expected species that has no samples.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from minecarbon.catalog import Workspace
from minecarbon.classify.species import SpeciesClassifier
from minecarbon.config import CONFIG_FILE, render_config
from minecarbon.errors import InputDataError
from minecarbon.features.extract import extract_plot_features
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import write_stack
from minecarbon.io.tables import read_table, write_csv
from minecarbon.pipeline import Step, StepContext, run_pipeline
from minecarbon.pipeline.feature_steps import FEATURES, _plot_features
from minecarbon.pipeline.model_steps import MODELS
from minecarbon.standard.species import by_code

CRS = "EPSG:4546"
X0, Y0, N = 500_000.0, 4_100_000.0, 10
MIN_PLOTS = 8
CARD = "products/models/model_card.json"


def _configure(ws: Workspace, **modeling: object) -> Workspace:
    settings = {"models": ["svr"], "k_folds": 3, "inner_folds": 2, "n_features": 3,
                "min_plots_per_stratum": MIN_PLOTS, **modeling}
    (ws.root / CONFIG_FILE).write_text(render_config({
        "project": {"name": "bad input", "crs": CRS, "first_year": 2020, "last_year": 2020},
        "modeling": settings,
    }), encoding="utf-8")
    ws.reload_config()
    return ws


def _plots(counts: dict[str, int], seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """plot_features.csv and plot_agc.csv: AGC = 5 + 80 ndvi + 300 wetness + noise."""
    rng = np.random.default_rng(seed)
    types = np.repeat(list(counts), list(counts.values()))
    n = types.size
    ids = [f"P{i:03d}" for i in range(n)]
    features = pd.DataFrame({
        "plot_id": ids, "year": 2020,
        "ndvi": rng.uniform(0.3, 0.9, n), "tc_wetness": rng.uniform(-0.1, 0.0, n),
        "slope_deg": rng.uniform(0, 30, n), "elevation_m": rng.normal(1200, 100, n),
        "valid_fraction": 1.0,
    })
    agc = 5 + 80 * features["ndvi"] + 300 * features["tc_wetness"] + rng.normal(0, 1, n)
    plots = pd.DataFrame({"plot_id": ids, "agc_t_per_ha": agc, "forest_type": types})
    return features, plots


def _stub(name: str, rel: str, table: pd.DataFrame) -> Step:
    def run(ctx: StepContext) -> None:
        ctx.publish(rel, lambda tmp: write_csv(table, tmp), kind=f"product:{name}")

    return Step(name, run, makes=(rel,))


def _run_models(ws: Workspace, features: pd.DataFrame, plots: pd.DataFrame) -> dict[str, object]:
    steps = [_stub("plots", "products/plots/plot_agc.csv", plots),
             _stub("features", "products/features/plot_features.csv", features), MODELS]
    run_pipeline(ws, steps, until="models")
    card: dict[str, object] = json.loads(ws.path(CARD).read_text(encoding="utf-8"))
    return card


# ------------------------------------------------------------------ models step: case 1
def test_models_step_a_small_stratum_uses_the_pooled_model_named_in_warning_and_card(
        ws: Workspace) -> None:
    features, plots = _plots({"coniferous": 20, "broadleaf": 4})
    with pytest.warns(UserWarning, match=r"stratum 'broadleaf' has 4 plots, fewer than the 8 "
                      r"needed .*min_plots = 8, config modeling.min_plots_per_stratum"):
        card = _run_models(_configure(ws), features, plots)
    strata = card["strata"]
    assert isinstance(strata, dict)
    assert strata["broadleaf"]["source"] == "pooled" and strata["broadleaf"]["n_plots"] == 4
    assert "4 plots, fewer than the 8" in strata["broadleaf"]["note"]
    cv = read_table(ws.path("products/models/cv_results.csv"))
    assert "broadleaf" not in set(cv["stratum"])  # no CV of its own


# ------------------------------------------------------------------ models step: case 3
def test_models_step_drops_a_constant_feature_and_still_fits(ws: Workspace) -> None:
    features, plots = _plots({"coniferous": 20})
    features["slope_deg"] = 12.5
    with pytest.warns(UserWarning, match=r"constant features .*slope_deg \(= 12.5\)"):
        card = _run_models(_configure(ws, selection_method="none"), features, plots)
    assert card["features_in"] == ["ndvi", "tc_wetness", "elevation_m"]
    settings = card["settings"]
    assert isinstance(settings, dict)
    assert settings["features_dropped_constant"] == {"slope_deg": 12.5}
    selected = read_table(ws.path("products/models/selected_features.csv"))
    assert "slope_deg" not in set(selected["feature"]) and len(selected) > 0
    assert ws.path("work/models/agc_model.joblib").exists()


# ------------------------------------------------------------------ models step: case 4
def test_models_step_drops_plots_with_nan_features_and_mostly_missing_features(
        ws: Workspace) -> None:
    features, plots = _plots({"coniferous": 20})
    features.loc[3, "ndvi"] = np.nan
    features.loc[:11, "elevation_m"] = np.nan  # 12 of 20 plots
    with pytest.warns(UserWarning, match=r"1 plots dropped for missing values: P003 \(ndvi\)"), \
            pytest.warns(UserWarning, match=r"more than 50% .*elevation_m \(12 of 20 plots\)"):
        card = _run_models(_configure(ws), features, plots)
    settings = card["settings"]
    assert isinstance(settings, dict)
    assert settings["plots_dropped"] == {"P003": ["ndvi"]}
    assert settings["n_plots_used"] == 19
    assert "elevation_m" not in card["features_in"]


# --------------------------------------------------------- features step: case 2
def _grid() -> AnalysisGrid:
    return AnalysisGrid(CRS, 30.0, X0, Y0, N, N)


def _extraction(ws: Workspace, tmp_path: Path,
                centres: dict[str, tuple[float, float]]) -> Callable[[], None]:
    """Import a plot table and write a stack whose left half is NaN (outside the extent)."""
    _configure(ws)
    table = pd.DataFrame({"plot_id": list(centres),
                          "x": [X0 + c[0] for c in centres.values()],
                          "y": [Y0 - c[1] for c in centres.values()],
                          "crs": CRS, "side_m": 30.0, "survey_date": "2020-07-15"})
    source = tmp_path / "plots.csv"
    table.to_csv(source, index=False)
    ws.import_raw("plots", source)
    grid = _grid()
    ndvi = np.linspace(0.2, 0.8, N * N).reshape(N, N)
    ndvi[:, : N // 2] = np.nan
    stack = xr.Dataset({"ndvi": (("y", "x"), ndvi), "slope_deg": (("y", "x"), ndvi * 10)},
                       coords={"y": grid.y_coords(), "x": grid.x_coords()}).rio.write_crs(CRS)
    path = ws.path("products/features/features_2020.tif")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_stack(stack, path)
    ctx = StepContext(ws, FEATURES, ws.catalog.datasets(kind="raw:plots"))
    return lambda: _plot_features(ctx, grid, {2020: path})


def test_plot_extraction_leaves_out_plots_off_the_grid_or_its_valid_area(
        ws: Workspace, tmp_path: Path) -> None:
    run = _extraction(ws, tmp_path, {"in1": (225, 45), "in2": (255, 195), "far": (5000, 45),
                                     "masked": (45, 45)})
    with pytest.warns(UserWarning, match=r"plots of plots.csv surveyed in 2020: 1 plots lie "
                      r"wholly outside the analysis grid .*'far'"), \
            pytest.warns(UserWarning, match=r"1 plots have no valid pixel for any feature .*"
                         r"'masked'"):
        run()
    out = read_table(ws.path("products/features/plot_features.csv"))
    assert out["plot_id"].tolist() == ["in1", "in2"]
    assert out[["ndvi", "slope_deg"]].notna().all().all()


def test_plot_extraction_with_every_plot_outside_is_an_error_naming_the_file(
        ws: Workspace, tmp_path: Path) -> None:
    run = _extraction(ws, tmp_path, {"far": (5000, 45), "masked": (45, 45)})
    with pytest.raises(InputDataError, match=r"none of the 2 plots of plots.csv .*fix: check "
                       r"the plot coordinates"), pytest.warns(UserWarning, match="far"), \
            pytest.warns(UserWarning, match="masked"):
        run()
    assert not ws.path("products/features/plot_features.csv").exists()


def test_extract_plot_features_outside_rules_at_function_level() -> None:
    grid = _grid()
    ndvi = np.arange(N * N, dtype=float).reshape(N, N)
    ndvi[:, : N // 2] = np.nan
    stack = xr.Dataset({"ndvi": (("y", "x"), ndvi)},
                       coords={"y": grid.y_coords(), "x": grid.x_coords()}).rio.write_crs(CRS)

    def squares(centres: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
        boxes = [shapely.box(X0 + cx - 15, Y0 - cy - 15, X0 + cx + 15, Y0 - cy + 15)
                 for cx, cy in centres.values()]
        return gpd.GeoDataFrame({"plot_id": list(centres)}, geometry=boxes, crs=CRS)

    plots = squares({"in": (225, 45), "far": (-400, 45), "masked": (45, 45)})
    with pytest.warns(UserWarning, match=r"test plots: 1 plots lie wholly outside .*'far'"):
        kept = extract_plot_features(stack, plots.to_crs("EPSG:4326"), grid, what="test plots")
    assert kept["plot_id"].tolist() == ["in", "masked"]  # NaN row kept without drop_invalid
    assert kept["ndvi"].iloc[0] == pytest.approx(ndvi[1, 7]) and np.isnan(kept["ndvi"].iloc[1])
    with pytest.warns(UserWarning, match="far"), pytest.warns(UserWarning, match="'masked'"):
        dropped = extract_plot_features(stack, plots, grid, drop_invalid=True)
    assert dropped["plot_id"].tolist() == ["in"]
    with pytest.raises(InputDataError, match=r"test plots: all 1 plots lie wholly outside .*"
                       r"'far'.*fix"):
        extract_plot_features(stack, squares({"far": (-400, 45)}), grid, what="test plots")
    with pytest.raises(InputDataError, match=r"all 1 plots have no valid pixel .*'masked'"):
        extract_plot_features(stack, squares({"masked": (45, 45)}), grid, drop_invalid=True)
    with pytest.warns(UserWarning, match="far"):
        empty = extract_plot_features(stack, squares({"far": (-400, 45)}), grid,
                                      allow_empty=True)
    assert empty.empty and list(empty.columns) == ["plot_id", "ndvi", "valid_fraction"]


# --------------------------------------------------------- species classifier: case 5
def test_species_with_no_training_samples_is_named_in_a_warning() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"green_up_doy": rng.normal(120, 10, 40), "ndvi_amp": rng.random(40)})
    y = np.repeat([1, 4], 20)  # 油松 and 刺槐; 杨树 (code 5) expected but absent
    missing = by_code(5).label
    with pytest.warns(UserWarning, match=rf"{missing} \(code 5\) has no training samples"):
        model = SpeciesClassifier(n_estimators=5, species=[1, 4, 5]).fit(x, y)
    assert 5 not in model.classes_.tolist()
