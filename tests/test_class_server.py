"""The class server's front (helpers/classroom): keys per learner, OpenAI's 401 and 429, usage per key.

Tests marked `server` put the front in front of a real offline model server (its own
port, key and state folder), reached through the forwarder `start` uses
(helpers/offline/app.py: create_engines_app). `start` itself, and lessons run against it
with a learner's key, are in test_classroom.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
import time

import httpx
import openai
import pytest
import uvicorn

from course_tools.isolation import free_port
from helpers import catalog, local_server
from helpers.classroom import ClassFront, Limits, RateLimiter, Roster, cli
from helpers.classroom.limits import DEFAULT_RPM, duration, reservation
from helpers.offline.app import create_engines_app

ENGINE_KEY = "engine-key-for-the-class-tests"
MODEL = catalog.OFFLINE_MODEL
server = pytest.mark.server


# --- A real model behind the class server's own forwarder ------------------------------


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One offline model server for the module, with a key only the front knows."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAT_TUTORIAL_STATE_DIR", str(tmp_path_factory.mktemp("engine-state")))
        port = free_port()
        running = local_server.start(port, api_key=ENGINE_KEY)
        yield running
        local_server.stop(port)


def serve(app) -> tuple[str, callable]:
    """Serve `app` on a free loopback port in a thread; return its base URL and a stop function."""
    port = free_port()
    uvi = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvi.started and time.monotonic() < deadline:
        time.sleep(0.02)

    def stop():
        uvi.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
def make_class(engine, tmp_path, monkeypatch):
    """A class front over the real engine: make_class(learners, limits) -> (base URL, roster, front)."""
    monkeypatch.setenv("CHAT_TUTORIAL_STATE_DIR", str(tmp_path / "class-state"))
    stops = []

    def make(learners=3, limits=None):
        roster = Roster.issue(learners, cli.keys_file())
        inner = create_engines_app([engine.base_url], engine_key=ENGINE_KEY)  # what `start` builds
        front = ClassFront(inner, roster, limits, inner_key=ENGINE_KEY)
        base, stop = serve(front)
        stops.append(stop)
        # what `start` records, so that the CLI's usage and revoke reach this server
        port = int(base.rsplit(":", 1)[1])
        record = {"pid": os.getpid(), "port": port, "keys_file": str(cli.keys_file())}
        (cli.state_dir() / "class-server.json").write_text(json.dumps(record))
        return base, roster, front

    yield make
    for stop in stops:
        stop()


def client_for(base: str, key: str, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, **options)


def ask(client: openai.OpenAI, **extra):
    return client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi."}], max_completion_tokens=8, **extra
    )


# --- Keys ---------------------------------------------------------------------------------


def test_the_keys_file_holds_every_key_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "keys" / "class-keys.json"
    roster = Roster.issue(30, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert [entry["name"] for entry in saved["learners"]][:2] == ["learner-01", "learner-02"]
    assert {entry["key"] for entry in saved["learners"]} == {h.key for h in roster.learners.values()}
    assert len({h.key for h in roster.learners.values()} | {roster.instructor.key}) == 31
    roster.revoke("learner-07")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Roster.load(path).learners["learner-07"].revoked


@server
def test_a_learner_key_works_with_the_openai_sdk(make_class):
    base, roster, _ = make_class()
    reply = client_for(base, roster.learners["learner-01"].key).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hi."}], max_completion_tokens=8
    )
    completion = reply.parse()
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage.completion_tokens > 0
    assert reply.headers["x-ratelimit-limit-requests"] == str(DEFAULT_RPM)
    assert reply.headers["x-ratelimit-remaining-requests"] == str(DEFAULT_RPM - 1)
    # the instructor's key works too, and is not limited
    assert ask(client_for(base, roster.instructor.key)).choices


@server
def test_a_wrong_missing_or_revoked_key_gets_openais_401(make_class, capsys):
    base, roster, _ = make_class()
    for key in ["class-not-a-real-key-0000000000000", "sk-proj-" + "x" * 40]:
        with pytest.raises(openai.AuthenticationError) as caught:
            ask(client_for(base, key, max_retries=0))
        assert caught.value.status_code == 401
        assert caught.value.body["code"] == "invalid_api_key"
        assert caught.value.body["type"] == "invalid_request_error"
        assert caught.value.body["message"].startswith("Incorrect API key provided")
        assert key not in caught.value.body["message"]  # masked, as OpenAI does
    missing = httpx.post(f"{base}/v1/chat/completions", json={"model": MODEL, "messages": []})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "invalid_api_key"

    learner = client_for(base, roster.learners["learner-02"].key, max_retries=0)
    assert ask(learner).choices
    assert cli.main(["revoke", "learner-02"]) == 0  # the instructor's command, while the server runs
    assert "revoked learner-02" in capsys.readouterr().out
    with pytest.raises(openai.AuthenticationError) as caught:
        ask(learner)
    assert caught.value.body["code"] == "invalid_api_key" and "revoked" in caught.value.body["message"]
    assert ask(client_for(base, roster.learners["learner-03"].key)).choices  # the others carry on
    assert Roster.load(cli.keys_file()).learners["learner-02"].revoked  # a restart keeps it revoked


# --- Limits ---------------------------------------------------------------------------------


@server
def test_a_key_over_its_requests_limit_gets_openais_429_with_the_headers(make_class):
    base, roster, _ = make_class(limits=Limits(requests_per_minute=2, tokens_per_minute=100_000))
    learner = client_for(base, roster.learners["learner-01"].key, max_retries=0)
    ask(learner)
    ask(learner)
    with pytest.raises(openai.RateLimitError) as caught:
        ask(learner)
    error = caught.value
    assert error.status_code == 429
    assert error.body["code"] == "rate_limit_exceeded" and error.body["type"] == "requests"
    assert "requests per min (RPM): Limit 2, Used 2, Requested 1" in error.body["message"]
    headers = error.response.headers
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-limit-tokens"] == "100000"
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    assert 1 <= int(headers["retry-after"]) <= 60
    # another learner is not held back by this one's limit
    assert ask(client_for(base, roster.learners["learner-02"].key, max_retries=0)).choices


@server
def test_practice_failures_pass_through_and_do_not_count_against_the_limit(make_class):
    base, roster, _ = make_class(limits=Limits(requests_per_minute=2, tokens_per_minute=100_000))
    learner = client_for(base, roster.learners["learner-01"].key, max_retries=0)
    for _ in range(3):  # lesson 10 asks for failures on purpose: the engine's practice 429, not the class's
        with pytest.raises(openai.RateLimitError) as caught:
            ask(learner, extra_headers={"X-Practice-Fail": "429"})
        assert "class" not in caught.value.body["message"]
        assert caught.value.response.headers.get_list("x-ratelimit-limit-requests") != ["2"]
    ask(learner)
    ask(learner)  # both real requests still fit the limit of 2
    with pytest.raises(openai.RateLimitError) as caught:
        ask(learner)
    assert "Limit 2, Used 2" in caught.value.body["message"]


@server
def test_a_key_over_its_tokens_limit_gets_a_429_and_a_short_reply_gives_back_its_reservation(make_class):
    base, roster, front = make_class(limits=Limits(requests_per_minute=100, tokens_per_minute=300))
    learner = client_for(base, roster.learners["learner-01"].key, max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        learner.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=400
        )
    assert caught.value.body["type"] == "tokens" and "Request too large" in caught.value.body["message"]
    reply = learner.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=200
    )
    used = reply.parse().usage.total_tokens
    assert int(reply.headers["x-ratelimit-remaining-tokens"]) == 300 - 200  # reserved up front
    remaining = dict(front.limiter.headers("learner-01"))[b"x-ratelimit-remaining-tokens"]
    assert int(remaining) == 300 - used  # replaced by the reply's usage once it ended


def test_the_limiter_counts_a_sliding_minute():
    now = [1000.0]
    limiter = RateLimiter(Limits(requests_per_minute=2, tokens_per_minute=1000), clock=lambda: now[0])
    first = limiter.admit("learner-01", 600)
    assert first.admitted
    refused = limiter.admit("learner-01", 600)
    assert not refused.admitted and refused.kind == "tokens" and refused.retry_after == 1  # only in flight
    limiter.settle("learner-01", first.ticket, 100)
    second = limiter.admit("learner-01", 600)
    assert second.admitted
    now[0] += 30
    third = limiter.admit("learner-01", 10)
    assert not third.admitted and third.kind == "requests" and third.retry_after == 30
    now[0] += 30.5
    assert limiter.admit("learner-01", 10).admitted  # the first request has left the window


def test_reservations_and_reset_durations_read_like_openais():
    assert reservation({"max_completion_tokens": 1000}, 200) == 1000
    assert reservation({"max_tokens": 10}, 4000) == 1000  # a long request counts its own size
    assert reservation({}, 40) == catalog.OFFLINE_DEFAULT_MAX_TOKENS  # the most the server writes then
    assert [duration(s) for s in (0.012, 1, 17.5, 360)] == ["12ms", "1s", "17.5s", "6m0s"]
    names = [name.decode() for name, _ in RateLimiter().headers("learner-01")]
    assert names == list(catalog.CLASS_RATE_LIMIT_HEADERS)


# --- Usage -----------------------------------------------------------------------------------


@server
def test_usage_counts_match_the_requests_sent(make_class, tmp_path, capsys):
    base, roster, front = make_class()
    first = client_for(base, roster.learners["learner-01"].key)
    replies = [ask(first), ask(first)]
    stream = first.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count to three."}],
        max_completion_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    streamed_usage = [chunk.usage for chunk in stream if chunk.usage][-1]
    second = client_for(base, roster.learners["learner-02"].key)
    text = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in second.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Count to three."}],
            max_completion_tokens=12,
            stream=True,
        )
        if chunk.choices
    )
    with pytest.raises(openai.AuthenticationError):
        ask(client_for(base, "class-wrong-key-000000000000000000", max_retries=0))

    rows = {row["name"]: row for row in httpx.get(f"{base}/class/usage.json").json()["data"]}
    one = rows["learner-01"]
    assert one["requests"] == 3 and one["errors"] == 0 and one["last_seen"]
    assert one["input_tokens"] == sum(r.usage.prompt_tokens for r in replies) + streamed_usage.prompt_tokens
    assert one["output_tokens"] == sum(r.usage.completion_tokens for r in replies) + streamed_usage.completion_tokens
    two = rows["learner-02"]  # streamed without a usage chunk: estimated from the text
    assert two["requests"] == 1 and two["output_tokens"] == -(-len(text) // 4)
    assert rows["learner-03"]["requests"] == 0
    assert sum(row["requests"] for row in rows.values()) == 4  # the wrong key belongs to nobody

    csv_file = tmp_path / "usage.csv"
    assert cli.main(["usage", "--csv", str(csv_file)]) == 0
    lines = csv_file.read_text().splitlines()
    assert lines[0] == "name,key,revoked,requests,input_tokens,output_tokens,errors,rate_limited,last_seen"
    assert lines[1].startswith(f"learner-01,class-...{roster.learners['learner-01'].key[-4:]},False,3,")
    assert cli.main(["usage"]) == 0
    assert "learner-01" in capsys.readouterr().out


def _page(front, path, client, headers=()):
    """GET `path` from the front as a client at `client` (host, port), without a network."""

    async def call():
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": list(headers),
            "client": client,
        }
        sent = []

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message)

        await front(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return asyncio.run(call())


def test_the_usage_pages_answer_only_the_instructors_computer_or_key(tmp_path):
    roster = Roster.issue(2, tmp_path / "keys.json")

    async def nothing(scope, receive, send):
        raise AssertionError("the usage pages never reach the model")

    front = ClassFront(nothing, roster)
    outside = ("192.168.1.23", 50000)
    for path in ["/class/usage", "/class/usage.json", "/class/usage.csv"]:
        status, body = _page(front, path, outside)
        assert status == 403 and b"instructor" in body
        learner = [(b"authorization", f"Bearer {roster.learners['learner-01'].key}".encode())]
        assert _page(front, path, outside, learner)[0] == 403
        instructor = [(b"authorization", f"Bearer {roster.instructor.key}".encode())]
        assert _page(front, path, outside, instructor)[0] == 200
        assert _page(front, path, ("127.0.0.1", 50000))[0] == 200
        assert _page(front, path, ("::1", 50000, 0, 0))[0] == 200
        # through a proxy on this computer, every learner would look local: not trusted
        assert _page(front, path, ("127.0.0.1", 50000), [(b"x-forwarded-for", b"192.168.1.23")])[0] == 403
    status, page = _page(front, "/class/usage", ("127.0.0.1", 1))
    assert b"learner-02" in page and roster.learners["learner-02"].key.encode() not in page


@pytest.mark.parametrize("streamed", [False, True])
def test_the_books_are_settled_before_the_reply_s_last_byte_reaches_the_learner(tmp_path, streamed):
    # A learner who has the whole reply may look at the limit headers or the usage page at
    # once: the reservation must already be replaced by the reply's usage (it once raced).
    # The client is done at the content-length or at [DONE]; the engine's empty closing
    # message may come later, after the client has moved on.
    roster = Roster.issue(1, tmp_path / "keys.json")
    usage = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
    if streamed:
        chunks = [f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode(), b"data: [DONE]\n\n", b""]
        headers = [(b"content-type", b"text/event-stream")]
    else:
        reply = json.dumps({"object": "chat.completion", "usage": usage}).encode()
        chunks = [reply[:10], reply[10:], b""]
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(reply)).encode())]

    async def engine(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})

    front = ClassFront(engine, roster, Limits(requests_per_minute=10, tokens_per_minute=1000))
    books_as_each_chunk_leaves = []

    async def send(message):
        if message["type"] == "http.response.body":
            remaining = dict(front.limiter.headers("learner-01"))[b"x-ratelimit-remaining-tokens"]
            row = next(row for row in front.usage.rows() if row["name"] == "learner-01")
            books = (int(remaining), row["requests"], row["input_tokens"], row["output_tokens"])
            books_as_each_chunk_leaves.append(books)

    async def receive():
        return {"type": "http.request", "body": json.dumps({"model": MODEL, "max_completion_tokens": 200}).encode()}

    key = roster.learners["learner-01"].key
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [(b"authorization", f"Bearer {key}".encode()), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
    }
    asyncio.run(front(scope, receive, send))
    settled = (1000 - 12, 1, 7, 5)
    assert books_as_each_chunk_leaves[0] != settled  # still reserved while the reply is under way
    assert books_as_each_chunk_leaves[1:] == [settled, settled]  # the chunk that completes it, and after


@server
def test_keys_never_appear_in_full_in_the_logs(make_class, caplog):
    caplog.set_level("INFO", logger="helpers.classroom")
    base, roster, _ = make_class(limits=Limits(requests_per_minute=1, tokens_per_minute=100_000))
    learner_key = roster.learners["learner-01"].key
    learner = client_for(base, learner_key, max_retries=0)
    ask(learner)
    with pytest.raises(openai.RateLimitError):
        ask(learner)
    wrong = "class-" + "w" * 30 + "ABCD"
    with pytest.raises(openai.AuthenticationError):
        ask(client_for(base, wrong, max_retries=0))
    assert cli.main(["revoke", learner_key]) == 0  # revoked by key: still logged by name
    with pytest.raises(openai.AuthenticationError):
        ask(learner)
    logged = caplog.text
    assert "learner-01" in logged and "429" in logged and "revoked learner-01" in logged
    assert f"class-...{learner_key[-4:]}" in logged and "class-...ABCD" in logged
    for key in [wrong, roster.instructor.key, ENGINE_KEY, *(h.key for h in roster.learners.values())]:
        assert key not in logged
