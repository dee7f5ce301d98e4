"""The HTML report in a real browser: headless Chromium loads it offline and takes a screenshot.

Chromium is Debian's ``chromium`` package; without it the test skips (install it with
``sh tools/install_test_tools.sh`` as root). The page's Chinese font comes from the mplfonts
package (Noto Sans CJK SC), made visible to Chromium through a private fontconfig file, so the
screenshot does not depend on the system's fonts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from minecarbon.report.render_html import render_html
from tests.report.test_render import sample_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=5000"]  # paint every image before the shot


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.skip("Chromium not installed: run `sh tools/install_test_tools.sh` as root "
                    "(Debian: apt-get install -y chromium)")
    return path


def fontconfig_with_noto(tmp_path: Path) -> Path:
    """A fontconfig file: the system's fonts plus the Noto Sans CJK SC of mplfonts."""
    font_dir = files("mplfonts").joinpath("fonts")
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{font_dir}</dir>\n  <cachedir>{tmp_path / 'fontcache'}</cachedir>\n"
        "</fontconfig>\n", encoding="utf-8")
    return config


def screenshot(html: Path, png: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, FONTCONFIG_FILE=str(fontconfig_with_noto(tmp_path)),
               HOME=str(tmp_path))
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               f"--screenshot={png}", "--window-size=1200,1600", html.as_uri()]
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90,
                              check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("headless Chromium did not finish the screenshot within 90 s")


def test_headless_chromium_screenshot(tmp_path: Path) -> None:
    html = tmp_path / "report.zh.html"
    html.write_text(render_html(sample_report("zh")), encoding="utf-8")
    png = tmp_path / "report.png"
    result = screenshot(html, png, tmp_path)
    assert png.exists(), f"no screenshot; chromium said: {result.stderr[-2000:]}"
    assert png.stat().st_size > 20_000
    pixels = mpimg.imread(png)[..., :3]  # floats in [0, 1]
    assert pixels.shape[:2] == (1600, 1200)
    colours = np.unique((pixels * 255).round().astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # text, rules, the figure: not a blank page
    dark = (pixels.max(axis=2) < 0.3).mean()
    assert 0.001 < dark < 0.5  # there is text, and the page is not black
    # the first figure is a red bar chart: the data: URI image was decoded and drawn
    red = (pixels[..., 0] > 0.9) & (pixels[..., 1] < 0.1) & (pixels[..., 2] < 0.1)
    assert red.sum() > 2_000


def test_screenshot_check_can_fail(tmp_path: Path) -> None:
    """A page without the figure has no red pixels: the check above is not vacuous."""
    report = sample_report("zh")
    report.sections = report.sections[2:]
    html = tmp_path / "bare.html"
    html.write_text(render_html(report), encoding="utf-8")
    png = tmp_path / "bare.png"
    screenshot(html, png, tmp_path)
    pixels = mpimg.imread(png)[..., :3]
    red = (pixels[..., 0] > 0.9) & (pixels[..., 1] < 0.1) & (pixels[..., 2] < 0.1)
    assert red.sum() == 0
