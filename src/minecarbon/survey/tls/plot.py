"""One TLS plot from points to a tree list: :func:`process_plot`.

The chain, in bounded memory (the points are visited in chunks of ``chunk_points`` twice and never
copied whole):

1. **crop** to the plot square plus ``crop_buffer_m`` (so that stems and crowns at the edge are
   whole), when ``centre_xy`` and ``side_m`` are given;
2. **coarse voxels** (``coarse_voxel_m``) with isolated ones removed as noise;
3. **ground**: cloth-simulation filter, DTM and its check (:mod:`.ground`);
4. **stem stripe**: the points between about 0.5 and 3 m above the DTM, on a fine voxel grid
   (``fine_voxel_m``); their nearest-neighbour spacing gives the density that scales the
   thresholds (:meth:`.TlsParams.from_density`) unless ``params`` are given;
5. **stems** (:mod:`.stems`), **DBH** per stem (:mod:`.dbh`) — a stem whose fit raises becomes a
   'failed' row with a message, the plot goes on — and **heights** (:mod:`.height`).

Each tree row: ``tree_id`` (1…n, west to east then south to north), ``x``, ``y`` — the stem axis
where it meets the ground (the stem foot, like a tally's tree position; for a leaning tree the
axis at 1.3 m is ``x_bh``, ``y_bh``) — ``dbh_cm`` (NaN when 'failed'), ``height_m`` (NaN when no
crown point was found), ``lean_deg``, ``dbh_quality`` ('ok', 'fallback', 'failed'),
``height_quality`` ('ok', 'overtopped': the top lies in the crown of a thicker neighbour whose
top is clearly higher, the height may be too high; 'missing'), ``n_points`` (stripe points in
the stem's search cylinder), ``x_bh``, ``y_bh``. With a plot square, only stems whose foot lies
inside it are listed. Candidates whose slice circles disagree (foliage) or that hug a
well-measured stem (its branches) are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.errors import InputDataError, NoGroundError
from minecarbon.survey.tls.dbh import StemMeasurement, measure_stem
from minecarbon.survey.tls.ground import Dtm, GroundCheck, ground_model
from minecarbon.survey.tls.height import tree_heights
from minecarbon.survey.tls.params import TlsParams
from minecarbon.survey.tls.stems import BREAST_HEIGHT_M, StemCandidate, detect_stems
from minecarbon.survey.tls.stems import measure_spacing as _spacing
from minecarbon.survey.tls.voxels import VoxelAccumulator, remove_isolated

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Columns of :attr:`TlsResult.trees`.
TREE_COLUMNS = ("tree_id", "x", "y", "dbh_cm", "height_m", "lean_deg", "dbh_quality",
                "height_quality", "n_points", "x_bh", "y_bh")


@dataclass(frozen=True)
class TlsResult:
    """Trees of a TLS plot, the ground check, the measured density and every message."""

    trees: pd.DataFrame
    ground: GroundCheck
    density_points_per_m2: float
    messages: list[str] = field(default_factory=list)
    params: TlsParams = field(default_factory=TlsParams)
    dtm: Dtm | None = None


def _as_points(xyz: object) -> FloatArray:
    pts = np.asarray(xyz, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputDataError(f"the point cloud has shape {pts.shape}, expected (n, 3)",
                             fix="pass the x, y, z columns as an (n, 3) array")
    if len(pts) == 0:
        raise InputDataError("the point cloud is empty (0 points)",
                             fix="check that the LAS/LAZ file holds the plot's scan")
    return pts


def _chunks(pts: FloatArray, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, len(pts))) for s in range(0, len(pts), size)]


def _bounds(pts: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    """Minimum and maximum of the finite points, chunk by chunk (no copy of the cloud)."""
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for s, e in _chunks(pts, size):
        chunk = pts[s:e]
        chunk = chunk[np.isfinite(chunk).all(axis=1)]
        if len(chunk):
            lo, hi = np.minimum(lo, chunk.min(axis=0)), np.maximum(hi, chunk.max(axis=0))
    return lo, hi


def _inside(p: FloatArray, extent: tuple[float, float, float, float]) -> BoolArray:
    return np.asarray((p[:, 0] >= extent[0]) & (p[:, 0] <= extent[2]) & (p[:, 1] >= extent[1])
                      & (p[:, 1] <= extent[3]) & np.isfinite(p).all(axis=1))


def process_plot(
    xyz: npt.ArrayLike,
    *,
    centre_xy: tuple[float, float] | None = None,
    side_m: float | None = None,
    params: TlsParams | None = None,
    seed: int = 0,
) -> TlsResult:
    """Detect the stems of a TLS plot and measure their position, DBH, lean and height.

    Parameters
    ----------
    xyz
        Points (n, 3), map coordinates in metres, not height-normalised.
    centre_xy, side_m
        The plot square (both or neither); without them the whole cloud is the plot.
    params
        Thresholds; ``None`` scales them to the measured density (:meth:`TlsParams.from_density`).
    seed
        Seed of the RANSAC draws; the same seed gives the same trees.

    Raises
    ------
    InputDataError
        On an empty cloud, a cloud with no points in the plot square (the message gives the
        distance between the cloud's centre and the plot's centre), or a cloud without ground.

    """
    pts = _as_points(xyz)
    base_params = params or TlsParams()
    finite = np.isfinite(pts).all(axis=1)
    if not finite.any():
        raise InputDataError("the point cloud has no finite coordinates",
                             fix="check the file's scale and offset")
    lo_all, hi_all = _bounds(pts, base_params.chunk_points)
    if (centre_xy is None) != (side_m is None):
        raise InputDataError("give both centre_xy and side_m for the plot square, or neither",
                             fix="pass the plot's centre and side length")
    if centre_xy is not None and side_m is not None:
        if not (math.isfinite(side_m) and side_m > 0):
            raise InputDataError(f"plot side {side_m} m is not positive", fix="give side_m > 0")
        cx, cy, half = float(centre_xy[0]), float(centre_xy[1]), float(side_m) / 2
        plot_extent = (cx - half, cy - half, cx + half, cy + half)
        b = base_params.crop_buffer_m
        extent = (cx - half - b, cy - half - b, cx + half + b, cy + half + b)
    else:
        plot_extent = extent = (float(lo_all[0]), float(lo_all[1]), float(hi_all[0]),
                                float(hi_all[1]))
    chunks = _chunks(pts, base_params.chunk_points)
    messages: list[str] = []

    # pass 1: coarse voxels of the cropped cloud
    z_ref = float(lo_all[2] + hi_all[2]) / 2
    coarse = VoxelAccumulator(base_params.coarse_voxel_m, (extent[0], extent[1], z_ref))
    kept = 0
    for s, e in chunks:
        chunk = pts[s:e]
        inside = chunk[_inside(chunk, extent)]
        kept += len(inside)
        coarse.add(inside)
    if kept == 0:
        mid = (lo_all + hi_all) / 2
        dist = float(np.hypot(mid[0] - (extent[0] + extent[2]) / 2,
                              mid[1] - (extent[1] + extent[3]) / 2))
        raise InputDataError(
            f"no point of the cloud lies in the plot square: the cloud's centre "
            f"({mid[0]:.1f}, {mid[1]:.1f}) is {dist:.1f} m from the plot centre "
            f"({(extent[0] + extent[2]) / 2:.1f}, {(extent[1] + extent[3]) / 2:.1f})",
            fix="check the plot centre and that the cloud and the plot use the same CRS")
    if not finite.all():
        messages.append(f"{int((~finite).sum())} point(s) with NaN or infinite coordinates "
                        "were ignored")
    voxels = coarse.result()
    voxels = voxels.subset(remove_isolated(voxels, base_params.min_neighbourhood_points))
    tall = float(hi_all[2] - lo_all[2])
    if tall < SINGLE_MIN_HEIGHT_M:  # ground or not, nothing here reaches breast height
        raise InputDataError(
            f"the point cloud is only {tall:.2f} m tall: a stem slice or a piece of a tree, "
            "not a plot or a whole tree; a DBH at 1.3 m needs the ground or the tree's base "
            "1.3 m below breast height", fix="give the whole tree from its base up, or the plot "
            "with its ground")
    single = False
    try:
        dtm, check = ground_model(voxels, extent, plot_extent, base_params)
    except NoGroundError as error:
        dtm, check = single_tree_base(pts[finite], extent, error)
        single = True
    messages += [f"ground: {m}" for m in check.messages]

    # pass 2: the stem stripe on the fine voxel grid
    heights = base_params.all_slice_heights_m
    pad = max(base_params.slice_thickness_m, 0.25)
    low = min(base_params.stripe_low_m, min(heights)) - pad
    high = max(base_params.stripe_high_m, max(heights)) + pad
    fine = VoxelAccumulator(base_params.fine_voxel_m, (extent[0], extent[1], z_ref))
    for s, e in chunks:
        chunk = pts[s:e]
        inside = chunk[_inside(chunk, extent)]
        h = dtm.height_above(inside)
        fine.add(inside[(h >= low) & (h <= high)])
    stripe = fine.result().centroids
    stripe_h = dtm.height_above(stripe)
    in_band = (stripe_h >= base_params.stripe_low_m) & (stripe_h <= base_params.stripe_high_m)
    spacing = _spacing(stripe[in_band])
    density = 1.0 / spacing**2 if spacing > 0 and math.isfinite(spacing) else float("nan")
    if params is None:
        params = TlsParams.from_density(density) if math.isfinite(density) else TlsParams()

    candidates = detect_stems(stripe, stripe_h, params)
    rng = np.random.default_rng(seed)
    stems: list[StemMeasurement | None] = []
    for i, cand in enumerate(candidates):
        try:
            stems.append(measure_stem(cand, stripe, dtm.ground_z, params, rng))
        except Exception as error:  # one bad tree never stops the plot
            stems.append(None)
            messages.append(f"stem {i + 1}: the DBH fit failed ({type(error).__name__}: "
                            f"{error}); DBH left empty")
    not_stems = [i for i, st in enumerate(stems) if st is not None and not st.is_stem]
    if not_stems:
        messages.append(f"{len(not_stems)} stem candidate(s) dropped: their slice circles "
                        "disagree, so they are foliage or branches, not stems")
        candidates = [c for i, c in enumerate(candidates) if i not in not_stems]
        stems = [st for i, st in enumerate(stems) if i not in not_stems]
    trees = _table(candidates, stems, dtm, voxels.centroids, params, plot_extent, messages)
    if single and len(trees) == 1:  # every point is this tree's: its top is the cloud's top
        top = float(voxels.centroids[:, 2].max()) if len(voxels) else float("nan")
        trees.loc[0, "height_m"] = top - float(dtm.z[0, 0])
        trees.loc[0, "height_quality"] = "ok"
    elif single:
        messages.append(f"a single-tree cloud gave {len(trees)} stems; check the segmentation")
    return TlsResult(trees, check, density, messages, params, dtm)


#: A single-tree cloud's lowest 0.5 m spans at most this much horizontally (one stem base).
SINGLE_BASE_SPAN_M = 1.5
#: … and the cloud is at least this tall (breast height and a slice above it).
SINGLE_MIN_HEIGHT_M = 1.8


def single_tree_base(pts: FloatArray, extent: tuple[float, float, float, float],
                     no_ground: NoGroundError) -> tuple[Dtm, GroundCheck]:
    """A flat terrain at the base of a single-tree cloud, or why the cloud cannot be measured.

    Segmentation tools and other teams deliver trees cut out of their plot: one stem, no ground
    around it. Such a cloud is recognised by its lowest 0.5 m, which spans at most
    :data:`SINGLE_BASE_SPAN_M` (a stem base, not a forest floor), and is measured from its base:
    the terrain is flat at its lowest points (the 0.1th percentile of z), and the tree's height
    is the cloud's top above it. A wide cloud without ground re-raises ``no_ground``. (A cloud
    shorter than :data:`SINGLE_MIN_HEIGHT_M`, a stem slice, is refused before: it reaches no
    breast height.)
    """
    z = pts[:, 2]
    base = float(np.quantile(z, 0.001))
    low = pts[z < base + 0.5]
    span = float(max(np.ptp(low[:, 0]), np.ptp(low[:, 1]))) if len(low) else float("inf")
    if span > SINGLE_BASE_SPAN_M:
        raise no_ground
    side = max(extent[2] - extent[0], extent[3] - extent[1], 1.0)
    dtm = Dtm(extent[0], extent[1], side, np.array([[base]]))
    check = GroundCheck(False, 0, 0.0, float("nan"), float("nan"), 0, float("nan"), (
        f"single-tree cloud (no ground; its lowest 0.5 m spans {span:.2f} m): heights above "
        f"its lowest points, z = {base:.2f}",))
    return dtm, check


@dataclass(frozen=True)
class _Row:
    base: FloatArray
    direction: FloatArray
    dbh_cm: float
    quality: str
    n_points: int
    message: str | None

    @property
    def radius_m(self) -> float:
        return self.dbh_cm / 200.0 if math.isfinite(self.dbh_cm) else 0.05

    def xy_bh(self) -> FloatArray:
        return np.asarray(self.base[:2] + (BREAST_HEIGHT_M / self.direction[2])
                          * self.direction[:2], dtype=np.float64)


def _table(
    candidates: list[StemCandidate], stems: list[StemMeasurement | None], dtm: Dtm,
    crown_points: FloatArray, params: TlsParams, plot_extent: tuple[float, float, float, float],
    messages: list[str],
) -> pd.DataFrame:
    rows: list[_Row] = []
    for cand, stem in zip(candidates, stems, strict=True):
        if stem is None:
            xy = cand.axis_xy_at(0.0)
            gz = float(dtm.ground_z(xy[:1], xy[1:])[0])
            rows.append(_Row(np.array([xy[0], xy[1], gz]), cand.direction, float("nan"),
                             "failed", cand.n_points, None))
        else:
            rows.append(_Row(stem.base, stem.direction, stem.dbh_cm, stem.quality,
                             stem.n_points, stem.message))
    rows = _dedupe(rows, params, messages)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in TREE_COLUMNS})
    bases = np.array([r.base for r in rows])
    dirs = np.array([r.direction for r in rows])
    dbh = np.array([r.dbh_cm for r in rows], dtype=np.float64)
    height, height_quality = tree_heights(crown_points, bases, dirs, dbh, params)
    bh = np.array([r.xy_bh() for r in rows])
    frame = pd.DataFrame({
        "x": bases[:, 0], "y": bases[:, 1], "dbh_cm": dbh, "height_m": height,
        "lean_deg": np.degrees(np.arccos(np.clip(dirs[:, 2], -1, 1))),
        "dbh_quality": [r.quality for r in rows], "height_quality": height_quality,
        "n_points": [r.n_points for r in rows], "x_bh": bh[:, 0], "y_bh": bh[:, 1],
        "_message": [r.message or "" for r in rows],
    })
    x0, y0, x1, y1 = plot_extent
    inside = frame["x"].between(x0, x1) & frame["y"].between(y0, y1)
    frame = frame[inside].sort_values(["x", "y"]).reset_index(drop=True)
    frame.insert(0, "tree_id", np.arange(1, len(frame) + 1))
    for tid, msg in zip(frame["tree_id"], frame["_message"], strict=True):
        if msg:
            messages.append(f"tree {tid}: {msg}")
    return frame.drop(columns="_message")[list(TREE_COLUMNS)]


def _dedupe(rows: list[_Row], params: TlsParams, messages: list[str]) -> list[_Row]:
    """Drop stems that are part of a better-measured stem.

    Rows are ranked by quality ('ok' first) and point count. A row is dropped when its axis at
    breast height lies within the sum of both radii (plus 5 cm) of a kept row's axis — the same
    stem found twice — or, when it is not 'ok', within ``branch_distance_m`` of the surface of a
    kept 'ok' stem: clusters hugging a well-fitted stem are its branches or foliage.
    """
    rank = {"ok": 0, "fallback": 1, "failed": 2}
    order = sorted(range(len(rows)), key=lambda i: (rank[rows[i].quality], -rows[i].n_points))
    kept: list[int] = []
    dropped = 0
    for i in order:
        xy = rows[i].xy_bh()
        clash = False
        for j in kept:
            gap = float(np.hypot(*(xy - rows[j].xy_bh())))
            if gap < rows[i].radius_m + rows[j].radius_m + 0.05 or (
                rows[i].quality != "ok" and rows[j].quality == "ok"
                and gap < rows[j].radius_m + params.branch_distance_m
            ):
                clash = True
                break
        if clash:
            dropped += 1
        else:
            kept.append(i)
    if dropped:
        messages.append(f"{dropped} stem candidate(s) next to a measured stem were taken for its "
                        "branches or a second detection, and dropped")
    return [rows[i] for i in sorted(kept)]
