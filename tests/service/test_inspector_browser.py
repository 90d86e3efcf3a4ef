"""The inspector page (GET /) in a real headless Chromium: search, verdict badges, the heatmap.

Needs Debian's chromium + chromium-driver (``.ci/run`` installs them) and selenium (extra
``[test]``). Saves a screenshot to reports/inspector.png and to $VERIRANK_ARTIFACTS (default
artifacts/).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver", reason='selenium missing: pip install "verirank[test]"')

import verirank  # noqa: E402
from verirank.service import create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
DOCS = ["the dog bit the man", "the man bit the dog", "a dog bit a man in the park", "stocks fell on monday",
        "the cat sat on the mat"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                       reason="Debian chromium and chromium-driver not found (apt-get install chromium chromium-driver; "
                              ".ci/run installs them)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(torch_encoder, shipped_verifier):
    import uvicorn

    pipe = verirank.Pipeline.default(encoder=torch_encoder, verifier=shipped_verifier)
    pipe.add(DOCS)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(pipe), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture()
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_page_searches_shows_verdicts_and_heatmap(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 60)
    browser.get(server + "/")
    assert browser.title == "verirank inspector"
    browser.find_element(By.ID, "query").send_keys("the dog bit the man")
    Select(browser.find_element(By.ID, "level")).select_by_visible_text("full")
    Select(browser.find_element(By.ID, "mode")).select_by_visible_text("identity")
    browser.find_element(By.ID, "search").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#hits .hit")) == len(DOCS))

    hits = browser.find_elements(By.CSS_SELECTOR, "#hits .hit")
    badges = [h.find_element(By.CSS_SELECTOR, ".badge").text.lower() for h in hits]
    texts = [h.find_element(By.CSS_SELECTOR, ".text").text for h in hits]
    assert texts[0] == "the dog bit the man" and badges[0] == "accept"
    swapped = texts.index("the man bit the dog")
    assert badges[swapped] == "reject" and "role reversal" in hits[swapped].find_element(By.CSS_SELECTOR, ".reason").text
    assert all("p_match" in h.find_element(By.CSS_SELECTOR, ".p").text for h in hits)

    hits[swapped].click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "table.heatmap td.cell")))
    cells = browser.find_elements(By.CSS_SELECTOR, "table.heatmap td.cell")
    assert len(cells) == 5 * 5  # query tokens x candidate tokens
    assert browser.find_element(By.ID, "explain-decision").text.lower() == "reject"
    evidence = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.heatmap th.evidence")]
    assert {"dog", "man"} <= set(evidence)  # the swapped words drove the decision
    assert browser.find_elements(By.CSS_SELECTOR, "table.heatmap td.cell.evidence")
    assert "rgb(" in cells[0].get_attribute("style")

    png = browser.get_screenshot_as_png()  # the index view, for the record

    # candidates pasted into the page instead of searched: /v1/rerank, same rendering
    assert not browser.find_element(By.ID, "texts").is_displayed()
    Select(browser.find_element(By.ID, "source")).select_by_value("texts")
    browser.find_element(By.ID, "texts").send_keys("the man bit the dog\nthe dog bit the man")
    browser.find_element(By.ID, "search").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#hits .hit")) == 2)
    hits = browser.find_elements(By.CSS_SELECTOR, "#hits .hit")
    assert [h.find_element(By.CSS_SELECTOR, ".badge").text.lower() for h in hits] == ["accept", "reject"]
    hits[1].click()
    wait.until(lambda d: d.find_element(By.ID, "explain-decision").text.lower() == "reject")

    for target in (ROOT / "reports" / "inspector.png",
                   Path(os.environ.get("VERIRANK_ARTIFACTS", ROOT / "artifacts")) / "inspector.png"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png)
