"""Calling the inner app (llama-cpp-python's, or a forwarder) with a request body the front has rewritten."""

from __future__ import annotations

import json

from .asgi import replay

CHAT_PATH = "/v1/chat/completions"


def json_request(scope, receive, body: dict, *, path: str | None = None, drop: tuple = ()):
    """(scope, receive) for the inner app: `body` as the request's JSON body, the client's other headers kept.

    The body is valid JSON, so it says so, even if the client forgot the header; its length
    is the new body's. `path` replaces the request's path; `drop` names more headers to leave out.
    """
    raw = json.dumps(body).encode()
    left_out = (b"content-type", b"content-length", *drop)
    headers = [(k, v) for k, v in scope["headers"] if k not in left_out]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    inner_scope = dict(scope, headers=headers) if path is None else dict(scope, path=path, headers=headers)
    return inner_scope, replay(raw, receive)


async def call(app, scope, receive, body: dict, first: bool = True):
    """Run `app` on `body` as a chat completion request; (status, headers, body bytes). Exceptions propagate.

    A practice failure (X-Practice-Fail) applies to the request, not to each call: only the `first` carries it.
    """
    drop = () if first else (b"x-practice-fail",)
    inner_scope, replayed = json_request(scope, receive, body, path=CHAT_PATH, drop=drop)
    answer = {"status": 500, "headers": [], "body": b""}

    async def collect(message):
        if message["type"] == "http.response.start":
            answer["status"], answer["headers"] = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(inner_scope, replayed, collect)
    return answer["status"], answer["headers"], answer["body"]
