"""Error mapping: what becomes of the inner app's failures, as OpenAI's error bodies without paths or tracebacks.

An exception the inner app raised becomes a 400 (a prompt over the context window, in
OpenAI's words) or a 500 whose details go to the log file; an error status it answered
a request the front made (InnerError) is passed on when it is the client's fault or a
practice failure (X-Practice-Fail), else cleaned into a 500 (or the forwarder's 503).
"""

from __future__ import annotations

import json
import re
import sys
import traceback

from .errors import ENGINE_UNAVAILABLE, internal_error, invalid_request, scrub, send_json
from .practice_faults import PRACTICE_FAILURE_MARK

_CONTEXT_EXCEEDED = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


class InnerError(Exception):
    """llama-cpp-python's app answered a request the front made with an error status."""

    def __init__(self, status: int, raw: bytes, headers: list):
        super().__init__(f"inner app answered {status}")
        self.status, self.raw, self.headers = status, raw, headers


def describe(error: Exception, body: dict, scope=None):
    """(status, OpenAI error body) for an exception the inner app raised; a 500 is logged with its traceback."""
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


async def send_inner_error(send, error: InnerError):
    """Pass on a practice failure or a 4xx as it came; clean anything else (send_internal_error)."""
    if (PRACTICE_FAILURE_MARK, b"1") in error.headers or error.status < 500:
        headers = [(k, v) for k, v in error.headers if k not in (b"content-length", b"content-type")]
        try:
            problem = json.loads(error.raw)
        except ValueError:
            problem = invalid_request(scrub(error.raw.decode(errors="replace")))
        return await send_json(send, error.status, problem, headers)
    return await send_internal_error(send, error.raw)


async def send_internal_error(send, raw: bytes):
    """The inner app's 5xx body `raw` as a clean 500 (the forwarder's own 503 when no engine answers)."""
    try:
        error = json.loads(raw)["error"]
        inner = error["message"]
    except (ValueError, KeyError, TypeError):
        error, inner = {}, ""
    if isinstance(error, dict) and error.get("code") == ENGINE_UNAVAILABLE:  # the forwarder's own answer
        return await send_json(send, 503, {"error": error})
    print(f"[guard] the model server answered 500: {inner}", file=sys.stderr)
    await send_json(send, 500, internal_error(scrub(inner)))
