"""Small ASGI pieces the front's layers share: read a request's whole body, replay a body to an inner app,
and notice a client that goes away while its reply is still being written."""

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
