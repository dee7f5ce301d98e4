"""Helpers: wall time and peak resident memory of a block of code, results as JSON."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@contextmanager
def timed(record: dict, key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    record[key] = round(time.perf_counter() - start, 2)


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "machine": platform.machine()}


def save(name: str, record: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {**record, "machine": machine(), "peak_rss_mb": round(peak_rss_mb(), 1),
              "date": time.strftime("%Y-%m-%d")}
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))
    return path


def in_own_process(script: str, *args: object) -> dict[str, Any]:
    """Run ``python script *args`` in a fresh process (its peak RSS its own) and return the
    JSON object it prints on its last line of output."""
    done = subprocess.run([sys.executable, script, *map(str, args)], capture_output=True,
                          text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
