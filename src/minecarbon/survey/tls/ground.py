"""Ground: cloth-simulation filtering, a terrain model (DTM) and an automatic check of it.

1. The lowest coarse voxel of each column (:func:`lowest_per_column`) stands for the column; the
   coarse voxels were already cleared of isolated noise (:func:`~.voxels.remove_isolated`).
2. A robust plane is fitted and subtracted, so that the cloth works on a level plot whatever the
   slope; lowest points far below their neighbours (multipath echoes) are dropped.
3. The cloth-simulation filter (Zhang et al. 2016, the ``CSF`` package) settles an inverted cloth
   on the points; points within ``cloth_class_threshold_m`` of it are ground. The cloth resolution
   is three times the ground point spacing (0.2–1 m) unless given.
4. The DTM is the median height of the ground points per ``dtm_cell_m`` cell; empty cells are
   interpolated linearly (nearest value outside the data's hull). :meth:`Dtm.ground_z` reads it
   bilinearly.
5. :func:`check_ground` judges the model: share of the plot's 1 m cells holding ground points,
   robust spread of the ground points about the DTM, steep slopes and spikes.

A cloud without ground (too few ground points, or ground points on under a fifth of the
plot — the cloth then rests on stem bases and crowns) raises
:class:`~minecarbon.errors.InputDataError` naming the fix.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.interpolate import griddata
from scipy.ndimage import median_filter
from scipy.spatial import cKDTree

from minecarbon.errors import MissingDependencyError, NoGroundError
from minecarbon.survey.tls.params import TlsParams
from minecarbon.survey.tls.voxels import Voxels

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

Extent = tuple[float, float, float, float]


@dataclass(frozen=True)
class Dtm:
    """A terrain raster.

    ``z[row, col]`` is the ground at the centre of the cell whose south-west corner is
    ``(x0 + col·cell, y0 + row·cell)``.
    """

    x0: float
    y0: float
    cell_m: float
    z: FloatArray

    def ground_z(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Ground height at ``(x, y)``, bilinear between cell centres, constant beyond the edge."""
        ny, nx = self.z.shape
        fx = np.clip((np.asarray(x) - self.x0) / self.cell_m - 0.5, 0.0, nx - 1.0)
        fy = np.clip((np.asarray(y) - self.y0) / self.cell_m - 0.5, 0.0, ny - 1.0)
        i0 = np.minimum(np.floor(fx).astype(np.int64), max(nx - 2, 0))
        j0 = np.minimum(np.floor(fy).astype(np.int64), max(ny - 2, 0))
        i1, j1 = np.minimum(i0 + 1, nx - 1), np.minimum(j0 + 1, ny - 1)
        wx, wy = fx - i0, fy - j0
        z = self.z
        top = z[j0, i0] * (1 - wx) + z[j0, i1] * wx
        bottom = z[j1, i0] * (1 - wx) + z[j1, i1] * wx
        return np.asarray(top * (1 - wy) + bottom * wy, dtype=np.float64)

    def height_above(self, xyz: FloatArray) -> FloatArray:
        """Normalised heights: z minus the ground below each point."""
        return np.asarray(xyz[:, 2] - self.ground_z(xyz[:, 0], xyz[:, 1]), dtype=np.float64)


@dataclass(frozen=True)
class GroundCheck:
    """The automatic check of a ground model; ``ok`` is False when any message is a failure."""

    ok: bool
    n_ground_points: int
    coverage: float
    spread_m: float
    slope_p95_deg: float
    n_spikes: int
    cloth_resolution_m: float
    messages: tuple[str, ...]


def lowest_per_column(voxels: Voxels) -> FloatArray:
    """Centroid of the lowest voxel in each occupied (i, j) column, (m, 3)."""
    if len(voxels) == 0:
        return np.zeros((0, 3))
    ijk = voxels.indices()
    column = (ijk[:, 0] << 21) + ijk[:, 1]
    order = np.lexsort((ijk[:, 2], column))
    first = np.ones(order.size, dtype=bool)
    first[1:] = column[order][1:] != column[order][:-1]
    return np.asarray(voxels.centroids[order[first]], dtype=np.float64)


def fit_plane(xyz: FloatArray, *, rounds: int = 4) -> FloatArray:
    """Coefficients (a, b, c) of z = a + b·x + c·y, refitted without the upper half of residuals.

    The lowest points of a forest plot lie on the ground or above it (stems, shrubs), so each
    round keeps the points at or below the 60th percentile of the residuals.
    """
    keep = np.ones(len(xyz), dtype=bool)
    coef = np.array([float(np.median(xyz[:, 2])), 0.0, 0.0])
    for _ in range(rounds):
        if keep.sum() < 3:
            break
        a = np.column_stack([np.ones(keep.sum()), xyz[keep, 0], xyz[keep, 1]])
        coef = np.linalg.lstsq(a, xyz[keep, 2], rcond=None)[0]
        resid = xyz[:, 2] - (coef[0] + coef[1] * xyz[:, 0] + coef[2] * xyz[:, 1])
        keep = resid <= np.percentile(resid, 60)
    return np.asarray(coef, dtype=np.float64)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence the C++ progress lines that CSF prints to the process's standard output."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """Run OpenMP code on one thread.

    The cloth simulation's result depends on the thread count and scheduling, and the same input
    must give the same ground.
    """
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        raise MissingDependencyError(
            "ground filtering of TLS clouds needs threadpoolctl (to make the cloth simulation "
            "repeatable)", fix="pip install threadpoolctl") from None
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        yield


def _csf() -> Any:
    try:
        return importlib.import_module("CSF")
    except ImportError:
        raise MissingDependencyError(
            "ground filtering of TLS clouds needs the cloth-simulation filter",
            fix="pip install cloth-simulation-filter",
        ) from None


def cloth_ground(
    xyz: FloatArray, *, resolution_m: float, threshold_m: float, rigidness: int, iterations: int
) -> BoolArray:
    """Cloth-simulation filter: mask of the ground points of ``xyz`` (local coordinates)."""
    csf_module = _csf()
    csf = csf_module.CSF()
    csf.params.bSloopSmooth = True
    csf.params.cloth_resolution = float(resolution_m)
    csf.params.rigidness = int(rigidness)
    csf.params.class_threshold = float(threshold_m)
    csf.params.interations = int(iterations)
    csf.params.time_step = 0.65
    csf.setPointCloud(np.ascontiguousarray(xyz, dtype=np.float64))
    ground, off = csf_module.VecInt(), csf_module.VecInt()
    with _quiet_stdout(), _single_thread():
        csf.do_filtering(ground, off, False)
    mask = np.zeros(len(xyz), dtype=bool)
    mask[np.asarray(list(ground), dtype=np.int64)] = True
    return mask


def build_dtm(ground: FloatArray, extent: Extent, cell_m: float) -> Dtm:
    """Median ground height per cell over ``extent``, gaps interpolated."""
    x0, y0, x1, y1 = extent
    nx = max(int(np.ceil((x1 - x0) / cell_m)), 1)
    ny = max(int(np.ceil((y1 - y0) / cell_m)), 1)
    col = np.clip(((ground[:, 0] - x0) / cell_m).astype(np.int64), 0, nx - 1)
    row = np.clip(((ground[:, 1] - y0) / cell_m).astype(np.int64), 0, ny - 1)
    flat = row * nx + col
    order = np.lexsort((ground[:, 2], flat))
    cells, start, count = np.unique(flat[order], return_index=True, return_counts=True)
    z_sorted = ground[order, 2]
    lo, hi = start + (count - 1) // 2, start + count // 2
    med = 0.5 * (z_sorted[lo] + z_sorted[hi])
    flat_grid = np.full(ny * nx, np.nan)
    flat_grid[cells] = med
    grid = flat_grid.reshape(ny, nx)
    missing = np.isnan(grid)
    if missing.any():
        jj, ii = np.nonzero(~missing)
        pts = np.column_stack([ii, jj]).astype(np.float64)
        mj, mi = np.nonzero(missing)
        targets = np.column_stack([mi, mj]).astype(np.float64)
        filled: FloatArray = np.full(len(targets), np.nan)
        if len(pts) >= 3 and np.ptp(pts[:, 0]) > 0 and np.ptp(pts[:, 1]) > 0:
            filled = griddata(pts, grid[~missing], targets, method="linear")
        gap = np.isnan(filled)
        if gap.any():
            filled[gap] = griddata(pts, grid[~missing], targets[gap], method="nearest")
        grid[missing] = filled
    return Dtm(x0, y0, cell_m, grid)


def check_ground(
    ground: FloatArray, dtm: Dtm, plot_extent: Extent, params: TlsParams, cloth_m: float
) -> GroundCheck:
    """Coverage, spread, slope and spikes of a ground model, with a message for each failure."""
    messages: list[str] = []
    x0, y0, x1, y1 = plot_extent
    nx, ny = max(int(np.ceil(x1 - x0)), 1), max(int(np.ceil(y1 - y0)), 1)
    inside = (ground[:, 0] >= x0) & (ground[:, 0] < x1) & (ground[:, 1] >= y0) & (
        ground[:, 1] < y1)
    cells = np.unique(
        np.clip((ground[inside, 1] - y0).astype(np.int64), 0, ny - 1) * nx
        + np.clip((ground[inside, 0] - x0).astype(np.int64), 0, nx - 1)
    )
    coverage = cells.size / (nx * ny)
    resid = ground[:, 2] - dtm.ground_z(ground[:, 0], ground[:, 1])
    spread = float(1.4826 * np.median(np.abs(resid - np.median(resid)))) if len(resid) else 0.0
    slope = np.zeros(1)
    if min(dtm.z.shape) > 1:
        gy, gx = np.gradient(dtm.z, dtm.cell_m)
        slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    slope95 = float(np.percentile(slope, 95))
    spikes = int((np.abs(dtm.z - median_filter(dtm.z, size=3, mode="nearest"))
                  > params.ground_spike_m).sum())
    if coverage < params.min_ground_coverage:
        messages.append(f"ground points cover only {coverage:.0%} of the plot's 1 m cells "
                        f"(at least {params.min_ground_coverage:.0%} expected): the terrain is "
                        "interpolated over the gaps")
    if spread > params.max_ground_spread_m:
        messages.append(f"ground points scatter {spread:.2f} m about the terrain model (at most "
                        f"{params.max_ground_spread_m:.2f} m expected): low vegetation may be "
                        "taken for ground")
    if slope95 > params.max_ground_slope_deg:
        messages.append(f"the terrain model is implausibly steep ({slope95:.0f}° at the 95th "
                        "percentile)")
    if spikes:
        messages.append(f"the terrain model has {spikes} spike cell(s) more than "
                        f"{params.ground_spike_m:g} m off their neighbours")
    return GroundCheck(
        ok=not messages, n_ground_points=len(ground), coverage=float(coverage),
        spread_m=spread, slope_p95_deg=slope95, n_spikes=spikes, cloth_resolution_m=cloth_m,
        messages=tuple(messages),
    )


def ground_model(
    voxels: Voxels, extent: Extent, plot_extent: Extent, params: TlsParams
) -> tuple[Dtm, GroundCheck]:
    """Classify the ground among the lowest voxels, build the DTM and check it.

    Raises
    ------
    NoGroundError
        If no ground is found (the cloud holds no ground returns, e.g. it was cut above the
        ground or holds only the canopy).

    """
    low = lowest_per_column(voxels)
    fix = ("give the whole cloud including its ground returns (do not cut it above the ground "
           "or drop the ground class)")
    if len(low) < params.min_ground_points:
        raise NoGroundError(f"the point cloud has no ground: only {len(low)} lowest points "
                             "to search for ground", fix=fix)
    origin = np.array([low[:, 0].min(), low[:, 1].min(), 0.0])
    local = low - origin
    coef = fit_plane(local)
    local[:, 2] -= coef[0] + coef[1] * local[:, 0] + coef[2] * local[:, 1]
    k = min(16, len(local))
    _, nb = cKDTree(local[:, :2]).query(local[:, :2], k=k)
    keep = local[:, 2] >= np.median(local[nb, 2], axis=1) - params.below_ground_outlier_m
    local, low = local[keep], low[keep]
    area = max((extent[2] - extent[0]) * (extent[3] - extent[1]), voxels.edge_m**2)
    spacing = max(float(np.sqrt(area / max(len(low), 1))), voxels.edge_m)
    cloth = params.cloth_resolution_m or float(np.clip(3.0 * spacing, 0.2, 1.0))
    is_ground = cloth_ground(local, resolution_m=cloth, threshold_m=params.cloth_class_threshold_m,
                             rigidness=params.cloth_rigidness, iterations=params.cloth_iterations)
    ground = low[is_ground]
    if len(ground) < params.min_ground_points:
        raise NoGroundError(
            f"the point cloud has no ground: the ground filter found {len(ground)} ground "
            f"point(s) (at least {params.min_ground_points} needed)", fix=fix)
    dtm = build_dtm(ground, extent, params.dtm_cell_m)
    check = check_ground(ground, dtm, plot_extent, params, cloth)
    if check.coverage < params.no_ground_coverage:
        raise NoGroundError(
            f"the point cloud has no ground: ground points cover only {check.coverage:.0%} of "
            f"the plot's 1 m cells (at least {params.no_ground_coverage:.0%} needed; a scan "
            "with its ground covers most of them)", fix=fix)
    return dtm, check
