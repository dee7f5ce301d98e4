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


def read_table(path: Path, *, as_text: bool = False) -> pd.DataFrame:
    """A CSV (UTF-8, with or without BOM; GB18030 as a fallback) or Excel sheet.

    With ``as_text`` every cell is read as written (strings, '' for empty, blank lines kept),
    so that validators see ids like ``001`` unchanged and report spreadsheet row numbers.
    """
    from minecarbon.errors import InputDataError, PathNotFoundError

    if not path.exists():
        raise PathNotFoundError(f"table {path} does not exist", fix="check the path")
    options: dict[str, object] = (
        {"dtype": str, "keep_default_na": False, "skip_blank_lines": False} if as_text else {})
    if path.suffix.lower() in (".xlsx", ".xls"):
        excel = {"dtype": str, "keep_default_na": False} if as_text else {}
        return pd.read_excel(path, **excel)
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **options)
    except UnicodeDecodeError:
        try:
            return pd.read_csv(path, encoding="gb18030", **options)
        except UnicodeDecodeError:
            raise InputDataError(f"{path} is neither UTF-8 nor GB18030 text",
                                 fix="save it as UTF-8 CSV") from None
