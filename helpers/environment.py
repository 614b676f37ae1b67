"""Find the course folder, load its `.env`, and say where each setting came from.

Precedence, first match wins:
1. the `.env` file in the course folder (it overrides a variable of the same name
   already set in your shell: editing `.env` and re-running a cell is enough,
   and a forgotten `export OPENAI_API_KEY=...` from last month cannot silently win);
2. the environment the notebook server was started with;
3. Colab secrets (the key icon in Colab's left sidebar), when running in Colab.

Settings are read afresh on every call, so a saved edit to `.env` takes effect
when you re-run the cell. A variable that `load_env()` (or `load_dotenv`) already
copied into the environment stays there after you delete it from `.env`:
restart the kernel to forget it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values, load_dotenv

from . import catalog
from .course_folder import COURSE_DIR_VAR, MARKER, installed_as_package

ENV_FILE_VAR = "CHAT_TUTORIAL_ENV_FILE"  # another .env path; the tests point it away


def package_root() -> Path:
    """The folder that holds the `helpers` package: a checkout, or site-packages when installed."""
    return Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    """The course folder: where the lessons, `.env` and `.cache/` live, whatever the current folder is.

    In a checkout, the folder that holds `helpers/`. When the course is an installed package,
    the learner's folder (see helpers/course_folder.py): CHAT_TUTORIAL_COURSE_DIR, else the
    nearest folder, from the current one upwards, that `chat-completions-course` copied the
    lessons into, else the current folder. Never site-packages, which may not be writable.
    """
    if not installed_as_package():
        return package_root()
    if os.environ.get(COURSE_DIR_VAR):
        return Path(os.environ[COURSE_DIR_VAR]).resolve()
    here = Path.cwd().resolve()
    return next((folder for folder in (here, *here.parents) if (folder / MARKER).is_file()), here)


def env_file() -> Path:
    """Where the course's `.env` lives (the course folder, unless overridden)."""
    return Path(os.environ.get(ENV_FILE_VAR) or repo_root() / ".env")


def in_colab() -> bool:
    """True inside Google Colab."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def _colab_secret(name: str) -> str | None:
    """A Colab secret, or None when absent, not shared with this notebook, or not in Colab."""
    if not in_colab():
        return None
    try:
        from google.colab import userdata

        return userdata.get(name)
    except Exception:  # SecretNotFoundError, NotebookAccessError, ...
        return None


@dataclass(frozen=True)
class Setting:
    """One variable's value and where it came from (".env", "environment", "Colab secret")."""

    name: str
    value: str | None
    source: str | None
    shadowed: bool = False  # True when .env replaced a different value from the shell

    def __repr__(self) -> str:  # never show the value: it may be a key
        return f"Setting(name={self.name!r}, source={self.source!r}, set={self.value is not None})"


# The environment this Python process started with, before anyone loaded `.env`.
_STARTUP_ENVIRON = dict(os.environ)


def load_env() -> Path | None:
    """Copy the course's `.env` into `os.environ` (it wins) and return its path, or None.

    `OpenAI()` with no arguments reads OPENAI_API_KEY from `os.environ`, so this is
    what makes that work. It is `load_dotenv(path, override=True)`, nothing more.
    """
    path = env_file()
    if not path.is_file():
        return None
    load_dotenv(path, override=True)
    return path


def get_setting(name: str) -> Setting:
    """Look `name` up in `.env` (read afresh), then the environment, then Colab secrets."""
    path = env_file()
    value = dotenv_values(path).get(name) if path.is_file() else None
    if value:
        shell = _STARTUP_ENVIRON.get(name)
        return Setting(name, value, ".env", shadowed=bool(shell) and shell != value)
    value = os.environ.get(name)
    if value:
        return Setting(name, value, "environment")
    value = _colab_secret(name)
    if value:
        return Setting(name, value, "Colab secret")
    return Setting(name, None, None)


def first_setting(names: tuple[str, ...]) -> Setting:
    """The first of several accepted variable names that is set (e.g. GOOGLE_/GEMINI_API_KEY)."""
    for name in names:
        setting = get_setting(name)
        if setting.value is not None:
            return setting
    return Setting(names[0], None, None)


def offline_forced() -> bool:
    """True when CHAT_TUTORIAL_OFFLINE asks every provider to use the offline model."""
    return get_setting(catalog.OFFLINE_SWITCH_VAR).value in {"1", "true", "yes", "on"}
