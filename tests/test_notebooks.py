"""Checks on the committed lessons themselves; nbval (in the same run) re-executes them."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IGNORE = "nbval-ignore-output"
# Shapes of real keys (the same patterns as the pre-stop secret scan).
KEY_SHAPES = re.compile(
    r"sk-(proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9]{40,}|AIza[0-9A-Za-z_-]{35}|AQ\.[A-Za-z0-9_-]{30,}"
)
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/(root|home|tmp|work|Users|var|opt|usr)/|[A-Z]:\\\\)")


def _code_cells(path):
    notebook = json.loads(path.read_text())
    return notebook, [c for c in notebook["cells"] if c["cell_type"] == "code"]


def _output_text(cell):
    return json.dumps(cell.get("outputs", []))


def test_the_five_seed_lessons_are_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:5] == ["01_api_keys", "02_raw_http_endpoint", "03_openai_sdk", "04_gemini", "05_ollama"]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param


def test_every_code_cell_ran_in_order(notebook):
    _, cells = _code_cells(notebook)
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))


def test_no_errors_except_where_tagged(notebook):
    _, cells = _code_cells(notebook)
    for cell in cells:
        if "raises-exception" in cell["metadata"].get("tags", []):
            continue
        assert not [o for o in cell["outputs"] if o["output_type"] == "error"], "".join(cell["source"])[:80]


def test_kernelspec_is_python3(notebook):
    data, _ = _code_cells(notebook)
    assert data["metadata"]["kernelspec"]["name"] == "python3"


def test_outputs_hold_no_absolute_paths(notebook):
    _, cells = _code_cells(notebook)
    for cell in cells:
        assert not ABSOLUTE_PATH.search(_output_text(cell)), "".join(cell["source"])[:80]


def test_nothing_shaped_like_a_real_key(notebook):
    assert not KEY_SHAPES.search(notebook.read_text())


def test_each_ignored_cell_is_followed_by_a_compared_check(notebook):
    _, cells = _code_cells(notebook)
    for index, cell in enumerate(cells):
        if IGNORE in cell["metadata"].get("tags", []):
            following = cells[index + 1] if index + 1 < len(cells) else None
            assert following is not None, "an ignored cell ends the notebook"
            assert IGNORE not in following["metadata"].get("tags", [])
            assert following["outputs"], "".join(following["source"])[:80]


def test_opens_with_a_title_badge_and_what_you_will_learn(notebook):
    data, _ = _code_cells(notebook)
    first = "".join(data["cells"][0]["source"])
    assert "colab-badge.svg" in first and notebook.name in first
    assert re.search(r"^# \d+\. ", first, flags=re.MULTILINE)
    assert "What you'll learn" in first and "What you need" in first


def test_notebooks_are_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *map(str, NOTEBOOKS)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout


def test_every_lesson_ends_with_one_to_three_checked_exercises(notebook):
    data, cells = _code_cells(notebook)
    markdown = "".join("".join(c["source"]) for c in data["cells"] if c["cell_type"] == "markdown")
    assert "## Your turn" in markdown
    checks = re.findall(r'check\("(\d+\.\d+)"', "".join("".join(c["source"]) for c in cells))
    assert 1 <= len(checks) <= 3
    lesson = int(notebook.name[:2])
    assert all(int(exercise.split(".")[0]) == lesson for exercise in checks)


# A line that only reports a check ("usage adds up: True", "assistant | True", a bare `True`).
CHECK_LINE = re.compile(r"^(.*[:|]\s*)?\(?(True|False)(,\s*(True|False))*\)?\s*$")


def test_outputs_show_values_not_lists_of_checks(notebook):
    _, cells = _code_cells(notebook)
    for cell in cells:
        for output in cell["outputs"]:
            text = "".join(output.get("text", "")) or "".join(output.get("data", {}).get("text/plain", ""))
            lines = [line for line in text.splitlines() if line.strip()]
            checks = [line for line in lines if CHECK_LINE.match(line)]
            bare = len(lines) == 1 and re.fullmatch(r"\(?(True|False)(,\s*(True|False))*\)?", lines[0].strip())
            where = "".join(cell["source"])[:80]
            assert len(checks) < 2 and not bare, f"print the values a learner should see: {where}"


# A cell that prints model text (a reply, an answer) is tagged nbval-ignore-output; the
# markdown cell right after it says when the offline model wrote it.
PRINTS_MODEL_TEXT = re.compile(r"print\(.*\b(content|answer|answers|reply|text)\b")


def test_model_text_is_captioned(notebook):
    data, _ = _code_cells(notebook)
    cells = data["cells"]
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or IGNORE not in cell["metadata"].get("tags", []):
            continue
        if PRINTS_MODEL_TEXT.search(source):
            following = cells[index + 1]
            caption = "".join(following["source"]) if following["cell_type"] == "markdown" else ""
            assert "offline practice model" in caption, f"add a caption after: {source[:80]}"


def test_every_lesson_has_a_summary_and_all_but_the_last_a_next_link(notebook):
    data, _ = _code_cells(notebook)
    markdown = "\n".join("".join(c["source"]) for c in data["cells"] if c["cell_type"] == "markdown")
    assert "## Summary" in markdown
    if notebook == NOTEBOOKS[-1]:
        assert "## The end of the course" in markdown and "Where to go next" in markdown
    else:
        following = NOTEBOOKS[NOTEBOOKS.index(notebook) + 1].name
        number = int(following[:2])
        assert re.search(rf"\*\*Next\*\*: \[lesson {number}\]\(" + re.escape(following) + r"\)", markdown)


def test_every_lesson_has_an_exercise_whose_checker_makes_a_request(notebook):
    from helpers.exercises import makes_request

    _, cells = _code_cells(notebook)
    checks = re.findall(r'check\("(\d+\.\d+)"', "".join("".join(c["source"]) for c in cells))
    assert any(makes_request(exercise) for exercise in checks), f"none of {checks} sends a request"


def test_the_first_lesson_makes_a_real_call():
    data, cells = _code_cells(NOTEBOOKS[0])
    assert any("client.chat.completions.create(" in "".join(c["source"]) for c in cells)


def test_every_lesson_title_carries_its_number(notebook):
    data, _ = _code_cells(notebook)
    first_heading = next(
        line
        for cell in data["cells"]
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("# ")
    )
    assert first_heading.startswith(f"# {int(notebook.name[:2])}. "), first_heading


# Outputs that say nothing a learner needs: a type name alone (`<class 'dict'>`,
# `CompletionUsage`, a bare `ChatCompletion(...)` repr, after a label or not), or a count
# of chart parts ("2 charts", "1 bar(s) each", "<Figure size 900x300 with 2 Axes>").
# A lesson's compared outputs must show values: ids, finish reasons, usage, costs.
# A repr that shows its fields (`CompletionUsage(completion_tokens=22, ...)`) shows values.
TYPE_NAME = re.compile(r"<class '[\w.]+'>|[A-Z][a-z]+[A-Z][A-Za-z]*(\((\.\.\.)?\))?")
CHART_PART = re.compile(
    r"<Figure\b|\bFigure size\b|\bAxes\b|\b\d+\s+(charts?|plots?|subplots?|axes|bars?|bar\(s\)|(cost |price )?lines?"
    r"|patches|markers|wedges|legends?|figures?)\b"
)


def _compared_outputs(notebook):
    """(cell source, output text) for each output nbval compares."""
    data, cells = _code_cells(notebook)
    for cell in cells:
        if IGNORE in cell["metadata"].get("tags", []):
            continue
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) or "".join(output.get("data", {}).get("text/plain", ""))
            yield "".join(cell["source"]), text


def _hollow_lines(text):
    """The lines of an output that are only a type name or a count of chart parts."""
    hollow = []
    for line in (line.strip() for line in text.splitlines()):
        value = re.split(r"[:|]\s+", line)[-1].strip() if line else ""
        if line and (TYPE_NAME.fullmatch(value) or TYPE_NAME.fullmatch(line) or CHART_PART.search(line)):
            hollow.append(line)
    return hollow


def test_the_hollow_output_rule_catches_what_it_should():
    for text in [
        "the last chunk with usage: CompletionUsage",
        "<class 'openai.types.chat.chat_completion.ChatCompletion'>",
        "ChatCompletion(...)",
        "object: ChatCompletion",
        "2 charts; 2 cost lines",
        "2 charts, 1 bar(s) each",
        "<Figure size 1000x320 with 2 Axes>",
        "3 bars",
    ]:
        assert _hollow_lines(text) == [text], text
    for text in [
        "finish_reason: stop",
        "usage: 35 in, 80 out",
        "on gpt-6-luna this would cost $0.000080",
        "called: lookup_order | arguments parse as: dict with keys ['order_id']",
        "wrong key              AuthenticationError (HTTP 401)",
        "6 turns, 13 messages in the history",
        "usage: CompletionUsage(completion_tokens=22, prompt_tokens=43, total_tokens=65)",
        "server error           InternalServerError (HTTP 503)",
    ]:
        assert _hollow_lines(text) == [], text


def test_no_compared_output_is_a_type_name_or_a_count_of_chart_parts(notebook):
    for source, text in _compared_outputs(notebook):
        assert not _hollow_lines(text), f"print the values a learner wants, not {_hollow_lines(text)}: {source[:80]}"


def test_every_lesson_has_at_least_five_outputs_that_nbval_compares(notebook):
    """Outputs tagged nbval-ignore-output are not checked; a lesson must be tested by more than its ignored cells.

    An output counts only if it shows a value: type names and counts of chart parts do not count.
    """
    compared = [text for _, text in _compared_outputs(notebook) if text.strip() and not _hollow_lines(text)]
    assert len(compared) >= 5, f"only {len(compared)} compared outputs that show values"
