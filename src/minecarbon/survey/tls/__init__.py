"""Terrestrial laser scanning (TLS) of a plot: stems, DBH, heights and validation (P3, P4).

:func:`~minecarbon.survey.tls.plot.process_plot` turns a plot's points into a tree list:
crop → coarse voxels and outlier removal → ground (cloth simulation, DTM, check) → height
normalisation → stem detection in a stripe (verticality, DBSCAN, axis line fits) → DBH from
robust circle fits on slices perpendicular to the axis, with quality flags → heights from the
crown tops. Thresholds scale with the measured point density (:class:`TlsParams`).
:func:`~minecarbon.survey.tls.matching.match_to_tally` pairs the trees with a tally and reports
detection, commission, bias and RMSE.

The stage is pure: it takes arrays and tables and returns tables and dataclasses; reading the
LAS/LAZ file is :mod:`minecarbon.io`'s job.
"""

from minecarbon.survey.tls.ground import Dtm, GroundCheck
from minecarbon.survey.tls.matching import MatchMetrics, MatchResult, match_to_tally
from minecarbon.survey.tls.params import TlsParams
from minecarbon.survey.tls.plot import TREE_COLUMNS, TlsResult, process_plot

__all__ = [
    "TREE_COLUMNS",
    "Dtm",
    "GroundCheck",
    "MatchMetrics",
    "MatchResult",
    "TlsParams",
    "TlsResult",
    "match_to_tally",
    "process_plot",
]
