"""Set-up in Google Colab: the first code cell of every lesson calls `set_up(provider)`.

That cell installs the course as a package from its home (`pip install git+` catalog.COURSE_HOME:
the course is not on PyPI), which brings the lessons' packages (`requirements-lessons.txt`,
no compiler, well under a minute), and `set_up` copies the lessons into /content/course, the
course folder there (.env, .cache/). If pip cannot install it, the cell clones the course into
/content/course instead, and `set_up` installs the lessons' packages itself, once per runtime.
The offline practice model (`requirements-offline.txt`, which compiles llama.cpp: about 5
minutes) is built only when the lesson needs it: when Colab's secrets hold no key for the
lesson's provider. It then builds in the background, and the cells that need it wait, showing
progress. With a key, it is not installed; if a cell needs it after all, that cell builds it
then (see offline_build.py).

Runs right after that install: it needs only the standard library and the course's own modules.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from . import catalog, course_folder

COURSE = Path("/content/course")  # the course folder in Colab: the lessons copied there, or the clone
CLONE = Path(__file__).resolve().parent.parent  # where these helpers are (the clone, when pip could not install)
DONE_DIR = Path("/content/.chat-course")  # /content is new in every Colab runtime
LESSONS_SECONDS = 30  # measured: requirements-lessons.txt into a fresh Python, from PyPI
OFFLINE_MINUTES = 5  # compiling llama.cpp on Colab's 2 cores


def colab_secret(name: str) -> str | None:
    """The value of Colab secret `name`, or None (absent, or this notebook has no access)."""
    try:
        from google.colab import userdata

        return userdata.get(name) or None
    except Exception:  # SecretNotFoundError, NotebookAccessError, not in Colab
        return None


def _pip_install(requirements: Path) -> int:
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(requirements)])


def _start_offline_build() -> int:
    from .environment import repo_root  # after set_up: python-dotenv is installed by then

    return subprocess.call([sys.executable, "-m", "helpers.offline_build", "start"], cwd=repo_root())


def _use_the_package(folder: Path) -> None:
    """The course came as a package: copy its lessons into `folder` and make that the course folder."""
    copied, _ = course_folder.copy_course(folder)
    os.environ[course_folder.COURSE_DIR_VAR] = str(folder)  # repo_root() for this kernel and what it starts
    news = f"; copied {len(copied)} files there" if copied else ""
    print(f"The course is installed as a package from {catalog.COURSE_HOME}; its folder is {folder}{news}.")


def set_up(
    provider: str = "openai",
    *,
    secret: Callable[[str], str | None] = colab_secret,
    pip_install: Callable[[Path], int] = _pip_install,
    start_offline_build: Callable[[], int] = _start_offline_build,
    done_dir: Path = DONE_DIR,
    installed: bool | None = None,
    folder: Path = COURSE,
) -> None:
    """Install what a lesson about `provider` needs in this runtime, saying what and how long.

    `installed`: whether the course came as a package (default: whether these helpers did).
    """
    done_dir.mkdir(parents=True, exist_ok=True)
    lessons_done = done_dir / "lessons-installed"
    if course_folder.installed_as_package() if installed is None else installed:
        _use_the_package(folder)  # its lessons' packages came with it
    elif lessons_done.exists():
        print("The lessons' packages are installed in this runtime already.")
    else:
        print(
            f"Installing the lessons' packages (requirements-lessons.txt, about {LESSONS_SECONDS} s, once per runtime)."
        )
        if pip_install(CLONE / "requirements-lessons.txt") != 0:
            raise RuntimeError("pip could not install requirements-lessons.txt: run this cell again.")
        lessons_done.touch()
        importlib.invalidate_caches()  # so this kernel finds what pip just installed

    keys = catalog.PROVIDERS[provider].key_vars
    found = next((name for name in keys if secret(name)), None)
    if found:
        print(
            f"{found} is in Colab's secrets, so the offline practice model is not installed. "
            f"If a cell needs it after all, that cell builds it (about {OFFLINE_MINUTES} minutes)."
        )
        return
    reason = f"No {' or '.join(keys)} in Colab's secrets" if keys else "Colab has no Ollama"
    if (done_dir / "offline-started").exists():
        print(f"{reason}: the offline practice model is built, or building, in this runtime already.")
        return
    print(
        f"{reason}: building the offline practice model in the background (it compiles llama.cpp: "
        f"about {OFFLINE_MINUTES} minutes, once per runtime). Cells that need it wait and show progress."
    )
    if start_offline_build() != 0:
        raise RuntimeError("The offline model's build could not start: run this cell again.")
    (done_dir / "offline-started").touch()
