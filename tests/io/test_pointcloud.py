"""Reading point clouds: chunked and cropped LAS/LAZ, broken extra bytes, CRS checks, ASCII."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from minecarbon.errors import InputDataError, MissingDependencyError, PathNotFoundError
from minecarbon.io import pointcloud as pcio
from minecarbon.io.pointcloud import read_points, write_las
from tests.conftest import shared_path

X0, Y0 = 500_000.0, 4_000_000.0


def _cloud(n: int = 5_000, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xyz = np.column_stack(
        [X0 + rng.uniform(0, 50, n), Y0 + rng.uniform(0, 40, n), 1200 + rng.uniform(0, 30, n)]
    )
    xyz = np.round(xyz, 3)  # on the writer's 1 mm grid, so the round trip is exact
    cls = rng.choice(np.array([1, 2, 5], np.uint8), n)
    ret = rng.integers(1, 4, n).astype(np.uint8)
    return xyz, cls, ret


@pytest.fixture(params=[".las", ".laz"])
def written(request: pytest.FixtureRequest, tmp_path: Path):
    xyz, cls, ret = _cloud()
    path = write_las(
        tmp_path / f"cloud{request.param}", xyz, classification=cls, crs_epsg=4546,
        extra={"return_number": ret, "number_of_returns": np.full(ret.size, 3, np.uint8)},
    )
    return path, xyz, cls, ret


def test_round_trip(written) -> None:
    path, xyz, cls, ret = written
    pc = read_points(path, classification=True, fields=("x", "y", "z", "return_number"))
    assert len(pc) == xyz.shape[0]
    np.testing.assert_allclose(pc.xyz, xyz, rtol=0, atol=5e-4)
    assert pc.xyz.dtype == np.float64 and pc.xyz.shape == xyz.shape
    np.testing.assert_array_equal(pc.classification, cls)
    np.testing.assert_array_equal(pc.return_number, ret)
    assert pc.number_of_returns is None
    assert pc.crs.to_epsg() == 4546
    assert pc.header is not None and pc.header.point_count == xyz.shape[0]


def test_defaults_read_xyz_only(written) -> None:
    path, *_ = written
    pc = read_points(path)
    assert pc.classification is None and pc.return_number is None and not pc.columns


def test_crop_keeps_exactly_the_points_in_the_box(written) -> None:
    path, xyz, cls, _ = written
    box = (X0 + 10.0, Y0 + 5.0, X0 + 25.5, Y0 + 30.0)
    pc = read_points(path, crop=box, classification=True, chunk_points=777)
    inside = (
        (xyz[:, 0] >= box[0]) & (xyz[:, 0] <= box[2]) & (xyz[:, 1] >= box[1])
        & (xyz[:, 1] <= box[3])
    )
    assert 0 < len(pc) < xyz.shape[0]
    assert len(pc) == int(inside.sum())
    np.testing.assert_allclose(pc.xyz, xyz[inside], atol=5e-4)
    np.testing.assert_array_equal(pc.classification, cls[inside])
    assert pc.crop == box


def test_crop_edges_are_included(tmp_path: Path) -> None:
    xyz = np.array([[10.0, 10.0, 1.0], [20.0, 20.0, 2.0], [20.001, 15.0, 3.0], [15.0, 9.999, 4.0]])
    path = write_las(tmp_path / "edges.las", xyz)
    pc = read_points(path, crop=(10.0, 10.0, 20.0, 20.0))
    np.testing.assert_allclose(pc.xyz[:, 2], [1.0, 2.0])


def test_small_chunks_equal_whole_read(written) -> None:
    path, *_ = written
    whole = read_points(path, classification=True, fields=("return_number",))
    chunked = read_points(path, classification=True, fields=("return_number",), chunk_points=333)
    np.testing.assert_array_equal(whole.xyz, chunked.xyz)
    np.testing.assert_array_equal(whole.classification, chunked.classification)
    np.testing.assert_array_equal(whole.return_number, chunked.return_number)


def test_chunks_bound_memory(written, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk is cropped before it is kept: no kept part is larger than the crop's share."""
    path, *_ = written
    sizes: list[int] = []
    original = pcio._Kept.add

    def spy(self, columns):
        original(self, columns)
        sizes.append(self.parts["x"][-1].size)

    monkeypatch.setattr(pcio._Kept, "add", spy)
    read_points(path, crop=(X0, Y0, X0 + 5.0, Y0 + 40.0), chunk_points=1000)
    assert len(sizes) == 5
    assert max(sizes) < 250  # about 10 % of each 1000-point chunk lies in the 5 m strip


def test_empty_crop_names_the_square_and_the_bounds(written) -> None:
    path, *_ = written
    with pytest.raises(InputDataError, match="within the plot square") as info:
        read_points(path, crop=(0.0, 0.0, 30.0, 30.0), what="plot P07's cloud")
    message = str(info.value)
    assert "plot P07's cloud" in message and str(path) in message
    assert "cloud's bounds are x 500000" in message
    assert "fix: check the plot centre/CRS" in message


def test_empty_file(tmp_path: Path) -> None:
    path = write_las(tmp_path / "empty.las", np.empty((0, 3)))
    with pytest.raises(InputDataError, match="no points in"):
        read_points(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PathNotFoundError):
        read_points(tmp_path / "nope.laz")


def test_bad_crop_and_field(written) -> None:
    path, *_ = written
    with pytest.raises(InputDataError, match="x_max < x_min"):
        read_points(path, crop=(10.0, 0.0, 0.0, 10.0))
    with pytest.raises(InputDataError, match="no dimension treeID"):
        read_points(path, fields=("x", "y", "z", "treeID"))


def test_crs_mismatch_names_both(written) -> None:
    path, *_ = written
    with pytest.raises(InputDataError) as info:
        read_points(path, expected_crs="EPSG:32649")
    message = str(info.value)
    assert "EPSG:4546" in message and "EPSG:32649" in message


def test_crs_match_and_missing_crs(written, tmp_path: Path) -> None:
    path, xyz, *_ = written
    assert read_points(path, expected_crs="EPSG:4546").crs.to_epsg() == 4546
    bare = write_las(tmp_path / "bare.las", xyz)
    assert read_points(bare).crs is None
    with pytest.warns(UserWarning, match="carries no CRS"):
        pc = read_points(bare, expected_crs="EPSG:4546")
    assert pc.crs.to_epsg() == 4546


def test_laz_without_backend(written, monkeypatch: pytest.MonkeyPatch) -> None:
    path, *_ = written
    monkeypatch.setattr("minecarbon.io._pointcloud_header._lazrs_available", lambda: False)
    if path.suffix == ".las":
        assert len(read_points(path)) > 0
        return
    with pytest.raises(MissingDependencyError) as info:
        read_points(path)
    assert str(path) in str(info.value) and "pip install lazrs" in str(info.value)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_duplicate_extra_bytes_names_are_read_with_a_warning(tmp_path: Path, suffix: str) -> None:
    xyz, cls, _ = _cloud(2_000)
    path = write_las(
        tmp_path / f"dup{suffix}", xyz, classification=cls,
        extra={"dev_one_": np.arange(2_000, dtype=np.float32),
               "dev_two_": np.ones(2_000, dtype=np.float32)},
    )
    raw = path.read_bytes()
    assert raw.count(b"dev_two_") == 1
    path.write_bytes(raw.replace(b"dev_two_", b"dev_one_"))
    import laspy

    with pytest.raises(ValueError, match="more than once"):
        laspy.read(path)
    with pytest.warns(UserWarning, match=r"dup\.la.*named more than once: dev_one_"):
        pc = read_points(path, classification=True, chunk_points=700)
    np.testing.assert_allclose(pc.xyz, xyz, atol=5e-4)
    np.testing.assert_array_equal(pc.classification, cls)
    with pytest.warns(UserWarning), pytest.raises(InputDataError, match="no dimension dev_one_"):
        read_points(path, fields=("dev_one_",))


@pytest.mark.shared
def test_arbor_slice_with_duplicate_extra_bytes() -> None:
    path = shared_path("pointclouds", "arbor_slice_buttress.las")
    with pytest.warns(UserWarning, match="arbor_slice_buttress.las.*deviation"):
        pc = read_points(path)
    assert len(pc) == 12_219
    assert pc.xyz[:, 2].min() >= 27.18 and pc.xyz[:, 2].max() <= 27.30


@pytest.mark.shared
def test_chablais_header_crs_and_classes() -> None:
    path = shared_path("pointclouds", "lidartree_las_chablais3.laz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pc = read_points(path, classification=True, fields=("return_number", "number_of_returns"),
                         expected_crs="EPSG:2154", chunk_points=10_000)
    assert len(pc) == 92_097
    assert set(np.unique(pc.classification)) == {2, 4, 15}
    assert pc.return_number.max() == 2  # SOURCES.md: 2 returns (number_of_returns says up to 3)
    assert pc.number_of_returns.max() == 3


@pytest.mark.shared
def test_ascii_itsme_tree() -> None:
    path = shared_path("pointclouds", "itsme_tree_2_pc.txt")
    pc = read_points(path, classification=True, chunk_points=10_000)
    assert len(pc) == 51_750
    assert pc.classification is None and pc.header is None and pc.crs is None
    np.testing.assert_allclose(pc.xyz[0], [35.10225, 51.25675, -5.16900])
    assert -7.4 < pc.xyz[:, 2].min() < -7.2 and 10.9 < pc.xyz[:, 2].max() < 11.1
    whole = read_points(path)
    np.testing.assert_array_equal(whole.xyz, pc.xyz)


def test_ascii_comma_header_and_crop(tmp_path: Path) -> None:
    path = tmp_path / "cloud.csv"
    path.write_text(
        "X,Y,Z,intensity,classification\n"
        "# a comment\n"
        "1.0,2.0,3.0,10,2\n"
        "\n"
        "5.0,6.0,7.0,20,5\n"
        "9.0,9.0,9.0,30,5\n"
    )
    pc = read_points(path, fields=("intensity",), classification=True, crop=(0, 0, 6, 6),
                     chunk_points=1)
    np.testing.assert_allclose(pc.xyz, [[1, 2, 3], [5, 6, 7]])
    np.testing.assert_array_equal(pc.classification, [2, 5])
    np.testing.assert_allclose(pc.columns["intensity"], [10, 20])


def test_ascii_whitespace_without_header(tmp_path: Path) -> None:
    path = tmp_path / "cloud.xyz"
    path.write_text("1 2 3\n4\t5   6\n")
    np.testing.assert_allclose(read_points(path).xyz, [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(InputDataError, match="no header line"):
        read_points(path, fields=("intensity",))
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n4 five 6\n")
    with pytest.raises(InputDataError, match="not numbers"):
        read_points(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(InputDataError, match="no points in"):
        read_points(empty)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "cloud.ply"
    path.write_text("ply\n")
    with pytest.raises(InputDataError, match=r"\.ply"):
        read_points(path)
