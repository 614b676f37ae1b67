"""The app the offline practice server runs: llama-cpp-python's, with OpenAI's manners.

A thin layer in front of llama-cpp-python's app (`OpenAIStyleGuard`) makes it
answer like OpenAI: it checks the API key, refuses models it does not serve with a
404, turns malformed requests into 4xx errors with OpenAI's error body (a prompt
longer than the context window included, streamed or not), and replaces any
internal error with an OpenAI-shaped 500 that shows no file paths or tracebacks
(those go to the log file).

`PracticeFaults` (practice_faults.py) sits inside the guard: after the key check, a
request may ask for a 429 or 5xx on purpose, for lesson 9.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import sys
import time
import traceback

from . import catalog
from .practice_faults import PRACTICE_FAILURE_MARK, PracticeFaults

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}

# --- The app: llama-cpp-python's server with OpenAI's manners ------------------------


def _error_body(message: str, type_: str, param: str | None = None, code: str | None = None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_JSON_TYPE_NAMES = [
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a decimal"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
]  # bool first: it is also an int


def _json_type(value) -> str:
    """How OpenAI's errors name the JSON type of `value`."""
    return next((name for kind, name in _JSON_TYPE_NAMES if isinstance(value, kind)), "null")


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


def create_app(model_path: str, api_key: str | None, threads: int | None = None, health: dict | None = None):
    """llama-cpp-python's FastAPI app for the model file `model_path`, wrapped in OpenAIStyleGuard."""
    from llama_cpp.server.app import create_app as create_llama_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    threads = threads or os.cpu_count() or 1
    model_settings = ModelSettings(
        model=model_path,
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
