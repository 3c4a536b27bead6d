"""The real HTML form in headless Chromium: click ratings, reload, save, read the downloaded files."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from radeval.types import Case
from radeval_reader_study.export import export_packet
from radeval_reader_study.ingestion import ingest
from radeval_reader_study.key import read_key


pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    pytest.skip("headless Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver, downloads
    finally:
        driver.quit()


def _wait_for(downloads: Path, suffix: str, timeout: float = 20.0) -> Path:
    end = time.time() + timeout
    while time.time() < end:
        done = [p for p in downloads.iterdir() if p.name.endswith(suffix)]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download appeared in {downloads}: {list(downloads.iterdir())}")


def _rule(reader: str, system: str, case_id: str, criterion: str) -> int:
    return {"a": 2, "b": 4, "c": 5}[system] if criterion == "clinical_accuracy" else {"a": 3, "b": 3, "c": 1}[system]


def _click(driver, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    el = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def _packet(tmp_path: Path, n: int = 3):
    cases = [Case(f"c{i}", f"Reference {i}.") for i in range(n)]
    systems = {
        "a": {c.id: f"Report A {i} <script>window.__pwned = 1</script>" for i, c in enumerate(cases)},
        "b": {c.id: f"Report B {i} <img src=x onerror=\"window.__pwned = 2\">" for i, c in enumerate(cases)},
        "c": {c.id: f"Report C {i}." for i, c in enumerate(cases)},
    }
    return export_packet(cases, systems, n=n, readers=2, seed=0, out_dir=tmp_path / "packet",
                         key_path=tmp_path / "key.json", formats=("html",), blinding_seed=5)


def test_fill_reload_save_and_ingest(tmp_path: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    driver, downloads = browser
    res = _packet(tmp_path)
    key = read_key(res.key_path)
    form = res.packet_dir / "reader1" / "rating-form.html"
    driver.get(form.as_uri())
    progress = driver.find_element(By.ID, "progress-text")
    assert progress.text == "0 / 9 reports rated"
    assert driver.execute_script("return window.__pwned === undefined")
    assert "<script>window.__pwned = 1</script>" in driver.find_element(By.TAG_NAME, "main").text

    # saving with nothing rated is refused: required fields
    _click(driver, "save-csv")
    status = driver.find_element(By.ID, "status")
    assert "9 report(s) are not fully rated" in status.text
    time.sleep(0.5)
    assert list(downloads.iterdir()) == []

    order = key.orders["reader1"]
    for k, item in enumerate(order):
        o = key.items[item]
        for crit in key.rubric.criterion_ids:
            _click(driver, f"{item}__{crit}__{_rule('reader1', o.system, o.case_id, crit)}")
        if k == 4:
            break
    assert progress.text == "5 / 9 reports rated"
    comment = driver.find_element(By.NAME, f"{order[0]}__comment")
    comment.send_keys('odd "quote", comma\nand a new line')

    driver.refresh()  # unsaved work comes back from local storage
    progress = driver.find_element(By.ID, "progress-text")
    assert progress.text == "5 / 9 reports rated"
    assert len(driver.find_elements(By.CSS_SELECTOR, "input[type=radio]:checked")) == 10
    assert driver.find_element(By.NAME, f"{order[0]}__comment").get_attribute("value").startswith('odd "quote"')

    for item in order[5:]:
        o = key.items[item]
        for crit in key.rubric.criterion_ids:
            _click(driver, f"{item}__{crit}__{_rule('reader1', o.system, o.case_id, crit)}")
    assert progress.text == "9 / 9 reports rated"

    _click(driver, "save-csv")
    csv_file = _wait_for(downloads, ".csv")
    _click(driver, "save-json")
    json_file = _wait_for(downloads, ".json")
    assert csv_file.name == f"ratings-reader1-{key.packet_sha256[:8]}.csv"
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert doc["complete"] is True and doc["reader"] == "reader1" and len(doc["ratings"]) == 9

    for path in (csv_file, json_file):
        result = ingest(res.key_path, [path])
        mine = [p for p in result.problems if p.reader == "reader1" or p.reader is None]
        assert mine == [], [str(p) for p in mine]
        assert len(result.ratings) == 18
        table = result.unblinded()
        for row in table.itertuples():
            assert row.score == _rule(row.reader, row.system, row.case_id, row.criterion)
        assert result.comments["comment"].tolist() == ['odd "quote", comma\nand a new line']


def test_incomplete_draft_is_saved_and_ingested_as_partial(tmp_path: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    driver, downloads = browser
    res = _packet(tmp_path)
    key = read_key(res.key_path)
    driver.get((res.packet_dir / "reader2" / "rating-form.html").as_uri())
    first = key.orders["reader2"][0]
    _click(driver, f"{first}__clinical_accuracy__4")
    _click(driver, "allow-incomplete")
    _click(driver, "save-csv")
    draft = _wait_for(downloads, "-draft.csv")
    assert "draft of the rest" in driver.find_element(By.ID, "status").text
    result = ingest(res.key_path, [draft])
    assert result.ratings[["item_id", "reader", "criterion", "score"]].values.tolist() == [
        [first, "reader2", "clinical_accuracy", 4]]
    missing = [p for p in result.problems if p.kind == "missing" and p.reader == "reader2"]
    assert len(missing) == 9  # one criterion of the first item + the 8 untouched items
    assert result.coverage().set_index("reader").loc["reader2", "rated"] == 1
