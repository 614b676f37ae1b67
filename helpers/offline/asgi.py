"""Small ASGI pieces the front's layers share: read a request's whole body, replay a body to an inner app."""

from __future__ import annotations


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
