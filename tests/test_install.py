"""The course installs without a compiler, and the offline model builds while a lesson waits.

A fresh virtual environment, with the C/C++ compilers hidden (PATH, CC and CXX point at
programs that fail) and pip's cache off, installs requirements.txt: everything but the
offline model. There the helpers import, the doctor explains the missing model, the
fallback explains itself (or uses Ollama), and lesson 3 runs against an OpenAI-compatible
server given only by OPENAI_BASE_URL, OPENAI_API_KEY and OPENAI_MODEL (the offline server
of the full environment stands in for the provider). A build of the offline model with
the compilers hidden fails with its cause; with them back, the background build of
`make lab` runs while lesson 3 waits for it, printing progress, and then succeeds.

Slow (pip downloads every package): see BENCHMARKS.md for how long this file takes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from fakes import fake_key

from course_tools.fresh_env import fresh_env, lesson_run_code
from course_tools.isolation import free_port
from course_tools.recorded_outputs import cell_text, unexpected_errors
from helpers import catalog, local_server
from helpers.environment import repo_root

pytestmark = [
    pytest.mark.install,
    pytest.mark.server,
    pytest.mark.skipif(os.name != "posix", reason="hides the compilers with shell scripts"),
]

ROOT = repo_root()
LESSON = ROOT / "notebooks" / "03_openai_sdk.ipynb"
CLASS_KEY = "provider-key-42"
PAUSE_SECONDS = 30.0  # the background build is held this long, while the lesson starts and waits
COMPILERS = ["cc", "gcc", "c++", "g++", "clang", "clang++", "cl"]


def _no_compiler(folder: Path) -> dict[str, str]:
    """Environment variables under which every C/C++ compiler fails."""
    fake = folder / "no-compiler"
    fake.mkdir()
    for name in COMPILERS:
        program = fake / name
        program.write_text('#!/bin/sh\necho "$0: no compiler on this machine (hidden by the test)" >&2\nexit 1\n')
        program.chmod(0o755)
    return {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "CC": str(fake / "cc"), "CXX": str(fake / "c++")}


def _base_env(venv: Path, tmp: Path, **extra: str) -> dict[str, str]:
    own = {
        "CHAT_TUTORIAL_ENV_FILE": str(tmp / "no.env"),  # no .env: settings come from the environment only
        "CHAT_TUTORIAL_STATE_DIR": str(tmp / "state"),
        "CHAT_TUTORIAL_BUILD_DIR": str(tmp / "build"),
    }
    return fresh_env(venv, **{**own, **extra})


@pytest.fixture(scope="module", autouse=True)
def timed():
    """Record how long this file takes (a figure for BENCHMARKS.md, not a test)."""
    started = time.monotonic()
    yield
    (ROOT / ".cache").mkdir(exist_ok=True)
    (ROOT / ".cache" / "install-test-seconds").write_text(f"{time.monotonic() - started:.0f}\n")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A virtual environment where requirements.txt was installed with no compiler and no pip cache."""
    tmp = tmp_path_factory.mktemp("install")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    hidden = _no_compiler(tmp)
    env = _base_env(venv, tmp, PIP_NO_CACHE_DIR="1", **hidden)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{hidden['PATH']}"
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"pip install -r requirements.txt failed, no compiler:\n{result.stderr[-3000:]}"
    return {"tmp": tmp, "venv": venv, "python": str(venv / "bin" / "python"), "hidden": hidden}


def _python(fresh, code: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [fresh["python"], "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_requirements_install_without_a_compiler_and_leave_the_offline_model_out(fresh):
    env = _base_env(fresh["venv"], fresh["tmp"])
    result = _python(
        fresh,
        """
        import importlib.util
        import helpers, helpers.doctor, helpers.local_server, helpers.providers, openai, jupyterlab
        print("llama_cpp:", importlib.util.find_spec("llama_cpp"))
        print("helpers from:", helpers.__file__)
        """,
        env,
    )
    assert result.returncode == 0, result.stderr
    assert "llama_cpp: None" in result.stdout
    assert str(ROOT / "helpers") in result.stdout


def test_the_doctor_explains_the_missing_offline_model_without_a_traceback(fresh):
    result = subprocess.run(
        [fresh["python"], "-m", "helpers.doctor"],
        cwd=ROOT,
        env=_base_env(fresh["venv"], fresh["tmp"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert result.returncode == 1, out  # no key, no Ollama, no offline model: nothing can answer
    line = next(line for line in out.splitlines() if "offline model is not installed" in line)
    assert line.startswith("[FAIL]"), out
    assert "requirements-offline.txt" in line and "Ways on" in line
    assert "compiler" in line and "Ollama" in line and "API key" in line

    # With a key, the offline model is optional: mentioned once, not a failure.
    with_key = subprocess.run(
        [fresh["python"], "-m", "helpers.doctor"],
        cwd=ROOT,
        env=_base_env(fresh["venv"], fresh["tmp"], OPENAI_API_KEY=fake_key("sk-proj-", 164)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert with_key.returncode == 0, with_key.stdout
    (line,) = [line for line in with_key.stdout.splitlines() if "offline model is not installed" in line]
    assert line.startswith("[--]") and line.endswith("(optional: your key or Ollama serves the lessons)")


def test_without_key_model_or_ollama_one_clear_error_names_the_ways_on(fresh):
    result = _python(
        fresh,
        """
        from helpers import provider_settings
        from helpers.local_server import OfflineModelMissing
        try:
            provider_settings("openai")
        except OfflineModelMissing as error:
            print("error:", error)
        """,
        _base_env(fresh["venv"], fresh["tmp"]),
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    (line,) = result.stdout.splitlines()
    assert "no OPENAI_API_KEY is set" in line and "Ways on" in line
    assert "ImportError" not in line and "llama" not in line.split("Ways on")[0]


def test_without_the_offline_model_a_running_ollama_stands_in(fresh, httpserver):
    # A recording server answers as Ollama would: /api/tags lists what it has pulled.
    httpserver.expect_request("/api/tags").respond_with_json(
        {"models": [{"name": "qwen3:0.6b"}, {"name": f"{catalog.OLLAMA.model}:latest"}]}
    )
    env = _base_env(fresh["venv"], fresh["tmp"], OLLAMA_BASE_URL=httpserver.url_for("/v1"))
    result = _python(
        fresh,
        """
        from helpers import provider_settings
        settings = provider_settings("openai")
        print(settings.base_url, settings.model, settings.offline)
        """,
        env,
    )
    assert result.returncode == 0, result.stderr
    note, where = result.stdout.splitlines()
    assert note == (
        f"Using Ollama's {catalog.OLLAMA.model}:latest instead of OpenAI: no OPENAI_API_KEY is set. "
        "(The offline model is not installed.)"
    )
    assert where == f"{httpserver.url_for('/v1')} {catalog.OLLAMA.model}:latest False"


def _run_lesson(fresh, env: dict, out: Path) -> nbformat.NotebookNode:
    """Execute lesson 3 with the fresh environment's Python and kernel; return the executed notebook."""
    result = _python(fresh, lesson_run_code(LESSON, out), env, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"python: {fresh['venv']}" in result.stdout.splitlines(), result.stdout  # the fresh environment's
    return nbformat.read(out, as_version=4)


def test_lesson_3_runs_against_a_provider_given_only_by_settings(fresh, tmp_path, monkeypatch):
    # The full environment's offline server stands in for the provider, with a key of its own.
    monkeypatch.setenv("CHAT_TUTORIAL_STATE_DIR", str(tmp_path / "provider-state"))
    port = free_port()
    provider = local_server.start(port, api_key=CLASS_KEY)
    try:
        env = _base_env(
            fresh["venv"],
            fresh["tmp"],
            OPENAI_BASE_URL=provider.base_url,
            OPENAI_API_KEY=CLASS_KEY,
            OPENAI_MODEL=catalog.OFFLINE_MODEL,
        )
        notebook = _run_lesson(fresh, env, tmp_path / "lesson3.ipynb")
    finally:
        local_server.stop(port)
    assert not unexpected_errors(notebook), "\n".join(unexpected_errors(notebook))
    everything = "\n".join(cell_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "Using the offline practice model" not in everything  # the provider answered, not a stand-in
    assert re.search(r"^object:\s+chat\.completion$", everything, flags=re.M), everything
    assert re.search(rf"^model:\s+{re.escape(catalog.OFFLINE_MODEL)}$", everything, flags=re.M), everything


def test_a_build_without_a_compiler_fails_in_one_line_with_its_cause(fresh):
    env = _base_env(fresh["venv"], fresh["tmp"], PIP_NO_CACHE_DIR="1", **fresh["hidden"])
    env["PATH"] = f"{fresh['venv'] / 'bin'}{os.pathsep}{fresh['hidden']['PATH']}"
    build = subprocess.run(
        [fresh["python"], "-m", "helpers.offline_build", "install"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode != 0
    state = json.loads((Path(env["CHAT_TUTORIAL_BUILD_DIR"]) / "build.json").read_text())
    assert state["status"] == "failed" and state["cause"] == "no working C/C++ compiler was found", state
    doctor = subprocess.run(
        [fresh["python"], "-m", "helpers.doctor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    (line,) = [line for line in doctor.stdout.splitlines() if "offline model could not" in line]
    assert line.startswith("[FAIL] the offline model could not be built: no working C/C++ compiler was found. Ways on")
    assert "build-essential" in line and "ollama serve" in line and "API key" in line


def test_a_lesson_run_during_the_background_build_waits_with_progress_then_succeeds(fresh, tmp_path):
    # As `make lab` does: start the build in the background (compilers back, pip's cache as usual),
    # then run a lesson at once; its first call to the offline model waits for the build. With
    # pip's cached wheel the build takes seconds, not the minutes of a first compile, so the test
    # pauses it (SIGSTOP to its process group) until the lesson is surely waiting.
    env = _base_env(fresh["venv"], fresh["tmp"], CHAT_TUTORIAL_BUILD_DIR=str(tmp_path / "build"))
    started = subprocess.run(
        [fresh["python"], "-m", "helpers.offline_build", "start"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert started.returncode == 0, started.stderr
    assert "Building the offline model in the background" in started.stdout
    build = json.loads((tmp_path / "build" / "build.json").read_text())["pid"]
    os.killpg(build, signal.SIGSTOP)
    resume = threading.Timer(PAUSE_SECONDS, os.killpg, (build, signal.SIGCONT))
    resume.start()
    try:
        notebook = _run_lesson(fresh, {**env, "CHAT_TUTORIAL_OFFLINE": "1"}, tmp_path / "lesson3-offline.ipynb")
    finally:
        resume.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build, signal.SIGCONT)
        subprocess.run(
            [fresh["python"], "-m", "helpers.local_server", "stop"], cwd=ROOT, env=env, capture_output=True, timeout=60
        )
    assert not unexpected_errors(notebook), "\n".join(unexpected_errors(notebook))
    waited = next(c for c in notebook.cells if c.cell_type == "code" and "The offline model is ready" in cell_text(c))
    first = cell_text(waited)
    # One line of progress, updated in place: one display output, ending with the model ready and loaded.
    progress = [output for output in waited.outputs if "The offline model is" in cell_text({"outputs": [output]})]
    assert [output.output_type for output in progress] == ["display_data"], progress
    assert "The offline model is ready (built in" in first
    assert f"instead of OpenAI: {catalog.OFFLINE_SWITCH_VAR}=1 is set." in first
    state = json.loads((tmp_path / "build" / "build.json").read_text())
    assert state["status"] == "ready"
