"""TLS plot processing, minecarbon side by side with 3DFin, and a 20-million-point plot (< 120 s).

    .venv/bin/python benchmarks/bench_tls.py [--peer-venv /tmp/venv-3dfin] [--skip-20m]

Clouds:

* ``sim30``: a simulated 30 m plot (:func:`minecarbon.demo.pointclouds.simulate_tls`, seed 1,
  default density; about 40 trees in the square), written to a temporary LAS file;
* ``treels_pine_plot``: ``/work/shared/data/pointclouds/treels_pine_plot.laz`` (real TLS, thinned,
  10 × 10 m, no tally), skipped when absent;
* ``sim20m``: a simulated 40 m plot of 20,000,000 points (seed 2), written to a LAZ file in
  ``/tmp`` (kept and reused by later runs).

Each tool runs in a subprocess under ``/usr/bin/time`` (wall time, peak RSS of that process),
pinned to 2 cores with ``taskset`` when the machine has more:

* minecarbon: this script again (``--child``) in the project venv: ``read_points`` (cropped to the
  plot square + 3 m, as the pipeline does) then ``process_plot``;
* 3DFin (GPL-3): its own command line, ``3DFin cli --export_txt --normalize IN OUTDIR PARAMS.ini``,
  from a separate virtualenv (``python3 -m venv /tmp/venv-3dfin && /tmp/venv-3dfin/bin/pip
  install 3dfin``). It is never imported: the tree list is read back from the
  ``<name>_dbh_and_heights.txt`` table it writes (columns TH, DBH, X, Y; metres; DBH 0 = no
  diameter). Three variants: ``default`` (the ``3DFinconfig.ini`` that the package ships, read
  from the peer venv) on the file as given; ``local``: the same parameters on a copy of the cloud
  shifted to a local origin (x, y minus their whole-metre minimum; the positions are shifted back
  before matching); ``tuned`` (small clouds only): ``local`` with ``number_of_points`` (smallest
  stem cluster in the stripe) lowered from 1000 to 100, as 3DFin's own error message suggests for
  sparse clouds.

3DFin processes the whole scanned square; on the simulated plots both tools are compared on the
trees whose position lies inside the plot square (minecarbon lists only those). Against the
simulator's truth (the in-plot trees), trees are matched one to one within 1 m
(:func:`minecarbon.survey.tls.match_to_tally`): detection rate, commission rate, DBH bias/RMSE.
minecarbon's position is the stem foot, 3DFin's the axis at breast height (≤ 0.35 m apart for the
15° leans of the simulated stand).
"""

from __future__ import annotations

import argparse
import configparser
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save

CX, CY = 500_000.0, 4_000_000.0
GROUND = (300.0, 0.12, -0.06)
TREELS = Path("/work/shared/data/pointclouds/treels_pine_plot.laz")
BIG_POINTS = 20_000_000
TARGET_20M_S = 120.0
MATCH_M = 1.0
CROP_MARGIN_M = 3.0
TUNED_NUMBER_OF_POINTS = 100


# ------------------------------------------------------------------------------ the clouds


def stand(seed: int, n: int, side_m: float) -> pd.DataFrame:
    """n trees over the scanned square (see ``synthetic_stand``)."""
    from minecarbon.demo.pointclouds import synthetic_stand

    return synthetic_stand(seed, n, (CX, CY), side_m)


def simulated_cloud(path: Path, *, seed: int, n_trees: int, side_m: float, density: float,
                    max_points: int) -> tuple[int, pd.DataFrame]:
    """Write a simulated plot to ``path`` (reused when it and its truth exist); points, truth."""
    from minecarbon.demo.pointclouds import simulate_tls
    from minecarbon.io.pointcloud import read_las_header, write_las

    truth_path = path.with_suffix(".truth.csv")
    if path.exists() and truth_path.exists():
        return read_las_header(path).point_count, pd.read_csv(truth_path)
    xyz, cls, truth = simulate_tls(stand(seed, n_trees, side_m), (CX, CY), side_m, GROUND, seed,
                                   points_per_m2_at_10m=density, max_points=max_points)
    write_las(path, xyz, cls)
    truth.to_csv(truth_path, index=False)
    n = len(xyz)
    del xyz, cls
    return n, truth


# ------------------------------------------------------------------- running a subprocess


def pinned(cmd: list[str]) -> list[str]:
    """Prefix a command with /usr/bin/time (and taskset to 2 cores if there are more)."""
    prefix: list[str] = []
    if (os.cpu_count() or 1) > 2 and shutil.which("taskset"):
        prefix = ["taskset", "-c", "0,1"]
    return prefix + cmd


def run_measured(cmd: list[str], log: Path, timeout_s: float) -> dict:
    """Run ``cmd``; wall time and peak RSS of the process tree's largest process."""
    timing = log.with_suffix(".time")
    env = {**os.environ}
    if (os.cpu_count() or 1) > 2:
        env.update({k: "2" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS")})
    use_time = Path("/usr/bin/time").exists()
    full = (["/usr/bin/time", "-f", "%e %M", "-o", str(timing)] if use_time else []) + pinned(cmd)
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        try:
            rc: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:  # stop the whole group this run started
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    wall = time.perf_counter() - start
    rec: dict = {"rc": rc, "wall_s": round(wall, 2)}
    if rc is None:
        rec["error"] = f"timed out after {timeout_s:.0f} s"
        return rec
    if use_time and timing.exists():
        last = timing.read_text().strip().splitlines()[-1].split()
        rec["wall_s"], rec["peak_rss_mb"] = float(last[0]), round(int(last[1]) / 1024, 1)
    else:  # getrusage of the children: the largest child so far, an upper bound
        rec["peak_rss_mb"] = round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    if rc != 0:
        tail = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        errors = [ln for ln in tail if re.match(r"^\w*(Error|Exception)\b", ln)]
        rec["error"] = (errors or tail or ["(no output)"])[-1][:300]
    return rec


# -------------------------------------------------------------------------- minecarbon


def child_minecarbon(args: argparse.Namespace) -> None:
    """In the subprocess: read the cloud, process the plot, write the trees and the timings."""
    from minecarbon.io.pointcloud import read_points
    from minecarbon.survey.tls import process_plot

    t0 = time.perf_counter()
    centre = side = crop = None
    if args.side is not None:
        centre, side = (args.cx, args.cy), args.side
        h = side / 2 + CROP_MARGIN_M
        crop = (args.cx - h, args.cy - h, args.cx + h, args.cy + h)
    pc = read_points(args.child, crop=crop)
    t1 = time.perf_counter()
    rss_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = process_plot(pc.xyz, centre_xy=centre, side_m=side)
    t2 = time.perf_counter()
    result.trees.to_csv(args.out_trees, index=False)
    Path(args.out_json).write_text(json.dumps({
        "points_read": len(pc.xyz), "peak_rss_after_read_mb": round(rss_read, 1),
        "xyz_mb": round(pc.xyz.nbytes / 2**20, 1), "read_s": round(t1 - t0, 2),
        "process_s": round(t2 - t1, 2),
        "density_points_per_m2": round(result.density_points_per_m2, 1),
        "messages": result.messages}))


def run_minecarbon(cloud: Path, square: tuple[float, float, float] | None, work: Path,
                   name: str) -> tuple[dict, pd.DataFrame | None]:
    trees_csv, info = work / f"{name}_mc_trees.csv", work / f"{name}_mc.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(cloud),
           "--out-trees", str(trees_csv), "--out-json", str(info)]
    if square is not None:
        cmd += ["--cx", repr(square[0]), "--cy", repr(square[1]), "--side", repr(square[2])]
    rec = run_measured(cmd, work / f"{name}_mc.log", timeout_s=3600)
    if rec["rc"] != 0:
        return rec, None
    rec.update(json.loads(info.read_text()))
    trees = pd.read_csv(trees_csv)
    rec["dbh_quality"] = trees["dbh_quality"].value_counts().to_dict()
    return rec, trees


# ------------------------------------------------------------------------------- 3DFin


def peer_info(venv: Path) -> tuple[Path | None, Path | None, str]:
    """The 3DFin executable, its shipped parameter file and its version (or why it is missing)."""
    exe = venv / "bin" / "3DFin"
    if not exe.exists():
        return None, None, f"3DFin unavailable: no {exe} (install 3dfin in a separate venv)"
    inis = sorted(venv.glob("lib/python*/site-packages/three_d_fin/3DFinconfig.ini"))
    if not inis:
        return None, None, "3DFin unavailable: its 3DFinconfig.ini was not found in the venv"
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True,
                             timeout=120, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, None, f"3DFin unavailable: `3DFin --version` failed ({exc})"
    version = (out.stdout.strip() or out.stderr.strip()).splitlines()[-1]
    return exe, inis[0], version


def write_params(default_ini: Path, dest: Path, overrides: dict[str, dict[str, str]]) -> Path:
    cfg = configparser.ConfigParser()
    cfg.read(default_ini)
    for section, values in overrides.items():
        for key, value in values.items():
            cfg[section][key] = value
    with dest.open("w") as fh:
        cfg.write(fh)
    return dest


def shifted_copy(cloud: Path, dest: Path) -> tuple[Path, float, float]:
    """The cloud with x, y moved to a local origin (whole metres), and the shift."""
    from minecarbon.io.pointcloud import read_points, write_las

    pc = read_points(cloud, classification=True)
    xyz = pc.xyz
    dx, dy = float(np.floor(xyz[:, 0].min())), float(np.floor(xyz[:, 1].min()))
    xyz[:, 0] -= dx
    xyz[:, 1] -= dy
    write_las(dest, xyz, pc.classification)
    return dest, dx, dy


def run_3dfin(exe: Path, params: Path, cloud: Path, work: Path, name: str,
              shift: tuple[float, float], timeout_s: float) -> tuple[dict, pd.DataFrame | None]:
    outdir = work / f"{name}_out"
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    cmd = [str(exe), "cli", "--export_txt", "--normalize", str(cloud), str(outdir), str(params)]
    log = work / f"{name}.log"
    rec = run_measured(cmd, log, timeout_s=timeout_s)
    text = log.read_text(errors="replace") if log.exists() else ""
    found = re.findall(r"Total time:\s+([\d.]+) s", text)
    if found:
        rec["own_total_s"] = float(found[-1])
    table = outdir / f"{cloud.stem}_dbh_and_heights.txt"
    if rec["rc"] != 0 or not table.exists():
        rec.setdefault("error", "no _dbh_and_heights.txt written")
        return rec, None
    arr = np.loadtxt(table, ndmin=2)
    if arr.size == 0:
        arr = np.zeros((0, 4))
    trees = pd.DataFrame({"x": arr[:, 2] + shift[0], "y": arr[:, 3] + shift[1],
                          "dbh_cm": arr[:, 1] * 100.0, "height_m": arr[:, 0]})
    trees["dbh_cm"] = trees["dbh_cm"].where(trees["dbh_cm"] > 0)
    rec["trees_all"] = len(trees)
    return rec, trees


# -------------------------------------------------------------------------- comparing


def summarise(rec: dict, trees: pd.DataFrame | None, square: tuple[float, float, float] | None,
              truth: pd.DataFrame | None) -> dict:
    if trees is None:
        return rec
    if square is not None:
        cx, cy, side = square
        h = side / 2
        inside = ((trees["x"] - cx).abs() <= h) & ((trees["y"] - cy).abs() <= h)
        trees = trees[inside].reset_index(drop=True)
    dbh = pd.to_numeric(trees["dbh_cm"], errors="coerce")
    rec["trees"] = len(trees)
    rec["trees_with_dbh"] = int((np.isfinite(dbh) & (dbh > 0)).sum())
    if truth is not None:
        from minecarbon.survey.tls import match_to_tally

        tally = truth[truth["in_plot"]].rename(columns={"x_m": "x", "y_m": "y"})
        m = match_to_tally(trees, tally.reset_index(drop=True), max_distance_m=MATCH_M).metrics
        rec.update({"truth_trees": m.n_tally, "matched": m.matched,
                    "detection_rate": round(m.detection_rate, 3),
                    "commission_rate": (None if math.isnan(m.commission_rate)
                                        else round(m.commission_rate, 3)),
                    "dbh_n": m.dbh.n,
                    "dbh_bias_cm": None if math.isnan(m.dbh.bias) else round(m.dbh.bias, 2),
                    "dbh_rmse_cm": None if math.isnan(m.dbh.rmse) else round(m.dbh.rmse, 2),
                    "height_rmse_m": (None if math.isnan(m.height.rmse)
                                      else round(m.height.rmse, 2))})
    return rec


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def print_table(clouds: dict) -> None:
    cols = ("tool", "wall_s", "peak_rss_mb", "trees", "trees_with_dbh", "detection_rate",
            "dbh_rmse_cm", "t_ratio", "mem_ratio")
    print("\n" + " | ".join(f"{c:>14}" for c in ("cloud", *cols)))
    for cname, c in clouds.items():
        base = c["runs"].get("minecarbon", {})
        for tool, r in c["runs"].items():
            row = [cname, tool] + [r.get(k) for k in cols[1:7]]
            ok = r.get("rc") == 0 and base.get("rc") == 0
            row += [ratio(r.get("wall_s"), base.get("wall_s")) if ok else None,
                    ratio(r.get("peak_rss_mb"), base.get("peak_rss_mb")) if ok else None]
            if r.get("error"):
                row[3] = f"FAIL: {r['error'][:40]}"
            print(" | ".join(f"{'' if v is None else v!s:>14}" for v in row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-venv", type=Path, default=Path("/tmp/venv-3dfin"))
    ap.add_argument("--skip-20m", action="store_true", help="leave out the 20 M-point plot")
    ap.add_argument("--peer-timeout", type=float, default=1800.0,
                    help="seconds before a 3DFin run is stopped (default 1800)")
    ap.add_argument("--big-cloud", type=Path, default=Path("/tmp/minecarbon_bench_tls_20m.laz"))
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out-trees", help=argparse.SUPPRESS)
    ap.add_argument("--out-json", help=argparse.SUPPRESS)
    ap.add_argument("--cx", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--cy", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--side", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child_minecarbon(args)
        return

    exe, default_ini, peer_version = peer_info(args.peer_venv)
    work = Path(tempfile.mkdtemp(prefix="bench_tls_"))
    print(f"work folder {work}; peer: {peer_version}", flush=True)

    plan: list[tuple[str, Path, tuple[float, float, float] | None, pd.DataFrame | None, int]] = []
    n, truth = simulated_cloud(work / "sim30.las", seed=1, n_trees=50, side_m=30.0,
                               density=400.0, max_points=4_000_000)
    plan.append(("sim30", work / "sim30.las", (CX, CY, 30.0), truth, n))
    if TREELS.exists():
        from minecarbon.io.pointcloud import read_las_header
        plan.append(("treels_pine_plot", TREELS, None, None, read_las_header(TREELS).point_count))
    if not args.skip_20m:
        t = time.perf_counter()
        n, truth = simulated_cloud(args.big_cloud, seed=2, n_trees=90, side_m=40.0,
                                   density=3600.0, max_points=BIG_POINTS)
        print(f"20 M cloud: {n} points ({time.perf_counter() - t:.0f} s to make or find)",
              flush=True)
        plan.append(("sim20m", args.big_cloud, (CX, CY, 40.0), truth, n))

    params: dict[str, Path] = {}
    if exe is not None and default_ini is not None:
        params["default"] = params["local"] = write_params(default_ini,
                                                           work / "3dfin_default.ini", {})
        params["tuned"] = write_params(default_ini, work / "3dfin_tuned.ini", {
            "expert": {"number_of_points": str(TUNED_NUMBER_OF_POINTS)}})

    clouds: dict = {}
    for name, path, square, truth, n_points in plan:
        entry: dict = {"file": str(path) if path == TREELS else path.name, "points": n_points,
                       "plot_square_m": None if square is None else square[2], "runs": {}}
        if truth is not None:
            entry["truth_trees_in_plot"] = int(truth["in_plot"].sum())
        print(f"\n== {name}: {n_points:,} points", flush=True)
        rec, trees = run_minecarbon(path, square, work, name)
        entry["runs"]["minecarbon"] = summarise(rec, trees, square, truth)
        print("   minecarbon", entry["runs"]["minecarbon"], flush=True)
        if exe is not None:
            variants = ["default", "local"] + ([] if name == "sim20m" else ["tuned"])
            local: tuple[Path, float, float] | None = None
            for variant in variants:
                cloud, shift = path, (0.0, 0.0)
                if variant != "default":
                    local = local or shifted_copy(path, work / f"{name}_local{path.suffix}")
                    cloud, shift = local[0], (local[1], local[2])
                rec, trees = run_3dfin(exe, params[variant], cloud, work,
                                       f"{name}_3dfin_{variant}", shift, args.peer_timeout)
                entry["runs"][f"3dfin_{variant}"] = summarise(rec, trees, square, truth)
                print(f"   3dfin_{variant}", entry["runs"][f"3dfin_{variant}"], flush=True)
        base = entry["runs"]["minecarbon"]
        entry["ratios_peer_over_minecarbon"] = {  # only where both runs finished
            tool: {"time": ratio(r.get("wall_s"), base.get("wall_s")),
                   "memory": ratio(r.get("peak_rss_mb"), base.get("peak_rss_mb"))}
            if r.get("rc") == 0 and base.get("rc") == 0 else None
            for tool, r in entry["runs"].items() if tool != "minecarbon"}
        clouds[name] = entry

    record: dict = {
        "peer": peer_version if exe is None else
        f"3DFin {peer_version} (`3DFin cli --export_txt --normalize`, separate venv "
        f"{args.peer_venv}, subprocess)",
        "cores": 2 if (os.cpu_count() or 1) > 2 else os.cpu_count(),
        "match_gate_m": MATCH_M,
        "peer_variants": {"default": "shipped 3DFinconfig.ini, file as given",
                          "local": "shipped parameters, cloud shifted to a local origin",
                          "tuned": f"local + number_of_points={TUNED_NUMBER_OF_POINTS} "
                                   "(small clouds only)"},
        "clouds": clouds,
    }
    if "sim20m" in clouds:
        mc = clouds["sim20m"]["runs"]["minecarbon"]
        wall = mc.get("wall_s") if mc.get("rc") == 0 else None
        record["target_20m"] = {
            "points": clouds["sim20m"]["points"], "wall_s": wall, "target_s": TARGET_20M_S,
            "ratio_to_target": ratio(wall, TARGET_20M_S),
            "met": wall is not None and wall < TARGET_20M_S,
            "peak_rss_mb": mc.get("peak_rss_mb"),
            "xyz_array_mb": round(clouds["sim20m"]["points"] * 24 / 2**20, 1),
        }
    print_table(clouds)
    save("tls_vs_3dfin" if not args.skip_20m else "tls_vs_3dfin_small", record)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
