"""The values the lessons print, checked here rather than printed as `True` in the lessons.

Cells show a learner real values (ids, times, finish reasons, usage); nbval compares them
with the recording after masking what changes between runs (tests/sanitize.cfg). These
tests check that the recorded values themselves make sense.
"""

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from course_tools.recorded_outputs import cell_outputs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FINISH_REASONS = {"stop", "length", "content_filter", "tool_calls"}
USAGE = re.compile(
    r"prompt_tokens(?:=|': |\": )(\d+).{0,40}?completion_tokens(?:=|': |\": )(\d+)"
    r"|completion_tokens(?:=|': |\": )(\d+).{0,40}?prompt_tokens(?:=|': |\": )(\d+)"
)
TOTAL = re.compile(r"total_tokens(?:=|': |\": )(\d+)")


def outputs(path):
    return [(index, text) for index, _, text in cell_outputs(json.loads(path.read_text(encoding="utf-8")))]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request):
    return request.param


def test_usage_adds_up(notebook):
    for index, text in outputs(notebook):
        for line in text.splitlines():
            if not (match := USAGE.search(line)) or not (total := TOTAL.search(line)):
                continue
            prompt, completion = (match[1], match[2]) if match[1] else (match[4], match[3])
            assert int(prompt) + int(completion) == int(total[1]), f"cell {index}: {line}"
            assert int(prompt) > 0 and int(completion) >= 0, f"cell {index}: {line}"


def test_finish_reasons_are_known_ones(notebook):
    for index, text in outputs(notebook):
        for reason in re.findall(r"finish_reason[:=]\s*'?(\w+)", text):
            assert reason in FINISH_REASONS | {"None"}, f"cell {index}: finish_reason {reason}"


def test_ids_and_creation_times_are_real(notebook):
    for index, text in outputs(notebook):
        for match in re.finditer(r"^id:\s+(\S+)", text, flags=re.MULTILINE):
            assert re.fullmatch(r"chatcmpl-[0-9a-f-]{8,}", match[1]), f"cell {index}: {match[1]}"
        for match in re.finditer(r"^created:\s+(\d+) = (.+)$", text, flags=re.MULTILINE):
            shown = datetime.fromisoformat(match[2])
            assert shown == datetime.fromtimestamp(int(match[1]), timezone.utc), f"cell {index}"
            assert shown.year >= 2025


def _lesson(prefix):
    return next(path for path in NOTEBOOKS if path.name.startswith(prefix))


def test_lesson_6_prompt_grows_every_turn():
    found = [re.search(r"prompt tokens, turn by turn: \[([\d, ]+)\]", text) for _, text in outputs(_lesson("06"))]
    counts = [int(n) for n in next(m for m in found if m)[1].split(",")]
    assert len(counts) == 4 and counts == sorted(set(counts))


def test_lesson_7_stream_starts_with_the_role_and_ends_with_a_reason():
    text = "\n".join(text for _, text in outputs(_lesson("07")))
    assert re.search(r"first chunk: .*\n  delta.role='assistant'", text)
    assert re.search(r"last chunk: .*\n  delta.role=None  delta.content=None  finish_reason='(stop|length)'", text)
    first, total = map(float, re.search(r"first token after ([\d.]+) s; stream over after ([\d.]+) s", text).groups())
    assert 0 < first < total
