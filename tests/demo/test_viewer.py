"""The web viewer in a real browser (issue 18, points 3–4).

Debian's ``chromium`` and ``chromium-driver`` (``tools/install_test_tools.sh``), driven by
Selenium with the driver's path given (nothing is downloaded): the viewer of the small demo is
served on 127.0.0.1 by :func:`minecarbon.view.serve`, the year slider is moved with the arrow
keys, a forest pixel is clicked, and the values shown must equal the rasters' and the totals
table's; the exported copy opens from disk too. Screenshots are written next to the test's
temporary files and were looked at when the viewer was written.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from matplotlib import image as mpimg

from minecarbon.view import export_viewer, serve


def _driver(tmp_path: Path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("chromium or chromedriver missing: run `sh tools/install_test_tools.sh`")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,850",
                f"--user-data-dir={tmp_path / 'profile'}", "--allow-file-access-from-files"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _wait(driver, script: str, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}")


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, masked=True).astype("float64").filled(np.nan)


def test_the_viewer_shows_the_rasters_and_tables_values(small_site: Path,
                                                        tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = _driver(tmp_path)
    stop = threading.Event()
    urls: list[str] = []
    server = threading.Thread(target=serve, args=(small_site,),
                              kwargs={"port": 0, "on_ready": urls.append, "stop": stop},
                              daemon=True)
    server.start()
    try:
        for _ in range(600):
            if urls:
                break
            time.sleep(0.1)
        assert urls and urls[0].startswith("http://127.0.0.1:")
        driver.get(urls[0])
        _wait(driver, "window.mcApp && window.mcApp.ready")
        years = driver.execute_script("return MC.years")
        assert years[0] == 2000 and years[-1] == 2024
        # the year slider, moved with the keyboard, changes the year and the AGC image
        slider = driver.find_element(By.ID, "year")
        slider.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
        assert driver.find_element(By.ID, "year-label").text == "2022"
        url = driver.execute_script("return mcApp.map.getLayers().item(0).getSource()"
                                    ".getUrl()")
        assert url.endswith("agc_2022.png")
        # click a forest pixel of 2022 on the map canvas
        agc = _read(small_site / "products/agc/agc_2022.tif")
        rows, cols = np.nonzero(np.isfinite(agc))
        pick = len(rows) // 3
        row, col = int(rows[pick]), int(cols[pick])
        with rasterio.open(small_site / "products/agc/agc_2022.tif") as src:
            x, y = src.xy(row, col)
        px, py = driver.execute_script("return mcApp.pixelOf(arguments[0], arguments[1])", x, y)
        canvas = driver.find_element(By.ID, "map")
        size = canvas.size
        ActionChains(driver).move_to_element_with_offset(
            canvas, px - size["width"] / 2, py - size["height"] / 2).click().perform()
        _wait(driver, "document.getElementById('pixel')")
        shown = driver.find_element(By.ID, "pixel")
        assert (int(shown.get_attribute("data-row")), int(shown.get_attribute("data-col"))) == (
            row, col)
        assert float(shown.get_attribute("data-agc")) == pytest.approx(agc[row, col], abs=0.006)
        l2 = _read(small_site / "products/units/units_l2_2022.tif")
        assert int(shown.get_attribute("data-l2")) == int(l2[row, col])
        # the history table: every year's AGC and interval, as the rasters hold them
        compared = 0
        for tr in driver.find_elements(By.CSS_SELECTOR, "#pixel-table tr[data-year]"):
            year = int(tr.get_attribute("data-year"))
            for cls, suffix in (("agc", ""), ("lo", "_lower"), ("hi", "_upper")):
                value = _read(small_site / f"products/agc/agc_{year}{suffix}.tif")[row, col]
                text = tr.find_element(By.CLASS_NAME, cls).text
                if np.isnan(value):
                    assert text == "—"
                else:
                    assert float(text) == pytest.approx(round(value, 2), abs=0.006)
                    compared += 1
        assert compared >= 3
        # the unit's totals over the years, as totals.csv holds them
        zone = f"l2:{int(l2[row, col])}"
        totals = pd.read_csv(small_site / "products/assessment/totals.csv")
        expect = totals[totals["zone"] == zone].set_index("year")
        unit = driver.find_element(By.CSS_SELECTOR, f".unit[data-zone='{zone}']")
        cells = unit.find_elements(By.CSS_SELECTOR, "tr[data-year]")
        assert len(cells) == len(expect) > 0
        for tr in cells:
            year = int(tr.get_attribute("data-year"))
            assert float(tr.find_element(By.CLASS_NAME, "agc").text) == pytest.approx(
                expect.at[year, "agc_t"], abs=0.06)
            assert float(tr.find_element(By.CLASS_NAME, "hi").text) == pytest.approx(
                expect.at[year, "agc_t_ci_high"], abs=0.06)
        # a plot: its id and AGC, as plot_agc.csv holds them
        plot_id, px_x, px_y = driver.execute_script(
            "const f = MC.vectors.plots.features[0]; const c = f.geometry.coordinates;"
            "const p = mcApp.pixelOf(c[0], c[1]); return [f.properties.plot_id, p[0], p[1]];")
        ActionChains(driver).move_to_element_with_offset(
            canvas, px_x - size["width"] / 2, px_y - size["height"] / 2).click().perform()
        _wait(driver, "document.getElementById('plot')")
        plots = pd.read_csv(small_site / "products/plots/plot_agc.csv", encoding="utf-8-sig")
        agc_plot = float(plots.set_index("plot_id").at[plot_id, "agc_t_per_ha"])
        text = driver.find_element(By.ID, "plot").text
        assert plot_id in text and f"{agc_plot:.2f}" in text
        # English legends: no Chinese left in the layer list
        driver.find_element(By.ID, "lang").click()
        labels = driver.find_element(By.ID, "layers").text
        assert "carbon" in labels and not any("\u4e00" <= ch <= "\u9fff" for ch in labels)
        shot = tmp_path / "viewer.png"
        driver.save_screenshot(str(shot))
        pixels = mpimg.imread(shot)[..., :3]
        assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
        # the exported copy opens from disk, offline
        index = export_viewer(small_site, tmp_path / "export")
        driver.get(index.as_uri())
        _wait(driver, "window.mcApp && window.mcApp.ready")
        assert driver.execute_script("return mcApp.map.getLayers().item(0).getSource()"
                                     ".getState()") in ("ready", "loading")
        values = driver.execute_script(
            "return mcApp.clickAt(arguments[0], arguments[1]).then(r => r.est)", x, y)
        assert values[years.index(2022)] == pytest.approx(agc[row, col], abs=0.006)
    finally:
        driver.quit()
        stop.set()
        server.join(timeout=5)
