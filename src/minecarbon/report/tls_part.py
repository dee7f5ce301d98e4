"""The TLS validation against the tally (requirement P4) as a report table (issue 18).

One row per scanned plot from ``products/tls/<plot>_validation.json``: the point density, the
trees of the tally, those detected and matched, the detection and commission rates, and the
bias and RMSE of the TLS DBH (cm) and height (m) against the tally.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from minecarbon.report.document import Lang, Table
from minecarbon.report.texts import tr

COLUMNS = ("plot", "density", "tally", "detected", "matched", "detection", "commission",
           "dbh_bias", "dbh_rmse", "height_bias", "height_rmse")


def _num(value: Any, digits: int) -> Any:
    try:
        return round(float(value), digits)
    except (TypeError, ValueError):
        return "—"


def tls_table(validations: list[dict[str, Any]], lang: Lang) -> Table:
    """The validation of every scanned plot, in plot order."""
    rows = [[v.get("plot_id", "—"), _num(v.get("density_points_per_m2"), 0),
             v.get("n_tally", "—"), v.get("n_detected", "—"), v.get("matched", "—"),
             _num(v.get("detection_rate"), 3), _num(v.get("commission_rate"), 3),
             _num(v.get("dbh_bias"), 2), _num(v.get("dbh_rmse"), 2),
             _num(v.get("height_bias"), 2), _num(v.get("height_rmse"), 2)]
            for v in sorted(validations, key=lambda d: str(d.get("plot_id")))]
    frame = pd.DataFrame(rows, columns=[tr(f"tls.{c}", lang) for c in COLUMNS])
    return Table(frame, tr("tls.table", lang), note=tr("tls.note", lang),
                 source="products/tls/<plot>_validation.json")
