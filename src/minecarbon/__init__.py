"""minecarbon: forest above-ground carbon in coal-mining areas.

Implements the group standard 煤炭矿区森林地上碳储量监测与评估技术指南 (GRMP—2025—3):
monitoring extent and assessment units, plot survey and plot carbon, remote-sensing features,
forest type and species maps, AGC models, annual AGC maps, assessment and the report.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("minecarbon")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
