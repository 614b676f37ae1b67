"""A fresh virtual environment of the course: the settings its programs run with, and a lesson run there.

Shared by tests/test_package.py (the wheel, installed) and tests/test_install.py
(requirements.txt, installed without a compiler).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

from course_tools.isolation import free_port

# What a learner's shell may hold that would change what the fresh environment does.
DROPPED = ("CHAT_TUTORIAL_", "OPENAI_", "GOOGLE_API_KEY", "GEMINI_", "OLLAMA_", "PIP_NO_CACHE", "VIRTUAL_ENV", "PYTHON")


def fresh_env(venv: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the learner's settings, `venv`'s programs first on PATH.

    The offline server on a port nothing uses, no Ollama whatever runs on this machine, the
    doctor offline; `extra` on top.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
    env.pop("CMAKE_ARGS", None)
    env.update(
        PATH=f"{Path(venv) / 'bin'}{os.pathsep}{env['PATH']}",
        CHAT_TUTORIAL_LOCAL_PORT=str(free_port()),  # not the port a checkout's server may hold
        OLLAMA_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",  # no Ollama, whatever runs on this machine
        CHAT_TUTORIAL_DOCTOR_NETWORK="0",
    )
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `command` (no input), capture its output; fail with the end of it unless it succeeds."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def lesson_run_code(lesson: Path, out: Path) -> str:
    """Python code that runs `lesson` with nbclient in its own folder (errors kept as outputs) and saves it to `out`."""
    return textwrap.dedent(
        f"""
        import sys
        import nbformat
        from nbclient import NotebookClient

        print("python:", sys.prefix)
        notebook = nbformat.read({str(lesson)!r}, as_version=4)
        NotebookClient(notebook, timeout=600, allow_errors=True,
                       resources={{"metadata": {{"path": {str(Path(lesson).parent)!r}}}}}).execute()
        nbformat.write(notebook, {str(out)!r})
        """
    )
