"""Per-key limits in OpenAI's terms: requests per minute (RPM) and tokens per minute (TPM).

How OpenAI counts, and how this copies it (sources in helpers/catalog.py: CLASS_RATE_LIMIT_HEADERS_SOURCE,
CLASS_TPM_RESERVATION_SOURCE, CLASS_ERRORS_SOURCE):
- A request's tokens are reserved when it arrives, before any reply: OpenAI's rate-limit guide
  says the limit "is calculated as the maximum of max_tokens and the estimated number of tokens
  based on the character count of your request". Here: max(max_tokens or max_completion_tokens
  or max_output_tokens, or RESERVED_OUTPUT_TOKENS when the request sets none; the request's
  characters / 4).
- When the reply ends, the reservation is replaced by what the reply really used (its
  `usage`: input + output tokens), so a short reply gives back what it did not use.
- Both limits are counted over the last 60 seconds (a sliding window), per key.
- Every answer carries x-ratelimit-limit-/remaining-/reset-requests and -tokens; a refusal
  is HTTP 429 with type "requests" or "tokens", code "rate_limit_exceeded" and retry-after
  (whole seconds), which the openai SDK waits for before it retries (up to 2 times).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from .. import catalog

WINDOW_SECONDS = 60.0

# Defaults that keep a class of 30 fair on a 2-core laptop with one model worker. The
# figures they rest on (BENCHMARKS.md, 2026-11-26, one worker on 2 cores, and issue 20's
# class simulation, 2026-11-30):
# - the worker answers about 3.2 short requests/s under load: ~190 requests/min, and
#   ~63 completion tokens/s: ~3,800 completion tokens/min for the whole class;
# - a class working through a lesson sends one request per learner every 15 to 45 s:
#   40 to 120 requests/min in all, inside what the worker answers;
# - one learner's typical minute: 2 to 4 requests of ~50-300 prompt tokens and ~100-200
#   reply tokens, so under 1,500 tokens.
# What the defaults must let through: every lesson as written, run by one learner. The
# busiest is lesson 13's timing cell: 5 prompts x 2 ways x 3 rounds = 30 real requests in
# well under a minute (its practice 429s cost the model nothing and are given back, see
# `refund`), 5 of them at once, each reserving max_completion_tokens=1000.
# DEFAULT_RPM = 60, one request a second, lets that cell through (tests/test_classroom.py
# runs lessons 2, 3, 10 and 13 on one key each) and stops a loop without pauses at a third
# of what one worker answers. With 20, lesson 13's cell met 429s its five retries could not
# wait out (measured 2026-11-30).
# DEFAULT_TPM = 20,000 fits that cell's 5 x 1,020 reserved at once on top of a busy minute's
# replies, and holds one key to about 40 of the server's longest replies (512 tokens, the
# cap when a request sets none) a minute. Neither limit alone keeps one worker fair (30 x 60
# is far more than it answers): arrival-order admission, the output cap and a reply stopped
# when its learner gives up do that; the limits stop one key from queueing far more than
# its share. Lesson 10 and 13's retry cells meet them only when they hammer, as on OpenAI.
DEFAULT_RPM = 60
DEFAULT_TPM = 20_000
# Reserved for a request that sets no max tokens: the most the server then writes.
RESERVED_OUTPUT_TOKENS = catalog.OFFLINE_DEFAULT_MAX_TOKENS
CHARS_PER_TOKEN = 4  # a rough rule for English text, used only to estimate


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int = DEFAULT_RPM
    tokens_per_minute: int = DEFAULT_TPM


@dataclass
class Decision:
    """The limiter's answer for one request: admitted (with a ticket to settle) or refused, and the headers."""

    admitted: bool
    headers: list[tuple[bytes, bytes]]
    ticket: object | None = None
    kind: str | None = None  # "requests" or "tokens" when refused
    message: str = ""
    retry_after: int | None = None  # whole seconds; None when waiting cannot help


@dataclass
class _Window:
    requests: deque = field(default_factory=deque)  # arrival times
    tokens: deque = field(default_factory=deque)  # [arrival time, tokens] of finished requests
    reserved: dict = field(default_factory=dict)  # ticket -> [arrival time, tokens] while in flight


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def reservation(body: dict | None, raw_length: int) -> int:
    """Tokens a request reserves on arrival: the larger of its output cap and its estimated size."""
    body = body or {}
    cap = next(
        (body[name] for name in ("max_completion_tokens", "max_tokens", "max_output_tokens") if body.get(name)),
        RESERVED_OUTPUT_TOKENS,
    )
    choices = body.get("n") if isinstance(body.get("n"), int) and body.get("n") > 1 else 1
    cap = cap if isinstance(cap, int) and cap > 0 else RESERVED_OUTPUT_TOKENS
    return max(cap * choices, math.ceil(raw_length / CHARS_PER_TOKEN))


def duration(seconds: float) -> str:
    """How OpenAI's x-ratelimit-reset-* headers write a wait: `12ms`, `1s`, `17.5s`, `6m0s`."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    if seconds < 60:
        return f"{seconds:.3g}s".replace(".0s", "s")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


class RateLimiter:
    """Sliding 60-second windows of requests and tokens, one pair per key name. Thread-safe."""

    def __init__(self, limits: Limits | None = None, clock=time.monotonic):
        self.limits = limits or Limits()
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def admit(self, name: str, reserve: int) -> Decision:
        with self._lock:
            now = self.clock()
            window = self._windows.setdefault(name, _Window())
            self._prune(window, now)
            rpm, tpm = self.limits.requests_per_minute, self.limits.tokens_per_minute
            used_requests = len(window.requests)
            used_tokens = self._tokens_in(window)
            if used_requests + 1 > rpm:
                wait = window.requests[0] + WINDOW_SECONDS - now
                message = (
                    f"Rate limit reached for {name} on requests per min (RPM): Limit {rpm}, Used {used_requests}, "
                    f"Requested 1. Please try again in {duration(wait)}. The class's limits are set by your instructor."
                )
                return self._refuse(window, now, "requests", message, wait)
            if reserve > tpm:
                message = (
                    f"Request too large for {name} on tokens per min (TPM): Limit {tpm}, Requested {reserve}. "
                    "Lower max_completion_tokens (or max_tokens), or send shorter messages."
                )
                return self._refuse(window, now, "tokens", message, None)
            if used_tokens + reserve > tpm:
                wait = self._wait_for_tokens(window, now, used_tokens + reserve - tpm)
                message = (
                    f"Rate limit reached for {name} on tokens per min (TPM): Limit {tpm}, Used {used_tokens}, "
                    f"Requested {reserve}. Please try again in {duration(wait)}. "
                    "The class's limits are set by your instructor."
                )
                return self._refuse(window, now, "tokens", message, wait)
            ticket = object()
            window.requests.append(now)
            window.reserved[ticket] = [now, reserve]
            return Decision(True, self._headers(window, now), ticket=ticket)

    def settle(self, name: str, ticket, used_tokens: int) -> None:
        """Replace a request's reservation by the tokens its reply really used."""
        with self._lock:
            window = self._windows.get(name)
            entry = window.reserved.pop(ticket, None) if window else None
            if entry is not None:
                window.tokens.append([entry[0], max(0, used_tokens)])

    def refund(self, name: str, ticket) -> None:
        """Give back a request that cost the model nothing (a practice failure): it leaves both windows."""
        with self._lock:
            window = self._windows.get(name)
            entry = window.reserved.pop(ticket, None) if window else None
            if entry is not None and entry[0] in window.requests:
                window.requests.remove(entry[0])

    def headers(self, name: str) -> list[tuple[bytes, bytes]]:
        with self._lock:
            window = self._windows.setdefault(name, _Window())
            self._prune(window, self.clock())
            return self._headers(window, self.clock())

    # --- inside the lock ---------------------------------------------------------

    def _refuse(self, window, now, kind, message, wait) -> Decision:
        retry_after = None if wait is None else max(1, math.ceil(wait))
        headers = self._headers(window, now)
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        return Decision(False, headers, kind=kind, message=message, retry_after=retry_after)

    @staticmethod
    def _prune(window: _Window, now: float) -> None:
        while window.requests and window.requests[0] <= now - WINDOW_SECONDS:
            window.requests.popleft()
        while window.tokens and window.tokens[0][0] <= now - WINDOW_SECONDS:
            window.tokens.popleft()

    @staticmethod
    def _tokens_in(window: _Window) -> int:
        return sum(amount for _, amount in window.tokens) + sum(amount for _, amount in window.reserved.values())

    @staticmethod
    def _wait_for_tokens(window: _Window, now: float, needed: int) -> float:
        """Seconds until `needed` tokens leave the window. Replies in flight give back their reservation
        when they end (in seconds, on this server), so waiting for them is counted as 1 s."""
        freed = sum(amount for _, amount in window.reserved.values())
        if freed >= needed:
            return 1.0
        for started, amount in window.tokens:  # oldest first
            freed += amount
            if freed >= needed:
                return max(started + WINDOW_SECONDS - now, 1.0)
        return 1.0

    def _headers(self, window: _Window, now: float) -> list[tuple[bytes, bytes]]:
        rpm, tpm = self.limits.requests_per_minute, self.limits.tokens_per_minute
        entries = [*window.tokens, *window.reserved.values()]
        # "The time until the rate limit ... resets to its initial state": when the newest entry leaves.
        reset_requests = window.requests[-1] + WINDOW_SECONDS - now if window.requests else 0.0
        reset_tokens = max((started for started, _ in entries), default=now - WINDOW_SECONDS) + WINDOW_SECONDS - now
        values = {
            "x-ratelimit-limit-requests": rpm,
            "x-ratelimit-limit-tokens": tpm,
            "x-ratelimit-remaining-requests": max(0, rpm - len(window.requests)),
            "x-ratelimit-remaining-tokens": max(0, tpm - self._tokens_in(window)),
            "x-ratelimit-reset-requests": duration(reset_requests),
            "x-ratelimit-reset-tokens": duration(reset_tokens),
        }
        return [(name.encode(), str(value).encode()) for name, value in values.items()]
