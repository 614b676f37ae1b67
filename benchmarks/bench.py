"""Measure the offline model server and write BENCHMARKS.md (`make bench`).

Figures, not pass/fail: cold start to first reply, time to first streamed token,
decoding speed through the server against llama_cpp in-process on the same file
and prompt, how often tool_choice "auto" calls a tool (on a request that needs
it, and on one that does not), a bounded load run (benchmarks/load.py: throughput and p50/p95 latency
with many requests at once), a class of 30 simulated learners (benchmarks/class_load.py: one
server against the forwarding front over two own engines), and the install and test times
that `make` recorded.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import openai

from benchmarks import class_load, fresh_install, load, tool_arguments
from benchmarks.class_load import WEATHER_TOOL
from course_tools.isolation import free_port
from helpers import catalog, local_server
from helpers.environment import repo_root

PROMPT = [{"role": "user", "content": "Write a short paragraph about the history of the bicycle."}]
MAX_TOKENS = 128
REPEATS = 5
DECODING_ROUNDS = 7
# The same sampling on both paths (1.1 is llama-cpp-python's server default).
SAMPLING = {"temperature": 0, "seed": 1, "repeat_penalty": 1.1}


def client_for(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, timeout=120, max_retries=0)


def cold_start(port: int) -> float:
    """Seconds from no server to the first completed reply."""
    local_server.stop(port)
    started = time.perf_counter()
    server = local_server.start(port)
    client_for(server).chat.completions.create(model=server.model, messages=PROMPT, max_completion_tokens=16)
    return time.perf_counter() - started


def time_to_first_token(server) -> float:
    started = time.perf_counter()
    stream = client_for(server).chat.completions.create(
        model=server.model, messages=PROMPT, max_completion_tokens=MAX_TOKENS, stream=True
    )
    first = None
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - started
    return first


def after_a_client_gives_up(server, stream: bool) -> tuple[float, int]:
    """A client gives up on a reply that would run ~15 s (not streamed: after 2 s; streamed: after its first piece):
    seconds until the next request is answered.

    Before the server stopped replies whose client had gone, the next request waited for
    the whole runaway reply. Also returns how many replies /health says were stopped.
    """
    import httpx

    body = {
        "model": server.model,
        "messages": [{"role": "user", "content": "Count from 1 to 5000, one number per line."}],
        "max_tokens": 1800,
        "logit_bias": {"2": -100},  # the end-of-reply token never: the reply runs to its 1800 tokens
        "stream": stream,
    }
    headers = {"Authorization": f"Bearer {server.api_key}"}
    url = f"{server.base_url}/chat/completions"
    try:
        if stream:  # reads the first piece, then closes the connection
            with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as answer:
                for _ in answer.iter_raw():
                    break
        else:  # no byte comes before the reply is whole: the client times out
            httpx.post(url, json=body, headers=headers, timeout=2.0)
    except httpx.TimeoutException:
        pass
    gave_up = time.perf_counter()
    client_for(server).chat.completions.create(model=server.model, messages=PROMPT, max_completion_tokens=4)
    waited = time.perf_counter() - gave_up
    health = httpx.get(f"http://{server.host}:{server.port}/health", timeout=10).json()
    return waited, health.get("stopped_for_disconnect", 0)


LONG_SYSTEM = {
    "role": "system",
    "content": "You are the support assistant of a bicycle shop. "
    + "Answer politely, briefly and only about bicycles. " * 40,
}
QUESTIONS = ["What size of frame do I need?", "How often should I oil the chain?"]


def seeded_prompt_afresh(server) -> tuple[float, float, int]:
    """Seconds to a one-token reply to a ~450-token prompt that shares its system prompt with the
    request before it: without a seed (llama-cpp-python evaluates only the new question) and with
    one (the server evaluates the whole prompt afresh, so that the seeded reply repeats); medians
    of 5, and the prompt's length in tokens."""
    timings: dict[bool, list[float]] = {False: [], True: []}
    prompt_tokens = 0
    for round_ in range(10):
        seeded = bool(round_ % 2)
        question = QUESTIONS[round_ // 2 % 2]
        extra = {"seed": 7} if seeded else {}
        started = time.perf_counter()
        reply = client_for(server).chat.completions.create(
            model=server.model,
            messages=[LONG_SYSTEM, {"role": "user", "content": question}],
            max_completion_tokens=1,
            **extra,
        )
        timings[seeded].append(time.perf_counter() - started)
        prompt_tokens = reply.usage.prompt_tokens
    return statistics.median(timings[False]), statistics.median(timings[True]), prompt_tokens


def server_tokens_per_second(server) -> float:
    started = time.perf_counter()
    reply = client_for(server).chat.completions.create(
        model=server.model,
        messages=PROMPT,
        max_completion_tokens=MAX_TOKENS,
        temperature=SAMPLING["temperature"],
        seed=SAMPLING["seed"],
    )  # repeat penalty: the server's default, 1.1
    return reply.usage.completion_tokens / (time.perf_counter() - started)


TOOL_TRIES = 10


def auto_tool_calls(server, question: str) -> tuple[int, int]:
    """Of TOOL_TRIES replies with tool_choice="auto" (temperature 1): (calls, calls with valid arguments)."""
    calls = valid = 0
    for seed in range(TOOL_TRIES):
        reply = client_for(server).chat.completions.create(
            model=server.model,
            messages=[{"role": "user", "content": question}],
            tools=[WEATHER_TOOL],
            tool_choice="auto",
            temperature=1,
            seed=seed,
            max_completion_tokens=60,
        )
        tool_calls = reply.choices[0].message.tool_calls or []
        calls += bool(tool_calls)
        valid += bool(tool_calls) and all(_names_a_city(c.function.arguments) for c in tool_calls)
    return calls, valid


def _names_a_city(arguments: str) -> bool:
    """Arguments that are a JSON object with a string `city` (a call cut off at the token limit is not)."""
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("city"), str)


def in_process_tokens_per_second(llm) -> float:
    started = time.perf_counter()
    llm.reset()  # as the server does for a seeded request: the prompt evaluated from its first token
    reply = llm.create_chat_completion(messages=PROMPT, max_tokens=MAX_TOKENS, **SAMPLING)
    return reply["usage"]["completion_tokens"] / (time.perf_counter() - started)


def decoding_rounds(server, threads: list[int]) -> tuple[list[float], dict[int, list[float]]]:
    """Decoding speed through the server and in-process, measured in alternating rounds.

    Each round decodes the prompt once through the (otherwise idle) server, then once
    in-process at each thread count, so that a change in the machine's speed during the
    run (other processes, clock boost) reaches both paths alike. Measured one after the
    other instead, the same idle machine gave ratios from 0.80 to 1.29.
    """
    from llama_cpp import Llama

    llms = {
        t: Llama(
            model_path=str(local_server.model_file()),
            n_ctx=catalog.OFFLINE_CONTEXT_TOKENS,
            n_threads=t,
            n_threads_batch=t,
            verbose=False,
        )
        for t in threads
    }
    through_server: list[float] = []
    in_process: dict[int, list[float]] = {t: [] for t in threads}
    server_tokens_per_second(server)  # warm both paths once, unmeasured
    for llm in llms.values():
        in_process_tokens_per_second(llm)
    for _ in range(DECODING_ROUNDS):
        through_server.append(server_tokens_per_second(server))
        for t, llm in llms.items():
            in_process[t].append(in_process_tokens_per_second(llm))
    for llm in llms.values():
        llm.close()
    return through_server, in_process


def recorded_seconds(path: Path) -> str:
    if not path.is_file():
        return "not recorded yet"
    when = datetime.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return f"{int(path.read_text().strip())} s (recorded {when})"


def fresh_install_rows() -> list[tuple[str, str]]:
    """The last `make bench-install` figures (benchmarks/fresh_install.json), if measured."""
    if not fresh_install.RESULTS.is_file():
        return [("Fresh clone, empty pip cache: `make lab` to JupyterLab answering", "not measured yet")]
    return fresh_install.rows(json.loads(fresh_install.RESULTS.read_text()))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    os.environ["CHAT_TUTORIAL_STATE_DIR"] = tempfile.mkdtemp(prefix="chat-bench-")
    port = free_port()
    print(f"benchmarking on port {port} ...", flush=True)
    cold = [cold_start(port) for _ in range(REPEATS)]
    server = local_server.start(port)
    ttft = [time_to_first_token(server) for _ in range(5)]
    gave_up = [after_a_client_gives_up(server, stream) for stream in (False, True)]
    reused, afresh, long_prompt = seeded_prompt_afresh(server)
    needed = auto_tool_calls(server, "What is the weather in Paris right now?")
    not_needed = auto_tool_calls(server, "Tell me a joke about cats.")
    threads = sorted({1, os.cpu_count() or 1})
    server_rates, in_process_rates = decoding_rounds(server, threads)
    through_server = statistics.median(server_rates)
    in_process = {t: statistics.median(r) for t, r in in_process_rates.items()}
    best_threads = max(in_process, key=in_process.get)
    ratio = through_server / in_process[best_threads]
    round_ratios = [s / i for s, i in zip(server_rates, in_process_rates[best_threads], strict=True)]
    product_arguments = tool_arguments.measure(port)
    loaded = load.run_load(server.base_url, server.api_key, server.model)
    print(loaded.summary(), flush=True)
    local_server.stop(port)
    classroom = class_load.measure()  # a class of 30: one server, the front over own engines, over llama-server
    class_load.RESULTS.write_text(json.dumps(class_load.saved(classroom), indent=1) + "\n")

    root = repo_root()
    rows = [
        ("Offline server: cold start to first reply (median of 5)", f"{statistics.median(cold):.2f} s"),
        ("Time to first streamed token, warm server (median of 5)", f"{statistics.median(ttft) * 1000:.0f} ms"),
        (f"Decoding through the server (median of {DECODING_ROUNDS})", f"{through_server:.1f} tokens/s"),
        *[
            (f"Decoding in-process, llama_cpp.Llama, {t} thread(s) (median of {DECODING_ROUNDS})", f"{r:.1f} tokens/s")
            for t, r in in_process.items()
        ],
        (
            f"Server / in-process at its best ({best_threads} threads); goal >= 0.95",
            f"{ratio:.2f} (rounds: {min(round_ratios):.2f} to {max(round_ratios):.2f})",
        ),
        (
            "A client leaves a ~15 s reply (after 2 s / its first streamed piece): next request answered after",
            f"{gave_up[0][0]:.2f} s / {gave_up[1][0]:.2f} s ({gave_up[1][1]} replies stopped for the server)",
        ),
        (
            f"A {long_prompt}-token prompt sharing its system prompt with the request before: one-token reply "
            "unseeded (prefix reused) / seeded (evaluated afresh, so the reply repeats), median of 5",
            f"{reused * 1000:.0f} ms / {afresh * 1000:.0f} ms",
        ),
        (
            'tool_choice "auto", a request that needs the tool: replies that call it (valid arguments)',
            f"{needed[0]}/{TOOL_TRIES} ({needed[1]}/{TOOL_TRIES})",
        ),
        (
            'tool_choice "auto", a request that needs no tool: replies that call it anyway',
            f"{not_needed[0]}/{TOOL_TRIES}",
        ),
        *tool_arguments.rows(product_arguments),
        (
            f"Load run: {load.REQUESTS} requests at once from {load.PROCESSES} processes",
            f"{sum(o.ok for o in loaded.outcomes)} answered; {len(loaded.problems)} problems (lost, failed, mixed up)",
        ),
        (
            "Load run: throughput",
            f"{len(loaded.outcomes) / loaded.wall_seconds:.2f} requests/s, "
            f"{loaded.completion_tokens / loaded.wall_seconds:.1f} completion tokens/s",
        ),
        (
            "Load run: latency per request, p50 / p95",
            f"{loaded.percentile(0.5):.2f} s / {loaded.percentile(0.95):.2f} s",
        ),
        ("`make test` wall time, warm .venv (last run)", recorded_seconds(root / ".cache" / "test-seconds")),
        (
            "Install of requirements.txt, no compiler needed (last install)",
            recorded_seconds(root / ".venv" / ".install-seconds"),
        ),
        (
            "Install of requirements-offline.txt, the offline model (last install)",
            recorded_seconds(root / ".venv" / ".offline-install-seconds"),
        ),
        (
            "tests/test_install.py: fresh venv, compilers hidden, pip cache off (last run)",
            recorded_seconds(root / ".cache" / "install-test-seconds"),
        ),
        (
            "tests/test_package.py: build the wheel, install it with [offline] into a fresh venv "
            "(pip's cache), copy the lessons, run lesson 3 offline (last run)",
            recorded_seconds(root / ".cache" / "package-test-seconds"),
        ),
        *fresh_install_rows(),
        *class_load.rows(classroom),
    ]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (benchmarks/bench.py). Figures, not tests: nothing here fails a build.",
        "",
        f"Measured {datetime.date.today()} on {os.cpu_count()} cores, {cpu_name()}, "
        f"Python {platform.python_version()}.",
        f"Model: {catalog.OFFLINE_MODEL} (Q4_1 GGUF from {catalog.OFFLINE_MODEL_PACKAGE}); "
        f"prompt: one user message, up to {MAX_TOKENS} completion tokens, "
        "temperature 0 and repeat penalty 1.1 on both paths.",
        "",
        "| What | Figure |",
        "| --- | --- |",
        *[f"| {what} | {figure} |" for what, figure in rows],
        "",
        f"The load run mixes streamed and non-streamed requests, {load.BASE_TOKENS} to "
        f"{load.max_tokens_for(load.REQUESTS - 1)} completion tokens each; the server",
        "answers one at a time, so latency includes the wait for the requests ahead.",
        "Tokens per second count completion tokens over the whole call's wall time (prompt",
        "processing included), the same way through the server and in-process, in alternating",
        f"rounds ({DECODING_ROUNDS}: server, then in-process at each thread count) so that a change in the",
        "machine's speed during the run reaches both paths alike; the ratio's range is over the rounds.",
        'Tool calls: "What is the weather in Paris right now?" and "Tell me a joke about cats." with one',
        f"tool (get_weather), tool_choice auto, temperature 1, seeds 0 to {TOOL_TRIES - 1}. A model that tells",
        "the two requests apart calls the tool in the first row and not in the second.",
        "The offline model's install includes compiling llama.cpp when pip had no cached wheel;",
        "with a cached wheel, it takes seconds.",
        "The package test installs from pip's cache (llama-cpp-python's wheel, compiled once); with an empty",
        "cache it would compile llama.cpp first, minutes more. It runs on 2 cores shared with other work.",
        *fresh_install.NOTE,
        *class_load.NOTE,
        "",
    ]
    (root / "BENCHMARKS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
