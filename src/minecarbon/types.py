"""Enumerations shared by every stage, with their codes and bilingual labels.

Integer codes are the values written into classified rasters (0 is always "none/outside").
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class _Labelled(IntEnum):
    """An integer code with a Chinese and an English label."""

    zh: str
    en: str

    def __new__(cls, code: int, zh: str, en: str) -> _Labelled:
        obj = int.__new__(cls, code)
        obj._value_ = code
        obj.zh = zh
        obj.en = en
        return obj

    @property
    def label(self) -> str:
        """The bilingual label, e.g. ``持续森林 persistent forest``."""
        return f"{self.zh} {self.en}"


class AssessmentUnit(_Labelled):
    """Level-1 monitoring and assessment units (一级监测评估单元), requirement S3."""

    PERSISTENT = 1, "持续森林", "persistent forest"
    TO_BE_DAMAGED = 2, "拟损毁森林", "to-be-damaged forest"
    DAMAGED = 3, "已损毁森林", "damaged forest"
    RECLAIMED = 4, "已复垦森林", "reclaimed forest"
    OTHER_DISTURBANCE = 5, "其他扰动", "other disturbance"


class DamageForm(_Labelled):
    """Forms of mining damage (损毁形式) that split level-2 units (GB/T 43935—2024)."""

    EXCAVATION = 1, "挖损", "excavation"
    SUBSIDENCE = 2, "塌陷", "subsidence"
    OCCUPATION = 3, "压占", "occupation"


class ForestType(_Labelled):
    """Forest types after HJ 1166—2021 (requirement S2)."""

    CONIFEROUS = 1, "针叶林", "coniferous"
    BROADLEAF = 2, "阔叶林", "broadleaf"
    MIXED = 3, "针阔混交林", "mixed coniferous-broadleaf"
    SPARSE = 4, "稀疏林", "sparse"


class LeafHabit(_Labelled):
    """Leaf habit within forest (requirement C2)."""

    EVERGREEN = 1, "常绿林", "evergreen"
    DECIDUOUS = 2, "落叶林", "deciduous"


class ModelKind(StrEnum):
    """Machine-learning regressors for AGC models (requirement M3)."""

    SVR = "svr"
    RANDOM_FOREST = "rf"
    GBDT = "gbdt"
    XGBOOST = "xgboost"


class Scheduler(StrEnum):
    """Local dask schedulers; any other value of ``compute.scheduler`` is a cluster address."""

    THREADS = "threads"
    PROCESSES = "processes"
    SYNCHRONOUS = "synchronous"


class LandCover(_Labelled):
    """Land-cover classes of the monitoring extent (requirement C1).

    ``FOREST`` is arbor forest (乔木林) with canopy cover ≥ ``classify.sparse_min_cover``
    (sparse forest included, requirement S2).
    """

    FOREST = 1, "乔木林地", "forest"
    SHRUB = 2, "灌木林地", "shrubland"
    GRASSLAND = 3, "草地", "grassland"
    CROPLAND = 4, "耕地", "cropland"
    WATER = 5, "水域", "water"
    BUILT = 6, "建设用地", "built-up"
    MINING = 7, "采矿用地及裸地", "mining land and bare soil"
