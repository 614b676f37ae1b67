"""What every lesson's exercise tests share: the worked solutions, and the tests each lesson's CASES run.

A lesson's test file (`test_09_tool_calling.py`) holds CASES, exercise id -> (a function returning
the worked solution's answer, a function returning a plausible wrong answer), and gets its tests
from `exercise_tests(CASES, __name__)`: the worked solution passes, the wrong answer fails with a hint, and
every exercise the lesson's checker module registers has a case. A key such as "9.3 one round
only" is a second wrong answer to exercise 9.3. A lesson whose notebook hands its checkers more
than the answer (lesson 16: `app=support_assistant`) says so in GIVEN, passed to each check.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

from helpers.exercises import evaluate, exercise_ids, exercise_lesson, makes_request

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"


def solution(lesson: str):
    """The worked solution of a lesson, by its number ("09") or name ("09_tool_calling"), imported afresh."""
    path = next(SOLUTIONS.glob(f"{lesson[:2]}_*.py"))
    spec = importlib.util.spec_from_file_location(f"solutions_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lesson_name(test_module: str) -> str:
    """The lesson a test module is about: exercises.test_09_tool_calling -> "09_tool_calling"."""
    return test_module.rpartition(".")[2].removeprefix("test_")


def exercise_tests(cases: dict, test_module: str, given: dict | None = None):
    """The three tests of one lesson's CASES, for its test file (named `test_module`) to bind at module level."""
    lesson = lesson_name(test_module)
    given = given or {}

    def test_every_exercise_has_a_case():
        registered = [i for i in exercise_ids() if exercise_lesson(i) == lesson]
        assert sorted({case.split()[0] for case in cases}) == sorted(registered)

    @pytest.mark.parametrize("exercise_id", sorted(cases))
    def test_the_worked_solution_passes(exercise_id, monkeypatch):
        from helpers.exercises import practice

        servers = []  # a checker that sends requests asks for the offline server first
        real_server = practice.practice_server
        monkeypatch.setattr(practice, "practice_server", lambda **kw: servers.append(1) or real_server(**kw))
        right, _ = cases[exercise_id]
        passed, report = evaluate(exercise_id.split()[0], right(), **given)
        assert passed, report
        assert bool(servers) == makes_request(exercise_id.split()[0]), "sends_requests= must say what the checker does"

    @pytest.mark.parametrize("exercise_id", sorted(cases))
    def test_a_wrong_answer_fails_with_a_hint(exercise_id):
        _, wrong = cases[exercise_id]
        passed, report = evaluate(exercise_id.split()[0], wrong(), **given)
        assert not passed
        assert report.startswith(f"NOT YET  {exercise_id.split()[0]}") and "Hint: " in report

    return test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint


def all_cases() -> dict:
    """Every lesson's cases in one dict, exercise id -> (right, wrong, given): the keyed-path test runs them all."""
    package = importlib.import_module(__package__)
    cases = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("test_") and info.name[5:7].isdigit():
            module = importlib.import_module(f"{__package__}.{info.name}")
            given = getattr(module, "GIVEN", {})
            cases |= {key: (right, wrong, given) for key, (right, wrong) in module.CASES.items()}
    return cases
