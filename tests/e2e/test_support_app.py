"""The capstone's web page in a real browser: ask about an order, watch the reply stream, open a ticket.

Starts `python -m support_assistant.app` (what `make app` runs) on a port of its own with a
temporary copy of the shop's database, on the offline model, and drives it with Debian's
Chromium through Playwright (no browser download). Saves build/e2e/support_app.png.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from browser import BROWSER_TEST, CHROMIUM
from isolation import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "e2e" / "support_app.png"

pytestmark = BROWSER_TEST
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    work = tmp_path_factory.mktemp("support_app")
    database, port = work / "shop.db", free_port()
    env = dict(os.environ, SUPPORT_APP_DB=str(database))
    log = open(work / "app.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "support_assistant.app", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(url, timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail(f"the app did not start; see {work / 'app.log'}: {(work / 'app.log').read_text()[-500:]}")
    yield url, database
    server.terminate()
    server.wait(20)
    log.close()


def _ask(page, question: str, requests_before: int) -> list[str]:
    """Type a question, press Enter, and sample the assistant's last bubble until the turn is over."""
    page.locator("textarea").first.fill(question)
    page.keyboard.press("Enter")
    usage = page.locator("text=/Usage: \\d+ requests/")
    seen, deadline = [], time.monotonic() + 240
    while time.monotonic() < deadline:
        bubbles = page.locator("[data-testid='bot']")
        if bubbles.count():
            text = bubbles.last.inner_text()
            if not seen or seen[-1] != text:
                seen.append(text)
        if usage.count() and int(re.search(r"(\d+) requests", usage.first.inner_text())[1]) >= requests_before + 2:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"no complete answer to {question!r} after 240 s: {seen[-1:]}")
    return seen


def test_a_customer_asks_about_an_order_and_opens_a_ticket(app):
    url, database = app
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        try:
            page.goto(url)
            page.locator("textarea").first.wait_for(timeout=60_000)

            seen = _ask(page, "Hello, could you tell me where my order 1031 is?", requests_before=0)
            status = sqlite3.connect(database).execute("SELECT status FROM orders WHERE id = 1031").fetchone()[0]
            turn = page.locator("[data-testid='bot']").all_inner_texts()
            assert any(f"status: {status}" in text for text in turn), turn  # the database's answer, shown
            assert len({s for s in seen if s.strip()}) >= 2, f"the reply did not stream: {seen}"

            _ask(page, "My order 1031 arrived with a broken pen. Please open a ticket.", requests_before=2)
            shown = " ".join(page.locator("[data-testid='bot']").all_inner_texts())
            ticket = re.search(r"Opened a ticket: ticket_id: (\d+), order_id: (\d+)", shown)
            assert ticket, shown[-400:]
            rows = sqlite3.connect(database).execute("SELECT id, order_id FROM tickets").fetchall()
            assert rows == [(int(ticket[1]), int(ticket[2]))]

            body = page.locator("body").inner_text()
            assert "Error" not in body and "Traceback" not in body
            assert page.locator(".toast-body").count() == 0  # Gradio shows errors as toasts
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            browser.close()
