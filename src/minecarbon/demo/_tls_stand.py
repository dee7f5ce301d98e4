"""The fixed TLS scene: ground surface, tree list and stem geometry of the stand.

:class:`_Ground` is the tilted plane with its microrelief; :func:`_validate_trees` checks the tree
list handed to :func:`~minecarbon.demo.pointclouds.simulate_tls` and :func:`_complete_trees` draws
the lean and crown columns it lacks; :func:`_build_stand` turns it into :class:`_Stand`, the
per-tree arrays (leaning axis, tapered stem, crown envelope) that the crown parts and the scans
are built from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from minecarbon.demo._pointcloud_params import (
    _R_FLOOR,
    _REQUIRED,
    _STREAM_MICRORELIEF,
    BREAST_HEIGHT_M,
    BROADLEAF_TAPER_CM_PER_M,
    MICRORELIEF_M,
    BoolArray,
    FloatArray,
    IntArray,
)
from minecarbon.demo.noise import fbm
from minecarbon.errors import InputDataError
from minecarbon.standard.species import by_code


@dataclass(frozen=True)
class _Ground:
    z0: float
    slope_x: float
    slope_y: float
    cx: float
    cy: float
    seed: int

    def z(self, x: FloatArray, y: FloatArray) -> FloatArray:
        micro = MICRORELIEF_M * fbm(
            np.asarray(x, dtype=np.float64),
            np.asarray(y, dtype=np.float64),
            4.0,
            self.seed,
            octaves=3,
            stream=_STREAM_MICRORELIEF,
        )
        plane = self.z0 + self.slope_x * (x - self.cx) + self.slope_y * (y - self.cy)
        return np.asarray(plane + micro, dtype=np.float64)


@dataclass(frozen=True)
class _Stand:
    """Per-tree geometry, arrays of length n (index j)."""

    base: FloatArray  # (n, 3) stem base on the ground
    height: FloatArray  # vertical height of the top above the base
    cos_lean: FloatArray
    lean_xy: FloatArray  # (n, 2) horizontal shift of the axis per metre of height
    u: FloatArray  # (n, 3) unit axis
    e1: FloatArray  # (n, 3) unit, perpendicular to u (horizontal)
    e2: FloatArray  # (n, 3) unit, perpendicular to u and e1
    r_bh: FloatArray  # radius at breast height (m)
    s_bh: FloatArray  # axial distance of breast height
    taper: FloatArray  # radius lost per metre of axis
    stem_len: FloatArray  # axial length of the stem (to the top or to the fork)
    stem_top_h: FloatArray  # vertical height of the stem's end above the base
    conifer: BoolArray
    crown_radius: FloatArray
    crown_base_h: FloatArray  # vertical height of the crown base above the base
    crown_centre: FloatArray  # (n, 3) broadleaf ellipsoid centre (conifers: apex)
    crown_c: FloatArray  # broadleaf ellipsoid vertical semi-axis
    envelope_area: FloatArray  # crown envelope area (m²)

    @property
    def n(self) -> int:
        return int(self.height.shape[0])

    def radius(self, j: IntArray, s: FloatArray) -> FloatArray:
        """Stem radius of trees ``j`` at axial distances ``s``."""
        r = self.r_bh[j] - self.taper[j] * (s - self.s_bh[j])
        return np.asarray(np.maximum(r, _R_FLOOR), dtype=np.float64)

    def axis_at_height(self, j: IntArray, h: FloatArray) -> FloatArray:
        """Axis points (k, 3) of trees ``j`` at vertical heights ``h`` above their bases."""
        s = h / self.cos_lean[j]
        return np.asarray(self.base[j] + s[:, None] * self.u[j], dtype=np.float64)

    def inside_crown(self, j: IntArray, p: FloatArray) -> BoolArray:
        """Whether points ``p`` (k, 3) lie inside the crown envelopes of trees ``j``."""
        h = p[:, 2] - self.base[j, 2]
        inside = np.zeros(len(j), dtype=bool)
        con = self.conifer[j]
        if con.any():
            jc, pc, hc = j[con], p[con], h[con]
            axis = self.base[jc, :2] + hc[:, None] * self.lean_xy[jc]
            rr = np.hypot(pc[:, 0] - axis[:, 0], pc[:, 1] - axis[:, 1])
            top, hcb = self.height[jc], self.crown_base_h[jc]
            below_top = np.clip(top - hc, 0.0, None)
            env = self.crown_radius[jc] * np.clip(below_top / (top - hcb), 0.0, 1.0)
            env = np.maximum(env, np.minimum(0.5 * below_top, self.crown_radius[jc]))  # round tip
            inside[con] = (rr <= env) & (hc <= top) & (hc >= hcb - 0.5)
        brd = ~con
        if brd.any():
            jb, pb = j[brd], p[brd]
            d = pb - self.crown_centre[jb]
            a, c = self.crown_radius[jb], self.crown_c[jb]
            inside[brd] = (d[:, 0] ** 2 + d[:, 1] ** 2) / a**2 + d[:, 2] ** 2 / c**2 <= 1.0
        return inside


def _validate_trees(trees: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in trees.columns]
    if missing:
        raise InputDataError(
            f"tree list for the TLS simulation lacks the columns {', '.join(missing)}",
            fix=f"give the columns {', '.join(_REQUIRED)}",
        )
    df = trees.reset_index(drop=True).copy()
    for col in ("x_m", "y_m", "dbh_cm", "height_m"):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise InputDataError(
                f"tree list column {col!r} row {row} is missing or not a number",
                fix="give a number for every tree",
            )
        df[col] = values.astype(float)
    dbh = df["dbh_cm"].to_numpy(dtype=float)
    bad = np.flatnonzero((dbh <= 0) | (dbh > 300))
    if bad.size:
        raise InputDataError(
            f"tree {df['tree_id'].iloc[bad[0]]!r}: dbh_cm {dbh[bad[0]]:g} is outside 0–300",
            fix="give DBH in centimetres",
        )
    height = df["height_m"].to_numpy(dtype=float)
    bad = np.flatnonzero((height < 2.5) | (height > 80))
    if bad.size:
        raise InputDataError(
            f"tree {df['tree_id'].iloc[bad[0]]!r}: height_m {height[bad[0]]:g} is outside "
            "2.5–80 m",
            fix="simulate trees at least 2.5 m tall, with heights in metres",
        )
    return df


def _complete_trees(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Fill lean and crown columns that are absent or NaN with plausible values."""
    n = len(df)
    conifer = np.array([by_code(int(c)).is_conifer for c in df["species_code"]], dtype=bool)
    lean = np.minimum(np.abs(rng.normal(0.0, 2.5, n)), 8.0)
    azimuth = rng.uniform(0.0, 360.0, n)
    dbh = df["dbh_cm"].to_numpy(dtype=float)
    crown = np.where(conifer, 0.5 + 0.07 * dbh, 0.8 + 0.10 * dbh) * rng.uniform(0.85, 1.15, n)
    crown = np.clip(crown, 0.6, 7.0)
    for col, fill in (("lean_deg", lean), ("lean_azimuth_deg", azimuth), ("crown_radius_m", crown)):
        if col not in df.columns:
            df[col] = fill
        else:
            values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
            df[col] = np.where(np.isnan(values), fill, values)
    if ((df["lean_deg"] < 0) | (df["lean_deg"] >= 45)).any():
        raise InputDataError(
            "tree list column 'lean_deg' has values outside 0–45°", fix="give lean in degrees"
        )
    if (df["crown_radius_m"] <= 0).any():
        raise InputDataError(
            "tree list column 'crown_radius_m' has values ≤ 0", fix="give crown radii in metres"
        )
    df["conifer"] = conifer
    return df


def _build_stand(df: pd.DataFrame, ground: _Ground, rng: np.random.Generator) -> _Stand:
    n = len(df)
    bx = df["x_m"].to_numpy(dtype=float)
    by = df["y_m"].to_numpy(dtype=float)
    bz = ground.z(bx, by)
    height = df["height_m"].to_numpy(dtype=float)
    conifer = df["conifer"].to_numpy(dtype=bool)
    theta = np.radians(df["lean_deg"].to_numpy(dtype=float))
    az = np.radians(df["lean_azimuth_deg"].to_numpy(dtype=float))
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    u = np.column_stack([sin_t * np.sin(az), sin_t * np.cos(az), cos_t])
    e1 = np.column_stack([np.cos(az), -np.sin(az), np.zeros(n)])
    e2 = np.cross(u, e1)
    lean_xy = np.column_stack([np.sin(az), np.cos(az)]) * np.tan(theta)[:, None]

    r_bh = df["dbh_cm"].to_numpy(dtype=float) / 200.0
    s_bh = BREAST_HEIGHT_M / cos_t
    crown_ratio = np.where(conifer, 0.55, 0.55) + rng.uniform(-0.05, 0.05, n)
    crown_base_h = np.maximum(height * (1.0 - crown_ratio), np.minimum(2.0, 0.6 * height))
    fork_h = np.maximum(0.55 * height, crown_base_h + 0.3)
    stem_top_h = np.where(conifer, height, fork_h)
    stem_len = stem_top_h / cos_t
    taper_con = r_bh / (stem_len - s_bh)
    taper_brd = np.minimum(
        BROADLEAF_TAPER_CM_PER_M / 200.0, 0.45 * r_bh / np.maximum(stem_len - s_bh, 0.1)
    )
    taper = np.where(conifer, taper_con, taper_brd)

    crown_radius = df["crown_radius_m"].to_numpy(dtype=float)
    crown_c = (height - crown_base_h) / 2.0
    centre_h = np.where(conifer, height, crown_base_h + crown_c)
    base = np.column_stack([bx, by, bz])
    crown_centre = base + (centre_h / cos_t)[:, None] * u
    crown_centre[:, 2] = bz + centre_h  # exact vertical placement
    cone_len = height - crown_base_h
    cone_area = np.pi * crown_radius * np.hypot(crown_radius, cone_len)
    p = 1.6075
    a, c = crown_radius, crown_c
    ell_area = 4 * np.pi * (((a * a) ** p + 2 * (a * c) ** p) / 3.0) ** (1 / p)
    return _Stand(
        base=base,
        height=height,
        cos_lean=cos_t,
        lean_xy=lean_xy,
        u=u,
        e1=e1,
        e2=e2,
        r_bh=r_bh,
        s_bh=s_bh,
        taper=taper,
        stem_len=stem_len,
        stem_top_h=stem_top_h,
        conifer=conifer,
        crown_radius=crown_radius,
        crown_base_h=crown_base_h,
        crown_centre=crown_centre,
        crown_c=crown_c,
        envelope_area=np.where(conifer, cone_area, ell_area),
    )
