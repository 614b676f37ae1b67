"""What checkers that send requests use: the offline server, and a client that records what it sends.

Checkers never call a paid provider: they run the learner's code against the offline
practice server on 127.0.0.1, through the SDK's own HTTP transport, keeping a copy of
each request and of the bytes that came back, so a checker can inspect both.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

import httpx2  # the HTTP library under the openai SDK


@dataclass(frozen=True)
class EmulatedTarget:
    """Where checkers send requests when CHAT_TUTORIAL_EMULATE names OpenAI: the offline model, by OpenAI's rules."""

    base_url: str
    api_key: str = field(repr=False)
    model: str


def practice_server(*, text_only: bool = False):
    """The offline server, so that checking an answer never costs a real provider anything.

    With CHAT_TUTORIAL_EMULATE naming "openai", the same server answering by OpenAI's rules for
    the course's default model: an answer that OpenAI would refuse fails its check. `text_only=True`
    keeps the offline model itself, for a check that needs a model that reads no images.
    """
    from .. import catalog, providers
    from ..offline.lifecycle import start

    server = start()
    if text_only or "openai" not in providers.emulated_providers():
        return server
    return EmulatedTarget(
        providers.emulator_base_url(server, "openai"),
        catalog.EMULATED_PROVIDERS["openai"].key_placeholder,
        catalog.OPENAI.model,
    )


@dataclass
class Exchange:
    """One request a checker's client sent, and what came back (the body as far as it was read)."""

    method: str
    path: str
    sent: dict | None
    status: int
    body: bytearray = field(default_factory=bytearray)
    started: float = 0.0  # time.perf_counter() when the request left
    first_text_at: float | None = None  # when the first piece of reply text arrived (streams)
    finished: float | None = None  # when the last byte of the body was read

    def reply(self) -> dict:
        return json.loads(bytes(self.body))

    def streamed_text(self) -> str:
        """The text of a streamed reply, joined from the server-sent events that were read."""
        pieces = []
        for line in bytes(self.body).decode("utf-8").splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                for choice in json.loads(line[len("data: ") :]).get("choices", []):
                    pieces.append((choice.get("delta") or {}).get("content") or "")
        return "".join(pieces)


_TEXT_PIECE = re.compile(rb'"content": ?"[^"]')  # a delta (or message) with some text in it


class _Tee(httpx2.SyncByteStream):
    def __init__(self, inner, exchange: Exchange):
        self.inner, self.exchange = inner, exchange

    def __iter__(self):
        for part in self.inner:
            self.exchange.body.extend(part)
            if self.exchange.first_text_at is None and _TEXT_PIECE.search(part):
                self.exchange.first_text_at = time.perf_counter()
            if b"data: [DONE]" in part:  # the end of a stream (the SDK may stop reading here)
                self.exchange.finished = time.perf_counter()
            yield part
        if self.exchange.finished is None:
            self.exchange.finished = time.perf_counter()

    def close(self):
        self.inner.close()


class TooManyRequests(RuntimeError):
    """A checker's limit on requests was reached: the learner's code did not stop by itself."""


class _RecordingTransport(httpx2.HTTPTransport):
    """The SDK's own HTTP transport, keeping a copy of each request and of the bytes read back."""

    def __init__(self, rewrite=None, most: int | None = None):
        super().__init__()
        self.exchanges: list[Exchange] = []
        self.rewrite, self.most = rewrite, most

    def handle_request(self, request):
        if self.most is not None and len(self.exchanges) >= self.most:
            raise TooManyRequests(f"the checker stopped your code after {self.most} requests")
        content = request.read()
        sent = json.loads(content) if content else None
        if self.rewrite is not None and sent is not None:
            sent = self.rewrite(sent, len(self.exchanges))
            headers = [(k, v) for k, v in request.headers.items() if k.lower() != "content-length"]
            request = httpx2.Request(
                request.method, request.url, headers=headers, json=sent, extensions=request.extensions
            )
        started = time.perf_counter()
        response = super().handle_request(request)
        exchange = Exchange(request.method, request.url.path, sent, response.status_code, started=started)
        self.exchanges.append(exchange)
        response.stream = _Tee(response.stream, exchange)
        return response


def recording_client(*, rewrite=None, most: int | None = None, text_only: bool = False, **options):
    """An OpenAI client for the offline server that records what it sends: (client, exchanges, server).

    `rewrite(body, index)` may change each request body before it leaves (index: requests sent
    so far), so a checker can play a model that behaves a certain way; after `most` requests the
    client raises TooManyRequests instead of sending, so a loop that never stops ends.
    `text_only=True` keeps the offline model itself (see practice_server).
    """
    import openai

    server = practice_server(text_only=text_only)
    transport = _RecordingTransport(rewrite, most)
    options = {"api_key": server.api_key, "timeout": 180.0, "max_retries": 0, **options}
    http_client = openai.DefaultHttpxClient(transport=transport)
    client = openai.OpenAI(base_url=server.base_url, http_client=http_client, **options)
    return client, transport.exchanges, server


def completions(exchanges: list[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if e.method == "POST" and e.path.endswith("/chat/completions")]
