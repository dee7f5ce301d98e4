"""The counting comparison helper refuses what assert_allclose lets pass."""

from __future__ import annotations

import numpy as np
import pytest

from tests.compare import assert_close_counted


def test_all_nan_and_empty_arrays_fail() -> None:
    nan = np.full(5, np.nan)
    np.testing.assert_allclose(nan, nan)  # the trap: passes on nothing
    with pytest.raises(AssertionError, match="only 0 finite values"):
        assert_close_counted(nan, nan, min_count=1)
    with pytest.raises(AssertionError, match="only 0 finite values"):
        assert_close_counted([], [], min_count=1)


def test_nan_on_one_side_only_fails_and_a_good_match_counts() -> None:
    with pytest.raises(AssertionError, match="finite on one side only"):
        assert_close_counted([1.0, np.nan], [1.0, 2.0], min_count=1)
    assert assert_close_counted([1.0, np.nan, 3.0], [1.0, np.nan, 3.0 + 1e-9], min_count=2,
                                rtol=1e-6) == 2
    with pytest.raises(AssertionError):
        assert_close_counted([1.0, 2.0], [1.0, 2.5], min_count=2)
