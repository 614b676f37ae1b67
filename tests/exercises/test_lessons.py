"""A lesson is one unit: one name (its notebook's) for its notebook, worked solution, checker module and tests."""

import ast
from pathlib import Path

import pytest

from exercises.cases import all_cases
from helpers.exercises import evaluate, exercise_ids, exercise_lesson, lesson_modules

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_each_lesson_has_one_name_in_every_folder():
    assert sorted(path.stem for path in (ROOT / "solutions").glob("*.py")) == LESSONS
    assert sorted(lesson_modules()) == LESSONS  # helpers/exercises/lesson_<name>.py
    assert sorted(path.stem.removeprefix("test_") for path in Path(__file__).parent.glob("test_[0-9]*.py")) == LESSONS


def test_every_checker_module_is_found_without_a_list():
    assert {exercise_lesson(exercise) for exercise in exercise_ids()} == set(LESSONS)
    tree = ast.parse((ROOT / "helpers" / "exercises" / "__init__.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {name for name in imported if name.startswith("lesson_")} <= {"lesson_01_api_keys"}  # its constants


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_an_exercise_is_numbered_after_its_lesson(exercise_id):
    assert int(exercise_id.split(".")[0]) == int(exercise_lesson(exercise_id)[:2])


def test_every_exercise_has_a_case():
    assert sorted({case.split()[0] for case in all_cases()}) == sorted(exercise_ids())


def test_an_unknown_exercise_is_named():
    with pytest.raises(KeyError, match="6.1"):
        evaluate("99.9", None)
