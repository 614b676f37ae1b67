"""Session-wide settings for every pytest run in the course, `pytest notebooks/` alone included.

No learner's keys or .env leak in, and every provider runs offline on the tests' own port
with the recording seed (course_tools/isolation.py). They are set before any test or notebook
kernel starts, and kernels that nbval starts inherit them, so recorded outputs never depend
on who runs the tests. Fixtures for the tests live in tests/conftest.py.
"""

from __future__ import annotations

from course_tools.isolation import isolate_environment
from helpers import local_server

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
