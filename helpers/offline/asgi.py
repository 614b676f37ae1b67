"""Small ASGI pieces the front's layers share: read a request's whole body, replay a body to an inner app,
notice a client that goes away while its reply is still being written, and send a reply at the
client's pace without making the one who writes it wait (Outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading

# Set while a request is served: an event that is set when its client has gone away. The
# model's generation loop (app.py) checks it after every token, so a reply nobody waits
# for stops at once instead of keeping the one model busy.
CLIENT_GONE: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("client_gone", default=None)
# How many replies this process stopped because their client had gone before the reply was
# sent in full (shown by /health). Counted here, where the disconnect is seen: the reply
# stops either at the model's next token (app.py) or, streamed, at llama-cpp-python's own
# check between chunks, whichever comes first.
COUNTS = {"stopped_for_disconnect": 0}


async def read_body(receive) -> bytes:
    """The request's body, however many messages it came in."""
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw


def replay(raw: bytes, receive):
    """A `receive` for an inner app: `raw` as the whole body, then the client's own messages (a disconnect)."""
    sent = False

    async def receive_again():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return receive_again


class ClientWatch:
    """Listens for the client going away, once its request's body has been read.

    From then on only the watch reads the client's `receive`; inner apps get `self.receive`,
    which waits until the client has gone and then says `http.disconnect`, and `self.send`,
    which notes when the reply's last piece has been sent. `gone` (a threading.Event, also
    published in CLIENT_GONE) is set at the disconnect, for a reply being generated in a
    worker thread. A client that goes before the last piece counts once in COUNTS.
    Use as `async with ClientWatch(receive, send) as watch:`.
    """

    def __init__(self, receive, send):
        self._client_receive, self._client_send = receive, send
        self.gone = threading.Event()
        self._gone = asyncio.Event()
        self._task = None
        self._token = None
        self._sent_in_full = False
        self.abandoned = False  # the client went before the reply was sent in full

    async def __aenter__(self):
        self._task = asyncio.ensure_future(self._watch())
        self._token = CLIENT_GONE.set(self.gone)
        return self

    async def __aexit__(self, *exc):
        CLIENT_GONE.reset(self._token)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.abandoned:
            COUNTS["stopped_for_disconnect"] += 1

    async def _watch(self):
        while True:
            message = await self._client_receive()
            if message.get("type") == "http.disconnect":
                self.abandoned = not self._sent_in_full
                self.gone.set()
                self._gone.set()
                return

    async def receive(self):
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        if message.get("type") == "http.response.body" and not message.get("more_body"):
            self._sent_in_full = True
        await self._client_send(message)


_END = object()  # the last item of an Outbox's queue


class Outbox:
    """A `send` that never waits for the client: messages queue, and a task of their own sends them on.

    A streamed reply is written by someone who holds what others need while it writes: the
    offline model's lock (llama-cpp-python keeps it until its stream's last chunk has been
    handed over) or an engine's slot (upstream.ForwardingApp). Sending straight to the client
    made them write at the client's pace: a client that read slowly, or stopped reading while
    connected, kept everybody else waiting once the socket's buffers were full. Through an
    outbox the writer finishes at its own pace and the client reads at its own.

    The queue has no limit in count: it holds one reply, which the output cap bounds (the
    offline model's context is 2048 tokens; a plain streamed token is about 330 bytes of
    stream, so under 700 KB, a few MB at worst with top_logprobs; an engine's reply is
    bounded by its own cap). A client that goes away stops the writer as before
    (ClientWatch); what is still queued is then dropped by the server's `send`.

    Use as `async with Outbox(send) as outbox:` and give `outbox.send` to the writer. Leaving
    waits until everything queued has been sent; if the client's `send` failed, the writer's
    next `send` raises that error (as the client's `send` itself would have), or leaving does.
    Cancelled, it stops sending at once.
    """

    def __init__(self, send):
        self._client_send = send
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task = None
        self._error: Exception | None = None
        self._error_raised = False

    async def __aenter__(self):
        self._task = asyncio.ensure_future(self._pump())
        return self

    async def __aexit__(self, kind, error, traceback):
        if kind is not None and not issubclass(kind, Exception):  # cancelled (the client or the server went)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            return
        self._queue.put_nowait(_END)
        await self._task
        if self._error is not None and not self._error_raised and kind is None:
            self._error_raised = True
            raise self._error

    async def send(self, message):
        if self._error is not None:
            self._error_raised = True
            raise self._error
        self._queue.put_nowait(message)

    async def _pump(self):
        while (message := await self._queue.get()) is not _END:
            if self._error is not None:
                continue  # the client's send failed: the rest is dropped
            try:
                await self._client_send(message)
            except Exception as error:  # noqa: BLE001 - handed to the writer, or raised on leaving
                self._error = error
