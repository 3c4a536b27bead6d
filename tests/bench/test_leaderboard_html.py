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


WIDE_METRICS = ["bleu1", "bleu2", "bleu3", "bleu4", "rouge1", "rouge2", "rougeL", "rougeL_coco", "cider",
                "bertscore_minilm", "label_f1_macro", "label_f1_micro"]


def _rect(driver, css: str) -> dict:
    return driver.execute_script("var r=document.querySelector(arguments[0]).getBoundingClientRect();"
                                 "return {left:r.left,right:r.right,top:r.top,bottom:r.bottom};", css)


def _on_top(driver, css: str) -> bool:
    """Whether the element is what the user sees at its own centre (not covered by scrolled cells)."""
    return driver.execute_script(
        "var e=document.querySelector(arguments[0]); var r=e.getBoundingClientRect();"
        "var hit=document.elementFromPoint((r.left+r.right)/2,(r.top+r.bottom)/2);"
        "return hit===e || e.contains(hit);", css)


def test_wide_table_keeps_system_visible_and_groups_collapse(make_suite, browser, tmp_path):
    long_name = "rad3d-prefix-v3 (SmolLM2-135M, prefix 4, seed 0)"
    extra_systems = {name: {f"case{i:03d}": "No pleural effusion. Heart size is normal." for i in range(12)}
                     for name in (long_name, "extra-a", "extra-b")}
    suite = load_suite(make_suite(n=12, metrics=WIDE_METRICS, systems=extra_systems, extra={"rank_by": "rougeL"}))
    run_suite(suite, quiet=True)
    browser.set_window_size(1366, 520)
    browser.get((suite.output_dir / "leaderboard.html").as_uri())
    assert browser.execute_script("return window.innerWidth") <= 1366
    box = "#board-scroll"
    dims = browser.execute_script("var s=document.querySelector(arguments[0]);"
                                  "return [s.scrollWidth, s.clientWidth, s.scrollHeight, s.clientHeight];", box)
    assert dims[0] > dims[1] + 200, f"the table should overflow sideways at 1366 px: {dims}"
    assert dims[2] > dims[3], f"the table should scroll vertically in its box: {dims}"
    # rows follow the rank order and the rank column shows the groups
    ranks = browser.execute_script("return Array.from(document.querySelectorAll('#leaderboard tbody tr'))"
                                   ".map(r => Number(r.cells[0].dataset.value));")
    assert ranks == sorted(ranks) and ranks[0] == 1
    first_system = "#leaderboard tbody tr:first-child td.system"
    first_score = "#leaderboard tbody tr:first-child td.num"
    before = _rect(browser, first_system)
    score_before = _rect(browser, first_score)
    browser.execute_script("var s=document.querySelector(arguments[0]); s.scrollLeft=s.scrollWidth;", box)
    after = _rect(browser, first_system)
    container = _rect(browser, box)
    assert _rect(browser, first_score)["left"] < score_before["left"] - 200  # the scores did scroll away
    assert after["left"] == pytest.approx(before["left"], abs=1)  # the system cell did not
    assert after["left"] >= container["left"] - 1 and after["right"] <= browser.execute_script(
        "return window.innerWidth")
    assert _on_top(browser, first_system) and _on_top(browser, "#leaderboard tbody tr:first-child td.rank")
    # sticky header: scroll the box down, the metric headers stay at its top and visible
    header = "#leaderboard thead tr:nth-child(2) th:last-child"  # in view after the sideways scroll
    browser.execute_script("var s=document.querySelector(arguments[0]); s.scrollTop=s.scrollHeight;", box)
    assert _rect(browser, header)["top"] >= container["top"] - 1 and _on_top(browser, header)
    browser.save_screenshot(str(tmp_path / "leaderboard-1366.png"))
    # collapse the lexical group: its columns disappear, the others stay; expand again
    browser.execute_script("var s=document.querySelector(arguments[0]); s.scrollLeft=0; s.scrollTop=0;", box)
    button = browser.find_element("css selector", ".toggles button[data-group='g0']")
    assert button.text.startswith("lexical")
    group_class = button.get_attribute("data-group")

    def shown(selector: str) -> list[bool]:
        return browser.execute_script("return Array.from(document.querySelectorAll(arguments[0]))"
                                      ".map(e => getComputedStyle(e).display !== 'none');", selector)

    assert all(shown(f"#leaderboard .{group_class}"))
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    hidden = shown(f"#leaderboard .{group_class}")
    assert hidden and not any(hidden)  # 9 lexical headers + group header + every lexical cell
    assert all(shown("#leaderboard .g1")) and all(shown("#leaderboard .g2"))
    headers = browser.execute_script("return Array.from(document.querySelectorAll('#leaderboard thead th'))"
                                     ".filter(h => getComputedStyle(h).display !== 'none').map(h => h.textContent);")
    assert not any(h.startswith("bleu") for h in headers) and any(h.startswith("bertscore_minilm") for h in headers)
    browser.save_screenshot(str(tmp_path / "leaderboard-collapsed.png"))
    button.click()
    assert all(shown(f"#leaderboard .{group_class}"))
