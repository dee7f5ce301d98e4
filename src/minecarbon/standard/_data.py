"""Reading the package's own data tables."""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files


@cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of ``standard/data/<name>`` as dicts (UTF-8 CSV with a header)."""
    text = files("minecarbon.standard").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))
