"""Session-wide settings for every pytest run in the course, `pytest notebooks/` alone included.

No learner's keys or .env leak in, and every provider runs offline on the tests' own port
with the recording seed (tests/isolation.py). They are set before any test or notebook
kernel starts, and kernels that nbval starts inherit them, so recorded outputs never depend
on who runs the tests. Fixtures for the tests live in tests/conftest.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

from isolation import isolate_environment  # noqa: E402

from helpers import local_server  # noqa: E402

_server_was_running = False


def pytest_configure(config):
    global _server_was_running
    isolate_environment()
    if local_server.started_elsewhere():  # a server from older code on the tests' port: not the one under test
        local_server.stop()
    _server_was_running = local_server.status() is not None


def pytest_sessionfinish(session, exitstatus):
    if not _server_was_running:  # leave the machine as we found it
        local_server.stop()
