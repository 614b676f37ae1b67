"""The offline model's command lines: the server's and the build's.

    python -m helpers.local_server start | stop | status    (server_main)
    python -m helpers.local_server start --host 0.0.0.0     # a class server: set a key first
    python -m helpers.offline_build start | install | status (build_main)

Those two module names are the ones the README, the Makefile and the notebooks have
always used (helpers/local_server.py, helpers/offline_build.py hand on to here). The
server's own processes are started the same way: `... serve` (the supervisor) and
`... worker` (the model server), see processes.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import catalog
from ..environment import repo_root
from . import build, lifecycle, processes
from .model_file import LocalServerError
from .state import configured_api_key, configured_port, log_file


def server_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.local_server",
        description="Start, stop or check the offline practice model server.",
    )
    parser.add_argument("command", choices=["start", "stop", "status", "serve", "worker"])
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument(
        "--host",
        default=catalog.OFFLINE_HOST,
        help="address to listen on (default 127.0.0.1; 0.0.0.0 opens it to your network)",
    )
    parser.add_argument("--fd", type=int, default=None, help=argparse.SUPPRESS)  # worker: inherited socket
    args = parser.parse_args(argv)
    port = args.port or configured_port()
    if args.command == "serve":
        return processes.supervise(args.host, port)
    if args.command == "worker":
        return processes.work(args.host, port, args.fd)
    if args.command == "stop":
        print("stopped" if lifecycle.stop(port) else f"no offline server was running on port {port}")
        return 0
    if args.command == "status":
        server = lifecycle.status(port)
        if server is None:
            stuck = processes.our_process(lifecycle.running_pid(port))
            if stuck is not None:
                print(
                    f"not answering: the offline server on port {port} (pid {stuck.pid}) is restarting "
                    "or stuck; `python -m helpers.local_server start` waits for it or replaces it"
                )
            else:
                print(f"no offline server on port {port}")
            return 1
        whose = lifecycle.started_elsewhere(port)
        print(f"running: {server.base_url} serving {server.model} (pid {server.pid})")
        ours = (lifecycle.server_health(catalog.OFFLINE_HOST, port) or {}).get("checkout") == str(repo_root())
        replaces = (" (`start` from here replaces it)" if ours else " (`stop` stops it)") if whose else ""
        print(f"started by: {whose or 'this copy of the course'}{replaces}")
        print(f"log: {log_file(port)}")
        return 0
    if args.host not in (catalog.OFFLINE_HOST, "localhost"):
        if configured_api_key() == catalog.OFFLINE_API_KEY:
            print(
                f"warning: listening on {args.host} lets other machines use this server, and its key is "
                f"still the public default. Set your own {catalog.OFFLINE_API_KEY_VAR} in .env first.",
                file=sys.stderr,
            )
        else:
            print(
                f"warning: listening on {args.host} lets every machine that can reach this one use "
                f"this server (with the key from {catalog.OFFLINE_API_KEY_VAR}).",
                file=sys.stderr,
            )
    try:
        server = lifecycle.start(port, host=args.host)
    except LocalServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"running: {server.base_url} serving {server.model} (pid {server.pid})")
    return 0


def build_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.offline_build", description=build.__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "install", "status", "run"])
    parser.add_argument("--stamp", type=Path, default=None, help="a file to touch once the model is installed")
    args = parser.parse_args(argv)
    if args.command == "run":  # the background build itself
        return build.build(args.stamp)
    if args.command == "start":
        state = build.start_build(args.stamp)
        if state.status == "building":
            print(f"Building the offline model in the background; log: {build.shown(build.log_file())}")
        return 0
    if args.command == "install":
        state = build.build_state()
        if state.status == "building":
            build.wait_for_offline_model()
            if args.stamp is not None:
                args.stamp.touch()
            return 0
        if state.status == "ready" and args.stamp is None:
            return 0
        print(f"Installing the offline model ({build.REQUIREMENTS}); log: {build.shown(build.log_file())}", flush=True)
        code = build.build(args.stamp, echo=True)
        if code:
            print(f"error: {build.build_state().describe()}", file=sys.stderr)
        return code
    state = build.build_state()
    print(state.describe())
    return 0 if state.status in ("ready", "building") else 1
