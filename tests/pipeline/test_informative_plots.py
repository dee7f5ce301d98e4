"""Which plots give the change calibration's b (decision 45): the forest types whose models see
AGC; the types whose out-of-fold R² ≤ 0 borrow their change instead and leave b, unless they
cannot borrow (no forest type of the maps, or borrowing switched off)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from minecarbon.config import Config
from minecarbon.pipeline.synthetic_change_steps import informative_plots


def _oof() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for stratum, informative in (("broadleaf", True), ("sparse", False),
                                 ("plantation", False)):
        observed = rng.uniform(10, 80, 12)
        predicted = (observed * 0.6 + 12 + rng.normal(0, 3, 12) if informative
                     else rng.permutation(observed))  # R² ≤ 0: no better than the mean
        rows += [{"stratum": stratum, "observed": o, "predicted": p}
                 for o, p in zip(observed, predicted, strict=True)]
    return pd.DataFrame(rows)


def _ctx(synthetic: bool) -> SimpleNamespace:
    config = Config.model_validate({"mapping": {"synthetic_change": synthetic}})
    return SimpleNamespace(config=config)


def test_only_types_that_can_borrow_leave_b() -> None:
    oof = _oof()
    kept, excluded = informative_plots(_ctx(True), oof)
    assert excluded == ["sparse"]  # 'plantation' is no forest type of the maps: it stays
    assert sorted(kept["stratum"].unique()) == ["broadleaf", "plantation"]
    assert len(kept) == 24
    kept_off, excluded_off = informative_plots(_ctx(False), oof)
    assert excluded_off == [] and len(kept_off) == len(oof) == 36
