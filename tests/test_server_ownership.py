"""The shared offline server knows whose it is; the tests run on a port of their own.

A second copy of the course (its helpers copied to a temporary folder) starts a
server; this copy's start() replaces it, saying so, instead of silently using a
server that runs another copy's code.
"""

import os
import shutil
import subprocess
import sys

import pytest
import requests
from isolation import default_test_port

from helpers import catalog, local_server
from helpers.environment import repo_root

pytestmark = pytest.mark.server


def test_health_names_the_copy_and_version_that_started_the_server(private_server):
    server = local_server.start()
    health = requests.get(f"http://127.0.0.1:{server.port}/health", timeout=5).json()
    assert health["checkout"] == str(repo_root())
    assert health["course"] == local_server.course_version()
    assert health["course"].startswith("0.1.0+")
    assert local_server.started_elsewhere() is None


def test_another_copys_server_is_replaced_with_a_note(private_server, tmp_path, capsys):
    other = tmp_path / "old-copy"
    shutil.copytree(repo_root() / "helpers", other / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo_root() / "pyproject.toml", other)
    env = {**os.environ, "PYTHONPATH": str(other), "CHAT_TUTORIAL_STATE_DIR": str(tmp_path / "old-state")}
    started = subprocess.run(
        [sys.executable, "-m", "helpers.local_server", "start"],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert started.returncode == 0, started.stderr
    theirs = local_server.status()
    assert local_server.started_elsewhere() == (
        f"another copy of the course ({other}, version {local_server.course_version()})"
    )

    ours = local_server.start()
    assert capsys.readouterr().out == (
        f"Replaced the offline server on port {private_server}: another copy of the course "
        f"({other}, version {local_server.course_version()}) had started it.\n"
    )
    assert ours.supervisor_pid != theirs.supervisor_pid
    assert local_server._our_process(theirs.supervisor_pid) is None  # the other copy's server is gone
    assert local_server.started_elsewhere() is None


def test_the_tests_run_on_a_port_of_their_own():
    port = local_server.configured_port()
    assert port != catalog.OFFLINE_PORT
    assert port == int(os.environ.get("CHAT_TUTORIAL_TEST_PORT") or default_test_port())
