"""Failures on request, so that lesson 10 can show 429 and 5xx errors and retries for real.

A request to the offline practice server that carries the header

    X-Practice-Fail: 503                      fail every time, with HTTP 503
    X-Practice-Fail: 429; times=2; id=abc     fail the first 2 requests with id "abc", then answer
    X-Practice-Fail: 429; code=credit_balance_exhausted
                                              a billing error: type insufficient_quota, that code

gets that HTTP status and an OpenAI-shaped error body instead of a reply. Real
providers ignore the header. Only statuses a real provider sends are accepted.
"""

from __future__ import annotations

import json
from collections import OrderedDict

HEADER = b"x-practice-fail"
PRACTICE_FAILURE_MARK = b"x-practice-failure"  # on our answer, so the guard passes it on unchanged
ALLOWED_STATUSES = {408, 409, 429, 500, 502, 503, 504}
_REMEMBERED_IDS = 1000
RETRY_AFTER_SECONDS = 1

_BODIES = {
    429: ("Rate limit reached (practice failure requested with X-Practice-Fail).", "requests", "rate_limit_exceeded"),
    408: ("Request timed out (practice failure requested with X-Practice-Fail).", "timeout", None),
    409: ("Conflict (practice failure requested with X-Practice-Fail).", "conflict", None),
}
_SERVER_ERROR = (
    "The server had an error processing your request (practice failure requested with X-Practice-Fail).",
    "server_error",
    None,
)


# OpenAI's billing errors: HTTP 429 like a rate limit, but type insufficient_quota, and
# retrying never helps (https://developers.openai.com/api/docs/guides/error-codes).
BILLING_CODES = (
    "credit_balance_exhausted",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "organization_usage_limit_exceeded",
)
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details "
    "(practice failure requested with X-Practice-Fail)."
)


class PracticeFailureHeaderError(ValueError):
    """The X-Practice-Fail header could not be understood."""


def parse(value: str) -> tuple[int, int | None, str | None]:
    """`"429; times=2; id=abc"` -> (429, 2, "abc"); raises PracticeFailureHeaderError.

    A `code=` option is read by `parse_code`.
    """
    status_text, *options = [part.strip() for part in value.split(";")]
    try:
        status = int(status_text)
        settings = dict(option.split("=", 1) for option in options if option)
        times = int(settings.pop("times")) if "times" in settings else None
    except ValueError:
        raise PracticeFailureHeaderError(
            f"X-Practice-Fail should look like '503' or '429; times=2; id=abc', not {value!r}."
        ) from None
    request_id = settings.pop("id", None)
    code = settings.pop("code", None)
    if settings:
        raise PracticeFailureHeaderError(
            f"X-Practice-Fail knows only 'times', 'id' and 'code', not {sorted(settings)}."
        )
    if code is not None and (status != 429 or code not in BILLING_CODES):
        raise PracticeFailureHeaderError(
            f"X-Practice-Fail: 'code' goes with 429 and is one of {', '.join(BILLING_CODES)}, not {code!r}."
        )
    if status not in ALLOWED_STATUSES:
        raise PracticeFailureHeaderError(f"X-Practice-Fail takes one of {sorted(ALLOWED_STATUSES)}, not {status}.")
    if times is not None and (times < 0 or request_id is None):
        raise PracticeFailureHeaderError("X-Practice-Fail: 'times' needs a non-negative count and an 'id'.")
    return status, times, request_id


def parse_code(value: str) -> str | None:
    """The billing code asked for with `code=`, if any (after `parse` has accepted the header)."""
    for option in value.split(";")[1:]:
        name, _, setting = option.strip().partition("=")
        if name == "code":
            return setting
    return None


def error_for(status: int, code: str | None = None) -> tuple[str, str, str | None]:
    """(message, type, code) of the OpenAI-shaped error a practice failure answers with."""
    if code is not None:
        return _QUOTA_MESSAGE, "insufficient_quota", code
    return _BODIES.get(status, _SERVER_ERROR)


class PracticeFaults:
    """ASGI middleware that fails requests carrying X-Practice-Fail, as asked."""

    def __init__(self, app):
        self.app = app
        self.failures_served: OrderedDict[str, int] = OrderedDict()

    async def __call__(self, scope, receive, send):
        value = dict(scope.get("headers", [])).get(HEADER) if scope["type"] == "http" else None
        if value is None:
            return await self.app(scope, receive, send)
        text = value.decode("latin-1")
        try:
            status, times, request_id = parse(text)
        except PracticeFailureHeaderError as error:
            return await _send_error(send, 400, (str(error), "invalid_request_error", None))
        if times is not None:
            served = self.failures_served.get(request_id, 0)
            if served >= times:
                return await self.app(scope, receive, send)
            self.failures_served[request_id] = served + 1
            self.failures_served.move_to_end(request_id)
            while len(self.failures_served) > _REMEMBERED_IDS:
                self.failures_served.popitem(last=False)
        return await _send_error(send, status, error_for(status, parse_code(text)))


async def _send_error(send, status: int, error: tuple[str, str, str | None]) -> None:
    message, type_, code = error
    data = json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (PRACTICE_FAILURE_MARK, b"1"),
    ]
    if status == 429 and type_ != "insufficient_quota":  # a rate limit says when to try again (the SDK waits
        # that long); a billing error does not, since waiting never helps
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
