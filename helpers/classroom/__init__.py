"""A class on one server: a key per learner, OpenAI's rate limits per key, usage the instructor can see.

One job a file:

- roster: the learners' and the instructor's keys (issued, saved 0600, revoked; masked everywhere)
- limits: requests and tokens per minute per key, with OpenAI's 429 and x-ratelimit-* headers
- usage: requests, tokens, errors and last seen per key (JSON, CSV, a small HTML page)
- front: ClassFront, the ASGI middleware that puts the three in front of the model's app
- cli: `python -m helpers.classroom start | usage | revoke | stop`

INSTRUCTORS.md is the guide.
"""

from .front import ClassFront
from .limits import Limits, RateLimiter
from .roster import Roster, mask
from .usage import UsageBook

__all__ = ["ClassFront", "Limits", "RateLimiter", "Roster", "UsageBook", "mask"]
