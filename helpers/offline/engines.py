"""Own engines: K course offline servers on free loopback ports, for a class server's front.

`start_engines(k)` starts them, the machine's cores split between them
(CHAT_TUTORIAL_THREADS), each with the whole front inside; `stop_engines(engines)` stops
them. The front forwards to them through upstream.py's EnginePool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import lifecycle
from .processes import THREADS_VAR
from .state import STATE_DIR_VAR, free_loopback_port
from .upstream import EnginePool


@dataclass
class OwnEngines:
    """K course offline servers on loopback ports, started by `start_engines`."""

    ports: list[int]
    api_key: str
    threads: int
    state_dir: str
    urls: list[str] = field(default_factory=list)

    def pool(self, slots_per_engine: int = 1) -> EnginePool:
        return EnginePool(self.urls, api_key=self.api_key, slots_per_engine=slots_per_engine)


def split_threads(engines: int, cores: int | None = None) -> int:
    """Threads for each of `engines` model servers sharing `cores` (at least one each)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // engines)


def start_engines(
    count: int, *, api_key: str | None = None, threads: int | None = None, state_dir: str | None = None
) -> OwnEngines:
    """Start `count` course offline servers on free 127.0.0.1 ports, the cores split between them.

    Each is a normal course offline server (`lifecycle.start`: guard, emulation, practice
    failures, tool grammar inside), with `threads` threads (default: the cores divided by `count`), its own
    key (default: a new random one) and its state in `state_dir` (default: a new temporary
    folder). Stop them with `stop_engines`.
    """
    import secrets
    import tempfile

    if count < 1:
        raise ValueError("start at least one engine")
    api_key = api_key or f"engine-{secrets.token_urlsafe(18)}"
    threads = threads or split_threads(count)
    state_dir = state_dir or tempfile.mkdtemp(prefix="chat-engines-")
    ports = [free_loopback_port() for _ in range(count)]
    engines = OwnEngines(ports, api_key, threads, state_dir)
    saved = {name: os.environ.get(name) for name in (THREADS_VAR, STATE_DIR_VAR)}
    os.environ[THREADS_VAR] = str(threads)  # read by each server's worker (processes.work)
    os.environ[STATE_DIR_VAR] = state_dir
    try:
        for port in ports:
            server = lifecycle.start(port, api_key=api_key)
            engines.urls.append(server.base_url)
    except BaseException:
        stop_engines(engines)
        raise
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return engines


def stop_engines(engines: OwnEngines) -> None:
    """Stop the servers `start_engines` started."""
    saved = os.environ.get(STATE_DIR_VAR)
    os.environ[STATE_DIR_VAR] = engines.state_dir
    try:
        for port in engines.ports:
            lifecycle.stop(port)
    finally:
        if saved is None:
            os.environ.pop(STATE_DIR_VAR, None)
        else:
            os.environ[STATE_DIR_VAR] = saved
