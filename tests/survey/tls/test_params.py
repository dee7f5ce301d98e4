"""TlsParams: density scaling and validation."""

from __future__ import annotations

import pytest

from minecarbon.errors import InputDataError
from minecarbon.survey.tls import TlsParams


def test_thresholds_scale_with_density() -> None:
    dense, sparse = TlsParams.from_density(7000.0), TlsParams.from_density(1400.0)
    assert sparse.cluster_eps_m > dense.cluster_eps_m
    assert sparse.min_stem_points < dense.min_stem_points
    assert sparse.slice_thickness_m > dense.slice_thickness_m
    assert sparse.circle_inlier_m >= dense.circle_inlier_m
    assert sparse.min_slice_points <= dense.min_slice_points
    # spacing 1/√density: 5 × spacing for the cluster radius
    assert dense.cluster_eps_m == pytest.approx(5 / 7000**0.5)
    # clipped at the extremes
    assert TlsParams.from_density(1e9).cluster_eps_m == pytest.approx(0.04)
    assert TlsParams.from_density(1.0).cluster_eps_m == pytest.approx(0.3)
    assert TlsParams.from_density(1.0).min_stem_points == 8


def test_overrides_and_validation() -> None:
    p = TlsParams.from_density(5000.0, stripe_low_m=1.2)
    assert p.stripe_low_m == 1.2
    assert 1.3 in p.all_slice_heights_m and p.all_slice_heights_m == tuple(
        sorted(p.all_slice_heights_m))
    with pytest.raises(InputDataError, match="not a positive number"):
        TlsParams.from_density(0.0)
    with pytest.raises(InputDataError, match="stripe"):
        TlsParams(stripe_low_m=3.0, stripe_high_m=1.0)
    with pytest.raises(InputDataError, match="fine_voxel_m"):
        TlsParams(fine_voxel_m=0.0)
