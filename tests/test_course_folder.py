"""`chat-completions-course FOLDER`: the lessons copied into a learner's folder, whose edits are kept.

And, for the course installed as a package, `repo_root()` is that folder (its `.env`, its
`.cache/`), found from a kernel started in FOLDER/notebooks, never site-packages. The wheel
itself, installed into a fresh environment, is tested in tests/test_package.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from helpers import course_folder
from helpers.environment import repo_root


def test_it_copies_the_lessons_and_what_they_read(tmp_path, capsys):
    folder = tmp_path / "my course"
    assert course_folder.main([str(folder), "--no-lab"]) == 0
    lessons = sorted(path.name for path in (folder / "notebooks").glob("[0-9]*.ipynb"))
    assert lessons == sorted(path.name for path in (repo_root() / "notebooks").glob("[0-9]*.ipynb"))
    for needed in ["notebooks/images/shapes.png", "solutions/03_openai_sdk.py", ".env.example"]:
        assert (folder / needed).read_bytes() == (repo_root() / needed).read_bytes(), needed
    assert (folder / "requirements-offline.txt").is_file()  # what the offline build installs
    assert (folder / course_folder.MARKER).is_file()
    out = capsys.readouterr().out
    assert f"({len(lessons)} lessons)" in out and "copy .env.example to .env" in out
    assert f"jupyter lab --notebook-dir={folder / 'notebooks'}" in out


def test_an_edited_notebook_is_kept_and_named(tmp_path, capsys):
    folder = tmp_path / "course"
    course_folder.main([str(folder), "--no-lab"])
    edited = folder / "notebooks" / "03_openai_sdk.ipynb"
    edited.write_text("my own answers\n")
    (folder / "notebooks" / "07_streaming.ipynb").unlink()
    capsys.readouterr()
    copied, kept = course_folder.copy_course(folder)
    assert [path.as_posix() for path in copied] == ["notebooks/07_streaming.ipynb"]  # only what was missing
    assert [path.as_posix() for path in kept] == ["notebooks/03_openai_sdk.ipynb"]
    assert edited.read_text() == "my own answers\n"
    course_folder.main([str(folder), "--no-lab"])
    out = capsys.readouterr().out
    assert "Copied 0 files" in out
    assert "Kept 1 files of yours that differ from the course's (not overwritten):" in out
    assert "\n  notebooks/03_openai_sdk.ipynb\n" in out


def _installed_copy(tmp_path):
    """The helpers laid out as the wheel installs them: with the lessons in helpers/course_files/."""
    site = tmp_path / "site-packages"
    shutil.copytree(repo_root() / "helpers", site / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    course_folder.copy_course(site / "helpers" / "course_files")
    (site / "helpers" / "course_files" / course_folder.MARKER).unlink()
    return site


def _where(site, cwd, **env):
    code = (
        "from helpers import local_server; from helpers.environment import env_file, repo_root; "
        "print(repo_root()); print(env_file()); print(local_server.state_dir())"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_TUTORIAL_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(site), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_installed_the_course_folder_is_the_learners_never_site_packages(tmp_path):
    site = _installed_copy(tmp_path)
    learner = tmp_path / "learner"
    course_folder.copy_course(learner, source=site / "helpers" / "course_files")
    root, env, state = _where(site, learner / "notebooks")  # a kernel in FOLDER/notebooks
    assert (root, env, state) == (str(learner), str(learner / ".env"), str(learner / ".cache" / "local_server"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _where(site, elsewhere)[0] == str(elsewhere)  # no course folder above: the current one
    named = _where(site, elsewhere, CHAT_TUTORIAL_COURSE_DIR=str(learner))  # as the command starts JupyterLab
    assert named[0] == str(learner)
    assert not (site / ".cache").exists() and not (site / "helpers" / ".cache").exists()


def test_without_no_lab_it_builds_checks_and_opens_jupyterlab_in_the_folder(tmp_path, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(
        course_folder.subprocess, "call", lambda command, cwd, env: started.append((command[2:], cwd, env)) or 0
    )
    folder = tmp_path / "course"
    assert course_folder.main([str(folder), "--port=8890"]) == 0
    commands = [command for command, _, _ in started]
    assert commands[:2] == [["helpers.offline_build", "start"], ["helpers.doctor"]]  # as `make lab` does
    assert commands[2][:2] == ["jupyterlab", f"--notebook-dir={folder / 'notebooks'}"]
    assert commands[2][-1] == "--port=8890"  # the rest of the command line goes to JupyterLab
    assert all(cwd == folder and env[course_folder.COURSE_DIR_VAR] == str(folder) for _, cwd, env in started)
