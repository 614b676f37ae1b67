"""The offline server's lifecycle, as the lessons use it: start, stop, status.

`start()` runs one shared background server for every notebook and kernel on
127.0.0.1 (processes.py: a supervisor and its worker). It reuses a running server,
replaces a crashed or hung one, and refuses a port that another program holds.

It reuses a server only if this copy of the course, at this version, started it
(processes.owner). A server that this copy started with other code (you updated the
course) is stopped and replaced, with one line saying so. A server of another copy of
the course (or of a version too old to say whose it is) is left alone: `start()` raises
LocalServerError saying whose it is and the two ways on (stop it, or give this copy its
own CHAT_TUTORIAL_LOCAL_PORT), since stopping it would break that copy's lessons.

Before starting a server, `start()` makes sure the offline model is installed: while
`make lab` still builds it in the background, it waits and prints progress; when it is
missing, it raises OfflineModelMissing, which names the ways on (build.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import catalog
from ..environment import package_root, repo_root
from ..progress import ProgressLine
from . import build
from .model_file import MODEL_FILE_VAR, REINSTALL_COMMAND, LocalServerError, model_file, require_offline_model
from .processes import (
    EXIT_MODEL_BROKEN,
    RECOVERY_SECONDS,
    SERVE_MARKER,
    our_process,
    recovering,
    someone_elses,
    terminate,
)
from .state import configured_api_key, configured_port, log_file, state_dir

START_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class LocalServer:
    """A running offline server: where it is and which key it expects."""

    host: str
    port: int
    pid: int  # the process serving the model
    api_key: str
    model: str = catalog.OFFLINE_MODEL
    supervisor_pid: int | None = None  # the process that restarts it (None for an older server)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def __repr__(self) -> str:
        return f"LocalServer(base_url={self.base_url!r}, model={self.model!r}, pid={self.pid})"


def server_health(host: str, port: int, timeout: float = 2.0) -> dict | None:
    """Our server's /health answer, or None if nothing (of ours) answers there."""
    import requests

    try:
        response = requests.get(f"http://{host}:{port}/health", timeout=timeout)
        body = response.json()
    except Exception:
        return None
    if response.status_code == 200 and body.get("model") == catalog.OFFLINE_MODEL:
        return body
    return None


def _server_from_health(host: str, port: int, health: dict, api_key: str) -> LocalServer:
    return LocalServer(host, port, int(health["pid"]), api_key, supervisor_pid=health.get("supervisor_pid"))


def _key_accepted(host: str, port: int, api_key: str) -> bool:
    import requests

    response = requests.get(
        f"http://{host}:{port}/v1/models",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=5.0,
    )
    return response.status_code == 200


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _await_recovery(supervisor, host: str, port: int) -> dict | None:
    """Give a supervisor that is restarting its worker the time to load the model."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline and recovering(supervisor):
        health = server_health(host, port, timeout=1.0)
        if health is not None:
            return health
        time.sleep(0.2)
    return None


def _pid_file(port: int) -> Path:
    return state_dir() / f"server-{port}.pid"


def running_pid(port: int) -> int | None:
    try:
        return int(_pid_file(port).read_text().strip())
    except (OSError, ValueError):
        return None


def _log_tail(port: int, lines: int = 5) -> str:
    try:
        text = log_file(port).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def status(port: int | None = None, host: str = catalog.OFFLINE_HOST) -> LocalServer | None:
    """The running offline server on `port`, or None."""
    port = port or configured_port()
    health = server_health(host, port)
    if health is None:
        return None
    return _server_from_health(host, port, health, configured_api_key())


def start(
    port: int | None = None,
    *,
    host: str = catalog.OFFLINE_HOST,
    api_key: str | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> LocalServer:
    """Start the offline server, or reuse the one already running; return where it is."""
    from filelock import FileLock, Timeout

    port = port or configured_port()
    api_key = api_key or configured_api_key()
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    line = ProgressLine()
    built = None
    if server_health(probe_host, port) is None:
        built = require_offline_model(line=line)  # waits, one line of progress, while `make lab` still builds it
    if built is not None:
        line.update("The offline model is built; the offline server is loading it.", 100)
    lock = FileLock(str(state_dir() / f"server-{port}.lock"))
    server = None
    try:
        with lock.acquire(timeout=timeout):
            server = _start_locked(host, probe_host, port, api_key, timeout)
    except Timeout:
        raise LocalServerError(
            f"Gave up after {timeout:.0f} s waiting for another start of the offline server "
            f"on port {port}. Run: python -m helpers.local_server status"
        ) from None
    finally:
        if server is not None and built is not None:
            line.done(f"The offline model is ready (built in {build.duration(built)}, loaded).", 100)
        line.close()
    return server


def started_elsewhere(port: int | None = None, host: str = catalog.OFFLINE_HOST) -> str | None:
    """Who started the server running on `port`, if another copy or version of the course did; else None."""
    health = server_health(host, port or configured_port())
    return someone_elses(health) if health is not None else None


def _replace(port: int, health: dict, whose: str) -> None:
    """Stop a server that this copy started with other code, saying so; refuse another copy's."""
    process = our_process(int(health.get("supervisor_pid") or health.get("pid") or 0))
    if process is None or health.get("checkout") != str(repo_root()):
        raise LocalServerError(
            f"The offline server on port {port} was started by {whose}, so this copy does not use it "
            f"(its lessons may still need it). Stop it (python -m helpers.local_server stop), or give "
            f"this copy a port of its own: add {catalog.OFFLINE_PORT_VAR}=8766 to your .env."
        )
    terminate(process)
    print(f"Replaced the offline server on port {port}: {whose} had started it.", flush=True)


def _reuse(host: str, probe_host: str, port: int, api_key: str, health: dict) -> LocalServer:
    if not _key_accepted(probe_host, port, api_key):
        raise LocalServerError(
            f"An offline server already runs on port {port} with a different API key. "
            "Stop it first: python -m helpers.local_server stop"
        )
    running_host = health.get("host")
    if host not in (catalog.OFFLINE_HOST, "localhost") and running_host in (catalog.OFFLINE_HOST, "localhost"):
        raise LocalServerError(
            f"An offline server already runs on port {port}, listening on {running_host} only. "
            f"To listen on {host}, stop it first: python -m helpers.local_server stop"
        )
    return _server_from_health(probe_host, port, health, api_key)


def _start_locked(host: str, probe_host: str, port: int, api_key: str, timeout: float):
    health = server_health(probe_host, port)
    whose = someone_elses(health) if health is not None else None
    if whose is not None:  # another copy's or version's server: this copy's code must serve
        _replace(port, health, whose)
        _pid_file(port).unlink(missing_ok=True)
        health = None
    if health is not None:  # already running: reuse it, if it takes our key
        return _reuse(host, probe_host, port, api_key, health)

    stale = our_process(running_pid(port))
    if stale is not None:  # ours, but not answering: restarting its worker, hung or half-started
        health = _await_recovery(stale, probe_host, port)
        if health is not None:
            return _reuse(host, probe_host, port, api_key, health)
        terminate(stale)
    _pid_file(port).unlink(missing_ok=True)

    if not _port_is_free(host, port):
        raise LocalServerError(
            f"Port {port} on {host} is already used by another program, so the offline "
            f"server cannot start there. Stop that program, or pick a free port by adding "
            f"{catalog.OFFLINE_PORT_VAR}=8766 to your .env."
        )
    model_file()  # fail now, with the clear message, if the model is missing

    env = dict(os.environ)
    env[catalog.OFFLINE_API_KEY_VAR] = api_key
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root()), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", SERVE_MARKER, "serve", "--host", host, "--port", str(port)]
    detach = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS}
        if os.name == "nt"
        else {"start_new_session": True}
    )
    with open(log_file(port), "ab") as log:
        log.write(f"--- starting on {host}:{port} at {time.ctime()}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command,
            cwd=repo_root(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            **detach,
        )
    _pid_file(port).write_text(str(process.pid))

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _pid_file(port).unlink(missing_ok=True)
            if process.returncode == EXIT_MODEL_BROKEN:
                override = f" (or unset {MODEL_FILE_VAR})" if os.environ.get(MODEL_FILE_VAR) else ""
                raise LocalServerError(
                    f"The offline model file could not be loaded: it is damaged or incomplete. "
                    f"Reinstall it: {REINSTALL_COMMAND}{override}"
                )
            raise LocalServerError(
                f"The offline server exited during start-up (code {process.returncode}). "
                f"Last lines of .cache/local_server/{log_file(port).name}:\n{_log_tail(port)}"
            )
        health = server_health(probe_host, port, timeout=1.0)
        if health is not None and health.get("supervisor_pid") == process.pid:
            return _server_from_health(probe_host, port, health, api_key)
        time.sleep(0.2)
    terminate(our_process(process.pid) or process)
    raise LocalServerError(
        f"The offline server did not answer within {timeout:.0f} s. "
        f"Look at .cache/local_server/{log_file(port).name}, then try again."
    )


def stop(port: int | None = None, host: str = catalog.OFFLINE_HOST) -> bool:
    """Stop the offline server on `port` (supervisor and worker); return True if one was running."""
    port = port or configured_port()
    health = server_health(host, port)
    pid = (health.get("supervisor_pid") or health["pid"]) if health else running_pid(port)
    process = our_process(int(pid)) if pid else None
    _pid_file(port).unlink(missing_ok=True)
    if process is None:
        return False
    terminate(process)
    return True
