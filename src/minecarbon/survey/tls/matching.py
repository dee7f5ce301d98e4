"""One-to-one matching of TLS trees to the tally (每木检尺), and the validation metrics (P4).

Pairs are chosen by the Hungarian algorithm (:func:`minecarbon.matching.match_trees`) on the
planar distance between tree positions, so that the sum of distances over all pairs is the
smallest possible; a pair further apart than ``max_distance_m`` (the gate) is no pair. Tally
trees without a pair are omissions, detected trees without a pair are commissions.

Metrics (:class:`MatchMetrics`):

* ``detection_rate`` = matched / n_tally; ``commission_rate`` = unmatched detected / n_detected;
* for DBH and height, over the pairs where both values are known: ``bias`` = mean(TLS − tally),
  ``rmse`` = √mean((TLS − tally)²), ``rel_rmse`` = rmse / mean(tally) and the pair count ``n``.
  A TLS DBH that is NaN (quality 'failed') is not a difference of zero: it is left out and counted
  in ``n_dbh_missing``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from minecarbon.errors import InputDataError
from minecarbon.matching import match_trees

FloatArray = npt.NDArray[np.float64]

#: Default gate: a tallied and a detected tree further apart than this are not the same tree.
DEFAULT_MAX_DISTANCE_M = 1.5

PAIR_COLUMNS = ("tally_index", "detected_index", "tally_id", "detected_id", "distance_m",
                "dbh_tally_cm", "dbh_tls_cm", "height_tally_m", "height_tls_m")


@dataclass(frozen=True)
class ErrorStats:
    """Agreement of one variable over the matched pairs."""

    n: int
    bias: float
    rmse: float
    rel_rmse: float


@dataclass(frozen=True)
class MatchMetrics:
    """Detection and accuracy of TLS trees against a tally."""

    n_tally: int
    n_detected: int
    matched: int
    detection_rate: float
    commission_rate: float
    dbh: ErrorStats
    height: ErrorStats
    n_dbh_missing: int

    def as_dict(self) -> dict[str, float | int]:
        """Flat dictionary (``dbh_bias``, ``height_rmse``, …) for JSON or a table row."""
        flat: dict[str, float | int] = {}
        for key, value in asdict(self).items():
            if isinstance(value, dict):
                flat.update({f"{key}_{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        return flat


@dataclass(frozen=True)
class MatchResult:
    """The pairs (one row each, columns :data:`PAIR_COLUMNS`) and the metrics."""

    pairs: pd.DataFrame
    metrics: MatchMetrics


def _xy(frame: pd.DataFrame, name: str) -> FloatArray:
    missing = [c for c in ("x", "y") if c not in frame.columns]
    if missing:
        raise InputDataError(f"the {name} tree list has no column(s) {', '.join(missing)}",
                             fix="give tree positions in columns x and y (map metres)")
    xy: FloatArray = np.asarray(frame[["x", "y"]].to_numpy(dtype=np.float64), dtype=np.float64)
    if len(xy) and not np.isfinite(xy).all():
        row = int(np.flatnonzero(~np.isfinite(xy).all(axis=1))[0])
        raise InputDataError(f"the {name} tree list has no position in row {row}",
                             fix="drop trees without a position before matching")
    return xy


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    values: FloatArray = np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)
    return values


def _stats(tls: FloatArray, ref: FloatArray) -> ErrorStats:
    ok = np.isfinite(tls) & np.isfinite(ref)
    if not ok.any():
        return ErrorStats(0, math.nan, math.nan, math.nan)
    diff = tls[ok] - ref[ok]
    rmse = float(np.sqrt(np.mean(diff**2)))
    mean_ref = float(np.mean(ref[ok]))
    return ErrorStats(int(ok.sum()), float(np.mean(diff)), rmse,
                      rmse / mean_ref if mean_ref else math.nan)


def match_to_tally(
    detected: pd.DataFrame, tally: pd.DataFrame, max_distance_m: float = DEFAULT_MAX_DISTANCE_M,
) -> MatchResult:
    """Match detected trees to tallied trees one to one and measure the agreement.

    Both tables need ``x`` and ``y`` (the same CRS); ``dbh_cm``, ``height_m`` and ``tree_id``
    are used when present.
    """
    if not (math.isfinite(max_distance_m) and max_distance_m > 0):
        raise InputDataError(f"matching distance {max_distance_m} m is not positive",
                             fix="give max_distance_m > 0")
    a, b = _xy(tally, "tally"), _xy(detected, "detected")
    pairs = match_trees(a, np.full(len(a), np.nan), b, np.full(len(b), np.nan),
                        max_distance_m=max_distance_m)
    rows_t = pairs["reference"].to_numpy(dtype=np.int64)
    rows_d = pairs["detected"].to_numpy(dtype=np.int64)
    dist = pairs["distance_m"].to_numpy(dtype=np.float64)
    ids_t = tally["tree_id"].to_numpy() if "tree_id" in tally else np.arange(len(tally))
    ids_d = detected["tree_id"].to_numpy() if "tree_id" in detected else np.arange(len(detected))
    dbh_t, dbh_d = _column(tally, "dbh_cm")[rows_t], _column(detected, "dbh_cm")[rows_d]
    h_t, h_d = _column(tally, "height_m")[rows_t], _column(detected, "height_m")[rows_d]
    pairs = pd.DataFrame({
        "tally_index": rows_t, "detected_index": rows_d, "tally_id": ids_t[rows_t],
        "detected_id": ids_d[rows_d], "distance_m": dist, "dbh_tally_cm": dbh_t,
        "dbh_tls_cm": dbh_d, "height_tally_m": h_t, "height_tls_m": h_d,
    })
    n_t, n_d, m = len(tally), len(detected), len(rows_t)
    metrics = MatchMetrics(
        n_tally=n_t, n_detected=n_d, matched=m,
        detection_rate=m / n_t if n_t else math.nan,
        commission_rate=(n_d - m) / n_d if n_d else math.nan,
        dbh=_stats(dbh_d, dbh_t), height=_stats(h_d, h_t),
        n_dbh_missing=int((~np.isfinite(dbh_d) & np.isfinite(dbh_t)).sum()),
    )
    return MatchResult(pairs, metrics)
