"""OpenAIStyleGuard: the ASGI layer that gives llama-cpp-python's app OpenAI's manners.

It checks the API key, answers the model routes, refuses what OpenAI refuses
(validation.py, spec.py) with OpenAI's error body, rewrites each request for
llama-cpp-python (adapt.py, tools.py), completes each answer to OpenAI's shape
(shapes.py), serves `n` choices, logprobs and the Responses API (responses.py),
and replaces any internal error with an OpenAI-shaped 500 that shows no file
paths or tracebacks (those go to the log file). Every answer carries an
`x-request-id`.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import sys
import time
import traceback

from .. import catalog
from . import batches, responses, shapes, tools
from .adapt import adapt_chat_request
from .asgi import ClientWatch, read_body, replay
from .errors import ENGINE_UNAVAILABLE, error_body, internal_error, invalid_request, scrub, send_json
from .practice_faults import PRACTICE_FAILURE_MARK
from .validation import check_chat, check_fields, check_llama_schema

_CONTEXT_EXCEEDED = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


class InnerError(Exception):
    """llama-cpp-python's app answered a request the guard made with an error status."""

    def __init__(self, status: int, raw: bytes, headers: list):
        super().__init__(f"inner app answered {status}")
        self.status, self.raw, self.headers = status, raw, headers


class OpenAIStyleGuard:
    """ASGI middleware: key check, known routes and models, validation, OpenAI's shapes.

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
        self.app = app
        self.api_key = api_key
        self.model = model
        self.context_tokens = context_tokens
        self.counter = counter  # tokens.TokenCounter: usage of streamed replies, vocabulary size
        self.logprobs_model = logprobs_model  # the inner alias loaded with logits for every token
        self.default_seed = default_seed
        self.health = health or {}  # extra facts for /health (supervisor pid, restarts)
        # An inner engine that does tools and structured output itself (vLLM, Ollama, llama-server):
        # tools, tool history and response_format go to it as they are, not as prompt text and grammar.
        self.native_tools = native_tools
        self.started = int(time.time())
        self.fingerprint = shapes.system_fingerprint(model)
        self.batch_api = batches.BatchAPI(self)  # the Files and Batch API's files and batches, in memory

    # --- Routing ------------------------------------------------------------------

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
            problem = self._check_key(dict(scope["headers"]).get(b"authorization", b""))
            if problem:
                return await send_json(send, 401, problem)
            return await self.batch_api.serve(scope, receive, send, path, method)
        if method not in self.ROUTES.get(path, ()) and not (model_id and method == "GET") and not stored:
            message = f"Invalid URL ({method} {scope['path']})"
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        problem = self._check_key(dict(scope["headers"]).get(b"authorization", b""))
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
                return await responses.serve(self, scope, receive, send, raw)
            status, problem, body = self._check_request(path, raw)
            if problem:
                return await send_json(send, status, problem)
            if path == "/v1/completions":
                return await self._forward(scope, receive, send, body)
            return await self.chat(scope, receive, send, body)

    def _model_card(self) -> dict:
        return {"id": self.model, "object": "model", "created": self.started, "owned_by": "chat-completions-course"}

    # --- Chat completions -----------------------------------------------------------

    async def chat(self, scope, receive, send, body: dict, *, reply_sink=None):
        """Serve a checked, adapted chat request; `reply_sink`, if given, takes the finished reply instead of `send`."""
        stream = bool(body.get("stream"))
        include_usage = stream and bool((body.get("stream_options") or {}).get("include_usage"))
        choices = body.pop("n", None) or 1
        plan = tools.prepare(body) if tools.uses_tools(body) and not self.native_tools else None
        if body.get("max_tokens") is None:  # OpenAI would write on to the end of the context window
            body["max_tokens"] = tools.default_max_tokens(plan)
        for name in ("tools", "tool_choice", "parallel_tool_calls") if not self.native_tools else ():
            body.pop(name, None)  # with tool_choice "none": text only
        top = body.get("top_logprobs") or 0
        if body.get("logprobs") and self.logprobs_model:
            body["model"] = self.logprobs_model
            # llama-cpp-python returns no logprobs at all without top_logprobs, and always one
            # alternative more than asked (the chosen token): ask for one, keep `top` (shapes.py).
            body["top_logprobs"] = max(top, 1)
        else:
            body.pop("top_logprobs", None)
        # Without a counter (an engine with another tokenizer), a stream that wants usage is made
        # from the engine's whole reply, which carries the engine's own count.
        countable = self.counter is not None or not include_usage
        if stream and choices == 1 and plan is None and reply_sink is None and countable:
            return await self._forward(scope, receive, send, body, include_usage=include_usage, top_logprobs=top)
        body.pop("stream", None)
        body.pop("stream_options", None)
        try:
            reply = await self._replies(scope, receive, body, choices)
        except InnerError as error:
            return await self._send_inner_error(send, error)
        except Exception as error:  # noqa: BLE001 - every failure must still get an answer
            status, problem = self._describe(error, body, scope)
            return await send_json(send, status, problem)
        if plan is not None:
            reply["choices"] = [tools.finish_choice(choice) for choice in reply["choices"]]
        reply = shapes.finish_reply(reply, self.fingerprint, top)
        reply["model"] = self.model
        if reply_sink is not None:
            return await reply_sink(reply)
        if not stream:
            return await send_json(send, 200, reply)
        events = shapes.sse(shapes.chunks_from_reply(reply, include_usage)) + shapes.DONE
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        await send({"type": "http.response.body", "body": events})

    async def _replies(self, scope, receive, body: dict, choices: int) -> dict:
        """`choices` non-streamed replies from the inner app, merged into one with indexes 0..n-1."""
        merged = None
        for index in range(choices):
            one = dict(body)
            if index and one.get("seed") is not None:
                one["seed"] = one["seed"] + index  # the same seed would write the same text n times
            status, headers, raw = await self._inner(scope, receive, one, first=index == 0)
            if status != 200:
                raise InnerError(status, raw, headers)
            reply = json.loads(raw)
            choice = reply["choices"][0]
            choice["index"] = index
            if merged is None:
                merged = reply
                continue
            merged["choices"].append(choice)
            merged["usage"]["completion_tokens"] += reply["usage"]["completion_tokens"]  # the prompt counts once
        merged["usage"]["total_tokens"] = merged["usage"]["prompt_tokens"] + merged["usage"]["completion_tokens"]
        return merged

    async def _inner(self, scope, receive, body: dict, first: bool = True):
        """Run the inner app on `body`; (status, headers, body bytes). Exceptions propagate."""
        raw = json.dumps(body).encode()
        replayed = replay(raw, receive)

        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        if not first:  # a practice failure (X-Practice-Fail) applies to the request, not to each inner call
            headers = [(k, v) for k, v in headers if k != b"x-practice-fail"]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        answer = {"status": 500, "headers": [], "body": b""}

        async def collect(message):
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await self.app(dict(scope, path="/v1/chat/completions", headers=headers), replayed, collect)
        return answer["status"], answer["headers"], answer["body"]

    async def _send_inner_error(self, send, error: InnerError):
        if (PRACTICE_FAILURE_MARK, b"1") in error.headers or error.status < 500:
            headers = [(k, v) for k, v in error.headers if k not in (b"content-length", b"content-type")]
            try:
                problem = json.loads(error.raw)
            except ValueError:
                problem = invalid_request(scrub(error.raw.decode(errors="replace")))
            return await send_json(send, error.status, problem, headers)
        return await self._send_internal_error(send, error.raw)

    # --- Passing a request through, stream or not -------------------------------------

    async def _forward(self, scope, receive, send, body: dict, include_usage: bool = False, top_logprobs: int = 0):
        """Run the inner app; replace its 5xx answers and exceptions with clean OpenAI errors.

        The response start is held back until the first piece of body, so that an
        error raised before any output (a streamed prompt that does not fit) can
        still become a proper 4xx instead of an empty 200. A chat stream's chunks
        are completed to OpenAI's shape on the way (shapes.StreamRewriter).
        """
        raw = json.dumps(body).encode()
        replayed = replay(raw, receive)

        # The body is valid JSON: say so, even if the client forgot the header.
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
        scope = dict(scope, headers=headers)
        chat = scope["path"].rstrip("/") == "/v1/chat/completions"
        rewriter = _StreamRewriter(self, body, include_usage, top_logprobs) if chat and body.get("stream") else None
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
            if kind == "http.response.body" and rewriter is not None and state["start"]["status"] == 200:
                message = dict(message, body=rewriter.feed(message.get("body", b"")))
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
            await self.app(scope, replayed, guarded_send)
            if state.get("end") is not None and not state["done"]:
                await flush()
                state["done"] = True
                await send(state["end"])
        except Exception as error:  # noqa: BLE001 - every failure must still get an answer
            status, problem = self._describe(error, body, scope)
            if state["done"]:
                return
            if not state["started"]:
                return await send_json(send, status, problem)
            # Mid-stream: the status line is gone; end the stream with an error event,
            # which the openai SDK raises as an APIError.
            event = f"data: {json.dumps(problem)}\n\n".encode()
            await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _describe(self, error: Exception, body: dict, scope=None):
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
            return 400, invalid_request(message, "messages", "context_length_exceeded")
        where = f"{scope['method']} {scope['path']}" if scope else "request"
        print(f"[guard] {where} failed: {error}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return 500, internal_error(scrub(f"{type(error).__name__}: {error}"))

    @staticmethod
    async def _send_internal_error(send, raw: bytes):
        try:
            error = json.loads(raw)["error"]
            inner = error["message"]
        except (ValueError, KeyError, TypeError):
            error, inner = {}, ""
        if isinstance(error, dict) and error.get("code") == ENGINE_UNAVAILABLE:  # the forwarder's own answer
            return await send_json(send, 503, {"error": error})
        print(f"[guard] the model server answered 500: {inner}", file=sys.stderr)
        await send_json(send, 500, internal_error(scrub(inner)))

    # --- Checks ---------------------------------------------------------------------

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

    def parse_body(self, raw: bytes):
        """(400, error, None) for a body that is not a JSON object, else (200, None, body)."""
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return 400, invalid_request("The request body is not valid JSON."), None
        if not isinstance(body, dict):
            return 400, invalid_request("The request body must be a JSON object."), None
        return 200, None, body

    def _check_request(self, path: str, raw: bytes):
        """Return (status, error body, None) for a request we refuse, or (200, None, body to forward)."""
        status, problem, body = self.parse_body(raw)
        if problem:
            return status, problem, None
        return self.check_chat_body(path, body)

    def check_chat_body(self, path: str, body: dict):
        status, problem = check_fields(path, body, model=self.model, context_tokens=self.context_tokens)
        if not problem and path == "/v1/chat/completions":
            vocabulary = self.counter.vocabulary_size if self.counter else None
            status, problem = check_chat(body, vocabulary_size=vocabulary)
        if problem:
            return status, problem, None
        if "seed" not in body and self.default_seed is not None:
            body["seed"] = self.default_seed
        if path == "/v1/chat/completions" and not self.native_tools:
            tools.history_as_text(body["messages"])
        adapt_chat_request(body, grammar=not self.native_tools)
        if self.native_tools:  # llama-cpp-python's own request model is not the engine's
            return 200, None, body
        llama_body = {k: v for k, v in body.items() if k not in ("tools", "tool_choice", "parallel_tool_calls")}
        status, problem = check_llama_schema(path, llama_body)
        if problem:
            return status, problem, None
        return 200, None, body


_SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store")]


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


class _StreamRewriter:
    """Completes llama-cpp-python's stream chunks to OpenAI's shape; adds the usage chunk when asked."""

    def __init__(self, guard: OpenAIStyleGuard, body: dict, include_usage: bool, top_logprobs: int):
        self.guard, self.body, self.include_usage, self.top = guard, body, include_usage, top_logprobs
        self.buffer, self.first, self.text = b"", None, []

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        out = b""
        while b"\n\n" in self.buffer:
            event, self.buffer = self.buffer.split(b"\n\n", 1)
            out += self._event(event.strip(b"\r"))
        return out

    def _event(self, event: bytes) -> bytes:
        if not event.startswith(b"data: "):
            return event + b"\n\n"  # a comment (ping) or other field: as it is
        payload = event[len(b"data: ") :].strip()
        if payload == b"[DONE]":
            usage = self._usage_chunk() if self.include_usage and self.first else b""
            return usage + shapes.DONE
        chunk = json.loads(payload)
        if "error" in chunk:
            return event + b"\n\n"
        chunk = shapes.finish_chunk(chunk, self.guard.fingerprint, self.include_usage, self.top)
        chunk["model"] = self.guard.model
        self.first = self.first or chunk
        for choice in chunk["choices"]:
            self.text.append(choice["delta"].get("content") or "")
        return shapes.sse([chunk])

    def _usage_chunk(self) -> bytes:
        counter = self.guard.counter
        prompt = counter.prompt_tokens(self.body["messages"])
        completion = counter.text_tokens("".join(self.text))
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        return shapes.sse([shapes.usage_chunk(self.first, usage, self.guard.fingerprint)])
