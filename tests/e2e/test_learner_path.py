"""The learner's path in a real browser: JupyterLab as `make lab` starts it, every lesson run.

Debian's Chromium, driven by Playwright for Python (no browser download). For each
lesson: open it, Run All Cells, wait for the kernel, assert that no cell shows a
traceback and that model text appears where the lesson shows a reply, and save a
screenshot under build/e2e/. The lessons run on copies, so the committed notebooks are
never re-saved. `make test-e2e` runs this file; `make test` includes it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from browser import BROWSER_TEST, CHROMIUM

from course_tools.isolation import free_port

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "build" / "e2e"
IGNORE = "nbval-ignore-output"

pytestmark = BROWSER_TEST
playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on a copy of notebooks/, with cells always rendered (no windowing)."""
    work = tmp_path_factory.mktemp("lab")
    lessons = work / "notebooks"
    lessons.mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, lessons / notebook.name)
    settings = work / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = work / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))

    port, token = free_port(), uuid.uuid4().hex
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / "settings"), JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    command = [
        sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={lessons}", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # as `make lab` does when run as root
    log = open(work / "lab.log", "wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/status?token={token}", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail(f"JupyterLab did not start; see {work / 'lab.log'}")
    yield url, token
    server.terminate()
    server.wait(20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield chromium
        chromium.close()


def _reply_cells(notebook: Path) -> list[int]:
    """Positions (among all cells) of the code cells that show model text."""
    cells = json.loads(notebook.read_text())["cells"]
    return [i for i, c in enumerate(cells) if c["cell_type"] == "code" and IGNORE in c["metadata"].get("tags", [])]


def _run_all_cells(page, lesson) -> None:
    """Run → Run All Cells, as a learner would, with the lesson focused first."""
    lesson.locator(".jp-Cell").first.click()
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_learner_runs_the_lesson(jupyterlab, browser, notebook):
    url, token = jupyterlab
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        # A workspace of its own, reset: only this lesson is open.
        page.goto(f"{url}/lab/workspaces/{notebook.stem}/tree/{notebook.name}?reset&token={token}")
        lesson = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        lesson.locator(".jp-Cell").first.wait_for(timeout=180_000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=180_000)

        prompts = lesson.locator(".jp-CodeCell .jp-InputPrompt")
        code_cells = sum(1 for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
        _run_all_cells(page, lesson)
        asked, attempts = time.monotonic(), 1
        deadline = asked + 300
        while time.monotonic() < deadline:
            texts = [t.strip() for t in prompts.all_inner_texts()]
            if len(texts) == code_cells and all(t not in ("[ ]:", "[*]:", "") for t in texts):
                break
            # A click that lands while the page is still settling can be lost: if nothing
            # has started after 30 s, ask again (a learner would click again too).
            if all(t in ("[ ]:", "") for t in texts) and time.monotonic() - asked > 30 and attempts < 3:
                _run_all_cells(page, lesson)
                asked, attempts = time.monotonic(), attempts + 1
            page.wait_for_timeout(500)
        else:
            pytest.fail(f"{notebook.name}: cells not finished after 300 s: {prompts.all_inner_texts()}")

        outputs = lesson.locator(".jp-OutputArea").all_inner_texts()
        assert not [text for text in outputs if "Traceback" in text or "Error Traceback" in text]
        cells = lesson.locator(".jp-Cell")
        replies = []
        for position in _reply_cells(notebook):  # the cells showing model text (or a chart of it)
            cell = cells.nth(position)
            assert cell.locator(".jp-OutputArea-output").count() > 0, f"{notebook.name}: cell {position} is empty"
            replies.append(cell.locator(".jp-OutputArea").inner_text().strip())
        if replies:
            assert any(replies), f"{notebook.name}: no model text appeared"
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{notebook.stem}.png"), full_page=True)
        page.close()
