"""Checkers for the "Your turn" exercises at the end of each lesson, one module per lesson.

`check("6.1", answer)` runs the learner's answer on prepared cases and prints PASS, or
NOT YET with a hint about the first case that went wrong (`evaluate` returns the same
as a value, for tests). In every lesson at least one checker runs the answer against
the offline practice server on 127.0.0.1 and inspects what was sent and what came back
(`practice.py`); none calls a paid provider. Worked solutions live in `solutions/`.
"""

from . import (
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
    lesson09,
    lesson10,
    lesson11,
    lesson12,
    lesson13,
    lesson14,
    lesson15,
    lesson16,
    lesson17,
)
from .lesson01 import BROKEN_ENV_LINE, MADE_UP_KEY
from .registry import check, evaluate, exercise, exercise_ids, makes_request

__all__ = [
    "BROKEN_ENV_LINE",
    "MADE_UP_KEY",
    "check",
    "evaluate",
    "exercise",
    "exercise_ids",
    "makes_request",
    "lesson01",
    "lesson02",
    "lesson03",
    "lesson04",
    "lesson05",
    "lesson06",
    "lesson07",
    "lesson08",
    "lesson09",
    "lesson10",
    "lesson11",
    "lesson12",
    "lesson13",
    "lesson14",
    "lesson15",
    "lesson16",
    "lesson17",
]
