"""Changing a default model is an edit of helpers/catalog.py and a re-recording, nothing else.

Two checks. (1) No code outside the catalogue names a provider's default model as a value:
checkers, solutions, helpers, the support assistant, scripts and the lessons' code cells read it
from `catalog` (prose, comments and docstrings may name a model: they state facts about it).
(2) In a copy of the course whose catalogue gives OpenAI's default a new id (its price, rules
and limits move with it, as a new default's facts would be written there), the old id is gone
from every line of code, and the tests of the checkers that read provider facts from the
catalogue pass, run by the copy's own code in a subprocess.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import catalog

ROOT = Path(__file__).resolve().parent.parent
NEW_ID = "gpt-6-course-test"  # no rule prefix in catalog.MODEL_RULES starts it, so it borrows no other rule
COPY_IGNORES = shutil.ignore_patterns(".venv", ".cache", ".git", "__pycache__", "*.egg-info", ".*_cache", "build")
# Where the course keeps code a default could be written into (tests/ name models on purpose: they test facts).
CODE_FOLDERS = ("helpers", "solutions", "support_assistant", "scripts", "benchmarks")
READS_PROVIDER_FACTS = re.compile(r"catalog\.(OPENAI|GEMINI|OLLAMA|PROVIDERS|PRICES|MODEL_RULES)\b")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def string_values(source: str) -> list[tuple[int, str]]:
    """The strings a piece of Python uses as values, with their lines: not comments, not docstrings."""
    tree = ast.parse(source)
    prose = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose
    ]


def _python(line: str) -> str:
    """A notebook line as Python: a shell (!) or magic (%) line becomes `pass`, at its indentation."""
    stripped = line.lstrip()
    return line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("!", "%")) else line


def code_sources(root: Path):
    """(where, Python source) for each file of code and each lesson's code cell under `root`."""
    for folder in CODE_FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            if path != root / "helpers" / "catalog.py":
                yield str(path.relative_to(root)), path.read_text()
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                lines = "".join(cell["source"]).splitlines()  # shell (!) and magic (%) lines are not Python
                code = "\n".join(_python(line) for line in lines)
                yield f"{path.relative_to(root)} cell {number}", code


def places_naming(model: str, root: Path = ROOT) -> list[str]:
    """Every place in the code under `root` that uses `model` as (part of) a string value."""
    return [
        f"{where}:{line}: {value!r}"
        for where, source in code_sources(root)
        for line, value in string_values(source)
        if re.search(rf"(?<![\w.-]){re.escape(model)}(?![\w.-])", value)
    ]


@pytest.mark.parametrize("provider", sorted(catalog.PROVIDERS))
def test_no_code_names_a_default_model_outside_the_catalogue(provider):
    model = catalog.PROVIDERS[provider].model
    assert places_naming(model) == [], f"read {model} from catalog.PROVIDERS[{provider!r}].model instead"


def test_the_scan_finds_a_default_written_into_code(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "solutions" / "01_x.py").write_text(
        f'"""Docstrings may say {catalog.OPENAI.model}."""\n# and comments: {catalog.OPENAI.model}\n'
        f'MODEL = "{catalog.OPENAI.model}"\nOTHER = "{catalog.OPENAI.model}-mini"\n'
    )
    cell = {"cell_type": "code", "source": ["!pip list\n", f'print(f"on {catalog.OPENAI.model}: {{1}}")\n']}
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps({"cells": [cell]}))
    found = places_naming(catalog.OPENAI.model, tmp_path)
    assert sorted(place.split(": ")[0] for place in found) == ["notebooks/01_x.ipynb cell 0:2", "solutions/01_x.py:3"]


def change_the_default(catalogue: Path, old: str, new: str) -> None:
    """Give OpenAI's default a new id in a copy of catalog.py: the default and every fact keyed by it."""
    text = catalogue.read_text()
    assert f'model="{old}",' in text
    catalogue.write_text(text.replace(old, new))


@pytest.mark.server
def test_a_new_default_in_a_copy_of_the_course_needs_no_other_edit(tmp_path):
    old = catalog.OPENAI.model
    copy = tmp_path / "course"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORES)
    change_the_default(copy / "helpers" / "catalog.py", old, NEW_ID)

    assert places_naming(old, copy) == []
    reads = sorted(
        f"tests/exercises/test_{lesson}.py"
        for lesson in (path.stem.removeprefix("lesson_") for path in (copy / "helpers" / "exercises").glob("lesson_*"))
        if READS_PROVIDER_FACTS.search((copy / "helpers" / "exercises" / f"lesson_{lesson}.py").read_text())
        or READS_PROVIDER_FACTS.search((copy / "solutions" / f"{lesson}.py").read_text())
    )
    assert len(reads) >= 3  # lessons 8, 10 and 15 at least: the scan must not come back empty
    environment = {**os.environ, "PYTHONPATH": str(copy)}
    environment.pop("CHAT_TUTORIAL_TEST_PORT", None)  # the copy's own port, derived from its folder
    where = "from helpers import catalog, exercises; print(catalog.OPENAI.model, exercises.__file__)"
    probe = subprocess.run(
        [sys.executable, "-c", where],
        cwd=copy, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert probe.stdout.split() == [NEW_ID, str(copy / "helpers" / "exercises" / "__init__.py")], probe.stderr
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/exercises/test_lessons.py", *reads],
        cwd=copy, env=environment, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
