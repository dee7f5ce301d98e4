"""The report's languages (a light module: the CLI's help lists them)."""

from typing import Literal

#: A report language: Chinese or English.
Lang = Literal["zh", "en"]
