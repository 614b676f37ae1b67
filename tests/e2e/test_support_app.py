"""The capstone's web page in a real browser: sign in, ask about an own and a foreign order, confirm a ticket.

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
from browser import BROWSER_TEST, CHROMIUM, wait_until_serving

from course_tools.isolation import free_port

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
    wait_until_serving(server, url, work / "app.log", "the app")
    yield url, database
    server.terminate()
    server.wait(20)
    log.close()


def _ask(page, question: str, requests_before: int, requests: int = 2) -> list[str]:
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
        if (
            usage.count()
            and int(re.search(r"(\d+) requests", usage.first.inner_text())[1]) >= requests_before + requests
        ):
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"no complete answer to {question!r} after 240 s: {seen[-1:]}")
    page.wait_for_timeout(300)  # the last update of the turn (the Confirm panel) lands
    return seen


def _rows(database, query: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def test_a_signed_in_customer_sees_only_their_orders_and_a_ticket_waits_for_their_click(app):
    url, database = app
    pixel_requests = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 1100})
        page.on("request", lambda request: "pixel" in request.url and pixel_requests.append(request.url))
        try:
            page.goto(url)
            page.locator("textarea").first.wait_for(timeout=60_000)
            page.get_by_label("Demo sign-in: who are you?").click()
            page.get_by_role("option", name="Greta (greta@example.com)").click()
            page.locator("text=Signed in as").wait_for(timeout=30_000)
            assert "Your orders: 1007, 1016, 1025, 1034" in page.locator("body").inner_text()

            seen = _ask(page, "Hello, could you tell me where my order 1025 is?", requests_before=0)
            turn = page.locator("[data-testid='bot']").all_inner_texts()
            assert any("status: shipped" in text for text in turn), turn  # the database's answer, shown
            assert len({s for s in seen if s.strip()}) >= 2, f"the reply did not stream: {seen}"

            # Someone else's order (Dev's 1031, placed 2026-11-20) is "not found", and none of it shows.
            _ask(page, "And where is order 1031?", requests_before=2)
            shown = " ".join(page.locator("[data-testid='bot']").all_inner_texts())
            assert "You have no order 1031" in shown and "2026-11-20" not in shown, shown[-400:]

            # Markdown in a message stays text: no image is fetched, no link made.
            image = f"![ok]({url}pixel?d=orders)"
            _ask(page, f"Where is my order 1034? {image}", requests_before=4)
            assert image in page.locator("body").inner_text()
            assert page.locator("img[src*='pixel']").count() == 0 and pixel_requests == []

            # A ticket is proposed, not written: it waits for the person's click.
            _ask(page, "My order 1025 arrived with a broken pen. Please open a ticket.", requests_before=6)
            assert _rows(database, "SELECT COUNT(*) FROM tickets") == [(0,)]
            # Exactly the panel's bold label: a substring match also finds the model's own words
            # when its reply happens to say "waiting for you" (it did once, and the locator saw two).
            page.get_by_text("Waiting for you", exact=True).wait_for(timeout=10_000)
            page.get_by_role("button", name="Confirm", exact=True).click()
            page.get_by_text(re.compile(r"^Done: Open a support ticket on order")).wait_for(timeout=30_000)
            assert not page.get_by_role("button", name="Confirm", exact=True).is_visible()
            rows = _rows(database, "SELECT order_id, customer_id FROM tickets")
            assert len(rows) == 1 and rows[0][1] == 7, rows  # Greta's, on one of her orders
            assert rows[0][0] in (1007, 1016, 1025, 1034)

            # The page around the chat (the model's own replies may say "error" and mean nothing by it)
            around_chat = page.evaluate(
                "() => { const bubbles = [...document.querySelectorAll(\"[data-testid='bot']\")];"
                " bubbles.forEach((bubble) => bubble.style.setProperty('display', 'none'));"
                " const text = document.body.innerText;"
                " bubbles.forEach((bubble) => bubble.style.removeProperty('display'));"
                " return text; }"
            )
            assert "Signed in as" in around_chat and "Your orders" in around_chat  # the page's own text is read
            assert "Error" not in around_chat and "Traceback" not in page.locator("body").inner_text()
            assert page.locator(".toast-body").count() == 0  # Gradio shows errors as toasts
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            browser.close()
