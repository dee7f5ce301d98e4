"""Report maps: furniture (scale bar, north arrow, coordinates), legends, downsampling, PNGs."""

from __future__ import annotations

import io
import math
import warnings
from collections import Counter

import dask.array as dsa
import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr
from matplotlib.colors import TwoSlopeNorm, to_rgb
from PIL import Image
from pyproj import CRS
from shapely.geometry import Point, box
from skimage.measure import block_reduce

from minecarbon.assessment.grading import EffectGrade
from minecarbon.assessment.trend import TREND_LABELS
from minecarbon.errors import GeographicCRSError, InputDataError
from minecarbon.report import maps
from minecarbon.report.fonts import use_cjk_font
from minecarbon.scope.units import unit_names

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
X0, Y0, PIXEL = 585_000.0, 4_100_000.0, 30.0


def raster(values: np.ndarray, *, crs: str | None = "EPSG:4546", name: str = "layer",
           x0: float = X0, y0: float = Y0, pixel: float = PIXEL) -> xr.DataArray:
    """A (y, x) raster, north-up, pixel centres like rioxarray's."""
    ny, nx = values.shape
    da = xr.DataArray(values, dims=("y", "x"), name=name, coords={
        "y": y0 - pixel * (np.arange(ny) + 0.5), "x": x0 + pixel * (np.arange(nx) + 0.5)})
    return da.rio.write_crs(crs) if crs else da


def draw(da: xr.DataArray, **kw: object) -> dict[str, object]:
    use_cjk_font()
    fig, ax = plt.subplots(figsize=(6, 5))
    try:
        out = maps.draw_map(ax, da, **{"title": "图", **kw})  # type: ignore[arg-type]
        fig.canvas.draw()
        return out
    finally:
        plt.close(fig)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_MAGIC
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.size


def units_l2() -> xr.DataArray:
    values = np.full((40, 60), np.nan)
    values[:20, :30] = 10
    values[20:, :30] = 31
    values[:, 30:45] = 43
    return raster(values, name="units_l2")


# --------------------------------------------------------------------------- scale bar
@pytest.mark.parametrize(("width_m", "expected"), [
    (6000.0, 1000.0), (10_000.0, 2000.0), (25_000.0, 5000.0), (333.0, 50.0), (4000.0, 1000.0),
    (1999.0, 200.0), (120_000.0, 20_000.0)])
def test_scale_length_is_a_round_number(width_m: float, expected: float) -> None:
    assert maps.nice_scale_length(width_m) == pytest.approx(expected)


@pytest.mark.parametrize("width_m", np.geomspace(50.0, 5e5, 37).tolist())
def test_scale_length_is_1_2_or_5_and_fits(width_m: float) -> None:
    length = maps.nice_scale_length(width_m)
    mantissa = length / 10 ** math.floor(math.log10(length))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    assert width_m * 0.25 / 2.5 - 1e-9 <= length <= width_m * 0.25 + 1e-9


def test_scale_length_needs_a_positive_width() -> None:
    with pytest.raises(InputDataError, match="width"):
        maps.nice_scale_length(0.0)


@pytest.mark.parametrize(("length", "label"), [
    (50.0, "50 m"), (500.0, "500 m"), (1000.0, "1 km"), (2000.0, "2 km"), (2500.0, "2.5 km")])
def test_scale_labels(length: float, label: str) -> None:
    assert maps.format_length(length) == label


def test_scale_bar_matches_the_map_extent() -> None:
    da = raster(np.random.default_rng(0).random((50, 200)))  # 6 km × 1.5 km
    out = draw(da, lang="en")
    x0, x1, _, _ = out["extent"]
    assert (x0, x1) == pytest.approx((X0, X0 + 200 * PIXEL))
    length = out["scale_length_m"]
    assert length == maps.nice_scale_length(x1 - x0) == 1000.0
    halves = out["scale_bar"]
    assert sum(p.get_width() for p in halves) == pytest.approx(length)
    assert out["scale_label"].get_text() == "1 km"


# ------------------------------------------------------------------ north arrow, coordinates
@pytest.mark.parametrize(("lang", "north"), [("zh", "北"), ("en", "N")])
def test_north_arrow_and_grid_coordinates(lang: str, north: str) -> None:
    out = draw(raster(np.ones((40, 40))), lang=lang)
    assert out["north_label"].get_text() == north
    arrow = out["north_arrow"]
    assert arrow.xy[1] > arrow.xyann[1]  # the arrow points up
    ax = out["image"].axes
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(t.replace(" ", "").isdigit() for t in labels)
    assert any(" " in t for t in labels)  # grouped thousands, e.g. "585 600"
    note = out["crs_note"].get_text()
    assert "EPSG:4546" in note
    assert CRS.from_epsg(4546).name in note
    assert out["title"].get_text() == "图"


def test_coordinates_are_written_in_groups_of_thousands() -> None:
    assert maps.format_coordinate(585000.0) == "585 000"
    assert maps.format_coordinate(4100000.0) == "4 100 000"


def test_missing_crs_is_noted_and_warned() -> None:
    with pytest.warns(UserWarning, match="no CRS"):
        out = draw(raster(np.ones((10, 10)), crs=None), lang="en")
    assert "unknown" in out["crs_note"].get_text()


def test_geographic_crs_is_refused() -> None:
    da = raster(np.ones((10, 10)), crs="EPSG:4326", x0=110.0, y0=35.0, pixel=0.001)
    with pytest.raises(GeographicCRSError, match="layer"):
        maps.map_figure(da, title="t")


# -------------------------------------------------------------------------------- legends
def test_class_legend_lists_only_present_classes() -> None:
    out = draw(units_l2(), kind="classes", classes=maps.UNIT_L2_CLASSES, lang="zh")
    assert out["classes_shown"] == [10, 31, 43]
    texts = [t.get_text() for t in out["legend"].get_texts()]
    assert texts == [unit_names(2, c)[0] for c in (10, 31, 43)]


def test_class_pixels_have_their_colour_and_nan_is_transparent() -> None:
    out = draw(units_l2(), kind="classes", classes=maps.UNIT_L2_CLASSES)
    rgba = out["image"].get_array()
    assert tuple(rgba[0, 0, :3]) == pytest.approx(to_rgb(maps.UNIT_L2_CLASSES[10][2]))
    assert tuple(rgba[-1, 40, :3]) == pytest.approx(to_rgb(maps.UNIT_L2_CLASSES[43][2]))
    assert rgba[0, -1, 3] == 0.0  # NaN


def test_unlisted_codes_are_blank_with_a_warning() -> None:
    values = np.array([[1.0, 2.0], [7.0, 0.0]])
    with pytest.warns(UserWarning, match=r"'odd'.*\[7\]"):
        out = draw(raster(values, name="odd"), kind="classes", classes=maps.UNIT_L1_CLASSES)
    assert out["classes_shown"] == [1, 2]


def test_continuous_map_has_a_colour_bar_with_units() -> None:
    values = np.linspace(0, 80, 400).reshape(20, 20)
    out = draw(raster(values), units="t C/ha")
    assert out["colorbar"].ax.get_title(loc="left") == "t C/ha"
    assert "legend" not in out


def test_diverging_map_is_centred_on_zero() -> None:
    values = np.linspace(-10, 40, 400).reshape(20, 20)
    out = draw(raster(values), diverging=True, vmax=30.0)
    norm = out["image"].norm
    assert isinstance(norm, TwoSlopeNorm)
    assert (norm.vmin, norm.vcenter, norm.vmax) == (-30.0, 0.0, 30.0)
    assert out["colorbar"].extend == "max"


def test_overlays_and_points_are_drawn_and_labelled() -> None:
    da = raster(np.ones((40, 40)))
    polygons = gpd.GeoDataFrame(geometry=[box(X0 + 100, Y0 - 900, X0 + 600, Y0 - 300)],
                                crs="EPSG:4546")
    points = gpd.GeoDataFrame(geometry=[Point(X0 + 300, Y0 - 600)], crs="EPSG:4546")
    out = draw(da, lang="en", overlays=[(polygons, {"edgecolor": "k", "label": "boundary"})],
               points=(points, {"label": "plots"}))
    assert [t.get_text() for t in out["legend"].get_texts()] == ["boundary", "plots"]
    assert len(out["vectors"]) == 2


def test_class_map_needs_classes() -> None:
    with pytest.raises(InputDataError, match="classes"):
        maps.map_figure(units_l2(), title="t", kind="classes")


# ---------------------------------------------------------------------------- downsampling
def test_block_mean_equals_scikit_image() -> None:
    rng = np.random.default_rng(1)
    values = rng.random((10, 13))
    values[rng.random(values.shape) < 0.2] = np.nan
    small = maps.downsample(raster(values), max_px=4)  # factor ceil(13 / 4) = 4
    expected = block_reduce(values, (4, 4), np.nanmean, cval=np.nan)
    np.testing.assert_allclose(small.values, expected)


def test_block_mode_keeps_class_codes() -> None:
    rng = np.random.default_rng(2)
    values = rng.choice([10.0, 21.0, 31.0, np.nan], size=(12, 9), p=[0.5, 0.2, 0.2, 0.1])
    small = maps.downsample(raster(values), max_px=3, how="mode")  # factor 4
    assert small.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            block = values[4 * i:4 * i + 4, 4 * j:4 * j + 4]
            counts = Counter(v for v in block.ravel() if not np.isnan(v))
            top = max(counts.values())
            assert small.values[i, j] == min(c for c, n in counts.items() if n == top)
    assert set(np.unique(small.values)) <= {10.0, 21.0, 31.0}


def test_downsampled_coordinates_are_block_centres() -> None:
    da = raster(np.zeros((8, 8)))
    small = maps.downsample(da, max_px=4)
    np.testing.assert_allclose(small["x"], da["x"].values.reshape(4, 2).mean(axis=1))
    np.testing.assert_allclose(small["y"], da["y"].values.reshape(4, 2).mean(axis=1))
    assert small.rio.crs == da.rio.crs


def test_downsampling_is_lazy_on_dask_and_equal_to_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.choice([1.0, 2.0, 3.0], size=(100, 70))
    lazy = raster(values).copy(data=dsa.from_array(values, chunks=(33, 25)))
    for how in ("mean", "mode"):
        small = maps.downsample(lazy, max_px=20, how=how)
        assert isinstance(small.data, dsa.Array)
        expected = maps.downsample(raster(values), max_px=20, how=how)
        np.testing.assert_allclose(small.values, expected.values)


def test_small_rasters_are_not_touched() -> None:
    da = raster(np.ones((5, 5)))
    assert maps.downsample(da) is da


# ---------------------------------------------------------------------------------- PNGs
def test_map_figure_returns_a_png_with_every_glyph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = maps.map_figure(units_l2(), title="二级监测评估单元 已复垦森林", lang="zh",
                              kind="classes", classes=maps.UNIT_L2_CLASSES)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    width, height = png_size(png)
    assert 1000 <= width <= 2200 and 500 <= height <= 2000


def test_tall_and_wide_maps_keep_their_shape() -> None:
    wide = png_size(maps.map_figure(raster(np.ones((20, 60))), title="w", lang="en"))
    tall = png_size(maps.map_figure(raster(np.ones((60, 20))), title="t", lang="en"))
    assert wide[0] / wide[1] > tall[0] / tall[1]


def test_map_figure_is_deterministic_and_takes_dask() -> None:
    values = np.random.default_rng(4).random((60, 50))
    lazy = raster(values).copy(data=dsa.from_array(values, chunks=25))
    first = maps.map_figure(lazy, title="AGC", units="t C/ha")
    assert first == maps.map_figure(raster(values), title="AGC", units="t C/ha")
    assert png_size(first)[0] > 0


# ------------------------------------------------------------------------- class colours
def test_trend_classes_red_for_decrease_green_for_increase_grey_for_stable() -> None:
    assert {c: v[:2] for c, v in maps.TREND_CLASSES.items()} == {
        c: TREND_LABELS[c] for c in (-2, -1, 0, 1, 2)}
    for code, (_, _, colour) in maps.TREND_CLASSES.items():
        r, g, b = to_rgb(colour)
        if code < 0:
            assert r > g
        elif code > 0:
            assert g > r
        else:
            assert r == g == b


def test_effect_grades_run_red_to_grey_to_green() -> None:
    assert [v[:2] for v in maps.EFFECT_GRADES.values()] == [(g.zh, g.en) for g in EffectGrade]
    rgb = [to_rgb(v[2]) for v in maps.EFFECT_GRADES.values()]
    assert rgb[0][0] > rgb[0][1] and rgb[4][1] > rgb[4][0]
    assert rgb[2][0] == rgb[2][1] == rgb[2][2]


def test_gistar_bins_blue_cold_red_hot() -> None:
    assert sorted(maps.GISTAR_BINS) == [-3, -2, -1, 0, 1, 2, 3]
    for code, (_, _, colour) in maps.GISTAR_BINS.items():
        r, _, b = to_rgb(colour)
        assert (b > r) if code < 0 else (r > b) if code > 0 else r == b


def test_unit_classes_carry_the_unit_names() -> None:
    for code, (zh, en, _) in maps.UNIT_L2_CLASSES.items():
        assert (zh, en) == unit_names(2, code)
    assert maps.UNIT_L1_CLASSES[4][:2] == unit_names(1, 4)
    assert list(maps.unit_l2_classes([43, 10, 10])) == [10, 43]
    with pytest.raises(InputDataError, match="99"):
        maps.unit_l2_classes([99])
