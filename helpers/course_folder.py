"""`chat-completions-course [FOLDER]`: copy the lessons into a folder of yours and open JupyterLab there.

For the course installed as a package (`pip install`, see the README). The wheel ships the
lessons in `helpers/course_files/`; this copies them into FOLDER, where your edits, your
`.env` and the course's caches (`.cache/`) live, never inside site-packages. A file you
already have is kept as it is, and the command says which ones it kept. Then, like
`make lab`, it starts building the offline model in the background (when it is not
installed), runs the self-check and opens JupyterLab on FOLDER/notebooks.

Standard library only at the top: setup.py reads COURSE_FILES from here to build the wheel.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# What a learner's folder gets, relative to the course folder (glob patterns).
COURSE_FILES = [
    "notebooks/*.ipynb",
    "notebooks/*.md",
    "notebooks/images/*",
    "solutions/*.py",
    "solutions/README.md",
    ".env.example",
    "requirements-offline.txt",  # what `python -m helpers.offline_build` installs
]
DEFAULT_FOLDER = "chat-completions-course"
MARKER = ".chat-completions-course"  # written into the folder: helpers.environment.repo_root() looks for it
COURSE_DIR_VAR = "CHAT_TUTORIAL_COURSE_DIR"  # or this names the folder (set for JupyterLab and in Colab)


def installed_as_package() -> bool:
    """True when these helpers came from the course's wheel (it ships the lessons in helpers/course_files/)."""
    return (Path(__file__).resolve().parent / "course_files").is_dir()


def course_files() -> Path:
    """Where the lessons to copy are: the wheel's helpers/course_files/, or the checkout itself."""
    here = Path(__file__).resolve().parent
    return here / "course_files" if installed_as_package() else here.parent


def lesson_files(source: Path) -> list[Path]:
    """The course's files under `source`, relative to it, in a stable order."""
    found = {path.relative_to(source) for pattern in COURSE_FILES for path in source.glob(pattern) if path.is_file()}
    return sorted(found)


def copy_course(folder: Path, source: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Copy the lessons into `folder`; return (copied, kept): `kept` are files of yours that differ from ours."""
    source = source or course_files()
    folder.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for relative in lesson_files(source):
        target = folder / relative
        if target.exists():
            if not filecmp.cmp(source / relative, target, shallow=False):
                kept.append(relative)  # edited (or older): never overwritten
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target)
        copied.append(relative)
    (folder / MARKER).write_text(json.dumps({"course": "chat-completions-course", "copied_from": str(source)}) + "\n")
    return copied, kept


def _report(folder: Path, copied: list[Path], kept: list[Path]) -> None:
    notebooks = sum(1 for path in copied if path.suffix == ".ipynb")
    print(f"Copied {len(copied)} files into {folder} ({notebooks} lessons).")
    if kept:
        print(f"Kept {len(kept)} files of yours that differ from the course's (not overwritten):")
        for path in kept:
            print(f"  {path.as_posix()}")
        print("To get the course's version of one, rename or delete yours and run this command again.")
    if not (folder / ".env").exists():
        print("For your keys (optional): copy .env.example to .env in that folder and edit it (lesson 1).")


def _open_lab(folder: Path, lab_args: list[str]) -> int:
    env = dict(os.environ, **{COURSE_DIR_VAR: str(folder)})
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        print(
            "JupyterLab is not installed in this Python. Install the course with its [lab] extra (see the README), "
            f"or open {folder / 'notebooks'} in the notebook editor you use."
        )
        return 1
    python = sys.executable
    subprocess.call([python, "-m", "helpers.offline_build", "start"], cwd=folder, env=env)
    subprocess.call([python, "-m", "helpers.doctor"], cwd=folder, env=env)
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return subprocess.call(
        [python, "-m", "jupyterlab", f"--notebook-dir={folder / 'notebooks'}", *root, *lab_args], cwd=folder, env=env
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chat-completions-course",
        description="Copy the course's lessons into FOLDER (your files there are kept) and open JupyterLab there.",
    )
    parser.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, help=f"where to (default: ./{DEFAULT_FOLDER})")
    parser.add_argument("--no-lab", action="store_true", help="only copy the lessons; do not open JupyterLab")
    args, lab_args = parser.parse_known_args(argv)  # the rest goes to JupyterLab, e.g. --port=8890
    if lab_args and args.no_lab:
        parser.error(f"unknown arguments: {' '.join(lab_args)}")
    folder = Path(args.folder).expanduser().resolve()
    copied, kept = copy_course(folder)
    _report(folder, copied, kept)
    if args.no_lab:
        print(f"Open the lessons with: jupyter lab --notebook-dir={folder / 'notebooks'}")
        return 0
    return _open_lab(folder, lab_args)


if __name__ == "__main__":
    sys.exit(main())
