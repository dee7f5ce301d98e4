"""DBH from robust circle fits on slices perpendicular to the stem axis.

For each stem the points near its axis are cut into slices of ``slice_thickness_m`` *along the
axis*, at the heights ``slice_heights_m`` (1.0–1.6 m every 0.15 m) and ``extra_slice_heights_m``
(0.6–2.6 m) above the ground at the stem base. Heights are vertical, like the field convention:
the slice at height h lies at axial distance h / cos(lean) from the base, and the points are
projected on the plane perpendicular to the axis, so the diameter of a leaning stem is measured
across the stem, not along the horizontal ellipse.

Each slice gets a robust circle (:func:`~minecarbon.survey.tls.circle.fit_circle`: RANSAC with
``ransac_draws`` draws and inlier distance ``circle_inlier_m``, then an iteratively reweighted
geometric fit). A fit counts when it has ``min_slice_points``
inliers, its inliers cover ``min_arc_coverage`` of ``arc_sectors`` angular sectors, its RMS
residual is at most ``max(max_circle_rms_m, max_circle_rms_rel · r)`` and the diameter lies in
``min_dbh_cm``–``max_dbh_cm``.

The axis is then refitted through the slice centres (a line fit in 3-D) and the slices are cut
again, twice. The DBH and its quality:

* ``'ok'``: at least ``min_agreeing_slices`` of the breast-height slices (1.0–1.6 m), and at least
  ``min_agreeing_share`` of those that pass, agree within ``max(agreement_abs_cm,
  agreement_rel · DBH)`` of their median; the DBH is the median of the agreeing slices;
* ``'fallback'``: otherwise, when three or more slices at any height pass and at least three of
  them, and ``min_agreeing_share`` of them, lie within the agreement tolerance of a taper line
  d(h) (Theil–Sen slope clipped to ``taper_range_cm_per_m``), that line read at 1.3 m. Flagged,
  with a message;
* ``'failed'``: no usable slice: DBH NaN (never a silent zero), with a message. When three or
  more slices gave circles but no three of them agree, the cluster is not a cylinder (foliage, a
  branch whorl): :attr:`StemMeasurement.is_stem` is False and the plot drops it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from minecarbon.survey.tls.circle import CircleFit, fit_circle
from minecarbon.survey.tls.params import TlsParams
from minecarbon.survey.tls.stems import BREAST_HEIGHT_M, StemCandidate

FloatArray = npt.NDArray[np.float64]
Quality = Literal["ok", "fallback", "failed"]
GroundZ = Callable[[FloatArray, FloatArray], FloatArray]


@dataclass(frozen=True)
class SliceFit:
    """One slice: its height, diameter (NaN when rejected), centre in 3-D and why it failed."""

    height_m: float
    diameter_cm: float
    centre: FloatArray | None
    n_points: int
    reason: str


@dataclass(frozen=True)
class StemMeasurement:
    """A measured stem: axis (base on the ground and direction), DBH and its quality."""

    base: FloatArray
    direction: FloatArray
    dbh_cm: float
    quality: Quality
    n_points: int
    slices: tuple[SliceFit, ...]
    message: str | None
    #: False when three or more slices gave circles but no three agree: foliage or a branch
    #: whorl, not a stem (process_plot drops such candidates).
    is_stem: bool = True

    @property
    def lean_deg(self) -> float:
        """Angle of the axis from the vertical (degrees)."""
        return float(np.degrees(np.arccos(np.clip(self.direction[2], -1.0, 1.0))))

    def axis_at_height(self, h: float) -> FloatArray:
        """The axis point ``h`` metres (vertically) above the base."""
        return np.asarray(self.base + (h / self.direction[2]) * self.direction, dtype=np.float64)


def _frame(u: FloatArray) -> tuple[FloatArray, FloatArray]:
    ref = np.array([1.0, 0.0, 0.0]) if abs(u[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(u, ref)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(u, e1)


def _base(p0: FloatArray, u: FloatArray, ground_z: GroundZ) -> FloatArray:
    """Where the axis through ``p0`` along ``u`` meets the ground."""
    point = p0.copy()
    for _ in range(4):
        gz = float(ground_z(point[:1], point[1:2])[0])
        point = point + ((gz - point[2]) / u[2]) * u
    return point


def _slices(pts: FloatArray, base: FloatArray, u: FloatArray, params: TlsParams,
            rng: np.random.Generator, max_radius: float) -> list[SliceFit]:
    e1, e2 = _frame(u)
    rel = pts - base
    along, c1, c2 = rel @ u, rel @ e1, rel @ e2
    half = params.slice_thickness_m / 2
    out: list[SliceFit] = []
    for h in params.all_slice_heights_m:
        s = h / u[2]
        sel = np.abs(along - s) <= half
        n = int(sel.sum())
        fit = None
        if n >= params.min_slice_points:
            fit = fit_circle(np.column_stack([c1[sel], c2[sel]]), inlier_m=params.circle_inlier_m,
                             draws=params.ransac_draws, rng=rng, max_radius_m=max_radius,
                             sectors=params.arc_sectors)
        reason = _reject(fit, n, params)
        if fit is None or reason:
            out.append(SliceFit(h, float("nan"), None, n, reason or "no circle"))
            continue
        centre = base + s * u + fit.x * e1 + fit.y * e2
        out.append(SliceFit(h, 200.0 * fit.radius_m, centre, n, ""))
    return out


def _reject(fit: CircleFit | None, n: int, params: TlsParams) -> str:
    if n < params.min_slice_points:
        return f"{n} points"
    if fit is None:
        return "no circle"
    d_cm = 200.0 * fit.radius_m
    if fit.n_inliers < params.min_slice_points:
        return f"{fit.n_inliers} inliers"
    if fit.coverage < params.min_arc_coverage:
        return f"arc covers {fit.coverage:.0%}"
    if fit.rms_m > max(params.max_circle_rms_m, params.max_circle_rms_rel * fit.radius_m):
        return f"residual {100 * fit.rms_m:.1f} cm"
    if not params.min_dbh_cm <= d_cm <= params.max_dbh_cm:
        return f"diameter {d_cm:.1f} cm"
    return ""


def _refit_axis(slices: list[SliceFit], u: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    centres = np.array([s.centre for s in slices if s.centre is not None])
    if len(centres) < 3 or np.ptp(centres[:, 2]) < 0.4:
        return None
    for _ in range(2):
        mid = centres.mean(axis=0)
        _, _, vt = np.linalg.svd(centres - mid)
        d = vt[0] if vt[0][2] > 0 else -vt[0]
        rel = centres - mid
        off = np.linalg.norm(rel - np.outer(rel @ d, d), axis=1)
        keep = off <= max(3.0 * float(np.median(off)), 0.01)
        if keep.all() or keep.sum() < 3:
            break
        centres = centres[keep]
    if float(d @ u) < np.cos(np.radians(20.0)):
        return None
    return mid, d


def _dbh(slices: list[SliceFit], params: TlsParams) -> tuple[float, Quality, str | None, bool]:
    """DBH, quality, message, and whether the slices look like a stem at all."""
    core = [s for s in slices if s.height_m in params.slice_heights_m and s.centre is not None]
    if len(core) >= params.min_agreeing_slices:
        d = np.array([s.diameter_cm for s in core])
        med = float(np.median(d))
        agree = np.abs(d - med) <= max(params.agreement_abs_cm, params.agreement_rel * med)
        if agree.sum() >= max(params.min_agreeing_slices, params.min_agreeing_share * len(d)):
            return float(np.median(d[agree])), "ok", None, True
    good = [s for s in slices if s.centre is not None]
    if len(good) >= 3:
        h = np.array([s.height_m for s in good])
        d = np.array([s.diameter_cm for s in good])
        dbh, slope = _taper(h, d, params)
        resid = np.abs(d - (dbh + slope * (h - BREAST_HEIGHT_M)))
        keep = resid <= max(params.agreement_abs_cm, params.agreement_rel * dbh)
        enough = keep.sum() >= max(3, params.min_agreeing_share * len(keep))
        if enough and keep.sum() < len(keep):
            dbh, slope = _taper(h[keep], d[keep], params)
        if enough and params.min_dbh_cm <= dbh <= params.max_dbh_cm:
            used = ", ".join(f"{x:g}" for x in h[keep])
            return dbh, "fallback", (
                f"DBH from a taper line through the slices at {used} m: the breast-height slices "
                f"did not give {params.min_agreeing_slices} agreeing circles"), True
        diameters = ", ".join(f"{x:.0f}" for x in d)
        return float("nan"), "failed", (
            f"the slices' circles disagree ({diameters} cm at {', '.join(f'{x:g}' for x in h)} "
            "m): not a cylinder"), False
    reasons = "; ".join(f"{s.height_m:g} m: {s.reason}" for s in slices if s.centre is None)
    return float("nan"), "failed", f"no usable stem slice ({reasons})", True


def _taper(h: FloatArray, d: FloatArray, params: TlsParams) -> tuple[float, float]:
    """Theil–Sen taper line: (diameter at 1.3 m, slope in cm/m, clipped to the plausible range)."""
    i, j = np.triu_indices(len(h), 1)
    dh = h[j] - h[i]
    ok = np.abs(dh) > 1e-6
    slope = float(np.median((d[j] - d[i])[ok] / dh[ok])) if ok.any() else 0.0
    slope = float(np.clip(slope, *params.taper_range_cm_per_m))
    return float(np.median(d - slope * (h - BREAST_HEIGHT_M))), slope


def measure_stem(
    candidate: StemCandidate, points: FloatArray, ground_z: GroundZ, params: TlsParams,
    rng: np.random.Generator,
) -> StemMeasurement:
    """Fit slices, refine the axis and derive the DBH of one stem from nearby ``points``."""
    p0, u = candidate.centre.astype(np.float64), candidate.direction.astype(np.float64)
    max_radius = params.max_dbh_cm / 200.0
    search = float(np.clip(2.5 * candidate.radius_m + 0.1, 0.15, 1.5 * max_radius + 0.1))
    heights = params.all_slice_heights_m
    span = (min(heights) - params.slice_thickness_m, max(heights) + params.slice_thickness_m)
    base = _base(p0, u, ground_z)

    def cut(base: FloatArray, u: FloatArray, search: float) -> tuple[list[SliceFit], int]:
        rel = points - base
        along = rel @ u
        perp = np.linalg.norm(rel - along[:, None] * u, axis=1)
        near = (perp <= search) & (along >= span[0] / u[2]) & (along <= span[1] / u[2])
        fits = _slices(points[near], base, u, params, rng, min(max_radius, search))
        return fits, int(near.sum())

    slices, n_near = cut(base, u, search)
    for _ in range(3):
        refit = _refit_axis(slices, u)
        if refit is None:
            break
        p0, u_new = refit
        radii = [s.diameter_cm / 200.0 for s in slices if s.centre is not None]
        search = float(np.clip(1.4 * np.median(radii) + 0.06, 0.1, search))
        moved = float(np.degrees(np.arccos(np.clip(u_new @ u, -1.0, 1.0))))
        new_base = _base(p0, u_new, ground_z)
        shift = float(np.linalg.norm(new_base - base))
        u, base = u_new, new_base
        slices, n_near = cut(base, u, search)
        if moved < 0.2 and shift < 0.002:
            break
    dbh, quality, message, cylinder = _dbh(slices, params)
    return StemMeasurement(base, u, dbh, quality, n_near, tuple(slices), message, cylinder)
