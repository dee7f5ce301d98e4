"""Synthetic TLS and ALS clouds, and the LAS/LAZ writer."""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
import pandas as pd
import pyproj
import pytest

from minecarbon.demo import pointclouds as pc
from minecarbon.demo.noise import fbm
from minecarbon.errors import InputDataError, MissingDependencyError, UnknownSpeciesError
from minecarbon.io import pointcloud as pcio

CX, CY = 500_000.0, 4_000_000.0
GROUND = (1200.0, 0.10, -0.05)
SIDE = 30.0
LEANING = 99  # tree_id of the strongly leaning tree


def _plot_trees(seed: int = 3, n: int = 45) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    xy: list[tuple[float, float]] = [(4.0, -2.0)]
    while len(xy) < n:
        x, y = rng.uniform(-17.5, 17.5, 2)
        if all(np.hypot(x - a, y - b) > 2.0 for a, b in xy):
            xy.append((float(x), float(y)))
    dbh = rng.uniform(8, 42, n)
    dbh[0] = 30.0
    lean = np.full(n, np.nan)
    azimuth = np.full(n, np.nan)
    lean[0], azimuth[0] = 8.0, 60.0
    ids = np.arange(n)
    ids[0] = LEANING
    return pd.DataFrame(
        {
            "tree_id": ids,
            "x_m": CX + np.array([p[0] for p in xy]),
            "y_m": CY + np.array([p[1] for p in xy]),
            "dbh_cm": dbh,
            "height_m": 1.3 + 25 * (1 - np.exp(-0.06 * dbh)),
            "species_code": rng.integers(1, 8, n),
            "lean_deg": lean,
            "lean_azimuth_deg": azimuth,
        }
    )


@pytest.fixture(scope="module")
def plot() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    # its time (under 20 s on 2 cores) is measured by benchmarks/bench_tls_simulation.py
    return pc.simulate_tls(_plot_trees(), (CX, CY), SIDE, GROUND, seed=11)


def _plane(xyz: np.ndarray) -> np.ndarray:
    return GROUND[0] + GROUND[1] * (xyz[:, 0] - CX) + GROUND[2] * (xyz[:, 1] - CY)


def _axis(row: pd.Series) -> np.ndarray:
    t, a = np.radians(row["lean_deg"]), np.radians(row["lean_azimuth_deg"])
    return np.array([np.sin(t) * np.sin(a), np.sin(t) * np.cos(a), np.cos(t)])


# ------------------------------------------------------------------------------------ TLS


def test_size_and_classes(plot: tuple[np.ndarray, np.ndarray, pd.DataFrame]) -> None:
    xyz, cls, truth = plot
    assert xyz.dtype == np.float64 and xyz.shape[1] == 3
    assert cls.dtype == np.uint8 and cls.shape == (len(xyz),)
    assert 1_000_000 <= len(xyz) <= 3_000_000
    assert set(np.unique(cls)) == {1, 2, 7}
    assert 0.0005 < np.mean(cls == 7) < 0.01
    assert len(truth) == 45
    assert list(truth.columns[:7]) == [
        "tree_id", "x_m", "y_m", "dbh_cm", "height_m", "lean_deg", "species_code"
    ]


def test_missing_lean_and_crown_are_drawn(
    plot: tuple[np.ndarray, np.ndarray, pd.DataFrame],
) -> None:
    truth = plot[2]
    others = truth[truth["tree_id"] != LEANING]
    assert others["lean_deg"].between(0, 8).all() and others["lean_deg"].std() > 0.5
    assert others["lean_azimuth_deg"].between(0, 360).all()
    assert truth["crown_radius_m"].between(0.6, 7).all()
    leaning = truth.set_index("tree_id").loc[LEANING]
    assert leaning["lean_deg"] == 8.0 and leaning["lean_azimuth_deg"] == 60.0


def test_ground_points_follow_the_plane(
    plot: tuple[np.ndarray, np.ndarray, pd.DataFrame],
) -> None:
    xyz, cls, _ = plot
    ground = xyz[cls == 2]
    residual = ground[:, 2] - _plane(ground)
    assert np.median(np.abs(residual)) < 0.02
    assert abs(np.median(residual)) < 0.01
    # denser near the scanners than far from them (1/r²)
    near = np.hypot(ground[:, 0] - CX, ground[:, 1] - CY) < 2.0
    ring = np.hypot(ground[:, 0] - CX, ground[:, 1] - CY)
    far = (ring > 8.0) & (ring < 8.5)
    near_density = near.sum() / (np.pi * 2.0**2)
    far_density = far.sum() / (np.pi * (8.5**2 - 8.0**2))
    assert far.sum() > 100 and near_density > 3 * far_density


def test_stem_slice_lies_at_half_the_dbh(
    plot: tuple[np.ndarray, np.ndarray, pd.DataFrame],
) -> None:
    xyz, cls, truth = plot
    veg = xyz[cls == 1]
    checked = 0
    for _, row in truth.iterrows():
        base = np.array([row["x_m"], row["y_m"], row["ground_z_m"]])
        d = veg - base
        d = d[(d[:, 2] > 1.2) & (d[:, 2] < 1.4)]
        u = _axis(row)
        perp = np.linalg.norm(d - (d @ u)[:, None] * u, axis=1)
        radius = row["dbh_cm"] / 200
        on_stem = perp[perp < radius + 0.05]
        if row["tree_id"] == LEANING:
            assert on_stem.size >= 20
        if on_stem.size < 20:
            continue
        checked += 1
        assert abs(np.median(on_stem) - radius) < 0.003, row["tree_id"]
    assert checked >= 0.9 * len(truth)


def test_leaning_stem_is_not_vertical(
    plot: tuple[np.ndarray, np.ndarray, pd.DataFrame],
) -> None:
    xyz, cls, truth = plot
    row = truth.set_index("tree_id").loc[LEANING]
    veg = xyz[cls == 1]
    d = veg - np.array([row["x_m"], row["y_m"], row["ground_z_m"]])
    band = (d[:, 2] > 5.0) & (d[:, 2] < 5.5)
    u = _axis(row)
    offset = 5.25 / u[2] * u[:2]  # the axis 5.25 m above the base, 73 cm towards 60°
    reach = row["dbh_cm"] / 200 + 0.03
    near_axis = np.hypot(d[band, 0] - offset[0], d[band, 1] - offset[1]) < reach
    near_vertical = np.hypot(d[band, 0], d[band, 1]) < reach
    assert near_axis.sum() > 20 and near_vertical.sum() < near_axis.sum() / 5


def test_highest_point_in_crown_footprint_is_the_height(
    plot: tuple[np.ndarray, np.ndarray, pd.DataFrame],
) -> None:
    xyz, cls, truth = plot
    veg = xyz[cls == 1]
    lean = np.radians(truth["lean_deg"].to_numpy())
    az = np.radians(truth["lean_azimuth_deg"].to_numpy())
    h = truth["height_m"].to_numpy()
    shift = h * np.tan(lean)
    top = np.column_stack(
        [truth["x_m"] + shift * np.sin(az), truth["y_m"] + shift * np.cos(az)]
    )
    radius = truth["crown_radius_m"].to_numpy()
    checked = 0
    for i in range(len(truth)):
        footprint = 0.5 * radius[i]
        gap = np.hypot(*(top - top[i]).T)
        overtopped = (gap < radius + footprint) & (h > h[i] - 0.5)
        overtopped[i] = False
        if overtopped.any():
            continue  # a taller neighbour's crown reaches into this footprint
        inside = np.hypot(veg[:, 0] - top[i, 0], veg[:, 1] - top[i, 1]) < footprint
        highest = veg[inside, 2].max() - truth["ground_z_m"].iloc[i]
        assert abs(highest - h[i]) < 0.5, truth["tree_id"].iloc[i]
        checked += 1
    assert checked >= 8


def test_occlusion_empties_the_shadow_of_a_stem() -> None:
    trees = pd.DataFrame(
        {
            "tree_id": [1],
            "x_m": [CX + 5.0],
            "y_m": [CY],
            "dbh_cm": [40.0],
            "height_m": [15.0],
            "species_code": [4],
            "lean_deg": [0.0],
            "lean_azimuth_deg": [0.0],
            "crown_radius_m": [2.0],
        }
    )
    xyz, cls, _ = pc.simulate_tls(
        trees, (CX, CY), 30.0, GROUND, seed=5, scanner_offsets=((0.0, 0.0),)
    )
    keep = (cls != 7) & (xyz[:, 2] - _plane(xyz) < 1.0)
    p = xyz[keep]
    rel = p[:, :2] - np.array([CX, CY])
    rng = np.hypot(rel[:, 0], rel[:, 1])
    az = np.arctan2(rel[:, 1], rel[:, 0])
    half = 0.8 * np.arcsin(0.2 / 5.0)
    behind = (rng > 7) & (rng < 15)
    shadow = behind & (np.abs(az) < half)
    mirror = behind & (np.abs(np.abs(az) - np.pi) < half)
    assert mirror.sum() > 100
    assert shadow.sum() <= 0.02 * mirror.sum()


def test_same_seed_same_cloud() -> None:
    trees = _plot_trees(seed=8, n=6)
    trees[["x_m", "y_m"]] = (trees[["x_m", "y_m"]] - [CX, CY]) / 3 + [CX, CY]
    kw = {"points_per_m2_at_10m": 50.0}
    a = pc.simulate_tls(trees, (CX, CY), 10.0, GROUND, seed=1, **kw)
    b = pc.simulate_tls(trees, (CX, CY), 10.0, GROUND, seed=1, **kw)
    c = pc.simulate_tls(trees, (CX, CY), 10.0, GROUND, seed=2, **kw)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    pd.testing.assert_frame_equal(a[2], b[2])
    assert a[0].shape != c[0].shape or not np.array_equal(a[0], c[0])


def test_scanners_stand_clear_of_stems() -> None:
    trees = pd.DataFrame(
        {"tree_id": ["a"], "x_m": [CX + 0.1], "y_m": [CY], "dbh_cm": [30.0], "height_m": [18.0],
         "species_code": [1]}
    )
    pos = pc.tls_scanner_positions(trees, (CX, CY), 20.0, GROUND, seed=1)
    assert pos.shape == (5, 3)
    np.testing.assert_allclose(pos[:4, :2] - [CX, CY], [[-7, -7], [7, -7], [7, 7], [-7, 7]])
    assert np.hypot(pos[4, 0] - CX - 0.1, pos[4, 1] - CY) > 0.15 + 0.5
    assert np.all(np.abs(pos[:, 2] - pc.SCANNER_HEIGHT_M - _plane(pos)) < 0.05)


def test_max_points_caps_the_cloud() -> None:
    trees = _plot_trees(seed=8, n=6)
    trees[["x_m", "y_m"]] = (trees[["x_m", "y_m"]] - [CX, CY]) / 3 + [CX, CY]
    xyz, cls, _ = pc.simulate_tls(
        trees, (CX, CY), 10.0, GROUND, seed=1, points_per_m2_at_10m=50.0, max_points=10_000
    )
    assert len(xyz) == len(cls) == 10_000


def test_bad_tree_lists_are_refused() -> None:
    trees = _plot_trees(seed=8, n=3)
    with pytest.raises(InputDataError, match="dbh_cm"):
        pc.simulate_tls(trees.drop(columns="dbh_cm"), (CX, CY), 10.0, GROUND, seed=1)
    bad = trees.assign(species_code=[1, 99, 2])
    with pytest.raises(UnknownSpeciesError, match="99"):
        pc.simulate_tls(bad, (CX, CY), 10.0, GROUND, seed=1)
    short = trees.assign(height_m=[1.0, 10.0, 10.0])
    with pytest.raises(InputDataError, match="height_m"):
        pc.simulate_tls(short, (CX, CY), 10.0, GROUND, seed=1)


# ------------------------------------------------------------------------------------ LAZ


def test_laz_round_trip_with_crs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    xyz = rng.uniform(0, 30, (5000, 3)) + np.array([CX, CY, 1200.0])
    cls = rng.choice(np.array([1, 2, 7], np.uint8), 5000)
    tree = rng.integers(0, 50, 5000).astype(np.int32)
    ret = rng.integers(1, 3, 5000).astype(np.uint8)
    path = pcio.write_las(
        tmp_path / "plot.laz", xyz, cls, crs_epsg=4546,
        extra={"tree_id": tree, "return_number": ret, "number_of_returns": np.full(5000, 2)},
    )
    las = laspy.read(path)
    assert len(las.points) == 5000
    assert np.abs(las.xyz - xyz).max() <= 0.001
    assert las.header.parse_crs() == pyproj.CRS.from_epsg(4546)
    np.testing.assert_array_equal(np.asarray(las.classification), cls)
    np.testing.assert_array_equal(np.asarray(las["tree_id"]), tree)
    np.testing.assert_array_equal(np.asarray(las.return_number), ret)
    info = pcio.read_las_header(path)
    assert info.point_count == 5000 and info.compressed and info.crs_epsg == 4546
    assert info.version == "1.4" and info.point_format == 6
    assert info.scales == (0.001, 0.001, 0.001)
    assert info.offsets == tuple(np.floor(xyz.min(axis=0)))
    assert info.extra_dimensions == ("tree_id",)
    assert info.bounds[0] == pytest.approx(xyz[:, 0].min(), abs=0.001)
    assert [p.name for p in tmp_path.iterdir()] == ["plot.laz"]


def test_simulated_plot_written_as_laz(
    plot: tuple[np.ndarray, np.ndarray, pd.DataFrame], tmp_path: Path
) -> None:
    xyz, cls, _ = plot
    path = pcio.write_las(tmp_path / "tls.laz", xyz, cls, crs_epsg=4546)
    las = laspy.read(path)
    assert len(las.points) == len(xyz)
    assert np.abs(las.xyz - xyz).max() <= 0.001
    assert las.header.parse_crs().to_epsg() == 4546


def test_las_without_crs_and_uncompressed(tmp_path: Path) -> None:
    xyz = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    path = pcio.write_las(tmp_path / "a.las", xyz, intensity=np.array([5, 65535]))
    info = pcio.read_las_header(path)
    assert not info.compressed and info.crs_epsg is None and info.point_count == 2
    las = laspy.read(path)
    assert list(las.intensity) == [5, 65535] and list(las.classification) == [1, 1]


def test_laz_without_lazrs_names_the_file_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("minecarbon.io._pointcloud_header._lazrs_available", lambda: False)
    target = tmp_path / "plot.laz"
    with pytest.raises(MissingDependencyError, match="pip install lazrs") as err:
        pcio.write_las(target, np.zeros((3, 3)))
    assert str(target) in str(err.value)
    assert isinstance(err.value, ImportError)
    assert list(tmp_path.iterdir()) == []
    pcio.write_las(tmp_path / "plot.las", np.zeros((3, 3)))  # uncompressed needs no lazrs


def test_writer_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="las or .laz"):
        pcio.write_las(tmp_path / "a.txt", np.zeros((2, 3)))
    with pytest.raises(InputDataError, match=r"\(n, 3\)"):
        pcio.write_las(tmp_path / "a.laz", np.zeros((2, 2)))
    with pytest.raises(InputDataError, match="classification"):
        pcio.write_las(tmp_path / "a.laz", np.zeros((2, 3)), classification=np.array([1, 300]))
    with pytest.raises(InputDataError, match="EPSG"):
        pcio.write_las(tmp_path / "a.laz", np.zeros((2, 3)), crs_epsg=999999)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------ ALS

PIXEL = 5.0
X0, YMAX = 500_000.0, 4_000_200.0


def _als_inputs() -> tuple[np.ndarray, np.ndarray]:
    ny, nx = 40, 40
    yy, xx = np.mgrid[0:ny, 0:nx] * PIXEL
    chm = np.clip(40 * (fbm(xx, yy, 80.0, 4) + 0.15), 0, 28)
    chm[chm < 0.3] = 0.0
    dem = 1100.0 + 0.08 * xx - 0.03 * yy
    return chm, dem


@pytest.fixture(scope="module")
def als() -> tuple[np.ndarray, ...]:
    chm, dem = _als_inputs()
    xyz, rn, nr, cls = pc.simulate_als(chm, dem, X0, YMAX, PIXEL, seed=3)
    return chm, dem, xyz, rn, nr, cls


def _als_pixels(xyz: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    col = np.minimum(((xyz[:, 0] - X0) / PIXEL).astype(int), shape[1] - 1)
    row = np.minimum(((YMAX - xyz[:, 1]) / PIXEL).astype(int), shape[0] - 1)
    return row, col


def _als_ground(xyz: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    # the DEM plane between the outer pixel centres, constant beyond them (edge clamping)
    ny, nx = shape
    gx = np.clip(xyz[:, 0] - X0, PIXEL / 2, (nx - 0.5) * PIXEL) - PIXEL / 2
    gy = np.clip(YMAX - xyz[:, 1], PIXEL / 2, (ny - 0.5) * PIXEL) - PIXEL / 2
    return 1100.0 + 0.08 * gx - 0.03 * gy


def test_als_returns_are_consistent(als: tuple[np.ndarray, ...]) -> None:
    chm, _, xyz, rn, nr, cls = als
    assert xyz.dtype == np.float64 and rn.dtype == nr.dtype == cls.dtype == np.uint8
    area = chm.size * PIXEL**2
    first = rn == 1
    assert 3.5 < first.sum() / area < 4.5  # one first return per pulse, 4 pulses/m²
    assert (rn >= 1).all() and (rn <= nr).all() and nr.max() >= 3
    assert set(np.unique(cls)) >= {2, 3, 4, 5}
    last = rn == nr
    assert last.sum() == first.sum()
    hag = xyz[:, 2] - _als_ground(xyz, chm.shape)
    ground = cls == 2
    assert np.abs(hag[ground]).max() < 0.3
    assert (hag[cls == 5] > 1.8).all()


def test_als_cover_follows_the_canopy_height(als: tuple[np.ndarray, ...]) -> None:
    chm, _, xyz, rn, _, _ = als
    first = rn == 1
    hag = xyz[first, 2] - _als_ground(xyz[first], chm.shape)
    row, col = _als_pixels(xyz[first], chm.shape)
    n_first = np.zeros(chm.shape)
    np.add.at(n_first, (row, col), 1)
    n_high = np.zeros(chm.shape)
    np.add.at(n_high, (row[hag > 2], col[hag > 2]), 1)
    share = n_high / n_first
    cover = pc.canopy_cover(chm)
    assert np.corrcoef(share.ravel(), cover.ravel())[0, 1] > 0.9
    tall = chm > 2  # within the canopy too, not only canopy against open ground
    assert np.corrcoef(share[tall], cover[tall])[0, 1] > 0.8
    assert np.abs(share[tall] - cover[tall]).mean() < 0.05
    assert share[chm <= 2].max() < 0.02
    assert (chm <= 2).sum() > 50 and (chm > 2).sum() > 500


def test_als_top_first_return_is_the_canopy_height(als: tuple[np.ndarray, ...]) -> None:
    chm, _, xyz, rn, _, _ = als
    first = rn == 1
    hag = xyz[first, 2] - _als_ground(xyz[first], chm.shape)
    row, col = _als_pixels(xyz[first], chm.shape)
    top = np.full(chm.shape, -np.inf)
    np.maximum.at(top, (row, col), hag)
    tall = chm > 2
    error = np.abs(top[tall] - chm[tall])
    assert np.mean(error < 1.0) > 0.98
    closed = tall & (pc.canopy_cover(chm) >= 0.3)
    assert (np.abs(top[closed] - chm[closed]) < 1.0).all()


def test_als_is_deterministic_and_checks_shapes() -> None:
    chm, dem = _als_inputs()
    a = pc.simulate_als(chm[:10, :10], dem[:10, :10], X0, YMAX, PIXEL, seed=9)
    b = pc.simulate_als(chm[:10, :10], dem[:10, :10], X0, YMAX, PIXEL, seed=9)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(InputDataError, match="same shape"):
        pc.simulate_als(chm, dem[:5], X0, YMAX, PIXEL, seed=9)
