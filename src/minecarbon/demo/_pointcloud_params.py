"""Parameters of the point-cloud simulator: array types, scanner and scene constants, ASPRS classes.

The constants describe the TLS model of :mod:`minecarbon.demo.pointclouds` (scanner height, range
noise, density cap, ground microrelief, broadleaf taper, foliage fill, noise share, shrubs), the
ASPRS classification codes that both the TLS and the ALS clouds use, and the random streams: all
randomness comes from ``numpy.random.default_rng((seed, stream))`` (:func:`_rng`), one stream per
purpose, so that one part of a scene never shifts the draws of another.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
UInt8Array = npt.NDArray[np.uint8]

#: Height of DBH above the ground at the stem base (m).
BREAST_HEIGHT_M = 1.3
#: Height of the scanner's centre above the ground (m).
SCANNER_HEIGHT_M = 1.5
#: Margin scanned around the plot square on every side (m).
TLS_MARGIN_M = 3.0
#: Standard deviation of the range noise along each ray (m).
RANGE_NOISE_M = 0.005
#: Ranges below this get the density at this range (the density cap), m.
MIN_RANGE_M = 2.0
#: Ground density relative to a surface facing the scanner (grazing incidence).
GROUND_DENSITY_FACTOR = 0.3
#: Amplitude of the ground microrelief (m); typical deviations are a third of it.
MICRORELIEF_M = 0.03
#: Broadleaf stem taper: loss of diameter per metre of stem (cm/m).
BROADLEAF_TAPER_CM_PER_M = 0.8
#: Share of the crown envelope's area that returns foliage points at the nominal density.
LEAF_FILL = 0.4
#: Keep probability of foliage and shrub points on the side of a crown away from the scanner.
FAR_SIDE_KEEP = 0.35
#: Noise points (class 7) added per scan, as a share of the scan's points.
NOISE_FRACTION = 0.002
#: Shrubs per m² of the scanned square, and their largest height (m).
SHRUB_DENSITY_PER_M2 = 0.01
SHRUB_MAX_HEIGHT_M = 1.0
#: Smallest stem or branch radius sampled (m).
_R_FLOOR = 0.002
#: Candidate stem segments are at most this long (m), so the sampling density fits the range.
_SEGMENT_M = 1.0

#: ASPRS classes.
CLASS_UNCLASSIFIED = 1
CLASS_GROUND = 2
CLASS_LOW_VEGETATION = 3
CLASS_MEDIUM_VEGETATION = 4
CLASS_HIGH_VEGETATION = 5
CLASS_NOISE = 7

DEFAULT_SCANNER_OFFSETS: tuple[tuple[float, float], ...] = (
    (-0.35, -0.35),
    (0.35, -0.35),
    (0.35, 0.35),
    (-0.35, 0.35),
    (0.0, 0.0),
)

TRUTH_COLUMNS = (
    "tree_id",
    "x_m",
    "y_m",
    "dbh_cm",
    "height_m",
    "lean_deg",
    "species_code",
    "lean_azimuth_deg",
    "crown_radius_m",
    "ground_z_m",
    "in_plot",
)

_REQUIRED = ("tree_id", "x_m", "y_m", "dbh_cm", "height_m", "species_code")

# Random streams (one generator per purpose, so that parts do not shift each other).
_STREAM_TREES = 1
_STREAM_GEOMETRY = 2
_STREAM_SHRUBS = 3
_STREAM_SUBSAMPLE = 4
_STREAM_SCAN = 100
_STREAM_MICRORELIEF = 7


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng((int(seed), stream))
