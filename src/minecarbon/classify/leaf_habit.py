"""Evergreen vs deciduous forest from a leaf-off image (requirement C2).

In an early-spring (March) image deciduous crowns are bare while evergreen canopy keeps its
leaves, so the standard's RVI = NIR / Red (ASI's ``SR``, Jordan 1969; ``rvi_nir_red`` in the
feature stack) stays high over evergreen forest. The standard combines an RVI threshold with
mixed-pixel decomposition: each pixel's spectrum is unmixed into fractions of endmembers
(evergreen canopy, bare deciduous crowns, soil …) by fully constrained least squares (FCLS:
fractions ≥ 0 that sum to one; Heinz & Chang 2001, IEEE TGRS 39:529–545).

The two tests are combined by their margins (docs/classification.md, "Leaf habit")::

    score = ln(RVI / threshold) / rvi_scale + (f_evergreen − min_fraction) / fraction_scale
    evergreen where score > 0, else deciduous  (min_fraction: evergreen_min_fraction)

Where the tests agree the score has their sign; where they disagree, the test whose pixel lies
further beyond its threshold, in units of that test's uncertain zone, decides.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import dask
import dask.array as dsa
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from minecarbon.classify._predict import align_mask
from minecarbon.classify.unmixing import Endmembers, FloatArray, band_of, fcls_unmix, unmix
from minecarbon.errors import InputDataError, warn
from minecarbon.features.spectral import BAND_SYMBOLS
from minecarbon.types import LeafHabit

__all__ = ["fcls_unmix", "unmix"]  # re-exported: the unmixing lives in classify.unmixing


def ratio_vegetation_index(leaf_off: xr.Dataset) -> xr.DataArray:
    """The standard's RVI = NIR / Red (ASI ``SR``); NaN where Red ≤ 0 or not observed."""
    red, nir = band_of(leaf_off, "red"), band_of(leaf_off, "nir")
    rvi = (nir / red.where(red > 0)).astype(np.float32)
    return rvi.rename("rvi_nir_red").assign_attrs(long_name="RVI = NIR / Red", units="1")


# ------------------------------------------------------------------------------- thresholds
def _histogram(values: Any, nbins: int) -> tuple[FloatArray, FloatArray] | float:
    """Counts and edges of the finite values over their range, or the one value they all take.

    A dask array is read twice in blocks (range, then counts), never held in memory whole.
    """
    data = values.data if isinstance(values, xr.DataArray) else values
    if isinstance(data, dsa.Array):
        finite = dsa.where(dsa.isfinite(data), data, np.nan)
        lo, hi, n = dask.compute(  # type: ignore[attr-defined, no-untyped-call, unused-ignore]
            dsa.nanmin(finite), dsa.nanmax(finite), dsa.isfinite(data).sum())
        if n == 0:
            raise _no_rvi()
        if lo == hi:
            return float(lo)
        counts, edges = dsa.histogram(  # type: ignore[no-untyped-call, unused-ignore]
            finite.ravel(), bins=nbins, range=(lo, hi))
        return np.asarray(counts.compute(), dtype=np.float64), np.asarray(edges)
    flat = np.asarray(data).ravel()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        raise _no_rvi()
    if flat.min() == flat.max():
        return float(flat[0])
    counts, edges = np.histogram(flat, bins=nbins, range=(flat.min(), flat.max()))
    return counts.astype(np.float64), edges


def _no_rvi() -> InputDataError:
    return InputDataError("no finite RVI value to threshold (is the forest mask empty?)",
                          fix="check the leaf-off image and the forest mask")


def rvi_threshold_otsu(rvi_values: Any, *, nbins: int = 256, log: bool = True) -> float:
    """Otsu's (1979, IEEE Trans. SMC 9:62–66) threshold of RVI values.

    The histogram has ``nbins`` equal bins between the smallest and largest finite value; the
    threshold is the centre of the bin that maximises the between-class variance
    w₀ w₁ (μ₀ − μ₁)² of the values in the bins up to it versus above it (scikit-image's
    ``threshold_otsu`` convention: values > threshold are the upper class).

    Parameters
    ----------
    rvi_values
        RVI of forest pixels (array, or DataArray read block by block when dask-backed); NaN
        and infinite values are ignored.
    nbins
        Number of histogram bins.
    log
        Threshold ln RVI and return exp of the result (default). A ratio is skewed, with a long
        tail where Red is small (shadow, noise), which drags Otsu's threshold on the raw ratio
        far into the evergreen mode; ln RVI is near-symmetric. Values ≤ 0 are then ignored.
        ``False`` thresholds the raw values (equal to scikit-image's ``threshold_otsu``).

    """
    if log:
        data = rvi_values.data if isinstance(rvi_values, xr.DataArray) else rvi_values
        module: Any = dsa if isinstance(data, dsa.Array) else np
        with np.errstate(divide="ignore", invalid="ignore"):
            logged = module.log(module.where(data > 0, data, np.nan))
        return math.exp(rvi_threshold_otsu(logged, nbins=nbins, log=False))
    hist = _histogram(rvi_values, nbins)
    if isinstance(hist, float):
        return hist
    counts, edges = hist
    centres = (edges[:-1] + edges[1:]) / 2.0
    w0 = np.cumsum(counts)
    w1 = w0[-1] - w0
    s0 = np.cumsum(counts * centres)
    mu0 = s0 / np.maximum(w0, 1.0)
    mu1 = (s0[-1] - s0) / np.maximum(w1, 1.0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centres[int(np.argmax(between[:-1]))])


def _habit_codes(labels: Any) -> npt.NDArray[np.int64]:
    codes = []
    for label in np.asarray(labels).ravel():
        if isinstance(label, str) and label.upper() in LeafHabit.__members__:
            codes.append(int(LeafHabit[label.upper()]))
        elif isinstance(label, (int, float, np.number)) and label in (1, 2):
            codes.append(int(label))
        else:
            raise InputDataError(
                f"leaf-habit label {label!r} is neither evergreen (1) nor deciduous (2)",
                fix="label the samples with LeafHabit codes or 'evergreen'/'deciduous'")
    return np.asarray(codes, dtype=np.int64)


def rvi_threshold_from_samples(rvi: Any, labels: Any) -> float:
    """The RVI threshold that best separates evergreen from deciduous samples.

    Candidates are the midpoints between consecutive distinct sample values; the rule
    "evergreen where RVI > t" is scored by balanced accuracy ½ (TPR_evergreen + TNR_deciduous),
    which does not favour the more numerous class. Among equally good candidates the one
    nearest the midpoint of the two class medians is taken.

    Parameters
    ----------
    rvi
        RVI of each sample in the leaf-off image.
    labels
        :class:`~minecarbon.types.LeafHabit` code (or ``"evergreen"``/``"deciduous"``).

    """
    values = np.asarray(rvi, dtype=np.float64).ravel()
    codes = _habit_codes(labels)
    if codes.size != values.size:
        raise InputDataError(f"{values.size} RVI values but {codes.size} labels",
                             fix="give one label per sample")
    keep = np.isfinite(values)
    if not keep.all():
        warn(f"rvi_threshold_from_samples: ignored {int((~keep).sum())} samples with NaN RVI")
    values, codes = values[keep], codes[keep]
    ever = np.sort(values[codes == LeafHabit.EVERGREEN])
    deci = np.sort(values[codes == LeafHabit.DECIDUOUS])
    if ever.size == 0 or deci.size == 0:
        raise InputDataError(
            f"samples hold {ever.size} evergreen and {deci.size} deciduous values with RVI",
            fix="collect samples of both evergreen and deciduous forest")
    if np.median(ever) <= np.median(deci):
        warn("evergreen samples do not have a higher RVI than deciduous ones (medians "
             f"{np.median(ever):.3g} vs {np.median(deci):.3g}): is the image really leaf-off?")
    distinct = np.unique(values)
    if distinct.size == 1:
        return float(distinct[0])
    candidates = (distinct[:-1] + distinct[1:]) / 2.0
    tpr = (ever.size - np.searchsorted(ever, candidates, side="right")) / ever.size
    tnr = np.searchsorted(deci, candidates, side="right") / deci.size
    score = (tpr + tnr) / 2.0
    best = np.flatnonzero(score >= score.max() - 1e-12)
    centre = (np.median(ever) + np.median(deci)) / 2.0
    return float(candidates[best[np.argmin(np.abs(candidates[best] - centre))]])


# ---------------------------------------------------------------------- endmembers, classify
def _endmember_name(label: Hashable) -> str:
    if isinstance(label, LeafHabit):
        return label.name.lower()
    if isinstance(label, (int, np.integer)) and int(label) in (1, 2):
        return "evergreen" if int(label) == LeafHabit.EVERGREEN else "deciduous"
    return str(label)


def endmembers_from_samples(leaf_off_values: pd.DataFrame, labels: Any, *,
                            bands: Sequence[str] | None = None,
                            min_samples: int = 3) -> dict[str, dict[str, float]]:
    """Endmember spectra as the median leaf-off reflectance of pure samples of each class.

    Parameters
    ----------
    leaf_off_values
        One row per pure sample (a pixel wholly of one cover), reflectance columns named by band
        role (``red``) or as in the feature stack (``sr_red``).
    labels
        Endmember of each sample: a name (``"evergreen"``, ``"deciduous"``, ``"soil"`` …) or a
        :class:`~minecarbon.types.LeafHabit` code (1 → ``"evergreen"``, 2 → ``"deciduous"``).
    bands
        Columns to use; default every column named by a band role, with or without ``sr_``.
    min_samples
        A class with fewer samples gets a warning (its median is not robust).

    Returns
    -------
    dict
        Endmember name → {band role: median reflectance}, ready for :func:`unmix`.

    """
    if bands is None:
        bands = [str(c) for c in leaf_off_values.columns
                 if str(c).removeprefix("sr_") in BAND_SYMBOLS]
    if not bands:
        raise InputDataError(
            f"no reflectance column among {list(leaf_off_values.columns)}",
            fix="name the columns by band role (red, nir …) or pass bands=[...]")
    names = np.array([_endmember_name(label) for label in np.asarray(labels, dtype=object)])
    if names.size != len(leaf_off_values):
        raise InputDataError(f"{names.size} labels for {len(leaf_off_values)} samples",
                             fix="give one label per sample")
    values = leaf_off_values[list(bands)].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        warn(f"endmembers_from_samples: ignored {int(bad.sum())} samples with missing "
             f"reflectance (index {list(leaf_off_values.index[bad][:10])})")
    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(names[~bad]):
        rows = values[~bad & (names == name)]
        if len(rows) < min_samples:
            warn(f"endmember {name!r} rests on {len(rows)} samples (< {min_samples})")
        median = np.median(rows, axis=0)
        out[name] = {b.removeprefix("sr_"): float(v) for b, v in zip(bands, median, strict=True)}
    return out


def leaf_habit_evidence(
    leaf_off: xr.Dataset,
    forest: xr.DataArray,
    *,
    threshold: float | Literal["otsu"] = "otsu",
    endmembers: Endmembers | None = None,
    evergreen: str = "evergreen",
    evergreen_min_fraction: float = 0.5,
    rvi_scale: float = 0.1,
    fraction_scale: float = 0.1,
    check_scale: bool = True,
) -> xr.Dataset:
    """The layers :func:`classify_leaf_habit` decides from, within forest.

    Returns a Dataset with ``rvi_nir_red``, the unmixing layers of :func:`unmix` (when
    ``endmembers`` are given) and ``evergreen_score`` (> 0 means evergreen), NaN outside
    forest; its ``threshold`` attribute is the RVI threshold used. Parameters are those of
    :func:`classify_leaf_habit`.
    """
    if not 0.0 <= evergreen_min_fraction <= 1.0 or rvi_scale <= 0 or fraction_scale <= 0:
        raise InputDataError(
            f"evergreen_min_fraction={evergreen_min_fraction}, rvi_scale={rvi_scale}, "
            f"fraction_scale={fraction_scale}: need a fraction in 0–1 and positive scales",
            fix="use e.g. evergreen_min_fraction=0.5, rvi_scale=0.1, fraction_scale=0.1")
    rvi = ratio_vegetation_index(leaf_off)
    inside = align_mask(forest, rvi)
    rvi = rvi.where(inside)
    if isinstance(threshold, str):
        if threshold != "otsu":
            raise InputDataError(f"threshold={threshold!r}",
                                 fix="give a number or 'otsu'")
        threshold = rvi_threshold_otsu(rvi)
    if not (np.isfinite(threshold) and threshold > 0):
        raise InputDataError(f"RVI threshold {threshold} is not a positive number",
                             fix="give a threshold > 0 (RVI = NIR / Red is positive)")
    layers = {"rvi_nir_red": rvi}
    score = np.log(rvi / threshold) / rvi_scale
    if endmembers is not None:
        if evergreen not in endmembers:
            raise InputDataError(f"no endmember {evergreen!r} among {list(endmembers)}",
                                 fix="name the evergreen canopy endmember with evergreen=")
        fractions = unmix(leaf_off, endmembers, check_scale=check_scale).where(inside)
        layers.update({str(k): v for k, v in fractions.data_vars.items()})
        fraction = fractions[f"fraction_{evergreen}"]
        score = score + (fraction - evergreen_min_fraction) / fraction_scale
    layers["evergreen_score"] = xr.DataArray(score).astype(np.float32).assign_attrs(
        long_name="evergreen evidence (> 0: evergreen)", units="1")
    return xr.Dataset(layers, attrs={"threshold": float(threshold)})


def classify_leaf_habit(
    leaf_off: xr.Dataset,
    forest: xr.DataArray,
    *,
    threshold: float | Literal["otsu"] = "otsu",
    endmembers: Endmembers | None = None,
    evergreen: str = "evergreen",
    evergreen_min_fraction: float = 0.5,
    rvi_scale: float = 0.1,
    fraction_scale: float = 0.1,
    check_scale: bool = True,
) -> xr.DataArray:
    """Evergreen (1) or deciduous (2) forest from a leaf-off image; 0 outside forest.

    Parameters
    ----------
    leaf_off
        Leaf-off (early spring) reflectance: band roles ``red``, ``nir`` (and the endmembers'
        other bands) or a feature stack with ``sr_red``, ``sr_nir`` ….
    forest
        Boolean forest mask (y, x) on the same grid (:func:`~.landcover.forest_mask`).
    threshold
        RVI threshold: a number (e.g. :func:`rvi_threshold_from_samples`) or ``"otsu"``
        (:func:`rvi_threshold_otsu` over the forest pixels; reads the image once).
    endmembers
        Endmember spectra for :func:`unmix` (e.g. :func:`endmembers_from_samples`); ``None``
        classifies by the RVI threshold alone.
    evergreen
        Name of the evergreen-canopy endmember.
    evergreen_min_fraction
        Evergreen fraction at which the unmixing test turns evergreen.
    rvi_scale, fraction_scale
        Widths of the uncertain zones of the two tests (ln RVI units and fraction units): the
        score is ln(RVI / threshold) / rvi_scale + (f − evergreen_min_fraction) / fraction_scale.
    check_scale
        Refuse bands that look like digital numbers before unmixing (reads a few chunks).

    Returns
    -------
    xarray.DataArray
        ``leaf_habit`` uint8: :class:`~minecarbon.types.LeafHabit` codes where score > 0
        (evergreen) or ≤ 0 (deciduous); 0 outside forest or where a band is missing. Lazy on
        dask input; the attribute ``threshold`` holds the RVI threshold used.

    """
    evidence = leaf_habit_evidence(
        leaf_off, forest, threshold=threshold, endmembers=endmembers, evergreen=evergreen,
        evergreen_min_fraction=evergreen_min_fraction, rvi_scale=rvi_scale,
        fraction_scale=fraction_scale, check_scale=check_scale)
    score = evidence["evergreen_score"]
    # arithmetic rather than xr.where, which drops the attributes of the CRS coordinate
    evergreen_code, deciduous_code = int(LeafHabit.EVERGREEN), int(LeafHabit.DECIDUOUS)
    codes = deciduous_code + (score > 0) * (evergreen_code - deciduous_code)
    codes = codes.where(np.isfinite(score), 0).astype(np.uint8)
    return codes.rename("leaf_habit").assign_attrs(
        long_name="leaf habit (1 evergreen, 2 deciduous, 0 outside forest)",
        threshold=evidence.attrs["threshold"], nodata=0)
