"""Comparisons that cannot pass on nothing (issue 19): count what was compared.

``np.testing.assert_allclose`` passes on two all-NaN arrays (NaN equals NaN there) and on empty
ones. :func:`assert_close_counted` also requires both sides to be NaN at the same places and at
least ``min_count`` finite pairs, and returns how many it compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def assert_close_counted(actual: Any, expected: Any, *, min_count: int, rtol: float = 1e-7,
                         atol: float = 0.0, err_msg: str = "") -> int:
    """Assert ``actual ≈ expected`` on at least ``min_count`` finite values; return the count."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{err_msg}: shapes {a.shape} and {e.shape} differ"
    fa, fe = np.isfinite(a), np.isfinite(e)
    assert (fa == fe).all(), (f"{err_msg}: {int((fa != fe).sum())} values are finite on one "
                              "side only")
    count = int(fa.sum())
    assert count >= min_count, f"{err_msg}: only {count} finite values compared (< {min_count})"
    np.testing.assert_allclose(a[fa], e[fe], rtol=rtol, atol=atol, err_msg=err_msg)
    return count
