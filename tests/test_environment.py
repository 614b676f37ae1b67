"""Where settings come from: .env (found from any folder, and it wins), the shell, Colab secrets."""

import os
import shutil
import subprocess
import sys
import types

import pytest

from helpers import environment
from helpers.environment import get_setting, load_env, repo_root


def test_repo_root_holds_the_helpers_package():
    assert (repo_root() / "helpers" / "__init__.py").is_file()


def test_env_file_is_found_from_a_notebook_subfolder(tmp_path):
    """A kernel started in notebooks/ still reads the .env at the course root."""
    course = tmp_path / "course"
    shutil.copytree(repo_root() / "helpers", course / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    (course / "notebooks").mkdir()
    (course / ".env").write_text("CHAT_TUTORIAL_PROBE=from-dotenv\n")
    env = {k: v for k, v in os.environ.items() if k != "CHAT_TUTORIAL_ENV_FILE"}
    env["PYTHONPATH"] = str(course)
    probe = (
        "from helpers.environment import get_setting; s = get_setting('CHAT_TUTORIAL_PROBE'); print(s.source, s.value)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=course / "notebooks", env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ".env from-dotenv"


def test_dotenv_wins_over_the_shell_and_says_so(env_file, monkeypatch):
    env_file.write_text("CHAT_TUTORIAL_PROBE=new-value\n")
    monkeypatch.setitem(environment._STARTUP_ENVIRON, "CHAT_TUTORIAL_PROBE", "stale-value")
    monkeypatch.setenv("CHAT_TUTORIAL_PROBE", "stale-value")
    setting = get_setting("CHAT_TUTORIAL_PROBE")
    assert (setting.value, setting.source, setting.shadowed) == ("new-value", ".env", True)


def test_environment_is_used_when_dotenv_lacks_the_variable(env_file, monkeypatch):
    env_file.write_text("OTHER=1\n")
    monkeypatch.setenv("CHAT_TUTORIAL_PROBE", "from-shell")
    setting = get_setting("CHAT_TUTORIAL_PROBE")
    assert (setting.value, setting.source) == ("from-shell", "environment")


def test_an_edited_dotenv_is_read_again_without_a_restart(env_file):
    env_file.write_text("CHAT_TUTORIAL_PROBE=first\n")
    assert get_setting("CHAT_TUTORIAL_PROBE").value == "first"
    env_file.write_text("CHAT_TUTORIAL_PROBE=second\n")
    assert get_setting("CHAT_TUTORIAL_PROBE").value == "second"


def test_load_env_copies_dotenv_into_the_environment_overriding(env_file, monkeypatch):
    env_file.write_text("CHAT_TUTORIAL_PROBE=from-dotenv\n")
    monkeypatch.setenv("CHAT_TUTORIAL_PROBE", "from-shell")
    assert load_env() == env_file
    assert os.environ["CHAT_TUTORIAL_PROBE"] == "from-dotenv"


def test_load_env_without_a_file_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAT_TUTORIAL_ENV_FILE", str(tmp_path / "absent.env"))
    assert load_env() is None


def test_colab_secrets_are_the_last_resort(env_file, monkeypatch):
    userdata = types.SimpleNamespace(get=lambda name: {"CHAT_TUTORIAL_PROBE": "from-colab"}[name])
    colab = types.ModuleType("google.colab")
    colab.userdata = userdata
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    setting = get_setting("CHAT_TUTORIAL_PROBE")
    assert (setting.value, setting.source) == ("from-colab", "Colab secret")


def test_a_missing_setting_has_no_source(env_file):
    setting = get_setting("CHAT_TUTORIAL_PROBE_ABSENT")
    assert (setting.value, setting.source) == (None, None)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_offline_switch(env_file, monkeypatch, value):
    monkeypatch.setenv("CHAT_TUTORIAL_OFFLINE", value)
    assert environment.offline_forced()


def test_setting_repr_never_shows_the_value(env_file, monkeypatch):
    monkeypatch.setenv("CHAT_TUTORIAL_PROBE", "secret-value-1234")
    assert "secret-value" not in repr(get_setting("CHAT_TUTORIAL_PROBE"))
