"""The offline server's two processes, and whose server it is.

The background process that `lifecycle.start()` starts is a small *supervisor*
(`python -m helpers.local_server serve`): it opens the listening socket itself and runs
the model server as its child (`... worker`), which serves on that inherited socket.
When the child dies unexpectedly (killed, crashed), the supervisor starts a new one on
the same socket; requests that arrive meanwhile wait in the socket's queue instead of
being refused, so the learner's next call simply works, about a second later. Restarts
are bounded (MAX_RESTARTS per RESTART_WINDOW_SECONDS); past that the supervisor logs why
and exits, and the next `start()` begins afresh or says what to do. A child that cannot
load the model exits with EXIT_MODEL_BROKEN and is not restarted. On Windows, where
sockets cannot be handed to a child this way, the child binds the port itself and the
same restarts apply (with a short gap).

The server knows whose it is: `/health` names the course folder (`checkout`) and the
course's version (`course`: the version in pyproject.toml and a fingerprint of the
helpers' code) that started it (`owner()`); `someone_elses(health)` says whose it is
when not this copy's.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.metadata
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

from .. import catalog
from ..environment import package_root, repo_root
from .model_file import LocalServerError, model_file

# Found in the command line of our server processes; `python -m helpers.local_server` is the
# command line's name since the course began, so servers started by older code are known too.
SERVE_MARKER = "helpers.local_server"
THREADS_VAR = "CHAT_TUTORIAL_THREADS"  # threads of one course offline server's model (default: every core)
# The supervisor restarts a dead model server at most this often, then gives up.
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
# A worker younger than this that does not answer yet is given time to load the model.
RECOVERY_SECONDS = 30.0
# Exit codes of the worker (and, passed on, of the supervisor).
EXIT_STARTUP_FAILED = 3
EXIT_MODEL_BROKEN = 4
_SUPERVISOR_PID_VAR = "_CHAT_TUTORIAL_SUPERVISOR_PID"  # set by the supervisor for its worker
_RESTARTS_VAR = "_CHAT_TUTORIAL_RESTARTS"


# --- Whose server: this copy of the course, and its version ------------------------------


def course_version() -> str:
    """This copy's version: pyproject.toml's version and a fingerprint of the helpers' code.

    The code is where `helpers` was imported from: the checkout, or site-packages when the
    course is an installed package (whose version its metadata then gives).
    """
    root = package_root()
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', (root / "pyproject.toml").read_text(), re.MULTILINE)
        version = found.group(1) if found else "unknown"
    except OSError:
        try:
            version = importlib.metadata.version("chat-completions-course")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    digest = hashlib.sha256()
    for path in sorted((root / "helpers").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{version}+{digest.hexdigest()[:10]}"


def owner() -> dict:
    """Who starts a server from here: this course folder and this version of the course."""
    return {"checkout": str(repo_root()), "course": course_version()}


def someone_elses(health: dict) -> str | None:
    """Whose server this is, if not this copy's (another folder or another version), else None."""
    mine = owner()
    if health.get("checkout") == mine["checkout"] and health.get("course") == mine["course"]:
        return None
    if not health.get("checkout"):
        return "an older version of the course"
    if health.get("checkout") != mine["checkout"]:
        return f"another copy of the course ({health['checkout']}, version {health.get('course')})"
    return f"an earlier version of this course's code (version {health.get('course')})"


# --- The two background processes: supervisor and worker ------------------------------


def _log(text: str) -> None:
    print(f"[supervisor {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _watch_parent(parent: int) -> None:
    """End this worker if its supervisor disappears (so no orphan keeps the port)."""

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="watch-supervisor").start()


def work(host: str, port: int, fd: int | None) -> int:
    """The worker: load the model and serve it (on the supervisor's socket `fd`, if given)."""
    import uvicorn

    from .app import create_app

    supervisor = int(os.environ.get(_SUPERVISOR_PID_VAR) or 0)
    if supervisor:
        _watch_parent(supervisor)
    api_key = os.environ.get(catalog.OFFLINE_API_KEY_VAR) or catalog.OFFLINE_API_KEY
    health = {
        "supervisor_pid": supervisor or None,
        "restarts": int(os.environ.get(_RESTARTS_VAR) or 0),
        "host": host,
        **owner(),
    }
    try:
        threads = int(os.environ.get(THREADS_VAR) or 0) or None  # own engines split the cores
        app = create_app(str(model_file()), api_key, threads=threads, health=health)
    except LocalServerError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return EXIT_MODEL_BROKEN
    except ValueError as error:  # llama.cpp: "Failed to load model from file"
        print(f"error: the model file could not be loaded ({error}).", file=sys.stderr, flush=True)
        return EXIT_MODEL_BROKEN
    except Exception:  # noqa: BLE001 - report any other start-up failure, then exit
        traceback.print_exc()
        return EXIT_STARTUP_FAILED
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    server.run(sockets=[socket.socket(fileno=fd)] if fd is not None else None)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def supervise(host: str, port: int) -> int:
    """The supervisor: hold the socket, run a worker on it, restart the worker when it dies."""
    sock = None
    if os.name != "nt":  # Windows cannot pass a socket through pass_fds: the worker binds itself
        try:
            sock = _listen(host, port)
        except OSError as error:
            _log(f"cannot listen on {host}:{port}: {error}")
            return EXIT_STARTUP_FAILED
    stopping = False
    worker: subprocess.Popen | None = None

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True
        if worker is not None and worker.poll() is None:
            worker.terminate()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    deaths: collections.deque[float] = collections.deque()
    restarts = 0
    while not stopping:
        command = [sys.executable, "-m", SERVE_MARKER, "worker", "--host", host, "--port", str(port)]
        if sock is not None:
            command += ["--fd", str(sock.fileno())]
        env = dict(os.environ, **{_SUPERVISOR_PID_VAR: str(os.getpid()), _RESTARTS_VAR: str(restarts)})
        pass_fds = (sock.fileno(),) if sock is not None else ()
        worker = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, pass_fds=pass_fds)
        code = _wait_for(worker, lambda: stopping)
        if stopping or code in (0, -signal.SIGTERM, -signal.SIGINT):
            break  # asked to stop (the worker alone may have been sent the signal)
        if code in (EXIT_MODEL_BROKEN, EXIT_STARTUP_FAILED):
            _log(f"the model server could not start ({_describe_exit(code)}); not restarting it.")
            return code
        now = time.monotonic()
        deaths.append(now)
        while deaths and deaths[0] < now - RESTART_WINDOW_SECONDS:
            deaths.popleft()
        if len(deaths) > MAX_RESTARTS:
            _log(
                f"giving up: the model server died {len(deaths)} times within {RESTART_WINDOW_SECONDS:.0f} s "
                f"(last: {_describe_exit(code)}). The next start() begins afresh."
            )
            return 1
        restarts += 1
        _log(f"the model server (pid {worker.pid}) died ({_describe_exit(code)}); restarting it (restart {restarts}).")
    _log("stopped.")
    return 0


def _wait_for(worker: subprocess.Popen, stopping, grace: float = 5.0) -> int:
    """Wait for the worker to exit; once `stopping()`, give it `grace` seconds, then kill it."""
    deadline = None
    while True:
        try:
            return worker.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if stopping():
            if deadline is None:
                deadline = time.monotonic() + grace
                worker.terminate()
            elif time.monotonic() > deadline:
                worker.kill()


def our_process(pid: int):
    """The psutil.Process for `pid` if it is a live offline server of ours, else None."""
    import psutil

    if not pid or pid <= 0:
        return None
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        if any(SERVE_MARKER in part for part in process.cmdline()):
            return process
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return None


def terminate(process, grace: float = 5.0) -> None:
    """End `process` and its children (supervisor and worker): politely, then by force."""
    import psutil

    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.terminate()
            if os.name != "nt":
                member.send_signal(signal.SIGCONT)  # a stopped (hung) process must wake to exit
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(family, timeout=grace)
    for member in alive:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=grace)


def recovering(supervisor) -> bool:
    """Whether a live supervisor is (re)starting its worker, rather than stuck."""
    import psutil

    try:
        if supervisor.status() in (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE):
            return False
        workers = [w for w in supervisor.children() if w.status() != psutil.STATUS_ZOMBIE]
        if not workers:
            return True  # between a worker's death and the next one's start
        worker = workers[-1]
        if worker.status() in (psutil.STATUS_STOPPED, psutil.STATUS_ZOMBIE):
            return False
        return time.time() - worker.create_time() < RECOVERY_SECONDS
    except psutil.NoSuchProcess:
        return False
