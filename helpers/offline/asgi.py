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
    which waits until the client has gone and then says `http.disconnect`. `gone` (a
    threading.Event, also published in CLIENT_GONE) is set at that moment, for a reply
    being generated in a worker thread. Use as `async with ClientWatch(receive) as watch:`.
    """

    def __init__(self, receive):
        self._client_receive = receive
        self.gone = threading.Event()
        self._gone = asyncio.Event()
        self._task = None
        self._token = None

    async def __aenter__(self):
        self._task = asyncio.ensure_future(self._watch())
        self._token = CLIENT_GONE.set(self.gone)
        return self

    async def __aexit__(self, *exc):
        CLIENT_GONE.reset(self._token)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _watch(self):
        while True:
            message = await self._client_receive()
            if message.get("type") == "http.disconnect":
                self.gone.set()
                self._gone.set()
                return

    async def receive(self):
        await self._gone.wait()
        return {"type": "http.disconnect"}
