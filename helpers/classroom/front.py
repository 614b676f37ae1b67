"""ClassFront: the class server's front door, an ASGI middleware in front of the model's app.

For every request it checks the key (a learner's or the instructor's; wrong, missing or
revoked: OpenAI's 401), applies the learner's limits (OpenAI's 429 and x-ratelimit-*
headers, limits.py), calls the inner app with the inner key in place of the learner's,
and counts the reply's tokens for the usage page (usage.py). It also answers:

    GET  /health            unauthenticated liveness probe
    GET  /class/usage       the usage page (HTML); /class/usage.json and /class/usage.csv
    POST /class/revoke      {"learner": "learner-07"}: revoke a key (instructor's key only)

The /class/usage pages answer a client on this computer (loopback, not forwarded by a
proxy) or a request with the instructor's key; nobody else.

Tokens for the limits and the usage page come from the reply itself:
- a JSON reply: its `usage` (prompt_tokens/completion_tokens, or input_tokens/output_tokens
  for the Responses API);
- a streamed reply: the usage chunk when the request asked for one
  (stream_options.include_usage, or the Responses API's response.completed event);
  otherwise an ESTIMATE, the characters of the request's messages and of the reply's text
  divided by 4 (limits.CHARS_PER_TOKEN).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time

from ..offline.asgi import read_body, replay
from ..offline.errors import error_body, send_json
from ..offline.practice_faults import PRACTICE_FAILURE_MARK
from .limits import Limits, RateLimiter, estimate_tokens, reservation
from .roster import Roster, mask
from .usage import UsageBook

log = logging.getLogger("helpers.classroom")

GENERATING = {"/v1/chat/completions", "/v1/completions", "/v1/responses"}  # paths that spend tokens
FORWARDED_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
_REPLY_LIMIT = 8 * 1024 * 1024  # bytes of a JSON reply kept to read its usage


def is_local_client(scope) -> bool:
    """Whether the request comes from this computer itself and not through a proxy (which hides who sent it)."""
    client = scope.get("client")
    headers = dict(scope.get("headers", []))
    if not client or any(name in headers for name in FORWARDED_HEADERS):
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def _bearer(scope) -> str | None:
    value = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1").strip()
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else value


def _unauthorized(key: str | None, revoked: bool = False) -> dict:
    if not key:
        message = (
            "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
            "(Authorization: Bearer YOUR_KEY). Your class key is in the .env your instructor gave you."
        )
    elif revoked:
        message = f"Incorrect API key provided: {mask(key)}. This class key was revoked by your instructor."
    else:
        message = f"Incorrect API key provided: {mask(key)}. Use the class key your instructor gave you."
    return error_body(message, "invalid_request_error", code="invalid_api_key")


class _ReplyMeter:
    """Reads a reply as it passes (never changes it) to learn its status and token usage."""

    def __init__(self, request_body: dict | None):
        self.request_body = request_body or {}
        self.status = 500
        self.streamed = False
        self.raw = bytearray()
        self.pending = b""
        self.usage: dict | None = None
        self.text: list[str] = []
        self.length: int | None = None  # the reply's content-length, when it has one
        self.received = 0
        self.ended = False  # a stream's last event ([DONE], or the Responses API's final event) has passed

    def start(self, message) -> None:
        self.status = message["status"]
        headers = dict(message.get("headers", []))
        self.streamed = headers.get(b"content-type", b"").startswith(b"text/event-stream")
        try:
            self.length = int(headers[b"content-length"])
        except (KeyError, ValueError):
            self.length = None

    @property
    def complete(self) -> bool:
        """Whether a client already has everything it will read (it need not wait for the last message)."""
        if self.streamed:
            return self.ended
        return self.length is not None and self.received >= self.length

    def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if not self.streamed:
            if len(self.raw) < _REPLY_LIMIT:
                self.raw += chunk
            return
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self._event(line.strip())

    def _event(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        data = line[5:].strip()
        if data == b"[DONE]":
            self.ended = True
            return
        if not data:
            return
        try:
            event = json.loads(data)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        if event.get("usage"):
            self.usage = event["usage"]
        if event.get("type") in ("response.completed", "response.incomplete", "response.failed"):
            self.usage = (event.get("response") or {}).get("usage") or self.usage  # the Responses API's last event
            self.ended = True
        if isinstance(event.get("delta"), str):  # the Responses API's text deltas
            self.text.append(event["delta"])
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            self.text.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                self.text.append((call.get("function") or {}).get("arguments") or "")

    def tokens(self) -> tuple[int, int, bool]:
        """(input tokens, output tokens, estimated?) of a successful reply; zeros for an error."""
        if self.status >= 400:
            return 0, 0, False
        usage = self.usage
        if not self.streamed:
            try:
                usage = json.loads(bytes(self.raw)).get("usage")
            except (ValueError, AttributeError):
                usage = None
        if isinstance(usage, dict):
            input_tokens = usage.get("prompt_tokens", usage.get("input_tokens")) or 0
            output_tokens = usage.get("completion_tokens", usage.get("output_tokens")) or 0
            return int(input_tokens), int(output_tokens), False
        if not self.streamed:
            return 0, 0, False
        asked = self.request_body.get("messages") or self.request_body.get("input") or self.request_body.get("prompt")
        return estimate_tokens(json.dumps(asked or "")), estimate_tokens("".join(self.text)), True


class ClassFront:
    """ASGI middleware: class keys, per-key limits and usage in front of `inner_app`."""

    def __init__(
        self,
        inner_app,
        roster: Roster,
        limits: Limits | RateLimiter | None = None,
        usage: UsageBook | None = None,
        *,
        inner_key: str | None = None,
    ):
        self.app = inner_app
        self.roster = roster
        self.limiter = limits if isinstance(limits, RateLimiter) else RateLimiter(limits or Limits())
        self.usage = usage or UsageBook(roster)
        self.inner_key = inner_key

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path == "/health":
            return await send_json(send, 200, {"status": "ok", "class_server": True})
        if path == "/class" or path.startswith("/class/"):
            return await self._instructor_pages(scope, receive, send)

        key = _bearer(scope)
        holder = self.roster.holder_of(key) if key else None
        if holder is None or holder.revoked:
            why = "no key" if not key else ("a revoked key" if holder else "an unknown key")
            log.info("401 %s %s: %s %s", scope["method"], path, why, mask(key) if key else "")
            return await send_json(send, 401, _unauthorized(key, revoked=holder is not None))

        raw = await read_body(receive)
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = None
        body = body if isinstance(body, dict) else None
        is_instructor = holder is self.roster.instructor
        decision = None
        if not is_instructor:
            reserve = reservation(body, len(raw)) if scope["method"] == "POST" and path in GENERATING else 0
            decision = self.limiter.admit(holder.name, reserve)
            if not decision.admitted:
                self.usage.record(holder.name, status=429, rate_limited=True)
                log.info("429 %s %s %s: %s limit", holder.name, scope["method"], path, decision.kind)
                problem = error_body(decision.message, decision.kind, code="rate_limit_exceeded")
                return await send_json(send, 429, problem, decision.headers)

        meter = _ReplyMeter(body)
        extra_headers = decision.headers if decision else []
        practice = False
        booked: tuple[int, int, bool] | None = None

        def book() -> tuple[int, int, bool]:
            """Settle the key's tokens and record usage, once: before the reply's last byte goes out
            (its content-length reached, a stream's last event, or the last message), so a client
            that has its whole reply sees the books already right."""
            nonlocal booked
            if booked is None:
                booked = meter.tokens()
                if decision is not None and practice:  # asked for with X-Practice-Fail: no model work, not counted
                    self.limiter.refund(holder.name, decision.ticket)
                elif decision is not None:
                    self.limiter.settle(holder.name, decision.ticket, booked[0] + booked[1])
                self.usage.record(holder.name, status=meter.status, input_tokens=booked[0], output_tokens=booked[1])
            return booked

        async def send_and_meter(message):
            nonlocal practice
            if message["type"] == "http.response.start":
                meter.start(message)
                practice = (PRACTICE_FAILURE_MARK, b"1") in message.get("headers", [])
                if not practice:  # a practice failure (lesson 10) carries its own rate-limit headers
                    message = dict(message, headers=[*message.get("headers", []), *extra_headers])
            elif message["type"] == "http.response.body":
                meter.feed(message.get("body", b""))
                if meter.complete or not message.get("more_body", False):
                    book()
            await send(message)

        headers = [(name, value) for name, value in scope["headers"] if name != b"authorization"]
        if self.inner_key:
            headers.append((b"authorization", f"Bearer {self.inner_key}".encode()))
        started = time.monotonic()
        try:
            await self.app(dict(scope, headers=headers), replay(raw, receive), send_and_meter)
        finally:
            input_tokens, output_tokens, estimated = book()  # a reply cut short is booked here
            log.info(
                "%s %s %s %s -> %s, %s in / %s out%s, %.2f s",
                meter.status,
                holder.name,
                scope["method"],
                path,
                "streamed" if meter.streamed else "json",
                input_tokens,
                output_tokens,
                " (estimated)" if estimated else "",
                time.monotonic() - started,
            )

    # --- The instructor's pages ---------------------------------------------------------

    async def _instructor_pages(self, scope, receive, send):
        path, method = scope["path"].rstrip("/"), scope["method"]
        key = _bearer(scope)
        holder = self.roster.holder_of(key) if key else None
        instructor = holder is self.roster.instructor and holder is not None
        if path == "/class/revoke" and method == "POST":
            if not instructor:
                return await send_json(send, 401, _unauthorized(key))
            try:
                asked = json.loads(await read_body(receive)).get("learner", "")
            except (ValueError, AttributeError):
                asked = ""
            revoked = self.roster.revoke(str(asked)) if asked else None
            if revoked is None:
                message = "No learner has that name or key. Names look like learner-07."
                return await send_json(send, 404, error_body(message, "invalid_request_error", "learner"))
            log.info("revoked %s (%s)", revoked.name, revoked.masked)
            return await send_json(send, 200, {"revoked": revoked.name, "key": revoked.masked})
        pages = {
            "/class/usage": ("text/html; charset=utf-8", self.usage.as_html),
            "/class/usage.json": ("application/json", lambda: json.dumps(self.usage.as_json())),
            "/class/usage.csv": ("text/csv; charset=utf-8", self.usage.as_csv),
        }
        if path not in pages or method != "GET":
            message = f"Invalid URL ({method} {scope['path']})"
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        if not (instructor or is_local_client(scope)):
            message = "The class usage pages answer only on the instructor's computer, or with the instructor's key."
            return await send_json(send, 403, error_body(message, "permission_error"))
        content_type, render = pages[path]
        data = render().encode()
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})
