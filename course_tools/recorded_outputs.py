"""Notebook outputs: read them, screen the recorded ones, and list the model text that changed.

Every recorded model output is read by a person before it is committed; `make record`
prints the ones that changed since the last commit (`review_listing`) so that the
review is short. The screen (`flagged_words`) is a net under that review: words no
course output should contain, from course_tools/screening_words.txt (stored ROT13-encoded,
so that opening the file shows no slurs).
"""

from __future__ import annotations

import codecs
import json
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("screening_words.txt")
MODEL_TEXT_TAG = "nbval-ignore-output"


@cache
def screened_words() -> frozenset[str]:
    lines = [line.strip() for line in WORDS_FILE.read_text(encoding="utf-8").splitlines()]
    return frozenset(codecs.decode(line, "rot13").lower() for line in lines if line and not line.startswith("#"))


def flagged_words(text: str) -> list[str]:
    """The screened words in `text`, matched whole and case-insensitively, in order of appearance."""
    words = screened_words()
    found = []
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in words and word not in found:
            found.append(word)
    return found


def output_text(output: dict) -> str:
    """The text a reader sees for one cell output: a stream, a result's text, or an error."""
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    if output.get("output_type") == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data", {})
    return "".join(data.get("text/plain", "")) + "".join(data.get("text/markdown", ""))


def cell_text(cell: dict) -> str:
    """The text a reader sees for all of one code cell's outputs."""
    return "".join(output_text(output) for output in cell.get("outputs", []))


def cell_outputs(notebook: dict) -> Iterator[tuple[int, dict, str]]:
    """(index among all cells, cell, its output text) for every code cell that has output."""
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code" and cell.get("outputs"):
            yield index, cell, cell_text(cell)


def unexpected_errors(notebook: dict, characters: int = 400) -> list[str]:
    """One line per code cell of an executed notebook that shows an error without the raises-exception tag."""
    return [
        f"cell {index}: {cell_text(cell)[-characters:]}"
        for index, cell in enumerate(notebook.get("cells", []))
        if cell.get("cell_type") == "code"
        and any(output.get("output_type") == "error" for output in cell.get("outputs", []))
        and "raises-exception" not in cell.get("metadata", {}).get("tags", [])
    ]


def is_model_text(cell: dict) -> bool:
    """Cells whose output is model text (or timing) carry the nbval-ignore-output tag."""
    return MODEL_TEXT_TAG in cell.get("metadata", {}).get("tags", [])


def screen_notebook(path: Path) -> list[str]:
    """One line per output that contains a screened word: where, and which words."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    problems = []
    for index, _, text in cell_outputs(notebook):
        if found := flagged_words(text):
            problems.append(f"{Path(path).name} cell {index}: {', '.join(found)}")
    return problems


def committed_notebook(path: Path, revision: str = "HEAD") -> dict | None:
    """The notebook as committed at `revision`, or None if it is not in git there."""
    path = Path(path).resolve()
    result = subprocess.run(
        ["git", "show", f"{revision}:./{path.name}"], cwd=path.parent, capture_output=True, text=True
    )
    return json.loads(result.stdout) if result.returncode == 0 else None


def changed_model_outputs(before: dict | None, after: dict) -> list[tuple[int, str]]:
    """(cell index, new text) for each model-text output in `after` that differs from `before`.

    Cells are matched by their id (nbformat 4.5), else by their source; a new cell counts as changed.
    """
    old = {}
    for _, cell, text in cell_outputs(before or {}):
        old[cell.get("id") or "".join(cell["source"])] = text
    changed = []
    for index, cell, text in cell_outputs(after):
        if is_model_text(cell) and old.get(cell.get("id") or "".join(cell["source"])) != text:
            changed.append((index, text))
    return changed


def review_listing(path: Path, revision: str = "HEAD") -> str:
    """What to read before committing `path`: its model outputs that changed since `revision`."""
    after = json.loads(Path(path).read_text(encoding="utf-8"))
    lines = []
    for index, text in changed_model_outputs(committed_notebook(path, revision), after):
        found = flagged_words(text)
        warning = f"   !! SCREENED WORDS: {', '.join(found)}" if found else ""
        lines.append(f"--- {Path(path).name} cell {index} (changed since {revision}){warning}")
        lines.append(text.rstrip())
    return "\n".join(lines)
