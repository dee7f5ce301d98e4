"""The guide's terms in Chinese and English (the glossary).

The records live in ``data/terms.csv`` (columns: key, zh, en, definition, source). Each key is
the identifier used in code and file names; ``zh`` is the term as the guide writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from minecarbon.standard._data import read_table


@dataclass(frozen=True)
class Term:
    """One glossary entry."""

    key: str
    zh: str
    en: str
    definition: str
    source: str

    @property
    def label(self) -> str:
        """Bilingual label, Chinese first: ``持续森林 persistent forest``."""
        return f"{self.zh} {self.en}"


def all_terms() -> tuple[Term, ...]:
    """Every term, in the order of the data file."""
    return tuple(Term(**row) for row in read_table("terms.csv"))


def term(key: str) -> Term:
    """Look a term up by its key.

    Raises
    ------
    KeyError
        If no term has that key.

    """
    for t in all_terms():
        if t.key == key:
            return t
    raise KeyError(f"no term {key!r} in minecarbon.standard.terms")


def glossary_markdown() -> str:
    """The glossary as a Markdown table (the source of ``docs/glossary.md``)."""
    lines = [
        "# Glossary 术语",
        "",
        "Generated from `src/minecarbon/standard/data/terms.csv` by "
        "`python -m minecarbon.standard.terms > docs/glossary.md`; do not edit by hand.",
        "",
        "| 中文 | English | key | definition | source |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in all_terms():
        lines.append(f"| {t.zh} | {t.en} | `{t.key}` | {t.definition} | {t.source} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - docs generation entry point
    print(glossary_markdown(), end="")
