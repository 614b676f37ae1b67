"""Fixtures for the tests. The session-wide settings (no learner's keys, every provider
offline, the recording seed) are in the course folder's conftest.py, so that they apply
to `pytest notebooks/` alone too.
"""

from __future__ import annotations

import pytest

from course_tools.isolation import free_port
from helpers import local_server


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
