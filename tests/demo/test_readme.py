"""The README's "Using it" sequence runs as written on the files the demo delivers (issue 18).

The commands are read from the README itself (the first ``bash`` block after "## Using it"),
``D`` is the demo workspace's ``raw/`` folder (the files the simulated provider delivered),
``my-mine`` a fresh folder; every command runs in-process through the CLI and must exit 0.
``minecarbon demo`` itself is not re-run: the session's demo workspace is that step.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    """The command lines of the README's "Using it" block, comments removed."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Using it.*?```bash\n(.*?)```", text, flags=re.S)
    assert block is not None, "README has no bash block under 'Using it'"
    lines = []
    for raw in block.group(1).splitlines():
        line = re.sub(r"\s+#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def test_the_readme_sequence_runs_as_written(small_site: Path, tmp_path: Path, cli) -> None:
    commands = readme_commands()
    assert len(commands) >= 20
    variables = {"D": str(small_site / "raw")}
    ran = 0
    for line in commands:
        assignment = re.fullmatch(r"(\w+)=(\S+)", line)
        if assignment:
            assert assignment.group(1) in variables, f"unexpected variable in {line!r}"
            continue
        words = [w.replace("my-mine", str(tmp_path / "my-mine")) for w in shlex.split(line)]
        words = [re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], w) for w in words]
        assert words[0] == "minecarbon", line
        if words[1] == "demo":
            continue  # the session's demo workspace (small_site) is this step's result
        if words[1:2] == ["catalog"] and "export" in words:
            words = [w if w != "stac" else str(tmp_path / "stac") for w in words]
        code, _out, err = cli(*words[1:])
        assert code == 0, f"{line!r} exited {code}: {err[-1500:]}"
        ran += 1
    mine = tmp_path / "my-mine"
    assert ran == len(commands) - 2
    # `run` wrote the Chinese report, `report --lang en` replaced it with the English one
    assert (mine / "reports/report.en.docx").exists() and (mine / "reports/report.en.html").exists()
    assert (tmp_path / "my-mine-view/index.html").exists()
    totals = pd.read_csv(mine / "products/assessment/totals.csv")
    demo = pd.read_csv(small_site / "products/assessment/totals.csv")
    # the same files give the same carbon as the demo's own run (same steps, same seeds)
    extent = totals[(totals["zone"] == "extent")].set_index("year")["mapped_agc_t"]
    expected = demo[(demo["zone"] == "extent")].set_index("year")["mapped_agc_t"]
    assert len(extent) == len(expected) == 25
    assert (abs(extent - expected) <= 0.02 * expected).all()
