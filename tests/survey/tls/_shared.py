"""The real point clouds of ../shared/data/pointclouds for the TLS tests (skip when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "pointclouds"


def read_cloud(name: str) -> np.ndarray:
    """x, y, z (n, 3) of a LAS/LAZ or whitespace-separated text cloud; skip when it is absent."""
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    if path.suffix == ".txt":
        return np.loadtxt(path)[:, :3].astype(np.float64)
    laspy = pytest.importorskip("laspy")
    las = laspy.read(path)
    return np.column_stack([las.x, las.y, las.z]).astype(np.float64)
