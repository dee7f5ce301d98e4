"""Per-pixel AGC maps (M6) and their bounds (M7) against StratifiedModel.predict as the oracle.

The oracle is the table path: :meth:`StratifiedModel.predict` on a DataFrame of every feature
with each pixel's stratum label (what the mapping step did before it predicted on numpy
arrays), clipped at 0 and NaN outside forest. The map must give the same values for every
model kind, selector, dask or numpy input.
"""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from minecarbon.errors import InputDataError
from minecarbon.grid import AnalysisGrid
from minecarbon.io.raster import to_grid_dataarray
from minecarbon.mapping import FOREST_TYPE_LABELS, agc_intervals, model_inputs, predict_agc
from minecarbon.modeling.evaluation import build_pipeline
from minecarbon.modeling.intervals import predict_interval
from minecarbon.modeling.selection import make_selector
from minecarbon.modeling.stratified import POOLED, StratifiedModel, StratumFit
from minecarbon.types import ModelKind
from tests.modeling import FEATURES, synthetic_plots

GRID = AnalysisGrid("EPSG:4546", 30.0, 500_000.0, 4_100_000.0, 30, 20)
CODES = {label: code for code, label in FOREST_TYPE_LABELS.items()}
pytestmark = pytest.mark.filterwarnings("ignore:strata with no plots use the pooled model")


def _fit(kind: str, selector: str = "correlation", offset: float = 0.0) -> StratifiedModel:
    """Own models for coniferous and broadleaf, the pooled one for sparse and the rest.

    Fitted directly (no nested CV: the map only needs fitted pipelines); residuals are drawn.
    ``offset`` is subtracted from the AGC (to make negative predictions).
    """
    plots = synthetic_plots({"coniferous": 30, "broadleaf": 30, "sparse": 8}, seed=7)
    plots["agc_t_ha"] -= offset
    params = {"k": 3} if selector == "correlation" else {"n_components": 3}
    rng = np.random.default_rng(5)

    def fit(label: str, rows: pd.Series) -> StratumFit:
        pipe, _ = build_pipeline(kind, make_selector(selector, **params), seed=0)
        pipe.fit(plots.loc[rows, FEATURES], plots.loc[rows, "agc_t_ha"])
        return StratumFit(label, "own", int(rows.sum()), ModelKind(kind), pipe, {}, [],
                          residuals=rng.normal(0.0, 3.0, int(rows.sum())))

    pooled = fit(POOLED, plots["stratum"].notna())
    strata = {s: fit(s, plots["stratum"] == s) for s in ("coniferous", "broadleaf")}
    strata["sparse"] = StratumFit("sparse", "pooled", 8, ModelKind(kind), None, {}, [],
                                  residuals=rng.normal(0.0, 3.0, 8))
    return StratifiedModel(features=FEATURES, target="agc_t_ha", strata_column="stratum",
                           strata=strata, pooled=pooled, settings={})


@pytest.fixture(scope="module", params=["svr", "rf", "gbdt", "xgboost"])
def model(request: pytest.FixtureRequest) -> StratifiedModel:
    return _fit(request.param)


def _pixels() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """600 synthetic pixels: features, forest-type codes (1–4 and 0), forest mask."""
    n = GRID.height * GRID.width
    table = synthetic_plots({"coniferous": 250, "broadleaf": 250, "sparse": 100}, seed=11)
    rng = np.random.default_rng(3)
    table = table.sample(frac=1.0, random_state=1).reset_index(drop=True).iloc[:n]
    codes = np.array([CODES[s] for s in table["stratum"]], dtype=np.uint8)
    codes[rng.random(n) < 0.1] = CODES["mixed"]  # a type with no plots: pooled, warned
    codes[rng.random(n) < 0.05] = 0  # forest of no known type: pooled
    forest = rng.random(n) > 0.2
    return table, codes, forest


def _stack(table: pd.DataFrame, chunks: int | None = 8) -> xr.Dataset:
    shape = GRID.height, GRID.width
    bands = {}
    for f in FEATURES:
        da = to_grid_dataarray(table[f].to_numpy(np.float32).reshape(shape), GRID, f)
        bands[f] = da.chunk(chunks) if chunks else da
    return xr.Dataset(bands).rio.write_crs(GRID.crs)


def _raster(values: np.ndarray, name: str, chunks: int | None = 8) -> xr.DataArray:
    da = to_grid_dataarray(values.reshape(GRID.height, GRID.width), GRID, name)
    return da.chunk(chunks) if chunks else da


def _oracle(model: StratifiedModel, table: pd.DataFrame, codes: np.ndarray,
            forest: np.ndarray) -> np.ndarray:
    labels = np.array([FOREST_TYPE_LABELS.get(int(c), POOLED) for c in codes], dtype=object)
    frame = table[FEATURES].astype(np.float32).reset_index(drop=True)
    predicted = model.predict(frame, labels)
    out = np.where(forest, np.clip(predicted, 0.0, None), np.nan).astype(np.float32)
    return out.reshape(GRID.height, GRID.width)


def test_the_map_equals_the_stratified_models_prediction(model: StratifiedModel) -> None:
    table, codes, forest = _pixels()
    used = model_inputs(model)
    table.loc[5, used[0]] = np.nan  # a band the model reads: NaN
    with pytest.warns(UserWarning, match="pooled model: mixed"):
        agc = predict_agc(model, _stack(table), _raster(codes, "ftype"),
                          _raster(forest, "forest")).compute()
    expected = _oracle(model, table, codes, forest)
    np.testing.assert_array_equal(agc.values, expected)
    assert agc.dtype == np.float32 and agc.attrs["units"] == "t C/ha"
    assert np.isnan(agc.values.ravel()[5]) and np.isnan(agc.values.ravel()[~forest]).all()
    assert np.nanmin(agc.values) >= 0.0 and np.isfinite(agc.values.ravel()[forest]).sum() > 400


def test_numpy_input_gives_the_dask_result(model: StratifiedModel) -> None:
    table, codes, forest = _pixels()
    lazy = predict_agc(model, _stack(table), _raster(codes, "t"), _raster(forest, "f"))
    eager = predict_agc(model, _stack(table, None), _raster(codes, "t", None),
                        _raster(forest, "f", None))
    assert isinstance(lazy.data, dsa.Array) and isinstance(eager.data, np.ndarray)
    np.testing.assert_array_equal(lazy.values, eager.values)
    assert lazy.rio.crs == eager.rio.crs == GRID.crs
    np.testing.assert_array_equal(lazy["x"].values, GRID.x_coords())


def test_only_the_bands_the_models_read_are_computed() -> None:
    model = _fit("svr")
    used = model_inputs(model)
    unused = [f for f in FEATURES if f not in used]
    assert 0 < len(used) < len(FEATURES) and set(used) <= set(model.features)
    table, codes, forest = _pixels()
    stack = _stack(table)

    def boom(block: np.ndarray) -> np.ndarray:
        raise AssertionError("an unused band was read")

    for f in unused:  # reading these would raise; NaN in them must not blank a pixel either
        stack[f] = stack[f].copy(data=stack[f].data.map_blocks(boom, dtype=np.float32))
    agc = predict_agc(model, stack, _raster(codes, "t"), _raster(forest, "f")).compute()
    np.testing.assert_array_equal(agc.values, _oracle(model, table, codes, forest))


def test_a_pca_selector_and_multithreaded_estimators_give_the_same_values() -> None:
    model = _fit("svr", selector="pca")
    table, codes, forest = _pixels()
    agc = predict_agc(model, _stack(table), _raster(codes, "t"), _raster(forest, "f"))
    np.testing.assert_array_equal(agc.values, _oracle(model, table, codes, forest))
    rf = _fit("rf")
    assert rf.pooled.pipeline is not None
    rf.pooled.pipeline.set_params(model__n_jobs=2)
    agc = predict_agc(rf, _stack(table), _raster(codes, "t"), _raster(forest, "f"))
    np.testing.assert_array_equal(agc.values, _oracle(rf, table, codes, forest))
    assert rf.pooled.pipeline.get_params()["model__n_jobs"] == 2  # the model is not changed


def test_negative_predictions_are_clipped_at_zero() -> None:
    model = _fit("svr", offset=40.0)
    table, codes, forest = _pixels()
    labels = np.array([FOREST_TYPE_LABELS.get(int(c), POOLED) for c in codes], dtype=object)
    raw = model.predict(table[FEATURES].astype(np.float32), labels)
    assert (raw[forest] < 0).sum() > 50
    agc = predict_agc(model, _stack(table), _raster(codes, "t"), _raster(forest, "f"))
    values = agc.values.ravel()
    assert (values[forest & (raw < 0)] == 0.0).all()
    np.testing.assert_array_equal(agc.values, _oracle(model, table, codes, forest))


def test_a_stack_without_the_models_features_is_refused() -> None:
    model = _fit("svr")
    table, codes, forest = _pixels()
    stack = _stack(table).drop_vars(model_inputs(model)[0])
    with pytest.raises(InputDataError, match=model_inputs(model)[0]):
        predict_agc(model, stack, _raster(codes, "t"), _raster(forest, "f"))


def test_interval_bounds_match_predict_interval() -> None:
    model = _fit("xgboost")
    table, codes, forest = _pixels()
    agc = predict_agc(model, _stack(table), _raster(codes, "t"), _raster(forest, "f"))
    bounds = agc_intervals(model, agc, _raster(codes, "t"), 0.8)
    labels = np.array([FOREST_TYPE_LABELS.get(int(c), POOLED) for c in codes], dtype=object)
    oracle = predict_interval(model, table[FEATURES].astype(np.float32), labels, level=0.8)
    ok = np.isfinite(agc.values.ravel())
    assert ok.sum() > 400
    lower, upper = bounds["lower"].values.ravel(), bounds["upper"].values.ravel()
    mapped = agc.values.ravel()[ok].astype(np.float64)
    half = (oracle.upper - oracle.predicted)[ok]
    # the map's bounds are its (clipped, float32) AGC ± the stratum's conformal half-width
    np.testing.assert_allclose(upper[ok], mapped + half, rtol=1e-6)
    np.testing.assert_allclose(lower[ok], np.maximum(mapped - half, 0.0), rtol=1e-6, atol=1e-5)
    assert np.isnan(lower[~ok]).all() and np.isnan(upper[~ok]).all()
    assert bounds["upper"].dtype == np.float32 and bounds["lower"].attrs["interval_level"] == "0.8"
