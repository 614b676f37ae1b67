"""Test-wide settings: no learner's keys or .env leak in, and every provider runs offline.

These are set before any test or notebook kernel starts, and kernels that nbval
starts inherit them, so recorded outputs never depend on who runs the tests.
"""

from __future__ import annotations

import socket

import pytest
from isolation import isolate_environment

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    """An empty .env in a temporary folder, used instead of the course's."""
    path = tmp_path / ".env"
    path.write_text("")
    monkeypatch.setenv("CHAT_TUTORIAL_ENV_FILE", str(path))
    return path


@pytest.fixture
def online(monkeypatch):
    """Lift the test-wide CHAT_TUTORIAL_OFFLINE=1, so providers resolve as for a learner."""
    monkeypatch.delenv("CHAT_TUTORIAL_OFFLINE")


@pytest.fixture
def private_server(tmp_path, monkeypatch):
    """A port and state folder of this test's own; any server left on it is stopped after."""
    port = free_port()
    monkeypatch.setenv("CHAT_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CHAT_TUTORIAL_LOCAL_PORT", str(port))
    yield port
    local_server.stop(port)
