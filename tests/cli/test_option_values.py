"""Every option value is checked before any work or write (issue 15, point 4.1).

A bad value gives exit code 2 and exactly one line on stderr naming the option and the value,
with a fix; the workspace (and the folder around it) is left as it was.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from minecarbon.compute import check_scheduler
from minecarbon.errors import ConfigError
from tests.cli._helpers import single_error_line, snapshot
from tests.conftest import write_tif


@pytest.fixture
def site(cli, tmp_path: Path) -> Path:
    """tmp_path with an initialised workspace ``ws``, a raster and a text file."""
    assert cli("init", tmp_path / "ws")[0] == 0
    write_tif(tmp_path / "dem.tif")
    (tmp_path / "notes.txt").write_text("not a point cloud\n")
    return tmp_path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


BAD = [
    # (arguments, words the one line must contain)
    (["report", "-w", "{ws}", "--lang", "fr"], ["--lang", "'fr'"]),
    (["demo", "-w", "{tmp}/demo", "--lang", "fr"], ["--lang", "'fr'"]),
    (["run", "-w", "{ws}", "--scheduler", "bogus"], ["--scheduler", "'bogus'"]),
    (["report", "-w", "{ws}", "--scheduler", "bogus"], ["--scheduler", "'bogus'"]),
    (["demo", "-w", "{tmp}/demo", "--scheduler", "bogus"], ["--scheduler", "'bogus'"]),
    (["run", "-w", "{ws}", "--scheduler", "tcp://localhost:port"], ["--scheduler", "port"]),
    (["run", "-w", "{ws}", "--scheduler", "tcp://:8786"], ["--scheduler", "no host"]),
    (["run", "-w", "{ws}", "--scheduler", "tcp://localhost"], ["--scheduler", "no port"]),
    (["run", "-w", "{ws}", "--scheduler", "inproc://x"], ["--scheduler", "'inproc://x'"]),
    (["run", "-w", "{ws}", "--scheduler", "tcp://127.0.0.1:{closed}"],
     ["--scheduler", "cannot reach"]),
    (["run", "-w", "{ws}", "--scheduler", "tls://127.0.0.1:{closed}"], ["--scheduler", "TLS"]),
    (["import", "dem", "{tmp}/dem.tif", "-w", "{ws}", "--year", "abc"], ["--year", "'abc'"]),
    (["import", "dem", "{tmp}/dem.tif", "-w", "{ws}", "--year", "1850"], ["--year", "1850"]),
    (["import", "dem", "{tmp}/dem.tif", "-w", "{ws}", "--year", "2021-02-30"],
     ["--year", "2021-02-30"]),
    (["import", "dem", "{tmp}/dem.tif", "-w", "{ws}", "--year", "2024/2000"],
     ["--year", "2024/2000"]),
    (["demo", "-w", "{tmp}/demo", "--size", "huge"], ["--size", "huge"]),
    (["demo", "-w", "{tmp}/demo", "--seed", "-1"], ["--seed"]),
    (["demo", "-w", "{tmp}/demo", "--seed", "x"], ["--seed"]),
    (["demo", "-w", "{tmp}/demo", "--remeasure", "2024"], ["--remeasure 2024", "2000–2023"]),
    (["demo", "-w", "{tmp}/demo", "--remeasure", "1990"], ["--remeasure 1990"]),
    (["demo", "-w", "{tmp}/demo", "--remeasure", "x"], ["--remeasure"]),
    (["demo", "-w", "{tmp}/demo", "--sensors", "gf6"], ["--sensor", "gf6", "landsat+s2"]),
    (["plots", "plan", "-w", "{ws}", "--year", "3000"], ["--year"]),
    (["plots", "plan", "-w", "{ws}", "--total", "0"], ["--total"]),
    (["plots", "plan", "-w", "{ws}", "--seed", "-5"], ["--seed"]),
    (["plots", "check", "-w", "{ws}", "--plan", "{tmp}/absent.csv"], ["--plan", "absent.csv"]),
    (["plots", "agc", "-w", "{ws}", "--models", "{tmp}/absent.csv"],
     ["--models", "absent.csv"]),
    (["tls", "{tmp}/absent.laz", "-w", "{ws}"], ["CLOUD", "absent.laz"]),
    (["tls", "{tmp}/dem.tif", "-w", "{ws}"], ["CLOUD", "dem.tif"]),
    (["tls", "{tmp}/notes.txt", "-w", "{ws}", "--tally", "{tmp}/absent.csv"],
     ["--tally", "absent.csv"]),
    (["tls", "{tmp}/notes.txt", "-w", "{ws}", "--plot-id", "../escape"],
     ["--plot-id", "../escape"]),
    (["catalog", "export", "-w", "{ws}"], ["--stac"]),
    (["report", "--bogus"], ["--bogus"]),
    (["frobnicate"], ["frobnicate"]),
]


@pytest.mark.parametrize(("args", "words"), BAD, ids=[" ".join(a[:4]) for a, _ in BAD])
def test_bad_option_is_one_line_exit_2_nothing_written(
    cli, site: Path, args: list[str], words: list[str]
) -> None:
    before = snapshot(site)
    closed = str(_closed_port())
    argv = [a.replace("{ws}", str(site / "ws")).replace("{tmp}", str(site))
            .replace("{closed}", closed) for a in args]
    started = time.monotonic()
    code, _out, err = cli(*argv)
    assert time.monotonic() - started < 10
    assert code == 2
    line = single_error_line(err)
    for word in words:
        assert word in line
    assert snapshot(site) == before  # no demo folder, no import, no lock file


def test_configured_scheduler_is_checked_before_any_work(cli, site: Path) -> None:
    toml = site / "ws" / "minecarbon.toml"
    text = toml.read_text()
    assert 'scheduler = "threads"' in text
    toml.write_text(text.replace('scheduler = "threads"', 'scheduler = "bogus"'))
    before = snapshot(site)
    code, _, err = cli("run", "-w", site / "ws")
    assert code == 2
    assert "compute.scheduler 'bogus'" in single_error_line(err)
    assert snapshot(site) == before


def test_good_values_pass(cli, site: Path) -> None:
    code, _out, err = cli("import", "dem", site / "dem.tif", "-w", site / "ws", "--year",
                         "2000/2024")
    assert code == 0, err
    code, _, err = cli("-q", "run", "-w", site / "ws", "--until", "catalogue",
                       "--scheduler", "synchronous")
    assert code == 0, err


# ------------------------------------------------------------------------- scheduler reach
@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says anything."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield int(server.getsockname()[1])
    server.close()


@pytest.fixture
def http_server() -> Iterator[int]:
    """A TCP port where something that is not dask answers at once."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(10)

    def answer() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            time.sleep(0.5)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    server.close()
    thread.join(5)


def test_silent_address_fails_within_seconds(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match="cannot reach the dask scheduler.*no answer"):
        check_scheduler(f"tcp://127.0.0.1:{silent_server}", name="--scheduler")
    assert time.monotonic() - started < 8


def test_something_else_listening_is_not_a_scheduler(http_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match="not a dask scheduler"):
        check_scheduler(f"tcp://127.0.0.1:{http_server}", name="--scheduler")
    assert time.monotonic() - started < 5


def test_a_running_scheduler_passes() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert check_scheduler(address, name="--scheduler") == address


@pytest.mark.parametrize("value", ["threads", "processes", "synchronous"])
def test_local_schedulers_pass_without_a_connection(value: str) -> None:
    assert check_scheduler(value) == value
