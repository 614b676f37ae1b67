"""Colab's set-up cell: the lessons' packages once per runtime, the offline model only when needed.

Colab itself cannot be reached from the tests, so `set_up` runs here with its three
outside parts handed in: the secrets it finds, and recorders of the pip installs and
offline-model builds it would start.
"""

import json
import os
import subprocess
import sys

import pytest

from helpers import catalog, colab, environment
from helpers.environment import repo_root


class Runtime:
    """One Colab runtime: its secrets, and what set_up asked pip and the build to do."""

    def __init__(self, tmp_path, secrets=None, pip_status=0):
        self.secrets = secrets or {}
        self.pip_status = pip_status
        self.installed: list[str] = []
        self.builds = 0
        self.done_dir = tmp_path / "content" / ".chat-course"

    def set_up(self, provider="openai", **options):
        def pip_install(requirements):
            self.installed.append(requirements.name)
            return self.pip_status

        def start_offline_build():
            self.builds += 1
            return 0

        colab.set_up(
            provider,
            secret=self.secrets.get,
            pip_install=pip_install,
            start_offline_build=start_offline_build,
            done_dir=self.done_dir,
            **options,
        )


def test_without_a_key_it_installs_the_lessons_and_builds_the_offline_model_in_the_background(tmp_path, capsys):
    runtime = Runtime(tmp_path)
    runtime.set_up()
    assert runtime.installed == ["requirements-lessons.txt"] and runtime.builds == 1
    out = capsys.readouterr().out
    assert "requirements-lessons.txt, about 30 s" in out
    assert "No OPENAI_API_KEY in Colab's secrets: building the offline practice model in the background" in out
    assert "about 5 minutes, once per runtime" in out


def test_with_a_key_only_the_lessons_packages_are_installed(tmp_path, capsys):
    runtime = Runtime(tmp_path, secrets={"OPENAI_API_KEY": "a-key"})
    runtime.set_up()
    assert runtime.installed == ["requirements-lessons.txt"] and runtime.builds == 0
    out = capsys.readouterr().out
    assert "OPENAI_API_KEY is in Colab's secrets, so the offline practice model is not installed" in out
    assert "a-key" not in out


def test_each_lesson_asks_for_its_own_providers_key(tmp_path, capsys):
    runtime = Runtime(tmp_path, secrets={"GEMINI_API_KEY": "a-key"})
    runtime.set_up("gemini")
    assert runtime.builds == 0
    runtime.set_up("ollama")  # Colab has no Ollama: lesson 5 needs the offline model
    assert runtime.builds == 1
    assert "Colab has no Ollama: building the offline practice model" in capsys.readouterr().out


def test_it_does_the_work_once_per_runtime(tmp_path, capsys):
    runtime = Runtime(tmp_path)
    runtime.set_up()
    runtime.set_up("gemini")
    assert runtime.installed == ["requirements-lessons.txt"] and runtime.builds == 1
    out = capsys.readouterr().out
    assert "installed in this runtime already" in out and "built, or building, in this runtime already" in out


def test_a_failed_pip_install_says_so_and_is_tried_again(tmp_path):
    runtime = Runtime(tmp_path, pip_status=1)
    with pytest.raises(RuntimeError, match="run this cell again"):
        runtime.set_up()
    runtime.pip_status = 0
    runtime.set_up()
    assert runtime.installed == ["requirements-lessons.txt", "requirements-lessons.txt"]


def test_the_set_up_module_needs_only_the_standard_library():
    # In Colab it runs before pip has installed anything: -S leaves site-packages out.
    code = (
        f"import sys; sys.path.insert(0, {str(repo_root())!r}); import helpers.colab; "
        "print(sorted(m for m in ('dotenv', 'openai', 'requests', 'psutil') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_lessons_first_cell_sets_up_colab_for_its_provider():
    for path in sorted((repo_root() / "notebooks").glob("[0-9]*.ipynb")):
        cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        source = "".join(cells[0]["source"])
        assert 'if "google.colab" in sys.modules:' in source, path.name
        provider = source.rsplit('set_up("', 1)[1].split('"')[0]
        assert provider in catalog.PROVIDERS, path.name
        # The course as a package from its home (not on PyPI), the clone if pip cannot; set_up decides the rest.
        assert f'course, folder = "{catalog.COURSE_HOME}", "/content/course"' in source, path.name
        (install,) = [line.strip() for line in source.splitlines() if "pip install" in line]
        assert install == (
            "![ -d {folder} ] || pip install --quiet git+{course} || git clone --depth 1 {course} {folder}"
        ), path.name


def test_with_the_course_installed_as_a_package_it_copies_the_lessons_and_installs_nothing_more(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv(environment.COURSE_DIR_VAR, "restored after the test")
    runtime = Runtime(tmp_path)
    folder = tmp_path / "content" / "course"
    runtime.set_up(installed=True, folder=folder)
    assert runtime.installed == [] and runtime.builds == 1  # the package brought the lessons' packages
    assert (folder / "notebooks" / "03_openai_sdk.ipynb").is_file()
    assert (folder / "requirements-offline.txt").is_file()  # what the offline build installs
    assert os.environ[environment.COURSE_DIR_VAR] == str(folder)  # repo_root(): .env and .cache/ live there
    out = capsys.readouterr().out
    assert f"The course is installed as a package from {catalog.COURSE_HOME}; its folder is {folder}" in out
    runtime.set_up(installed=True, folder=folder)
    assert "copied" not in capsys.readouterr().out.splitlines()[0]  # nothing new to copy the second time
