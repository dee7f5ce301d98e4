"""The report as a neutral document: sections of paragraphs, figures and tables.

The content builders fill a :class:`Report` from the products; the renderers turn the same
object into an editable Word document and a self-contained web page, so both always say the
same thing. Figures carry their PNG bytes; tables carry a DataFrame already formatted for
display (column headers in the report's language). Numbering (图 1, 表 1) is the renderers'
job, in document order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from minecarbon.report.lang import Lang as Lang


@dataclass
class Paragraph:
    """A paragraph of text; ``style`` ``"body"``, ``"note"`` (smaller) or ``"bullet"``."""

    text: str
    style: Literal["body", "note", "bullet"] = "body"


@dataclass
class Figure:
    """A figure: PNG bytes and a caption (without the number, which the renderer adds)."""

    png: bytes
    caption: str
    width_cm: float = 15.0
    source: str = ""  # the products it was drawn from, for the reader and the tests


@dataclass
class Table:
    """A table: a display-ready DataFrame and a caption (without its number)."""

    frame: pd.DataFrame
    caption: str
    note: str = ""
    source: str = ""  # the product file the numbers come from


Block = Paragraph | Figure | Table


@dataclass
class Section:
    """A numbered section (level 1) or subsection (level 2) of the report.

    ``missing`` holds the reasons why parts could not be written (a product absent from the
    workspace); the renderers print them in place of the missing content.
    """

    title: str
    level: int = 1
    blocks: list[Block] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    key: str = ""  # a stable identifier (e.g. "inversion"), the same in every language


@dataclass
class Report:
    """The whole report: title page fields and the sections in order."""

    title: str
    subtitle: str
    lang: Lang
    date: str
    sections: list[Section] = field(default_factory=list)

    def figures(self) -> list[Figure]:
        """Every figure in document order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def tables(self) -> list[Table]:
        """Every table in document order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]
