"""The building blocks: voxels, ground, verticality, DBSCAN, circle fits, DBH rules, heights."""

from __future__ import annotations

import numpy as np
import pytest

from minecarbon.errors import InputDataError
from minecarbon.survey.tls import TlsParams
from minecarbon.survey.tls.circle import fit_circle
from minecarbon.survey.tls.dbh import SliceFit, _dbh
from minecarbon.survey.tls.ground import build_dtm, fit_plane, ground_model
from minecarbon.survey.tls.height import tree_heights
from minecarbon.survey.tls.stems import dbscan, measure_spacing, verticality
from minecarbon.survey.tls.voxels import remove_isolated, voxel_downsample


def test_voxel_downsample_chunked_equals_whole() -> None:
    rng = np.random.default_rng(0)
    xyz = rng.uniform(0, 2, (20_000, 3))
    whole = voxel_downsample(xyz, 0.25, chunk_points=10**6)
    chunked = voxel_downsample(xyz, 0.25, chunk_points=1_000)
    assert len(whole) == 512 and whole.counts.sum() == len(xyz)
    np.testing.assert_array_equal(whole.keys, chunked.keys)
    np.testing.assert_allclose(whole.centroids, chunked.centroids)
    ijk = whole.indices()
    assert ijk.min() == 0 and ijk.max() == 7


def test_isolated_voxels_are_removed() -> None:
    rng = np.random.default_rng(1)
    surface = np.column_stack([rng.uniform(0, 5, 5000), rng.uniform(0, 5, 5000), np.zeros(5000)])
    strays = np.array([[2.5, 2.5, 3.0], [1.0, 4.0, -1.0]])
    vox = voxel_downsample(np.vstack([surface, strays]), 0.1)
    keep = remove_isolated(vox, 3)
    kept = vox.centroids[keep]
    assert np.abs(kept[:, 2]).max() < 0.05
    assert keep.sum() >= len(vox) - 2 - 5


def _terrain(rng: np.random.Generator, n: int = 40_000) -> np.ndarray:
    x, y = rng.uniform(0, 20, n), rng.uniform(0, 20, n)
    return np.column_stack([x, y, 100 + 0.2 * x - 0.1 * y + rng.normal(0, 0.005, n)])


def test_ground_model_on_a_slope_with_vegetation() -> None:
    rng = np.random.default_rng(2)
    ground = _terrain(rng)
    veg = np.column_stack([rng.uniform(0, 20, 20_000), rng.uniform(0, 20, 20_000),
                           rng.uniform(0.3, 8, 20_000)])
    veg[:, 2] += 100 + 0.2 * veg[:, 0] - 0.1 * veg[:, 1]
    vox = voxel_downsample(np.vstack([ground, veg]), 0.1)
    vox = vox.subset(remove_isolated(vox, 3))
    extent = (0.0, 0.0, 20.0, 20.0)
    dtm, check = ground_model(vox, extent, extent, TlsParams())
    test = rng.uniform(1, 19, (500, 2))
    truth = 100 + 0.2 * test[:, 0] - 0.1 * test[:, 1]
    assert np.abs(dtm.ground_z(test[:, 0], test[:, 1]) - truth).max() < 0.05
    assert check.ok and check.coverage > 0.95 and not check.messages
    assert 10 < check.slope_p95_deg < 14


def test_ground_check_reports_gaps_and_spikes() -> None:
    rng = np.random.default_rng(3)
    pts = _terrain(rng, 4000)
    pts = pts[pts[:, 0] < 8]  # ground on 40 % of the plot only
    pts = np.vstack([pts, [[5.0, 5.0, 110.0]] * 3])  # a spike
    dtm = build_dtm(pts, (0, 0, 20, 20), 0.5)
    from minecarbon.survey.tls.ground import check_ground
    check = check_ground(pts, dtm, (0, 0, 20, 20), TlsParams(), 0.3)
    assert not check.ok
    assert check.coverage == pytest.approx(0.4, abs=0.05)
    assert any("cover only" in m for m in check.messages)
    assert check.n_spikes >= 1 and any("spike" in m for m in check.messages)


def test_no_ground_is_an_input_error() -> None:
    vox = voxel_downsample(np.array([[0.0, 0.0, 5.0], [0.05, 0.0, 5.0]]), 0.1)
    with pytest.raises(InputDataError, match="no ground.*fix: give the whole cloud"):
        ground_model(vox, (0, 0, 1, 1), (0, 0, 1, 1), TlsParams())


def test_fit_plane_ignores_points_above() -> None:
    rng = np.random.default_rng(4)
    pts = _terrain(rng, 2000)
    pts[::3, 2] += rng.uniform(0.5, 5, len(pts[::3]))
    _, b, c = fit_plane(pts)
    assert b == pytest.approx(0.2, abs=0.01) and c == pytest.approx(-0.1, abs=0.01)


def _cylinder(rng: np.random.Generator, r: float, n: int, centre: tuple[float, float] = (0, 0),
              h: tuple[float, float] = (1.0, 3.0)) -> np.ndarray:
    a = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([centre[0] + r * np.cos(a), centre[1] + r * np.sin(a),
                            rng.uniform(*h, n)]) + rng.normal(0, 0.002, (n, 3))


def test_verticality_and_dbscan_separate_stems_from_a_flat_leaf_layer() -> None:
    rng = np.random.default_rng(5)
    stems = np.vstack([_cylinder(rng, 0.1, 3000), _cylinder(rng, 0.15, 3000, (3.0, 0.0))])
    leaf = np.column_stack([rng.uniform(5, 7, 3000), rng.uniform(0, 2, 3000),
                            2 + rng.normal(0, 0.002, 3000)])
    vert = verticality(np.vstack([stems, leaf]), 12)
    assert np.median(vert[:6000]) > 0.9 and np.median(vert[6000:]) < 0.1
    labels = dbscan(stems, 0.08, 4)
    assert len(set(labels[:3000])) == 1 and len(set(labels[3000:])) == 1
    assert labels[0] != labels[3000] and (labels >= 0).all()
    assert 0.001 < measure_spacing(stems) < 0.05


@pytest.mark.parametrize("arc_deg", [360, 180, 120])
def test_circle_fit_on_arcs_with_outliers(arc_deg: float) -> None:
    rng = np.random.default_rng(6)
    r, n = 0.15, 80
    a = rng.uniform(0, np.radians(arc_deg), n)
    xy = np.column_stack([1 + r * np.cos(a), 2 + r * np.sin(a)]) + rng.normal(0, 0.003, (n, 2))
    clutter = rng.uniform(0.6, 1.4, (15, 2))
    clutter[:, 1] += 1.0
    xy = np.vstack([xy, clutter])
    fit = fit_circle(xy, inlier_m=0.01, draws=200, rng=rng, max_radius_m=1.0)
    assert fit is not None
    assert fit.radius_m == pytest.approx(r, abs=0.006)
    assert (fit.x, fit.y) == pytest.approx((1, 2), abs=0.01)
    assert fit.coverage == pytest.approx(arc_deg / 360, abs=0.1)
    assert fit.rms_m < 0.006


def test_circle_fit_degenerate() -> None:
    rng = np.random.default_rng(7)
    assert fit_circle(np.zeros((2, 2)), inlier_m=0.01, draws=10, rng=rng, max_radius_m=1) is None
    line = np.column_stack([np.linspace(0, 1, 20), np.zeros(20)])
    assert fit_circle(line, inlier_m=0.01, draws=50, rng=rng, max_radius_m=0.5) is None


def _slice(h: float, d: float | None) -> SliceFit:
    centre = None if d is None else np.array([0.0, 0.0, h])
    return SliceFit(h, float("nan") if d is None else d, centre, 50, "" if d else "arc covers 5%")


def test_dbh_quality_rules() -> None:
    p = TlsParams()
    ok = [_slice(h, 30.0 + 0.1 * i) for i, h in enumerate(p.slice_heights_m)]
    dbh, quality, msg, cylinder = _dbh(ok, p)
    assert quality == "ok" and dbh == pytest.approx(30.2) and msg is None and cylinder
    # breast-height slices gone: a taper line through the others
    taper = [_slice(h, 32.0 - 1.0 * (h - 1.3)) if h not in p.slice_heights_m else _slice(h, None)
             for h in p.all_slice_heights_m]
    dbh, quality, msg, _ = _dbh(taper, p)
    assert quality == "fallback" and dbh == pytest.approx(32.0, abs=0.05)
    assert msg is not None and "taper" in msg
    # disagreeing breast-height slices are not 'ok'
    wild = [_slice(h, d) for h, d in zip(p.slice_heights_m, [20, 35, 50, 28, 44], strict=True)]
    dbh, quality, msg, cylinder = _dbh(wild, p)
    assert quality == "failed" and np.isnan(dbh) and not cylinder
    assert msg is not None and "not a cylinder" in msg
    # nothing usable: NaN and 'failed', never zero
    dbh, quality, msg, cylinder = _dbh([_slice(h, None) for h in p.all_slice_heights_m], p)
    assert quality == "failed" and np.isnan(dbh) and cylinder
    assert msg is not None and "arc covers" in msg


def test_heights_follow_a_leaning_axis_and_flag_overtopped_trees() -> None:
    rng = np.random.default_rng(8)
    lean = np.radians(10.0)
    u = np.array([np.sin(lean), 0.0, np.cos(lean)])
    # tree A leans east, its crown centred on its axis at 8–12 m; tree B, thin and short, at 8 m;
    # tree C, thin, stands under A's crown
    crown_a = rng.normal(0, 0.8, (3000, 3)) * [1, 1, 1.2] + [10 * np.tan(lean), 0, 10]
    crown_b = rng.normal(0, 0.4, (800, 3)) * [1, 1, 0.6] + [8.0, 0, 4.0]
    stem_c = np.column_stack([np.full(50, -1.0), np.zeros(50), np.linspace(1.5, 6.0, 50)])
    pts = np.vstack([crown_a, crown_b, stem_c])
    bases = np.array([[0.0, 0.0, 0.0], [8.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    dirs = np.array([u, [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    dbh = np.array([40.0, 10.0, 8.0])
    heights, quality = tree_heights(pts, bases, dirs, dbh, TlsParams())
    assert heights[0] == pytest.approx(crown_a[:, 2].max(), abs=0.01)
    assert heights[1] == pytest.approx(crown_b[:, 2].max(), abs=0.01)
    assert heights[2] >= 6.0
    assert quality == ["ok", "ok", "overtopped"]
    # no crown points at all
    h, q = tree_heights(np.zeros((0, 3)), bases, dirs, dbh, TlsParams())
    assert np.isnan(h).all() and q == ["missing"] * 3


def _cone_crown(rng: np.random.Generator, x: float, top_m: float, radius_m: float,
                n: int = 1500) -> np.ndarray:
    """Points on a conical crown standing at (x, 0), from 40 % of its height to its top."""
    z = rng.uniform(0.4 * top_m, top_m, n)
    r = radius_m * (top_m - z) / (0.6 * top_m) * np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([x + r * np.cos(a), r * np.sin(a), z])


@pytest.mark.parametrize(("thin_top_m", "expected"), [(17.8, "ok"), (16.0, "overtopped")])
def test_a_neighbour_overtops_only_when_its_top_is_clearly_higher(
    thin_top_m: float, expected: str
) -> None:
    """Even-aged pines 2 m apart: the thinner tree's top lies within the thicker one's nominal
    crown (0.8 + 0.1 · 25 = 3.3 m), yet it is its own apex unless the neighbour is higher by
    more than ``overtop_margin_m`` (0.5 m)."""
    rng = np.random.default_rng(4)
    pts = np.vstack([_cone_crown(rng, 0.0, 18.0, 1.5), _cone_crown(rng, 2.0, thin_top_m, 1.2)])
    bases = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    dirs = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    heights, quality = tree_heights(pts, bases, dirs, np.array([25.0, 15.0]), TlsParams())
    assert heights[1] == pytest.approx(pts[1500:, 2].max(), abs=0.01)
    assert quality == ["ok", expected]
