"""The HTML leaderboard in real headless Chromium: rows through the DOM, click-to-sort, escaped names."""

from __future__ import annotations

import shutil
import tempfile

import pandas as pd
import pytest

from radeval.bench.runner import run_suite
from radeval.bench.suite import load_suite

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("headless Chromium/chromedriver not installed (Debian packages chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _column_values(driver, col: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
        ".map(r => r.cells[arguments[0]].dataset.value);", col)


def test_table_sorts_and_escapes(make_suite, browser):
    evil = "<script>window.__pwned = 1</script>"
    path = make_suite(n=20, systems={evil: {f"case{i:03d}": "No pleural effusion." for i in range(20)}})
    suite = load_suite(path)
    run_suite(suite, quiet=True)
    browser.get((suite.output_dir / "leaderboard.html").as_uri())
    assert browser.execute_script("return window.__pwned === undefined")
    systems = _column_values(browser, 0)
    assert systems == ["poor", "medium", "good", evil]  # suite order; the name is shown as text
    texts = browser.execute_script("return Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
                                   ".map(r => r.cells[0].textContent);")
    assert any(evil in t for t in texts)

    board = pd.read_csv(suite.output_dir / "leaderboard.csv")
    rouge = board[board["metric"] == "rougeL"].set_index("system")["score"]
    header = browser.find_element("css selector", "#leaderboard th[data-col='2']")
    assert header.text.startswith("rougeL")
    header.click()  # first click: descending
    values = [float(v) for v in _column_values(browser, 2)]
    assert values == sorted(values, reverse=True)
    assert _column_values(browser, 0)[0] == rouge.idxmax()
    header.click()  # second click: ascending
    values = [float(v) for v in _column_values(browser, 2)]
    assert values == sorted(values)
    assert browser.find_element("css selector", "#literature").text.startswith("Reported in the literature")
