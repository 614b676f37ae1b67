"""A class server started as an instructor starts it (`python -m helpers.classroom start`), for tests.

`running_class_server(state, learners, engine_args)` starts it in a subprocess with its state in
`state`, waits until it answers, yields (port, process, roster), then stops it with
`python -m helpers.classroom stop` and leaves what it printed in `printed` (out, err).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import httpx

from course_tools.isolation import free_port

START_TIMEOUT_SECONDS = 180  # an engine loads the model first


@contextlib.contextmanager
def running_class_server(state, learners: int, engine_args: list[str], printed: dict, extra_env: dict | None = None):
    from helpers import environment
    from helpers.classroom import Roster, cli

    previous = os.environ.get("CHAT_TUTORIAL_STATE_DIR")
    os.environ["CHAT_TUTORIAL_STATE_DIR"] = str(state)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(environment.repo_root()), **(extra_env or {}))
    command = [sys.executable, "-m", "helpers.classroom", "start", "--learners", str(learners), "--port", str(port)]
    process = subprocess.Popen(
        [*command, *engine_args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert process.poll() is None, process.communicate(timeout=10)
        yield port, process, Roster.load(cli.keys_file())
        assert cli.main(["stop"]) == 0
        printed["out"], printed["err"] = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        if previous is None:
            os.environ.pop("CHAT_TUTORIAL_STATE_DIR", None)
        else:
            os.environ["CHAT_TUTORIAL_STATE_DIR"] = previous
