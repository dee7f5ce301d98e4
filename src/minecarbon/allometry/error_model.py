"""The error sources of the plots' Monte Carlo (requirement P6): :class:`ErrorModel`.

Which errors :mod:`minecarbon.allometry.uncertainty` draws and how large they are by default,
with the reasons; :mod:`minecarbon.allometry.systematic` reads the shared (systematic) ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from minecarbon.errors import InputDataError

#: A model's systematic relative error where neither the table nor the error model gives one.
DEFAULT_MODEL_SD_REL: Final = 0.10


@dataclass(frozen=True)
class ErrorModel:
    """Standard deviations of the error sources (all ≥ 0; 0 switches a source off).

    Defaults and why:

    ``dbh_sd_cm = 0.3`` and ``dbh_sd_rel = 0.01``
        Combined in quadrature, sd = sqrt(0.3² + (0.01 · D)²) cm: 0.31 cm at 10 cm, 0.36 cm at
        20 cm, 0.5 cm at 40 cm. Repeated tape measurements differ by a few millimetres (reading,
        tape not level, point of measurement on leaning or buttressed stems); Chave et al. 2004
        (Phil. Trans. R. Soc. B 359:409) fitted sd = 0.0062 · D + 0.0904 cm for the 95 % of
        trees without gross errors. The default is somewhat more conservative, for plantations
        on uneven reclaimed ground measured by non-specialist crews.
    ``height_sd_rel = 0.05``
        A measured height (hypsometer, clinometer) errs by a few per cent in open stands and by
        up to ~10 % in closed canopies where the top is hard to see; 5 % is a middle value.
        Heights filled from a height–diameter model should instead carry that model's RSE in
        metres in the tree list's ``height_sd_m`` column, which overrides this per tree.
    ``residual_sd_log = 0.25``
        Used only for a model that gives no ``residual_sd_log`` of its own. Biomass equations
        fitted on log scales report residual standard errors of roughly 0.2–0.35 (species- and
        site-specific equations at the low end, the pantropical model of Chave et al. 2014 at
        0.357); 0.25 is typical of the species-group equations this package uses.
    ``carbon_fraction_sd = 0.01``
        Absolute. Organ-weighted carbon fractions of North-China species differ among studies
        and organs by about ±0.01–0.02 around their means (马钦彦 et al. 2002 give 0.475–0.516
        for the main species; IPCC 2006 Table 4.3 gives ranges of ±0.02–0.04 around its
        defaults for whole groups). For a species-specific fraction 0.01 is appropriate; raise
        it for a fraction borrowed from a group default. Systematic (see the module docstring).
    ``model_sd_rel = None``
        The relative standard deviation of each model's systematic error (its parameters, and
        its transfer to the stands it is applied to). None: each model's own ``model_sd_rel``
        from the model table, or :data:`DEFAULT_MODEL_SD_REL` (0.10) where it has none. A
        number: that value for every model (0 switches the source off). A species' own model
        predicts the mean of the trees it was fitted on to within a mean prediction error of
        about 4–5 % at 95 % (曾伟生 & 唐守正 2011, 林业科学 47(11):106–113; Zeng et al. 2018,
        J. For. Res. 29(5)), a standard deviation of about 2–3 %; applied to other stands the
        choice among plausible equations alone moves live-tree carbon by 20–40 % (Melson et
        al. 2011, Carbon Balance Manag. 6:2). The default table's values (0.10–0.25) are set by
        each model's provenance (see :mod:`minecarbon.standard.biomass_models`).

    """

    dbh_sd_cm: float = 0.3
    dbh_sd_rel: float = 0.01
    height_sd_rel: float = 0.05
    residual_sd_log: float = 0.25
    carbon_fraction_sd: float = 0.01
    model_sd_rel: float | None = None

    def __post_init__(self) -> None:
        for name in ("dbh_sd_cm", "dbh_sd_rel", "height_sd_rel", "residual_sd_log",
                     "carbon_fraction_sd", "model_sd_rel"):
            value = getattr(self, name)
            if name == "model_sd_rel" and value is None:
                continue
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputDataError(
                    f"ErrorModel.{name} = {value!r} is not a finite number ≥ 0",
                    fix=f"give {name} as a standard deviation ≥ 0 (0 switches the source off)",
                )

    @classmethod
    def none(cls) -> ErrorModel:
        """No error at all: every draw equals the deterministic estimate."""
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

    def model_sd(self, own: float | None) -> float:
        """The systematic relative error used for a model whose table gives ``own``.

        :attr:`model_sd_rel` where it is set, else ``own``, else :data:`DEFAULT_MODEL_SD_REL`
        (``own`` None or NaN: the table gives none).
        """
        if self.model_sd_rel is not None:
            return float(self.model_sd_rel)
        if own is None or not math.isfinite(float(own)):
            return DEFAULT_MODEL_SD_REL
        return float(own)
