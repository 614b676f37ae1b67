"""The appendix to lesson 1 is markdown, not a notebook: its code blocks run here instead."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPENDIX = ROOT / "notebooks" / "appendix_keys.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", APPENDIX.read_text(encoding="utf-8"), flags=re.DOTALL)


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_override_trap_prints_what_its_comments_say():
    block = next(b for b in _python_blocks() if "override=True" in b)
    expected = re.findall(r"#\s*(old value from the shell|new value from \.env)", block)
    printed = [line.split(":", 1)[1].strip() for line in _run(block).splitlines()]
    assert printed == expected == ["old value from the shell", "new value from .env"]


def test_where_a_value_came_from_prints_what_the_text_says():
    block = next(b for b in _python_blocks() if "get_setting" in b)
    assert "OPENAI_API_KEY: (none) (from nowhere)" in _run(block)


def test_lesson_1_links_the_appendix():
    assert "appendix_keys.md" in (ROOT / "notebooks" / "01_api_keys.ipynb").read_text(encoding="utf-8")
