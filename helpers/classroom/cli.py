"""The instructor's commands: start a class server, see usage, revoke a key, stop it.

    python -m helpers.classroom start --learners 30 [--host 0.0.0.0] [--port 8080]
                                      [--engines K | --engine URL ... | --llama-server BINARY]
                                      [--engine-slots N] [--rpm 60] [--tpm 20000] [--keep-keys]
    python -m helpers.classroom usage [--csv FILE]
    python -m helpers.classroom revoke learner-07
    python -m helpers.classroom stop

`start` runs in the foreground (Ctrl-C stops it too); the other commands talk to it from a
second terminal, with the instructor's key from the keys file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from .. import catalog
from ..offline import state as offline_state
from ..offline.llama_server import DEFAULT_SLOTS as LLAMA_SERVER_SLOTS
from .front import ClassFront
from .limits import DEFAULT_RPM, DEFAULT_TPM, Limits
from .roster import Roster

DEFAULT_PORT = 8080
DEFAULT_ENGINES = 2  # own engines on 2 cores: one per core


def state_dir() -> Path:
    """Where the keys file and the running server's record live (`.cache/classroom/`, ignored by git)."""
    return offline_state.state_dir(offline_state.CLASSROOM)


def keys_file() -> Path:
    return state_dir() / "class-keys.json"


def _record_file() -> Path:
    return state_dir() / "class-server.json"


def build_inner_app(
    *,
    engines: int,
    engine_urls: list[str],
    engine_key: str | None,
    model: str,
    inner_key: str,
    engine_model: str | None = None,
    engine_tools: str = "native",
    engine_slots: int = 1,
    llama_server: str | None = None,
):
    """The app behind the class front, and a function that stops what it started: (app, stop).

    - `engine_urls` given: existing engines (vLLM, Ollama, llama.cpp's llama-server; or
      `python -m llama_cpp.server` with `engine_tools="grammar"`) behind the course's own
      validation and practice failures (helpers/offline/app.py: create_front_app), learners
      calling the model `model`, the engines `engine_model`, `engine_slots` requests at once each;
    - `llama_server` given (its binary): llama.cpp's llama-server started on 127.0.0.1 with the
      course's model and every core, `engine_slots` requests at once, behind the same front with
      the course's tool grammar (offline/llama_server.py);
    - otherwise `engines` course offline servers on 127.0.0.1 ports (each with the whole front
      inside), the cores split between them, behind one forwarder (create_engines_app).
    Either way requests get an engine in arrival order (offline/upstream.py: EnginePool).
    The front sends `inner_key` as the key of every request it lets through.
    """
    from ..offline.app import create_engines_app, create_front_app
    from ..offline.engines import start_engines, stop_engines

    if engine_urls:
        app = create_front_app(
            engine_urls,
            engine_key=engine_key,
            model=model,
            api_key=inner_key,
            engine_model=engine_model or model,
            native_tools=engine_tools == "native",
            slots_per_engine=engine_slots,
        )
        return app, lambda: None
    if llama_server is not None:
        from ..offline.llama_server import start_llama_server, stop_llama_server

        server = start_llama_server(llama_server or None, slots=engine_slots)
        app = create_front_app(
            [server.url], engine_key=server.api_key, model=model, api_key=inner_key, slots_per_engine=server.slots
        )
        return app, lambda: stop_llama_server(server)
    own = start_engines(engines)
    app = create_engines_app(own.urls, engine_key=own.api_key)
    return app, lambda: stop_engines(own)


def _print_keys(roster: Roster, base_url: str, model: str, path: Path, *, again: bool = False) -> None:
    print(f"Class server: {base_url}  (model {model})")
    if again:
        print(f"The {len(roster.learners)} learner keys handed out before still work; they are in {path}.\n")
        return
    print(f"Keys, shown once here and kept in {path} (readable by you only):\n")
    for holder in roster.learners.values():
        print(f"  {holder.name}  {holder.key}")
    print(f"\n  instructor  {roster.instructor.key}  (usage, revoke; not limited: keep it to yourself)\n")
    print("Each learner's .env:")
    print(f"  OPENAI_BASE_URL={base_url}\n  OPENAI_API_KEY=<their key>\n  OPENAI_MODEL={model}\n", flush=True)


def start(args) -> int:
    import uvicorn

    limits = Limits(args.rpm, args.tpm)
    model = args.model or catalog.OFFLINE_MODEL
    path = Path(args.keys_file) if args.keys_file else keys_file()
    if args.keep_keys and path.exists():  # a restart mid-class: the keys handed out stay valid
        roster = Roster.load(path)
        if len(roster.learners) != args.learners:
            held = len(roster.learners)
            raise SystemExit(f"{path} holds {held} learner keys, not {args.learners}: drop --keep-keys.")
    else:
        roster = Roster.issue(args.learners, path)
    inner_key = secrets.token_urlsafe(24)  # between the front and the engines; never shown
    if args.host not in (catalog.OFFLINE_HOST, "localhost"):
        print(
            f"warning: listening on {args.host}: every machine that can reach this one may try keys. The "
            "server speaks plain HTTP: keys and all text cross the network readable (INSTRUCTORS.md: TLS).",
            file=sys.stderr,
        )
    inner_app, stop_engines = build_inner_app(
        engines=args.engines,
        engine_urls=args.engine or [],
        engine_key=args.engine_key,
        model=model,
        inner_key=inner_key,
        engine_model=args.engine_model,
        engine_tools=args.engine_tools,
        engine_slots=args.engine_slots or (LLAMA_SERVER_SLOTS if args.llama_server is not None else 1),
        llama_server=args.llama_server,
    )
    front = ClassFront(inner_app, roster, limits, inner_key=inner_key)
    shown_host = "your-machine" if args.host in ("0.0.0.0", "::") else args.host
    _print_keys(roster, f"http://{shown_host}:{args.port}/v1", model, path, again=args.keep_keys)
    logging.basicConfig(level=logging.INFO, format="[class %(asctime)s] %(message)s", datefmt="%H:%M:%S")
    _record_file().write_text(json.dumps({"pid": os.getpid(), "port": args.port, "keys_file": str(path)}))
    # uvicorn stops gracefully on SIGTERM (`stop`) or Ctrl-C, then raises the signal again: make
    # that an ordinary exit, so that the engines started above are stopped too.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        uvicorn.run(front, host=args.host, port=args.port, log_level="warning", access_log=False)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop_engines()
        _record_file().unlink(missing_ok=True)
    return 0


def _exit_quietly(signum, frame):
    raise SystemExit(0)


def _running() -> dict:
    try:
        return json.loads(_record_file().read_text())
    except (OSError, ValueError):
        raise SystemExit("No class server is running from this folder (python -m helpers.classroom start).") from None


def _instructor_request(method: str, page: str, **kwargs):
    import requests

    record = _running()
    roster = Roster.load(Path(record["keys_file"]))
    headers = {"Authorization": f"Bearer {roster.instructor.key}"}
    url = f"http://127.0.0.1:{record['port']}{page}"
    return requests.request(method, url, headers=headers, timeout=10, **kwargs)


def usage(args) -> int:
    if args.csv:
        response = _instructor_request("GET", "/class/usage.csv")
        response.raise_for_status()
        Path(args.csv).write_text(response.text)
        print(f"wrote {args.csv}")
        return 0
    response = _instructor_request("GET", "/class/usage.json")
    response.raise_for_status()
    rows = response.json()["data"]
    print(f"{'name':<12} {'requests':>8} {'in':>8} {'out':>8} {'errors':>6} {'429s':>5}  last seen")
    for row in rows:
        mark = "  (revoked)" if row["revoked"] else ""
        print(
            f"{row['name']:<12} {row['requests']:>8} {row['input_tokens']:>8} {row['output_tokens']:>8} "
            f"{row['errors']:>6} {row['rate_limited']:>5}  {row['last_seen'] or '-'}{mark}"
        )
    return 0


def revoke(args) -> int:
    response = _instructor_request("POST", "/class/revoke", json={"learner": args.learner})
    if response.status_code != 200:
        print(f"error: {response.json()['error']['message']}", file=sys.stderr)
        return 1
    body = response.json()
    print(f"revoked {body['revoked']} ({body['key']}); their next request gets a 401")
    return 0


def stop(args) -> int:
    import psutil

    record = _running()
    try:
        process = psutil.Process(record["pid"])
        if not any("helpers.classroom" in part for part in process.cmdline()):
            raise psutil.NoSuchProcess(record["pid"])
    except psutil.NoSuchProcess:
        _record_file().unlink(missing_ok=True)
        print("the class server had already stopped")
        return 0
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except psutil.TimeoutExpired:
        process.kill()
    time.sleep(0.1)
    print("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.classroom", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    begin = commands.add_parser("start", help="issue keys and serve the class (foreground)")
    begin.add_argument("--learners", type=int, required=True, help="how many learner keys to issue")
    begin.add_argument("--host", default=catalog.OFFLINE_HOST, help="0.0.0.0 opens it to your network")
    begin.add_argument("--port", type=int, default=DEFAULT_PORT)
    engines = begin.add_mutually_exclusive_group()
    engines.add_argument("--engines", type=int, default=DEFAULT_ENGINES, help="own offline model servers to run")
    engines.add_argument("--engine", action="append", metavar="URL", help="an existing engine's base URL (…/v1)")
    engines.add_argument(
        "--llama-server",
        nargs="?",
        const="",
        metavar="BINARY",
        help="start llama.cpp's llama-server with the course model (default: $LLAMA_SERVER, PATH); docs/engines.md",
    )
    begin.add_argument("--engine-key", default=None, help="the key the existing engine expects")
    begin.add_argument("--model", default=None, help="the model name learners use (default: the offline model's)")
    begin.add_argument("--engine-model", default=None, help="the existing engine's name for it (default: --model)")
    begin.add_argument(
        "--engine-tools",
        choices=["native", "grammar"],
        default="native",
        help="native: the engine does tools itself (vLLM, Ollama, llama-server); grammar: python -m llama_cpp.server",
    )
    begin.add_argument(
        "--engine-slots",
        type=int,
        default=None,
        help=f"requests each engine serves at once (an existing engine: 1; --llama-server: {LLAMA_SERVER_SLOTS})",
    )
    begin.add_argument("--rpm", type=int, default=DEFAULT_RPM, help=f"requests per minute per key ({DEFAULT_RPM})")
    begin.add_argument("--tpm", type=int, default=DEFAULT_TPM, help=f"tokens per minute per key ({DEFAULT_TPM})")
    begin.add_argument("--keys-file", default=None, help="where to write the keys (default .cache/classroom/)")
    begin.add_argument("--keep-keys", action="store_true", help="reuse the keys file's keys (a restart mid-class)")
    report = commands.add_parser("usage", help="requests, tokens, errors and last seen per key")
    report.add_argument("--csv", metavar="FILE", help="write it as CSV instead")
    take_back = commands.add_parser("revoke", help="revoke a learner's key while the server runs")
    take_back.add_argument("learner", help="learner-07, or the key itself")
    commands.add_parser("stop", help="stop the class server")
    args = parser.parse_args(argv)
    if args.command == "start" and args.learners < 1:
        parser.error("--learners must be at least 1")
    return {"start": start, "usage": usage, "revoke": revoke, "stop": stop}[args.command](args)
