"""Tables (CSV) and small JSON documents, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from minecarbon.io.files import atomic_path


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame as UTF-8 CSV (with BOM, so spreadsheet programs show Chinese)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")


def write_json(value: Any, path: Path) -> None:
    """Write a JSON document (UTF-8, indented, Chinese kept readable)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1, default=str),
                       encoding="utf-8")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (UTF-8, with or without BOM; GB18030 as a fallback) or Excel sheet."""
    from minecarbon.errors import InputDataError, PathNotFoundError

    if not path.exists():
        raise PathNotFoundError(f"table {path} does not exist", fix="check the path")
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path)
    try:
        return pd.read_csv(path, encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            return pd.read_csv(path, encoding="gb18030")
        except UnicodeDecodeError:
            raise InputDataError(f"{path} is neither UTF-8 nor GB18030 text",
                                 fix="save it as UTF-8 CSV") from None
