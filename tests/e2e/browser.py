"""What the browser tests share: Debian's Chromium, and the marks that skip them without it."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Each browser test module sets `pytestmark = BROWSER_TEST`.
BROWSER_TEST = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make test-e2e installs it with apt-get)"),
]
