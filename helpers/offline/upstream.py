"""Forwarding to model engines: a pool of OpenAI-compatible servers, each with a fixed number of slots.

A class server that outgrows one llama-cpp-python worker puts engines behind its front:
K course offline servers of its own (engines.py: `start_engines`), or an engine that serves
many requests at once (vLLM, Ollama, llama.cpp's llama-server: docs/engines.md).

- `EnginePool(urls, api_key, slots_per_engine)`: which engine has a free slot. Requests
  get slots in ARRIVAL ORDER: a request that finds every slot taken joins a queue (a deque
  of futures) and is handed the next slot freed, so no request waits behind a later one.
- `ForwardingApp(pool)`: an ASGI app that forwards each HTTP request to an engine with a
  free slot and streams the answer back as it arrives. The answer is read at the engine's
  pace and handed to the client through an asgi.Outbox, at the client's: the slot is freed
  when the engine has finished, not when a slow client has read everything. A client that
  disconnects while its request waits for a slot or while the engine answers gets its
  upstream request closed at once and its slot freed. An engine that cannot be reached gives an
  OpenAI-shaped error (a 503), never a traceback.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys

from .asgi import Outbox
from .errors import ENGINE_UNAVAILABLE, error_body, send_json

CONNECT_TIMEOUT_SECONDS = 5.0
# Idle connections to an engine are dropped by the front after this long, before the engine's
# own keep-alive timeout closes them (llama-server's HTTP library closes them after 5 s):
# a request sent on a connection the engine is closing at that moment gets no answer.
KEEPALIVE_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 600.0  # a non-streamed reply may take long; the engine's own output cap bounds it
# Not passed on: the pool's key replaces the learner's, the body's length is the engine's
# to read, and hop-by-hop headers belong to one connection.
_REQUEST_HEADERS_DROPPED = {b"host", b"authorization", b"content-length", b"connection", b"transfer-encoding"}
_RESPONSE_HEADERS_DROPPED = {b"connection", b"keep-alive", b"transfer-encoding", b"date", b"server"}


class EnginePool:
    """Engines (base URLs ending in /v1) and their free slots, handed out in arrival order."""

    def __init__(self, urls: list[str], api_key: str | None = None, slots_per_engine: int = 1):
        if not urls:
            raise ValueError("an engine pool needs at least one engine URL")
        if slots_per_engine < 1:
            raise ValueError("slots_per_engine must be at least 1")
        self.urls = [url.rstrip("/") for url in urls]
        self.api_key = api_key
        self.slots_per_engine = slots_per_engine
        self.busy = [0] * len(self.urls)  # requests each engine serves now
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self.served = 0  # slots handed out so far (a figure for the benchmark and tests)
        self._client = None

    @property
    def slots(self) -> int:
        return len(self.urls) * self.slots_per_engine

    @property
    def queued(self) -> int:
        return sum(not future.done() for future in self.waiting)

    def _free_engine(self) -> int | None:
        """The engine with the most free slots (the first of equals), or None if all are full."""
        engine = min(range(len(self.urls)), key=lambda i: self.busy[i])
        return engine if self.busy[engine] < self.slots_per_engine else None

    async def acquire(self) -> int:
        """Wait for a slot (behind every request that arrived earlier); return its engine's index."""
        while self.waiting and self.waiting[0].done():  # left by clients that went away
            self.waiting.popleft()
        if not self.waiting:
            engine = self._free_engine()
            if engine is not None:
                return self._take(engine)
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # handed a slot just as the client left
                self.release(future.result())
            else:
                self._forget(future)
            raise

    def _take(self, engine: int) -> int:
        self.busy[engine] += 1
        self.served += 1
        return engine

    def _forget(self, future: asyncio.Future) -> None:
        try:
            self.waiting.remove(future)
        except ValueError:
            pass

    def release(self, engine: int) -> None:
        """Free a slot of `engine`: the longest-waiting request gets it."""
        self.busy[engine] -= 1
        while self.waiting:
            future = self.waiting.popleft()
            if future.done():  # its client left while it waited
                continue
            future.set_result(self._take(engine))
            return

    def url_for(self, engine: int, path: str, query: bytes = b"") -> str:
        """The engine's URL for a request to `path`: below /v1 for /v1/..., else below the engine's root."""
        base = self.urls[engine]
        if path == "/v1" or path.startswith("/v1/"):
            url = base + path[len("/v1") :]
        else:
            url = base.removesuffix("/v1") + path
        return url + ("?" + query.decode("latin-1") if query else "")

    def client(self):
        """One httpx.AsyncClient for every engine (made on first use, in the serving event loop)."""
        import httpx

        if self._client is None:
            limits = httpx.Limits(
                max_connections=None, max_keepalive_connections=self.slots, keepalive_expiry=KEEPALIVE_SECONDS
            )
            timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
            self._client = httpx.AsyncClient(timeout=timeout, limits=limits)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def unreachable(engine: int, count: int) -> dict:
    """The error a learner gets when the engine behind the front does not answer."""
    which = f"engine {engine + 1} of {count}" if count > 1 else "the model engine"
    message = (
        f"The class server could not reach {which} behind it. Try again in a moment; "
        "if it keeps failing, tell the instructor."
    )
    return error_body(message, "server_error", code=ENGINE_UNAVAILABLE)


class ForwardingApp:
    """ASGI app: each request forwarded to an engine of `pool` with a free slot, the answer streamed back.

    `model`, if given, replaces the `model` of every JSON request body (the name the
    engine serves under, when the front calls it something else).
    """

    def __init__(self, pool: EnginePool, *, model: str | None = None):
        self.pool = pool
        self.model = model

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        body, gone = await _read_request(receive)
        if gone:
            return
        if self.model is not None:
            body = self._renamed(body)
        # The engine's answer goes to an outbox, so that a client that reads slowly (or not at
        # all, while connected) does not keep the slot: `work` ends when the engine has answered.
        async with Outbox(send) as outbox:
            work = asyncio.ensure_future(self._serve(scope, body, outbox.send))
            watch = asyncio.ensure_future(_disconnected(receive))
            try:
                await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (work, watch):
                    if not task.done():
                        task.cancel()
                # Cancelling `work` closes the upstream request and frees the slot (its finally blocks).
                await asyncio.gather(work, watch, return_exceptions=True)
        if work.done() and not work.cancelled() and work.exception() is not None:
            raise work.exception()

    def _renamed(self, body: bytes) -> bytes:
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        if not isinstance(parsed, dict) or "model" not in parsed:
            return body
        parsed["model"] = self.model
        return json.dumps(parsed).encode()

    async def _serve(self, scope, body: bytes, send) -> None:
        import httpx

        pool = self.pool
        engine = await pool.acquire()
        try:
            headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _REQUEST_HEADERS_DROPPED]
            if pool.api_key:
                headers.append((b"authorization", f"Bearer {pool.api_key}".encode()))
            client = pool.client()
            url = pool.url_for(engine, scope["path"], scope.get("query_string", b""))
            request = client.build_request(scope["method"], url, headers=headers, content=body)
            try:
                try:
                    response = await client.send(request, stream=True)
                except httpx.RemoteProtocolError:
                    # The engine closed the connection without answering (a kept-alive one it
                    # was closing as the request went out): nothing was done, so ask once more.
                    response = await client.send(request, stream=True)
            except httpx.HTTPError as error:
                print(f"[upstream] {url} could not be reached: {type(error).__name__}: {error}", file=sys.stderr)
                return await send_json(send, 503, unreachable(engine, len(pool.urls)))
            try:
                await self._stream(response, send)
            finally:
                await response.aclose()
        finally:
            pool.release(engine)

    @staticmethod
    async def _stream(response, send) -> None:
        import httpx

        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _RESPONSE_HEADERS_DROPPED]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        try:
            async for piece in response.aiter_raw():
                if piece:
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
        except httpx.HTTPError as error:  # the engine went away mid-answer: end what was sent
            print(f"[upstream] {response.request.url} broke off: {type(error).__name__}: {error}", file=sys.stderr)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pool.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_request(receive) -> tuple[bytes, bool]:
    """(the request's body, whether the client disconnected before sending all of it)."""
    raw = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return raw, True
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw, False


async def _disconnected(receive) -> None:
    """Return when the client disconnects."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
