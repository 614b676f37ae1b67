"""Where the offline model keeps its state, and the offline server's settings.

One function says where every folder of the course's own state lies: `state_dir(folder)`,
`.cache/<folder>/` in the course folder (git ignores `.cache/`). The tests (and
`start_engines`) move them with an environment variable: CHAT_TUTORIAL_STATE_DIR holds the
offline server's files itself and the class server's in a `classroom/` folder inside it;
CHAT_TUTORIAL_BUILD_DIR holds the offline model's build state.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from .. import catalog
from ..environment import get_setting, repo_root

STATE_DIR_VAR = "CHAT_TUTORIAL_STATE_DIR"
BUILD_DIR_VAR = "CHAT_TUTORIAL_BUILD_DIR"  # another folder for build.json and build.log (tests)

SERVER = "local_server"  # pid files, locks and logs of the offline server; providers' reachability.json
CLASSROOM = "classroom"  # the class server's keys file and its record
BUILD = "offline_model"  # the offline model's build: build.json, build.log

# The variable that moves each folder, and where inside the folder it names ("" = the folder itself).
_MOVED_BY = {
    SERVER: (STATE_DIR_VAR, ""),
    CLASSROOM: (STATE_DIR_VAR, CLASSROOM),
    BUILD: (BUILD_DIR_VAR, ""),
}


def state_dir(folder: str = SERVER) -> Path:
    """The folder of the course's own state named `folder` (default: the offline server's), made if need be."""
    variable, inside = _MOVED_BY[folder]
    moved = os.environ.get(variable)
    path = Path(moved) / inside if moved else repo_root() / ".cache" / folder
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file(port: int) -> Path:
    """The offline server's log on `port`."""
    return state_dir() / f"server-{port}.log"


def configured_port() -> int:
    value = get_setting(catalog.OFFLINE_PORT_VAR).value
    return int(value) if value else catalog.OFFLINE_PORT


def configured_api_key() -> str:
    return get_setting(catalog.OFFLINE_API_KEY_VAR).value or catalog.OFFLINE_API_KEY


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 now, for a server the course starts there (own engines, llama-server)."""
    with socket.socket() as probe:
        probe.bind((catalog.OFFLINE_HOST, 0))
        return probe.getsockname()[1]
