"""Checkers for the "Your turn" exercises at the end of each lesson, one module per lesson.

`check("6.1", answer)` runs the learner's answer on prepared cases and prints PASS, or
NOT YET with a hint about the first case that went wrong (`evaluate` returns the same
as a value, for tests). In every lesson at least one checker runs the answer against
the offline practice server on 127.0.0.1 and inspects what was sent and what came back
(`practice.py`); none calls a paid provider.

A lesson has one name everywhere, its notebook's: `notebooks/09_tool_calling.ipynb`, its worked
solution `solutions/09_tool_calling.py`, its checkers here in `lesson_09_tool_calling.py` (a module
name cannot start with a digit) and their tests in `tests/exercises/test_09_tool_calling.py`.
The checker modules are found by that name (`lesson_modules`), not listed by hand: a new lesson's
module registers its exercises by being there.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from .registry import check, evaluate, exercise, exercise_ids, exercise_lesson, makes_request

LESSON_MODULE = re.compile(r"lesson_(\d\d)_\w+")  # lesson_ + the notebook's name, e.g. lesson_09_tool_calling


def lesson_modules() -> dict[str, ModuleType]:
    """Every lesson's checker module, by the lesson's name ("09_tool_calling"), imported (so registered)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if LESSON_MODULE.fullmatch(info.name))
    return {name.removeprefix("lesson_"): importlib.import_module(f"{__name__}.{name}") for name in names}


lesson_modules()  # import every checker, so that check("6.1", ...) finds lesson 6's

from .lesson_01_api_keys import BROKEN_ENV_LINE, MADE_UP_KEY  # noqa: E402  (lesson 1's notebook and solution use them)

__all__ = [
    "BROKEN_ENV_LINE",
    "MADE_UP_KEY",
    "check",
    "evaluate",
    "exercise",
    "exercise_ids",
    "exercise_lesson",
    "lesson_modules",
    "makes_request",
]
