"""OpenAIStyleGuard: the ASGI layer that gives llama-cpp-python's app OpenAI's manners.

It checks the API key, refuses models it does not serve with a 404, turns malformed
requests into 4xx errors with OpenAI's error body (a prompt longer than the context
window included, streamed or not), and replaces any internal error with an
OpenAI-shaped 500 that shows no file paths or tracebacks (those go to the log file).
"""

from __future__ import annotations

import hmac
import json
import os
import re
import sys
import time
import traceback

from .. import catalog
from .adapt import adapt_chat_request
from .errors import error_body, internal_error, invalid_request, scrub, send_json
from .practice_faults import PRACTICE_FAILURE_MARK
from .validation import check_fields, check_llama_schema

_CONTEXT_EXCEEDED = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


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
            return await send_json(send, 200, body)
        if method not in self.ROUTES.get(path, ()):
            message = f"Invalid URL ({method} {scope['path']})"
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        problem = self._check_key(dict(scope["headers"]).get(b"authorization", b""))
        if problem:
            return await send_json(send, 401, problem)
        if path == "/v1/models":  # answered here: llama-cpp-python's waits for any reply being written
            model = {
                "id": self.model,
                "object": "model",
                "created": self.started,
                "owned_by": "chat-completions-course",
            }
            return await send_json(send, 200, {"object": "list", "data": [model]})
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
            return await send_json(send, status, problem)
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
                    await self._sendinternal_error(send, state["error_body"])
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
                return await send_json(send, status, problem)
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
            return 400, error_body(message, "invalid_request_error", "messages", "context_length_exceeded")
        return 500, internal_error(scrub(f"{type(error).__name__}: {error}"))

    @staticmethod
    async def _sendinternal_error(send, raw: bytes):
        try:
            inner = json.loads(raw)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            inner = ""
        print(f"[guard] the model server answered 500: {inner}", file=sys.stderr)
        await send_json(send, 500, internal_error(scrub(inner)))

    def _check_key(self, header: bytes):
        if self.api_key is None:
            return None
        if not header:
            return error_body(
                "You didn't provide an API key. Send it in an Authorization header "
                "using Bearer auth (Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                code="invalid_api_key",
            )
        expected = f"Bearer {self.api_key}".encode()
        if not hmac.compare_digest(header, expected):
            return error_body(
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
            return 400, invalid_request("The request body is not valid JSON."), None
        if not isinstance(body, dict):
            return 400, invalid_request("The request body must be a JSON object."), None
        status, problem = check_fields(path, body, model=self.model, context_tokens=self.context_tokens)
        if problem:
            return status, problem, None
        adapt_chat_request(body)
        status, problem = check_llama_schema(path, body)
        if problem:
            return status, problem, None
        return 200, None, body
