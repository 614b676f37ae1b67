"""OpenAI's error body, and the JSON answers the offline server's front sends itself."""

from __future__ import annotations

import json
import re

ENGINE_UNAVAILABLE = "engine_unavailable"  # the code of the answer when no engine behind a front answers


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> dict:
    return error_body(message, "invalid_request_error", param, code)


def model_not_found(requested, served: str | None = None) -> dict:
    """OpenAI's 404 body for a model it does not serve; `served`: the one model this server serves, said too."""
    message = f"The model `{requested}` does not exist or you do not have access to it."
    if served is not None:
        message += f" This offline server serves only `{served}`."
    return invalid_request(message, "model", "model_not_found")


_JSON_TYPE_NAMES = [
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a decimal"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
]  # bool first: it is also an int


def json_type(value) -> str:
    """How OpenAI's errors name the JSON type of `value`."""
    return next((name for kind, name in _JSON_TYPE_NAMES if isinstance(value, kind)), "null")


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?")


def scrub(text: str, limit: int = 300) -> str:
    """The first line of an internal error message, without file paths, shortened."""
    first = (text or "").strip().split("\n", 1)[0]
    first = _PATH.sub("<path>", first)
    return first if len(first) <= limit else first[: limit - 3] + "..."


def internal_error(detail: str) -> dict:
    message = "The offline model server failed on this request"
    message += f" ({detail})." if detail else "."
    message += " The details are in its log file (python -m helpers.local_server status shows where)."
    return error_body(message, "server_error", code="internal_error")


async def send_json(send, status: int, body, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    all_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": all_headers + (headers or [])})
    await send({"type": "http.response.body", "body": data})
