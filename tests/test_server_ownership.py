"""The shared offline server knows whose it is; the tests run on a port of their own.

A second copy of the course (its helpers copied to a temporary folder) starts a
server; this copy's start() neither uses it silently nor stops it (that copy's lessons
may need it): it says whose it is and what to do. A server this copy started with
older code is replaced, with a note.
"""

import os
import shutil
import subprocess
import sys

import pytest
import requests

from course_tools.isolation import default_test_port
from helpers import catalog
from helpers.environment import repo_root
from helpers.offline import lifecycle, processes
from helpers.offline.model_file import LocalServerError
from helpers.offline.state import configured_port

pytestmark = pytest.mark.server


def test_health_names_the_copy_and_version_that_started_the_server(private_server):
    server = lifecycle.start()
    health = requests.get(f"http://127.0.0.1:{server.port}/health", timeout=5).json()
    assert health["checkout"] == str(repo_root())
    assert health["course"] == processes.course_version()
    assert health["course"].startswith("0.1.0+")
    assert lifecycle.started_elsewhere() is None


def _start_from_a_copy(tmp_path, name: str) -> tuple:
    """Start the server from a copy of this course's helpers in `tmp_path / name`; return (folder, server)."""
    other = tmp_path / name
    shutil.copytree(repo_root() / "helpers", other / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(repo_root() / "pyproject.toml", other)
    env = {**os.environ, "PYTHONPATH": str(other), "CHAT_TUTORIAL_STATE_DIR": str(tmp_path / f"{name}-state")}
    started = subprocess.run(
        [sys.executable, "-m", "helpers.local_server", "start"],
        cwd=other,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert started.returncode == 0, started.stderr
    return other, lifecycle.status()


def test_another_copys_server_is_left_alone_and_named(private_server, tmp_path):
    other, theirs = _start_from_a_copy(tmp_path, "old-copy")
    whose = f"another copy of the course ({other}, version {processes.course_version()})"
    assert lifecycle.started_elsewhere() == whose

    with pytest.raises(LocalServerError) as refused:
        lifecycle.start()
    assert str(refused.value) == (
        f"The offline server on port {private_server} was started by {whose}, so this copy does not use it "
        "(its lessons may still need it). Stop it (python -m helpers.local_server stop), or give this copy "
        "a port of its own: add CHAT_TUTORIAL_LOCAL_PORT=8766 to your .env."
    )
    assert processes.our_process(theirs.supervisor_pid) is not None  # still serving the other copy

    assert lifecycle.stop()  # the first way on; then this copy starts its own
    ours = lifecycle.start()
    assert ours.supervisor_pid != theirs.supervisor_pid and lifecycle.started_elsewhere() is None


def test_this_copys_server_from_older_code_is_replaced_with_a_note(private_server, monkeypatch, capsys):
    old = lifecycle.start()
    running = processes.course_version()
    monkeypatch.setattr(processes, "course_version", lambda: "0.1.1+updated")  # as after updating the course
    new = lifecycle.start()
    assert capsys.readouterr().out == (
        f"Replaced the offline server on port {private_server}: an earlier version of this course's code "
        f"(version {running}) had started it.\n"
    )
    assert processes.our_process(old.supervisor_pid) is None
    assert new.supervisor_pid != old.supervisor_pid


def test_the_tests_run_on_a_port_of_their_own():
    port = configured_port()
    assert port != catalog.OFFLINE_PORT
    assert port == int(os.environ.get("CHAT_TUTORIAL_TEST_PORT") or default_test_port())
