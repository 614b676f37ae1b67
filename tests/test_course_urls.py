"""The course's home address is written once (catalog.COURSE_HOME); every URL of the course derives from it.

Badges, the set-up cells' install and clone, the lessons' picture: a repository moved or
renamed is then a one-line change, and a stale copy of the old address fails here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from helpers import catalog
from helpers.environment import repo_root

ROOT = repo_root()
SKIPPED_FOLDERS = {".git", ".venv", ".cache", "build", "dist", "node_modules", "__pycache__", ".ipynb_checkpoints"}
TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".toml", ".txt", ".cfg", ".in", ".json", ".yml", ".yaml", ".example", ""}
URL = re.compile(
    r"https?://(?:www\.)?(github\.com|raw\.githubusercontent\.com|colab\.research\.google\.com)/[^\s)\"'<>`\\\]]*"
)
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _course_files() -> list[Path]:
    """Every text file of the repository, leaving out environments, caches and build output."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and not d.endswith(".egg-info"))
        found += [Path(folder) / name for name in sorted(files) if Path(name).suffix in TEXT_SUFFIXES]
    return found


def _urls() -> list[tuple[str, str]]:
    found = []
    for path in _course_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [(path.relative_to(ROOT).as_posix(), match.group(0).rstrip(".,;:")) for match in URL.finditer(text)]
    return found


def _repository(url: str) -> str:
    """owner/name of a GitHub, raw or Colab URL."""
    path = url.split("://", 1)[1].split("/", 1)[1]
    if path.startswith("github/"):  # colab.research.google.com/github/owner/name/...
        path = path.removeprefix("github/")
    return "/".join(path.split("/")[:2])


def _about_the_course(url: str) -> bool:
    named = _repository(url).lower().replace("_", "-")
    return "chat-completion" in named or "colab.research.google.com/github/" in url


def test_the_home_is_one_github_repository_and_pyproject_names_the_same():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", catalog.COURSE_HOME)
    homepage = re.search(r'^Homepage\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert homepage and homepage.group(1) == catalog.COURSE_HOME


def test_every_url_of_the_course_derives_from_its_home():
    urls = [
        (where, url)
        for where, url in _urls()
        if url != COLAB_BADGE_IMAGE
        and _about_the_course(url)
        and "{" not in url  # catalog.py's templates, the derivation itself
        and where != "tests/test_course_urls.py"  # the wrong addresses below
    ]
    assert len(urls) >= 17 * 2  # each lesson: its badge and its set-up cell
    wrong = []
    for where, url in urls:
        if url.startswith("https://colab.research.google.com/"):
            notebook = url.rsplit("/", 1)[1]
            ok = url == catalog.colab_url(notebook) and (ROOT / "notebooks" / notebook).is_file()
            ok = ok and (not where.endswith(".ipynb") or where == f"notebooks/{notebook}")  # a badge opens itself
        elif url.startswith("https://raw.githubusercontent.com/"):
            path = url.removeprefix(catalog.course_file_url(""))
            ok = url == catalog.course_file_url(path) and (ROOT / path).is_file()
        else:
            ok = url == catalog.COURSE_HOME or url.startswith(catalog.COURSE_HOME + "/")
        if not ok:
            wrong.append(f"{where}: {url}")
    assert not wrong, "URLs of the course that do not derive from catalog.COURSE_HOME:\n" + "\n".join(wrong)


def test_the_home_check_catches_a_stale_address():
    stale = "https://colab.research.google.com/github/someone-else/chat-completions-course/blob/main/notebooks/x.ipynb"
    assert _about_the_course(stale) and stale != catalog.colab_url("x.ipynb")
    assert _about_the_course("https://github.com/old-owner/chat_completions_course")
    assert not _about_the_course("https://github.com/openai/openai-openapi/blob/main/openapi.json")
