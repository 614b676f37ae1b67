"""What the course's wheel holds besides its Python packages (the rest is in pyproject.toml).

The lessons (notebooks, their picture, the worked solutions, .env.example and
requirements-offline.txt, listed in helpers/course_folder.py) are copied into the wheel as
helpers/course_files/, from which `chat-completions-course FOLDER` copies them to the learner.
An editable install (requirements.txt's `-e .`) skips this: the checkout is the course folder.
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _course_files() -> list[str]:
    spec = importlib.util.spec_from_file_location("course_folder", HERE / "helpers" / "course_folder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.COURSE_FILES


class build_py_with_lessons(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "helpers" / "course_files"
        for pattern in _course_files():
            for path in sorted(HERE.glob(pattern)):
                if path.is_file():
                    destination = target / path.relative_to(HERE)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, destination)


setup(cmdclass={"build_py": build_py_with_lessons})
