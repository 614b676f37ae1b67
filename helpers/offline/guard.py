"""OpenAIStyleGuard: the ASGI layer that gives llama-cpp-python's app OpenAI's manners.

It routes each request and checks its API key, answers the model routes itself, and
hands the rest to the layers below, one job each: the Files and Batch API (batches.py),
the Responses API (responses.py), admission (gate.py: the checks of validation.py and
spec.py, then the one rewrite of preparation.py), chat serving (chat.py: `n` choices,
tools, logprobs), passing a stream through (streaming.py) and error mapping
(failures.py: an OpenAI-shaped 500 that shows no file paths or tracebacks, which go to
the log file). Every answer carries an `x-request-id`.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time

from .. import catalog
from . import batches, responses
from .asgi import ClientWatch, read_body
from .chat import ChatService
from .errors import error_body, invalid_request, send_json
from .gate import RequestGate
from .inner import CHAT_PATH


class OpenAIStyleGuard:
    """ASGI middleware: key check, known routes and models, then admission and serving by OpenAI's rules.

    It answers what llama-cpp-python's app gets wrong (an unknown model echoed
    back as if served, a missing key answered with FastAPI's `{"detail": ...}`,
    a bad field answered with a 500 that quotes source files, an over-long
    streamed prompt answered with an empty 200, tools left out of the prompt,
    `n` ignored) and passes the rest through, streaming included.
    """

    ROUTES = {
        "/v1/chat/completions": {"POST"},
        "/v1/completions": {"POST"},
        "/v1/responses": {"POST"},
        "/v1/models": {"GET"},
    }

    def __init__(
        self,
        app,
        *,
        api_key: str | None,
        model: str,
        context_tokens: int,
        counter=None,
        logprobs_model: str | None = None,
        default_seed: int | None = None,
        health: dict | None = None,
        native_tools: bool = False,
    ):
        """`counter`: a tokens.TokenCounter (usage of streamed replies, vocabulary size); `logprobs_model`:
        the inner alias loaded with logits for every token; `health`: extra facts for /health (supervisor
        pid, restarts); `native_tools`: an inner engine that does tools and structured output itself
        (vLLM, Ollama, llama-server), which gets them as they are, not as prompt text and grammar."""
        self.app = app
        self.api_key = api_key
        self.model = model
        self.health = health or {}
        self.started = int(time.time())
        vocabulary = counter.vocabulary_size if counter else None
        self.gate = RequestGate(
            model=model,
            context_tokens=context_tokens,
            vocabulary_size=vocabulary,
            default_seed=default_seed,
            native_tools=native_tools,
        )
        self.chat = ChatService(
            app, model=model, counter=counter, logprobs_model=logprobs_model, native_tools=native_tools
        )
        self.batch_api = batches.BatchAPI(self.gate, self.chat)  # the Files and Batch API's files and batches

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = _with_request_id(send, f"req_{secrets.token_hex(16)}")
        path, method = scope["path"].rstrip("/") or "/", scope["method"]
        if path == "/health":  # unauthenticated liveness probe, used by start()
            body = {"status": "ok", "model": self.model, "pid": os.getpid(), **self.health}
            return await send_json(send, 200, body)
        model_id = path.removeprefix("/v1/models/") if path.startswith("/v1/models/") else None
        stored_id = path.removeprefix("/v1/responses/") if path.startswith("/v1/responses/") else None
        stored = stored_id and "/" not in stored_id and method in ("GET", "DELETE")
        if batches.handles(path):  # the Files and Batch API: batches.py
            problem = key_problem(self.api_key, dict(scope["headers"]).get(b"authorization", b""))
            if problem:
                return await send_json(send, 401, problem)
            return await self.batch_api.serve(scope, receive, send, path, method)
        if method not in self.ROUTES.get(path, ()) and not (model_id and method == "GET") and not stored:
            message = f"Invalid URL ({method} {scope['path']})"
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        problem = key_problem(self.api_key, dict(scope["headers"]).get(b"authorization", b""))
        if problem:
            return await send_json(send, 401, problem)
        if path == "/v1/models":  # answered here: llama-cpp-python's waits for any reply being written
            return await send_json(send, 200, {"object": "list", "data": [self._model_card()]})
        if stored:
            return await responses.refuse_stored(send, stored_id)
        if model_id is not None:
            if model_id != self.model:
                message = f"The model '{model_id}' does not exist"
                return await send_json(send, 404, invalid_request(message, "model", "model_not_found"))
            return await send_json(send, 200, self._model_card())

        raw = await read_body(receive)
        # From here on, a client that goes away stops its reply being generated (asgi.ClientWatch).
        async with ClientWatch(receive, send) as watch:
            receive, send = watch.receive, watch.send
            if path == "/v1/responses":
                return await responses.serve(self.gate, self.chat, scope, receive, send, raw)
            status, problem, body = self.gate.admit_raw(path, raw)
            if problem:
                return await send_json(send, status, problem)
            if path == CHAT_PATH:
                return await self.chat.chat(scope, receive, send, body)
            return await self.chat.forward(scope, receive, send, body)

    def _model_card(self) -> dict:
        return {"id": self.model, "object": "model", "created": self.started, "owned_by": "chat-completions-course"}


def key_problem(api_key: str | None, header: bytes) -> dict | None:
    """OpenAI's 401 body for a missing or wrong `Authorization` header, None if it holds the key (or none is set)."""
    if api_key is None:
        return None
    if not header:
        return error_body(
            "You didn't provide an API key. Send it in an Authorization header "
            "using Bearer auth (Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            code="invalid_api_key",
        )
    expected = f"Bearer {api_key}".encode()
    if not hmac.compare_digest(header, expected):
        return error_body(
            "Incorrect API key provided. The offline practice server's key is the "
            f"value of {catalog.OFFLINE_API_KEY_VAR} (default: see helpers/catalog.py).",
            "invalid_request_error",
            code="invalid_api_key",
        )
    return None


def _with_request_id(send, request_id: str):
    """`send`, adding an x-request-id header to a response that has none (OpenAI sends one with every answer)."""

    async def send_with_id(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(key.lower() == b"x-request-id" for key, _ in headers):
                headers.append((b"x-request-id", request_id.encode()))
            message = dict(message, headers=headers)
        await send(message)

    return send_with_id
