"""Passing a request through to the inner app, stream or not, with the response start held back.

The start is held until the first piece of body, so that an error raised before any
output (a streamed prompt that does not fit) can still become a proper 4xx instead of
an empty 200; a 5xx answer becomes a clean 500 (failures.py); a chat stream's chunks
are completed to OpenAI's shape on the way (StreamRewriter). The inner app's messages go
through an asgi.Outbox: it writes at its own pace, not its client's, so a client that reads
slowly does not keep the model (held until a stream's last chunk is handed over) from others.
"""

from __future__ import annotations

import json

from . import shapes
from .asgi import Outbox
from .errors import send_json
from .failures import describe, send_internal_error
from .inner import json_request
from .practice_faults import PRACTICE_FAILURE_MARK


class StreamRewriter:
    """Completes llama-cpp-python's stream chunks to OpenAI's shape; adds the usage chunk when asked."""

    def __init__(self, *, model: str, fingerprint: str, counter, body: dict, include_usage: bool, top_logprobs: int):
        self.model, self.fingerprint, self.counter = model, fingerprint, counter
        self.body, self.include_usage, self.top = body, include_usage, top_logprobs
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
        chunk = shapes.finish_chunk(chunk, self.fingerprint, self.include_usage, self.top)
        chunk["model"] = self.model
        self.first = self.first or chunk
        for choice in chunk["choices"]:
            self.text.append(choice["delta"].get("content") or "")
        return shapes.sse([chunk])

    def _usage_chunk(self) -> bytes:
        prompt = self.counter.prompt_tokens(self.body["messages"])
        completion = self.counter.text_tokens("".join(self.text))
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        return shapes.sse([shapes.usage_chunk(self.first, usage, self.fingerprint)])


class HeldSend:
    """A `send` for the inner app that holds the response start back until there is body to show."""

    def __init__(self, send, rewriter: StreamRewriter | None = None):
        self.send, self.rewriter = send, rewriter
        self.start = None  # the response start, held
        self.started = False  # the start has been sent
        self.done = False  # the last piece of body has been sent
        self.end = None  # an empty last piece, held until the app returns (an exception may follow)
        self.error_body = b""  # a 5xx answer's body, collected
        self.practice = False  # a failure asked for with X-Practice-Fail: sent as it is

    async def __call__(self, message):
        kind = message["type"]
        if self.practice:
            return await self.send(message)
        if kind == "http.response.start" and (PRACTICE_FAILURE_MARK, b"1") in message.get("headers", []):
            self.practice = True
            return await self.send(message)
        if kind == "http.response.start":
            self.start = message
            return
        if kind == "http.response.body" and self.start is not None and self.start["status"] >= 500:
            self.error_body += message.get("body", b"")
            if not message.get("more_body"):
                self.done = True
                await send_internal_error(self.send, self.error_body)
            return
        if kind == "http.response.body" and self.rewriter is not None and self.start["status"] == 200:
            message = dict(message, body=self.rewriter.feed(message.get("body", b"")))
        if kind == "http.response.body" and not self.started and not message.get("body"):
            # Nothing to show yet. A stream whose generator failed at once ends like
            # this just before its exception arrives: keep the 200 back until then.
            if not message.get("more_body"):
                self.end = message
            return
        await self.flush()
        if kind == "http.response.body" and not message.get("more_body"):
            self.done = True
        await self.send(message)

    async def flush(self):
        if not self.started and self.start is not None:
            self.started = True
            await self.send(self.start)

    async def finish(self):
        """The app returned: send the empty last piece held back, if nothing else ended the answer."""
        if self.end is not None and not self.done:
            await self.flush()
            self.done = True
            await self.send(self.end)

    async def fail(self, status: int, problem: dict):
        """The app raised: an error answer, or, mid-stream, an error event that ends the stream."""
        if self.done:
            return
        if not self.started:
            return await send_json(self.send, status, problem)
        # Mid-stream: the status line is gone; end the stream with an error event,
        # which the openai SDK raises as an APIError.
        event = f"data: {json.dumps(problem)}\n\n".encode()
        await self.send({"type": "http.response.body", "body": event, "more_body": True})
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})


async def forward(app, scope, receive, send, body: dict, rewriter: StreamRewriter | None = None):
    """Run `app` on `body`; replace its 5xx answers and exceptions with clean OpenAI errors."""
    scope, replayed = json_request(scope, receive, body)
    async with Outbox(send) as outbox:  # sent on at the client's pace; the app finishes at its own
        held = HeldSend(outbox.send, rewriter)
        try:
            await app(scope, replayed, held)
            await held.finish()
        except Exception as error:  # noqa: BLE001 - every failure must still get an answer
            status, problem = describe(error, body, scope)
            await held.fail(status, problem)
