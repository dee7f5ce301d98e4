"""Voxel grids built chunk by chunk, so that a cloud of any size is reduced in bounded memory.

A voxel is addressed by its integer indices ``(i, j, k) = floor((p − origin) / edge)``, packed
into one int64 key (21 bits per axis, so a grid spans up to 2²⁰ voxels either side of its
origin: 10 km at 1 cm). :class:`VoxelAccumulator` takes chunks of points and keeps, per occupied
voxel, the point count and the coordinate sums; :meth:`VoxelAccumulator.result` merges the chunks
into the centroid of each voxel. Only the occupied voxels are stored, never a dense grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from minecarbon.errors import InputDataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_BITS = 21
_HALF = 1 << (_BITS - 1)
_MASK = (1 << _BITS) - 1


@dataclass(frozen=True)
class Voxels:
    """Occupied voxels: sorted keys, centroid of the points in each, and their count."""

    edge_m: float
    origin: tuple[float, float, float]
    keys: IntArray
    centroids: FloatArray
    counts: IntArray

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def indices(self) -> IntArray:
        """Integer voxel indices (n, 3) relative to the origin."""
        return unpack(self.keys)

    def subset(self, mask: BoolArray) -> Voxels:
        """The voxels where ``mask`` holds."""
        return Voxels(self.edge_m, self.origin, self.keys[mask], self.centroids[mask],
                      self.counts[mask])


def pack(ijk: IntArray) -> IntArray:
    """Pack integer indices (n, 3) within ±2²⁰ into int64 keys (sortable, unique per voxel)."""
    shifted = ijk + _HALF
    return np.asarray((shifted[:, 0] << (2 * _BITS)) | (shifted[:, 1] << _BITS) | shifted[:, 2],
                      dtype=np.int64)


def unpack(keys: IntArray) -> IntArray:
    """Integer indices (n, 3) of packed keys."""
    i = (keys >> (2 * _BITS)) & _MASK
    j = (keys >> _BITS) & _MASK
    k = keys & _MASK
    return np.asarray(np.column_stack([i, j, k]) - _HALF, dtype=np.int64)


class VoxelAccumulator:
    """Reduce chunks of points to voxel centroids and counts."""

    def __init__(self, edge_m: float, origin: tuple[float, float, float]) -> None:
        if not edge_m > 0:
            raise InputDataError(f"voxel edge {edge_m} m is not positive", fix="give edge > 0")
        self.edge_m = float(edge_m)
        self.origin = origin
        self._keys: list[IntArray] = []
        self._sums: list[FloatArray] = []
        self._counts: list[IntArray] = []

    def add(self, xyz: FloatArray) -> None:
        """Add a chunk of points (n, 3)."""
        if len(xyz) == 0:
            return
        ijk = np.floor((xyz - np.asarray(self.origin)) / self.edge_m).astype(np.int64)
        if ijk.min() < -_HALF or ijk.max() >= _HALF:
            raise InputDataError(
                f"the cloud spans more than {_HALF * self.edge_m:g} m from {self.origin} on an "
                f"axis, too far for {self.edge_m:g} m voxels",
                fix="crop the cloud to the plot (give centre_xy and side_m) or split it into tiles",
            )
        keys, sums, counts = _reduce(pack(ijk), xyz, np.ones(len(xyz), dtype=np.int64))
        self._keys.append(keys)
        self._sums.append(sums)
        self._counts.append(counts)
        if len(self._keys) > 8:  # merge early so the partial results stay small
            self._merge()

    def _merge(self) -> None:
        if len(self._keys) <= 1:
            return
        keys, sums, counts = _reduce(
            np.concatenate(self._keys), np.vstack(self._sums), np.concatenate(self._counts)
        )
        self._keys, self._sums, self._counts = [keys], [sums], [counts]

    def result(self) -> Voxels:
        """The occupied voxels (sorted by key) with their centroids and counts."""
        self._merge()
        if not self._keys:
            empty = np.zeros(0, dtype=np.int64)
            return Voxels(self.edge_m, self.origin, empty, np.zeros((0, 3)), empty.copy())
        keys, sums, counts = self._keys[0], self._sums[0], self._counts[0]
        return Voxels(self.edge_m, self.origin, keys, sums / counts[:, None], counts)


def _reduce(
    keys: IntArray, sums: FloatArray, counts: IntArray
) -> tuple[IntArray, FloatArray, IntArray]:
    """Sum rows with equal keys (sums (n, 3), counts (n,)); keys come back sorted and unique."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    out = np.column_stack(
        [np.bincount(inverse, weights=sums[:, c], minlength=len(uniq)) for c in range(3)]
    )
    n = np.bincount(inverse, weights=counts, minlength=len(uniq)).astype(np.int64)
    return uniq.astype(np.int64), np.asarray(out, dtype=np.float64), n


def voxel_downsample(xyz: FloatArray, edge_m: float, *, chunk_points: int = 2_000_000) -> Voxels:
    """Centroids and counts of the voxels of edge ``edge_m`` that hold points of ``xyz``."""
    pts = np.asarray(xyz, dtype=np.float64)
    origin = (
        (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 2].min()))
        if len(pts) else (0.0, 0.0, 0.0)
    )
    acc = VoxelAccumulator(edge_m, origin)
    for start in range(0, len(pts), chunk_points):
        acc.add(pts[start : start + chunk_points])
    return acc.result()


def neighbourhood_counts(voxels: Voxels, candidates: BoolArray | None = None) -> IntArray:
    """Points in each voxel's 3 × 3 × 3 neighbourhood (itself included).

    Only the voxels where ``candidates`` holds are counted (the others get their own count), so
    that an outlier filter need not look around voxels that are full anyway.
    """
    out = voxels.counts.copy()
    idx = np.flatnonzero(candidates) if candidates is not None else np.arange(len(voxels))
    if idx.size == 0 or len(voxels) == 0:
        return out
    base = voxels.keys[idx]
    total = np.zeros(idx.size, dtype=np.int64)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            for dk in (-1, 0, 1):
                shifted = base + ((di << (2 * _BITS)) + (dj << _BITS) + dk)
                pos = np.searchsorted(voxels.keys, shifted)
                pos = np.minimum(pos, len(voxels) - 1)
                hit = voxels.keys[pos] == shifted
                total += np.where(hit, voxels.counts[pos], 0)
    out[idx] = total
    return out


def remove_isolated(voxels: Voxels, min_points: int) -> BoolArray:
    """Mask of the voxels whose 3 × 3 × 3 neighbourhood holds at least ``min_points`` points.

    Stray points in the air and multipath points below the ground are isolated; surfaces are not.
    """
    sparse = voxels.counts < min_points
    return neighbourhood_counts(voxels, sparse) >= min_points
