"""The report's words in Chinese and English: section titles, captions, headers and phrases.

Every string the content builders print comes from :data:`TEXTS` through :func:`tr`, so a
translation is one entry to edit. Placeholders use :meth:`str.format` names. The words are in
:mod:`minecarbon.report.texts_fieldwork` (title to section 5) and
:mod:`minecarbon.report.texts_results` (section 6 on).
"""

from __future__ import annotations

from minecarbon.report.document import Lang
from minecarbon.report.inputs import ReportInputs
from minecarbon.report.texts_fieldwork import FIELD_TEXTS
from minecarbon.report.texts_results import RESULT_TEXTS

#: Decimals of the numbers in the tables (areas, t C/ha, t C, %): display rounding only.
DECIMALS = 2
#: Decimals of R², kappa and overall accuracy.
METRIC_DECIMALS = 3

#: key → (Chinese, English), both parts; a key defined in both is refused at import.
TEXTS: dict[str, tuple[str, str]] = {**FIELD_TEXTS, **RESULT_TEXTS}
if len(TEXTS) != len(FIELD_TEXTS) + len(RESULT_TEXTS):  # pragma: no cover - a coding error
    raise RuntimeError("report text keys defined twice: "
                       f"{sorted(set(FIELD_TEXTS) & set(RESULT_TEXTS))}")


def tr(key: str, lang: Lang, **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``values`` filled in.

    Examples
    --------
    >>> tr("inv.map", "en", y=2024)
    'Forest above-ground carbon in 2024'

    """
    zh, en = TEXTS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Chinese or English half of a ``(zh, en)`` pair."""
    return pair[0] if lang == "zh" else pair[1]


def missing_reason(inputs: ReportInputs, product: str, lang: Lang) -> str:
    """Why ``product`` (a :class:`ReportInputs` field) is absent, in words for the report.

    The reason recorded by the loader in ``inputs.missing`` when there is one, else "the step
    that makes it has not run".
    """
    what = tr(f"p.{product}", lang) if f"p.{product}" in TEXTS else product
    why = inputs.missing.get(product) or tr("not_run", lang)
    return tr("missing", lang, what=what, why=why)
