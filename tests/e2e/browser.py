"""What the browser tests share: Debian's Chromium, the marks that skip them without it, a server's start."""

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Each browser test module sets `pytestmark = BROWSER_TEST`.
BROWSER_TEST = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test-e2e installs it with apt-get)"),
]

# How long a server started for a browser test may take to answer: a safety net for a busy
# machine, not a measure of speed (BENCHMARKS.md has those).
START_SECONDS = 300


def log_tail(log: Path, characters: int = 1500) -> str:
    return log.read_text(errors="replace")[-characters:] if log.exists() else "(no log)"


def wait_until_serving(server: subprocess.Popen, url: str, log: Path, what: str) -> None:
    """Return once `url` answers; fail with the end of `log` if the server exits or never answers."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(url, timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    exited = server.poll()
    server.terminate()
    how = f"exited with {exited}" if exited is not None else f"did not answer within {START_SECONDS} s"
    pytest.fail(f"{what} {how}; its log ({log}) ends:\n{log_tail(log)}")
