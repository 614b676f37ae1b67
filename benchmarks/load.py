"""A bounded load run against the offline server: every request answered, none lost, none mixed up.

REQUESTS chat completions, streamed and not in turn, are sent at once from
PROCESSES processes (REQUESTS / PROCESSES threads each, released together by a
barrier), to 127.0.0.1 only. Request i carries a prompt i words longer than
request 0's and asks for max_completion_tokens = BASE_TOKENS + i, so each reply
can be traced to its request:

- not streamed: usage.prompt_tokens must be request 0's prompt tokens + i (measured
  once before the run), and usage.completion_tokens at most BASE_TOKENS + i (equal
  to it when the reply stopped for length);
- streamed: the number of content chunks must fit BASE_TOKENS + i the same way,
  and the stream must end with a finish_reason;
- every reply id is different.

Run it by hand with `python -m benchmarks.load` (it starts a server on a free port
and stops it after); tests/test_load.py and benchmarks/bench.py call `run_load`.
It stops by itself: a fixed number of requests, each with a timeout.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

REQUESTS = 32
PROCESSES = 4
BASE_TOKENS = 8
REQUEST_TIMEOUT_SECONDS = 300.0
WORD = " river"  # one token per repetition for SmolLM2's tokenizer; checked by the calibration


def prompt_for(index: int) -> list[dict]:
    """Request `index`'s messages: the same text with `index` more words than request 0's."""
    return [{"role": "user", "content": "Keep writing this list of words:" + WORD * (index + 1)}]


def max_tokens_for(index: int) -> int:
    return BASE_TOKENS + index


@dataclass
class Outcome:
    """What one request got back, and how long it took."""

    index: int
    stream: bool
    ok: bool = False
    error: str = ""
    reply_id: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None  # from usage, or the number of content chunks when streamed
    finish_reason: str | None = None
    seconds: float = 0.0


@dataclass
class LoadResult:
    outcomes: list[Outcome]
    wall_seconds: float
    base_prompt_tokens: int
    problems: list[str] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return sorted(o.seconds for o in self.outcomes if o.ok)

    def percentile(self, fraction: float) -> float:
        values = self.latencies
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(fraction * len(values) + 0.5) - 1))]

    @property
    def completion_tokens(self) -> int:
        return sum(o.completion_tokens or 0 for o in self.outcomes if o.ok)

    def summary(self) -> str:
        answered = sum(o.ok for o in self.outcomes)
        return (
            f"{answered}/{len(self.outcomes)} answered in {self.wall_seconds:.1f} s: "
            f"{len(self.outcomes) / self.wall_seconds:.2f} requests/s, "
            f"{self.completion_tokens / self.wall_seconds:.1f} completion tokens/s; latency p50 "
            f"{self.percentile(0.5):.2f} s, p95 {self.percentile(0.95):.2f} s; problems: {len(self.problems)}"
        )


def _client(base_url: str, api_key: str):
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=REQUEST_TIMEOUT_SECONDS, max_retries=0)


def _one(client, model: str, index: int, release: float) -> Outcome:
    stream = index % 2 == 1
    outcome = Outcome(index=index, stream=stream)
    wait = release - time.time()
    if wait > 0:
        time.sleep(wait)
    started = time.perf_counter()
    try:
        request = {"model": model, "messages": prompt_for(index), "max_completion_tokens": max_tokens_for(index)}
        if stream:
            ids, chunks = set(), 0
            for chunk in client.chat.completions.create(**request, stream=True):
                ids.add(chunk.id)
                for choice in chunk.choices:
                    chunks += bool(choice.delta.content)
                    outcome.finish_reason = choice.finish_reason or outcome.finish_reason
            outcome.reply_id = ",".join(sorted(ids))
            outcome.completion_tokens = chunks
        else:
            reply = client.chat.completions.create(**request)
            outcome.reply_id = reply.id
            outcome.prompt_tokens = reply.usage.prompt_tokens
            outcome.completion_tokens = reply.usage.completion_tokens
            outcome.finish_reason = reply.choices[0].finish_reason
        outcome.ok = True
    except Exception as error:  # noqa: BLE001 - a failed request is a finding, not a crash of the run
        outcome.error = f"{type(error).__name__}: {error}"[:300]
    outcome.seconds = time.perf_counter() - started
    return outcome


def _process(base_url: str, api_key: str, model: str, indices: list[int], barrier, results) -> None:
    """One load process: all its requests at once, from threads, released at the same moment."""
    client = _client(base_url, api_key)
    barrier.wait()
    release = time.time() + 0.2  # every process releases its threads at (about) the same moment
    with ThreadPoolExecutor(max_workers=len(indices)) as pool:
        outcomes = list(pool.map(lambda i: _one(client, model, i, release), indices))
    results.put([asdict(o) for o in outcomes])


def calibrate(base_url: str, api_key: str, model: str) -> int:
    """Request 0's prompt tokens, and a check that each extra word adds exactly one token."""
    client = _client(base_url, api_key)
    counts = [
        client.chat.completions.create(model=model, messages=prompt_for(i), max_completion_tokens=1).usage.prompt_tokens
        for i in (0, 1, 5)
    ]
    if counts != [counts[0], counts[0] + 1, counts[0] + 5]:
        raise RuntimeError(f"each word should add one prompt token; got {counts} for 0, 1 and 5 extra words")
    return counts[0]


def check(outcomes: list[Outcome], base_prompt_tokens: int, requests: int) -> list[str]:
    """Everything wrong with a run: lost or failed requests, and replies that do not fit their request."""
    problems = []
    seen = sorted(o.index for o in outcomes)
    if seen != list(range(requests)):
        problems.append(f"expected one outcome per request 0..{requests - 1}, got {seen}")
    ids = [o.reply_id for o in outcomes if o.ok]
    if len(set(ids)) != len(ids):
        problems.append("two requests got the same reply id")
    for o in outcomes:
        limit = max_tokens_for(o.index)
        if not o.ok:
            problems.append(f"request {o.index} failed: {o.error}")
            continue
        if o.finish_reason not in ("length", "stop"):
            problems.append(f"request {o.index} ended without a finish reason ({o.finish_reason!r})")
        if not o.stream and o.prompt_tokens != base_prompt_tokens + o.index:
            problems.append(
                f"request {o.index} got a reply for a prompt of {o.prompt_tokens} tokens, "
                f"not {base_prompt_tokens + o.index}"
            )
        if o.completion_tokens is None or o.completion_tokens > limit:
            problems.append(f"request {o.index} got {o.completion_tokens} completion tokens; it allowed {limit}")
        elif o.finish_reason == "length" and o.completion_tokens != limit:
            problems.append(f"request {o.index} stopped for length after {o.completion_tokens} tokens, not {limit}")
    return problems


def run_load(
    base_url: str, api_key: str, model: str, *, requests: int = REQUESTS, processes: int = PROCESSES
) -> LoadResult:
    """Send `requests` requests at once from `processes` processes; return what came back, checked."""
    if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("the load run only targets a server on this machine (127.0.0.1)")
    base_prompt_tokens = calibrate(base_url, api_key, model)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    shares = [list(range(p, requests, processes)) for p in range(processes)]
    workers = [
        context.Process(target=_process, args=(base_url, api_key, model, share, barrier, results), daemon=True)
        for share in shares
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    collected: list[Outcome] = []
    deadline = time.monotonic() + REQUEST_TIMEOUT_SECONDS + 60
    for _ in workers:
        remaining = max(1.0, deadline - time.monotonic())
        try:
            collected += [Outcome(**o) for o in results.get(timeout=remaining)]
        except Exception:  # noqa: BLE001 - a process that never reports leaves its requests missing
            break
    wall = time.perf_counter() - started - 0.2  # the threads start 0.2 s after the barrier
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.terminate()
    outcomes = sorted(collected, key=lambda o: o.index)
    return LoadResult(outcomes, wall, base_prompt_tokens, check(outcomes, base_prompt_tokens, requests))


def main() -> None:
    import os
    import tempfile

    from course_tools.isolation import free_port
    from helpers import local_server

    os.environ["CHAT_TUTORIAL_STATE_DIR"] = tempfile.mkdtemp(prefix="chat-load-")
    port = free_port()
    server = local_server.start(port)
    try:
        result = run_load(server.base_url, server.api_key, server.model)
    finally:
        local_server.stop(port)
    print(result.summary())
    for problem in result.problems:
        print(" -", problem)


if __name__ == "__main__":
    main()
