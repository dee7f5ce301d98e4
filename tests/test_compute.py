"""Compute: the same chunked raster step on local schedulers and on a dask.distributed cluster."""

from __future__ import annotations

from pathlib import Path

import dask
import numpy as np
import pytest
import rasterio

from minecarbon.catalog import Workspace
from minecarbon.compute import is_address, use_scheduler
from minecarbon.errors import ConfigError
from minecarbon.pipeline import run_pipeline
from tests.toy_pipeline import GRID, RASTER, focal_mean_raster


def _read(ws: Workspace) -> np.ndarray:
    with rasterio.open(ws.path("products/features/focal.tif")) as src:
        assert src.crs.to_epsg() == 4546
        assert src.shape == GRID.shape
        return src.read(1)


def test_is_address() -> None:
    assert not is_address("threads")
    assert not is_address("synchronous")
    assert is_address("tcp://127.0.0.1:8786")


@pytest.mark.parametrize("scheduler", ["synchronous", "processes"])
def test_local_schedulers_give_the_threaded_result(tmp_path: Path, scheduler: str) -> None:
    a = Workspace.init(tmp_path / "a")
    b = Workspace.init(tmp_path / "b")
    run_pipeline(a, [RASTER], scheduler="threads")
    run_pipeline(b, [RASTER], scheduler=scheduler)
    np.testing.assert_array_equal(_read(a), _read(b))


def test_distributed_cluster_gives_identical_output(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    threaded = Workspace.init(tmp_path / "threads")
    run_pipeline(threaded, [RASTER], scheduler="threads")
    expected = _read(threaded)
    # the reference itself: an independent in-memory computation of the same focal mean
    direct = focal_mean_raster().values
    np.testing.assert_allclose(expected, direct, rtol=0, atol=0)

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        cluster_ws = Workspace.init(tmp_path / "cluster")
        with distributed.Client(address) as client:
            before = sum(client.run(lambda dask_worker: len(dask_worker.data)).values())
            run_pipeline(cluster_ws, [RASTER], scheduler=address)
            tasks_run = sum(
                n for n in client.run(
                    lambda dask_worker: dask_worker.state.executed_count).values()
            )
        assert tasks_run > 0 and before == 0
    np.testing.assert_array_equal(_read(cluster_ws), expected)
    assert threaded.catalog.get("products/features/focal.tif").sha256 == (
        cluster_ws.catalog.get("products/features/focal.tif").sha256)


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="cannot reach the dask scheduler"), use_scheduler(
        "tcp://127.0.0.1:9"
    ):
        pass


class _RecordingClient:
    def __init__(self) -> None:
        self.graphs: list[object] = []

    def get(self, dsk: object, keys: list, **kwargs: object) -> list:
        self.graphs.append(dsk)
        return keys


def test_graphs_reach_the_cluster_as_plain_dicts_the_scheduler_culls() -> None:
    """An expression is sent materialised as a dict (the scheduler culls dict graphs)."""
    import dask.array as da

    from minecarbon import compute

    client = _RecordingClient()
    x = da.ones((4, 4), chunks=2)
    y = (x + 1).sum()
    with dask.config.set(scheduler=compute._culled_get(client)):
        dask.compute(y)
    (graph,) = client.graphs
    assert isinstance(graph, dict) and len(graph) > 4
    assert any("sum" in str(k) for k in graph)
    plain = {"a": 1}
    compute._culled_get(client)(plain, ["a"])
    assert client.graphs[-1] is plain
