"""Generating the simulated site: wall time, peak memory and output size (issue 3).

    python benchmarks/bench_site.py --size large --out /tmp/large-site

The generator works block by block (``SiteSpec.chunk_px``), so peak memory depends on the
block size and the number of open output files, not on the size of the site.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import save, timed

from minecarbon.demo.generate import generate_site
from minecarbon.demo.spec import SiteSpec, Size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="large", choices=[s.value for s in Size])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    spec = SiteSpec(size=Size(args.size))
    shutil.rmtree(args.out, ignore_errors=True)
    record: dict = {"size": spec.size.value, "pixels": spec.n_pixels**2,
                    "years": len(spec.years), "chunk_px": spec.chunk_px}
    with timed(record, "generate_s"):
        delivery = generate_site(spec, args.out,
                                 lambda m, f: print(f"{f:5.0%} {m}", flush=True))
    files = [p for p in args.out.rglob("*") if p.is_file()]
    record["files"] = len(files)
    record["scenes"] = sum(1 for kind, _, _ in delivery.raw if kind == "scene")
    record["output_gb"] = round(sum(p.stat().st_size for p in files) / 1e9, 2)
    record["seconds_per_megapixel"] = round(record["generate_s"] / (record["pixels"] / 1e6), 2)
    save(f"site_{spec.size.value}", record)
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
