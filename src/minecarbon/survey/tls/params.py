"""Every threshold of the TLS chain in one dataclass, scaled to the measured point density.

The most common failure of stem-detection tools is a fixed threshold tuned on one scanner: a
cluster distance that splits every stem of a sparser scan, or a minimum point count that no thin
stem reaches. Here the thresholds that depend on how densely a surface is sampled are derived from
the *point density on scanned surfaces*:

    density = 1 / s²,   s = median distance from a stem-stripe point to its nearest neighbour

measured in the stripe of 1–3 m above the ground after the fine voxel grid (see
:func:`minecarbon.survey.tls.stems.measure_spacing`). A plot scanned from five positions at
400 points/m² at 10 m has s ≈ 1.2 cm (about 7,000 points/m²); keeping a fifth of its points gives
s ≈ 2.4 cm (about 1,700 points/m²). :meth:`TlsParams.from_density` turns the density into the
spacing-dependent thresholds; everything else is geometry (heights, lean, diameters) and does not
change with the scanner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from minecarbon.errors import InputDataError

#: Density (points/m² of scanned surface) that the defaults are written for.
REFERENCE_DENSITY_PER_M2 = 5000.0


def _clip(value: float, lo: float, hi: float) -> float:
    return float(min(max(value, lo), hi))


@dataclass(frozen=True)
class TlsParams:
    """Thresholds of :func:`minecarbon.survey.tls.plot.process_plot` (lengths in metres)."""

    # --- preparation
    #: Points beyond the plot square by up to this are kept, so edge stems and crowns are whole.
    crop_buffer_m: float = 2.0
    #: Coarse voxel edge: ground search, outlier removal and tree tops work on these voxels.
    coarse_voxel_m: float = 0.1
    #: A coarse voxel is noise when it and its 26 neighbours hold fewer points than this.
    min_neighbourhood_points: int = 3
    #: Fine voxel edge for the stem stripe (range noise of a scanner is 2–5 mm).
    fine_voxel_m: float = 0.01
    #: Points are processed in chunks of this many, so memory stays bounded.
    chunk_points: int = 2_000_000

    # --- ground (ground.py)
    #: Cloth resolution of the cloth-simulation filter; None: 3 × the ground point spacing,
    #: clipped to 0.2–1.0 m.
    cloth_resolution_m: float | None = None
    #: Largest distance of a ground point from the settled cloth.
    cloth_class_threshold_m: float = 0.15
    #: Cloth rigidness (1 steep, 2 moderate, 3 flat); the ground is detrended first, so flat.
    cloth_rigidness: int = 3
    #: Iterations of the cloth simulation.
    cloth_iterations: int = 500
    #: A lowest point this far below its neighbours' median is a multipath outlier.
    below_ground_outlier_m: float = 0.3
    #: Cell of the digital terrain model.
    dtm_cell_m: float = 0.5
    #: Fewer ground points than this: the cloud has no ground (InputDataError).
    min_ground_points: int = 30
    #: The ground check fails below this share of plot cells (1 m) holding ground points.
    min_ground_coverage: float = 0.5
    #: The ground check fails when the robust spread of ground points about the DTM exceeds this.
    max_ground_spread_m: float = 0.1
    #: The ground check fails when the DTM is steeper than this anywhere (95th percentile).
    max_ground_slope_deg: float = 50.0
    #: A DTM cell further than this from the median of its 3 × 3 neighbours is a spike.
    ground_spike_m: float = 0.5
    #: Ground points on fewer than this share of the plot's 1 m cells: the cloud has no ground
    #: (InputDataError); a scan with its ground covers nearly all of them.
    no_ground_coverage: float = 0.2

    # --- stems (stems.py)
    #: Normalised heights of the stripe in which stems are detected.
    stripe_low_m: float = 1.0
    stripe_high_m: float = 3.0
    #: Neighbours of the local PCA that gives each stripe point's verticality.
    pca_neighbours: int = 12
    #: Points whose surface normal is within asin(this) of horizontal are stem candidates.
    min_verticality: float = 0.6
    #: DBSCAN neighbourhood radius and core-point count.
    cluster_eps_m: float = 0.06
    cluster_min_samples: int = 4
    #: A stem has at least this many points in the stripe.
    min_stem_points: int = 30
    #: A stem's points span at least this length along its axis.
    min_stem_extent_m: float = 0.6
    #: Largest lean from the vertical that a stem may have.
    max_lean_deg: float = 35.0
    #: Stem fragments whose axes pass closer than this at breast height are one stem.
    merge_distance_m: float = 0.25
    #: A candidate without an 'ok' DBH this close to the surface of an 'ok' stem (at breast
    #: height) is that stem's branches, not a tree.
    branch_distance_m: float = 1.0

    # --- DBH (dbh.py)
    #: Heights (above the ground at the stem base, measured along the axis) of the slices whose
    #: agreement gives a quality 'ok' DBH.
    slice_heights_m: tuple[float, ...] = (1.0, 1.15, 1.3, 1.45, 1.6)
    #: More slices, for the axis and for the taper fallback.
    extra_slice_heights_m: tuple[float, ...] = (0.6, 0.8, 1.8, 2.0, 2.2, 2.4, 2.6)
    #: Slice thickness along the axis.
    slice_thickness_m: float = 0.08
    #: A slice fit needs at least this many inlier points.
    min_slice_points: int = 8
    #: Angular sectors of the arc-coverage check and the share of them a fit must cover.
    arc_sectors: int = 16
    min_arc_coverage: float = 0.3
    #: Distance of a point from the circle below which it is an inlier.
    circle_inlier_m: float = 0.01
    #: Largest RMS residual of a fit, absolute and relative to the radius (the larger applies).
    max_circle_rms_m: float = 0.01
    max_circle_rms_rel: float = 0.08
    #: RANSAC draws per slice.
    ransac_draws: int = 150
    #: Plausible DBH range (cm).
    min_dbh_cm: float = 3.0
    max_dbh_cm: float = 200.0
    #: Slices agree when they are within max(this, agreement_rel × DBH) of their median.
    agreement_abs_cm: float = 1.0
    agreement_rel: float = 0.06
    #: At least this many agreeing breast-height slices make an 'ok' DBH.
    min_agreeing_slices: int = 3
    #: ... and at least this share of the slices that gave a circle (foliage gives circles of
    #: any size, a stem gives one size).
    min_agreeing_share: float = 0.6
    #: Taper fallback: plausible diameter change per metre of stem (cm/m; negative: narrower up).
    taper_range_cm_per_m: tuple[float, float] = (-6.0, 1.0)

    # --- height (height.py)
    #: Weight with which a stem claims crown points: a + b·DBH(cm)², at most max (height.py).
    crown_weight_base_m: float = 0.3
    crown_weight_per_cm2: float = 0.004
    max_crown_radius_m: float = 8.0
    #: A tree is 'overtopped' when its top lies within the nominal crown of a thicker
    #: neighbour whose own top is more than this higher (m): the top is then likely a point of
    #: the neighbour's crown. Neighbours of about the same height (an even-aged stand) do not
    #: overtop each other.
    overtop_margin_m: float = 0.5

    def __post_init__(self) -> None:
        positive = ("coarse_voxel_m", "fine_voxel_m", "dtm_cell_m", "cluster_eps_m",
                    "slice_thickness_m", "circle_inlier_m", "max_circle_rms_m")
        for name in positive:
            if not getattr(self, name) > 0:
                raise InputDataError(f"TLS parameter {name} = {getattr(self, name)} is not "
                                     "positive", fix=f"give {name} > 0")
        if not self.stripe_low_m < self.stripe_high_m:
            raise InputDataError(
                f"TLS stripe {self.stripe_low_m}–{self.stripe_high_m} m is empty",
                fix="give stripe_low_m < stripe_high_m",
            )
        if self.chunk_points < 1000:
            raise InputDataError(f"chunk_points {self.chunk_points} is too small",
                                 fix="give at least 1000")

    @property
    def all_slice_heights_m(self) -> tuple[float, ...]:
        """Every slice height, sorted."""
        return tuple(sorted({*self.slice_heights_m, *self.extra_slice_heights_m}))

    @classmethod
    def from_density(cls, points_per_m2: float, **overrides: Any) -> TlsParams:
        """Parameters for a cloud with ``points_per_m2`` points per m² of scanned surface.

        With the spacing ``s = 1/√density``:

        * cluster radius ``5 s`` (0.04–0.3 m), so that a stem stays one cluster;
        * minimum stem points ``0.006 · density`` (8–80): a 10 cm stem over the 2 m stripe,
          half seen, offers about 0.3 m² · density points;
        * slice thickness ``6 s`` (0.06–0.25 m), so that a slice holds enough points;
        * RANSAC inlier distance ``0.4 s`` (8–20 mm) and the RMS limit alike;
        * minimum slice points 8 at the reference density, 6 for sparse clouds.

        ``overrides`` replace any field afterwards.
        """
        if not (math.isfinite(points_per_m2) and points_per_m2 > 0):
            raise InputDataError(
                f"point density {points_per_m2} points/m² is not a positive number",
                fix="measure the density on a non-empty cloud",
            )
        s = 1.0 / math.sqrt(points_per_m2)
        scaled = cls(
            cluster_eps_m=_clip(5.0 * s, 0.04, 0.3),
            min_stem_points=round(_clip(0.006 * points_per_m2, 8, 80)),
            slice_thickness_m=_clip(6.0 * s, 0.06, 0.25),
            circle_inlier_m=_clip(0.4 * s, 0.008, 0.02),
            max_circle_rms_m=_clip(0.4 * s, 0.008, 0.02),
            min_slice_points=6 if points_per_m2 < REFERENCE_DENSITY_PER_M2 / 2 else 8,
        )
        return replace(scaled, **overrides) if overrides else scaled
