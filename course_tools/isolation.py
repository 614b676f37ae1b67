"""The environment tests and recordings run in: no learner's keys or .env, every provider offline.

Used by the course folder's conftest.py and by scripts/record_notebooks.py, so recorded outputs and
the outputs nbval compares them with come from the same settings.
"""

import os
import socket
import tempfile
import zlib
from pathlib import Path

# Variables a learner may have set that would change what the lessons do.
LEARNER_VARIABLES = [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
    "GEMINI_MODEL",
    "OLLAMA_BASE_URL",
    "OLLAMA_MODEL",
    "OLLAMA_REASONING_MODEL",
    "CHAT_TUTORIAL_LOCAL_PORT",
    "CHAT_TUTORIAL_LOCAL_API_KEY",
    "CHAT_TUTORIAL_STATE_DIR",
    "CHAT_TUTORIAL_MODEL_FILE",
    "CHAT_TUTORIAL_EMULATE",
]


# The tests' offline server runs on a port of their own, never a learner's 8765: by default
# one derived from this checkout's folder (so two clones' test runs do not meet), or the
# port this variable names (two test runs at once in one checkout).
TEST_PORT_VAR = "CHAT_TUTORIAL_TEST_PORT"

# The offline server samples requests that carry no `seed` with this one, so recording
# the notebooks twice gives the same model text, and nbval re-runs them the same way.
DEFAULT_SEED_VAR = "CHAT_TUTORIAL_DEFAULT_SEED"
RECORDING_SEED = "20261126"


def default_test_port() -> int:
    """A port between 20000 and 39999 that depends on where this checkout is."""
    checkout = str(Path(__file__).resolve().parent.parent)
    return 20000 + zlib.crc32(checkout.encode()) % 20000


def isolate_environment(environ=os.environ) -> None:
    """Drop the learner's settings, force offline mode and the recording seed, hide any .env."""
    for name in LEARNER_VARIABLES:
        environ.pop(name, None)
    environ["CHAT_TUTORIAL_LOCAL_PORT"] = environ.get(TEST_PORT_VAR) or str(default_test_port())
    environ["CHAT_TUTORIAL_OFFLINE"] = "1"
    environ[DEFAULT_SEED_VAR] = RECORDING_SEED
    environ["CHAT_TUTORIAL_ENV_FILE"] = str(Path(tempfile.gettempdir()) / "chat-tutorial-tests-no.env")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
