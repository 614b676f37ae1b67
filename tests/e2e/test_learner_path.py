"""The learner's path in a real browser: JupyterLab as `make lab` starts it, every lesson run.

Debian's Chromium, driven by Playwright for Python (no browser download). For each
lesson: open it, Run All Cells, wait until every cell has run (on progress, asking again
when a run stops early, as a learner would: see _run_every_cell), assert that no cell shows a
traceback and that model text appears where the lesson shows a reply, and save a
screenshot under build/e2e/. The lessons run on copies, so the committed notebooks are
never re-saved. `make test-e2e` runs this file; `make test` includes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from browser import BROWSER_TEST, CHROMIUM, log_tail, wait_until_serving

from course_tools.isolation import free_port

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "build" / "e2e"
IGNORE = "nbval-ignore-output"
# A busy machine (other work on every core) slows a lesson down but must not fail it: the test
# waits on progress, not on a clock. These limits are safety nets, far beyond any run seen.
OPEN_SECONDS = 600  # a lesson's page and kernel up
STALL_SECONDS = 45  # nothing changed this long and the kernel idle: the run stopped early
RETRIES = 4  # asks in a row that finish no cell before the test gives up
OVERALL_SECONDS = 1800  # one lesson, however slow


@dataclass
class JupyterLab:
    url: str
    token: str
    log: Path


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
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, work / "lab.log")
    wait_until_serving(server, f"{lab.url}/api/status?token={token}", lab.log, "JupyterLab")
    yield lab
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


def _ask(page, command: str) -> None:
    """Choose `command` in JupyterLab's Run menu, as a learner would."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def _kernel_state(lab: JupyterLab, notebook: Path) -> str:
    """The lesson's kernel as its server reports it: "idle", "busy", "starting"... or "unknown"."""
    try:
        sessions = requests.get(f"{lab.url}/api/sessions", params={"token": lab.token}, timeout=10).json()
    except (requests.RequestException, ValueError):
        return "unknown"
    states = [s["kernel"]["execution_state"] for s in sessions if s.get("path") == notebook.name and s.get("kernel")]
    return states[0] if states else "no kernel"


def _finished(prompt: str) -> bool:
    return re.fullmatch(r"\[\d+\]:", prompt) is not None


def _run_every_cell(page, lesson, lab: JupyterLab, notebook: Path) -> None:
    """Run All Cells and wait until every code cell has run, however slowly the machine goes.

    Progress is what it waits on: a cell finishing or an output appearing. When nothing has
    changed for STALL_SECONDS and the kernel is idle, the run stopped early (a click or a
    message lost while the machine was busy): it asks again, as a learner would, from the
    first cell that has not run (Run Selected Cell and All Below). It stops at a traceback
    (the assertions after it name the cell), fails after RETRIES asks in a row that
    finished no cell, and has OVERALL_SECONDS as a safety net; a failure says what it saw.
    """
    prompts = lesson.locator(".jp-CodeCell .jp-InputPrompt")
    code_cells = sum(1 for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code")
    lesson.locator(".jp-Cell").first.click()  # the lesson focused, as a learner's click does
    _ask(page, "runmenu:run-all")
    asked = ["Run All Cells"]
    started = changed = time.monotonic()
    seen, best, retries = None, 0, 0
    while True:
        texts = [t.strip() for t in prompts.all_inner_texts()]
        done = sum(map(_finished, texts))
        if len(texts) == code_cells and done == code_cells:
            return
        now = time.monotonic()
        snapshot = (texts, lesson.locator(".jp-OutputArea-output").count())
        if snapshot != seen:
            seen, changed = snapshot, now
        if done > best:
            best, retries = done, 0
        state = _kernel_state(lab, notebook) if now - changed >= STALL_SECONDS else "not asked"
        stalled = state == "idle"
        if stalled and any("Traceback" in text for text in lesson.locator(".jp-OutputArea").all_inner_texts()):
            return  # a cell failed and Run All stopped there: the assertions say which
        why = None
        if stalled and retries >= RETRIES:
            why = f"no cell finished after {RETRIES} asks in a row"
        elif now - started > OVERALL_SECONDS:
            why = f"not finished after {OVERALL_SECONDS} s (the safety net)"
        if why:
            pytest.fail(
                f"{notebook.name}: {why}; {done} of {code_cells} code cells finished; the kernel: "
                f"{_kernel_state(lab, notebook)}; nothing changed for {now - changed:.0f} s; asked: {asked}; "
                f"prompts: {texts}\nJupyterLab's log ends:\n{log_tail(lab.log)}"
            )
        if stalled:
            first = next((i for i, text in enumerate(texts) if not _finished(text)), 0)
            prompts.nth(first).click()  # selects the cell without editing it
            _ask(page, "notebook:run-all-below")
            asked.append(f"from code cell {first} after {now - started:.0f} s")
            retries, changed = retries + 1, now
        page.wait_for_timeout(500)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_learner_runs_the_lesson(jupyterlab, browser, notebook):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        # A workspace of its own, reset: only this lesson is open.
        page.goto(
            f"{jupyterlab.url}/lab/workspaces/{notebook.stem}/tree/{notebook.name}?reset&token={jupyterlab.token}"
        )
        lesson = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
        lesson.locator(".jp-Cell").first.wait_for(timeout=OPEN_SECONDS * 1000)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=OPEN_SECONDS * 1000)
        _run_every_cell(page, lesson, jupyterlab, notebook)

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
