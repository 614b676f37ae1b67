"""The exercise registry: `check` prints PASS or NOT YET with a hint; `evaluate` returns it."""

from __future__ import annotations

from collections.abc import Callable

Checker = Callable[..., "str | None"]  # (answer, **given): None on success, else a hint
_CHECKERS: dict[str, Checker] = {}
_TITLES: dict[str, str] = {}
_SENDS_REQUESTS: set[str] = set()
_LESSONS: dict[str, str] = {}  # exercise id -> the lesson's name, from its checker module: "09_tool_calling"


def exercise(exercise_id: str, title: str, *, sends_requests: bool = False):
    """Register a checker under an exercise id such as "6.1".

    `sends_requests=True` marks a checker that runs the answer against the offline model
    and inspects what was sent and what came back.
    """

    def register(checker: Checker) -> Checker:
        _CHECKERS[exercise_id] = checker
        _TITLES[exercise_id] = title
        _LESSONS[exercise_id] = checker.__module__.rpartition(".")[2].removeprefix("lesson_")
        if sends_requests:
            _SENDS_REQUESTS.add(exercise_id)
        return checker

    return register


def makes_request(exercise_id: str) -> bool:
    """Whether this exercise's checker sends real requests to the offline model."""
    return exercise_id in _SENDS_REQUESTS


def exercise_lesson(exercise_id: str) -> str:
    """The name of the lesson whose module registered this exercise, e.g. "09_tool_calling"."""
    return _LESSONS[exercise_id]


def evaluate(exercise_id: str, answer, **given) -> tuple[bool, str]:
    """Run the checker; return (passed, the report `check` prints).

    `given` is what the lesson hands the checker beside the answer: lesson 16 passes its app
    (`app=support_assistant`), so that helpers never import the app the course builds.
    """
    if exercise_id not in _CHECKERS:
        raise KeyError(f"No exercise {exercise_id!r}; the exercises are {', '.join(exercise_ids())}.")
    try:
        hint = _CHECKERS[exercise_id](answer, **given)
    except Exception as error:  # the learner's code raised: say so, as a hint
        hint = f"your answer raised {type(error).__name__}: {error}"
    title = _TITLES[exercise_id]
    if hint is None:
        return True, f"PASS  {exercise_id} {title}"
    return False, f"NOT YET  {exercise_id} {title}\n  Hint: {hint}"


def check(exercise_id: str, answer, **given) -> None:
    """Check an answer and print PASS, or NOT YET with a hint."""
    print(evaluate(exercise_id, answer, **given)[1])


def exercise_ids() -> list[str]:
    return sorted(_CHECKERS, key=lambda i: tuple(int(p) for p in i.split(".")))
