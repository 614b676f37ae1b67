"""Forwarding to engines (helpers/offline/upstream.py, create_front_app): order, disconnects, the course's front.

A fake engine (an ASGI app in a thread) shows the pool's behaviour exactly: slots handed
out in arrival order, a client that leaves while queued never reaches the engine, one that
leaves mid-stream frees its slot at once, an engine that is down gives a clean error. A
second real engine process (llama-cpp-python's own server on the course's model) shows that
the course's validation and practice failures still answer in front of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn

from course_tools.isolation import free_port
from helpers import catalog
from helpers.offline import lifecycle
from helpers.offline.app import create_engines_app, create_front_app
from helpers.offline.engines import start_engines, stop_engines
from helpers.offline.model_file import model_file
from helpers.offline.upstream import EnginePool, ForwardingApp

ENGINE_KEY = "engine-key-5"
FRONT_KEY = "front-key-9"


class Served:
    """An ASGI app served by uvicorn on a free 127.0.0.1 port, in a thread."""

    def __init__(self, app):
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


ENGINE_REPLY = {
    "id": "chatcmpl-engine",
    "object": "chat.completion",
    "created": 1764460800,
    "model": "engine/model-7b",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40},
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


LONG_PIECE = b'data: {"x": "' + b"a" * 1000 + b'"}\n\n'
LONG_PIECES = 2000  # 2 MB: far more than the front's socket to a client that does not read can hold


class FakeEngine:
    """An engine that records what reaches it. Message "hold": a stream that runs until its client leaves;
    "long": a 2 MB stream."""

    def __init__(self):
        self.arrivals: list[str] = []
        self.keys: list[bytes] = []
        self.closed_at: float | None = None
        self.bodies: list[dict] = []

    async def __call__(self, scope, receive, send):
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        body = json.loads(raw)
        tag = body["messages"][0]["content"]
        self.arrivals.append(tag)
        self.bodies.append(body)
        self.keys.append(dict(scope["headers"]).get(b"authorization", b""))
        if tag == "complete":  # a chat completion, as an engine with its own tool calling answers
            data = json.dumps(ENGINE_REPLY).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            return await send({"type": "http.response.body", "body": data})
        if tag == "long":  # a long stream, written as fast as the front takes it, then ended
            start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
            await send(start)
            for _ in range(LONG_PIECES):
                await send({"type": "http.response.body", "body": LONG_PIECE, "more_body": True})
            return await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        if tag != "hold":
            data = json.dumps({"tag": tag, "path": scope["path"]}).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            return await send({"type": "http.response.body", "body": data})
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        left = asyncio.ensure_future(receive())
        while not left.done():
            await send({"type": "http.response.body", "body": b'data: {"x": 1}\n\n', "more_body": True})
            await asyncio.sleep(0.05)
        self.closed_at = time.monotonic()


@pytest.fixture
def fake():
    engine = FakeEngine()
    served = Served(engine)
    front = Served(ForwardingApp(EnginePool([served.url + "/v1"], api_key=ENGINE_KEY)))
    yield engine, front
    front.stop()
    served.stop()


def _chat(url: str, tag: str, timeout: float = 30) -> dict:
    body = {"model": "m", "messages": [{"role": "user", "content": tag}]}
    response = httpx.post(url + "/v1/chat/completions", json=body, timeout=timeout, headers={"authorization": "x"})
    return response.json()


def _raw_request(port: int, tag: str) -> socket.socket:
    """A request sent on a bare socket, so that the test can close it while it waits."""
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": tag}]}).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def test_requests_get_the_slot_in_arrival_order_and_leavers_free_it(fake):
    engine, front = fake
    with httpx.Client(timeout=30) as client:
        holder = client.stream(
            "POST",
            front.url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hold"}]},
        )
        response = holder.__enter__()
        pieces = response.iter_raw()  # kept: a dropped iterator would close the stream
        next(pieces)  # the engine streams: the one slot is taken
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = []
            for number in range(1, 6):
                answers.append(pool.submit(_chat, front.url, f"learner {number}"))
                time.sleep(0.15)  # arrive in a known order
                if number == 2:
                    leaver = _raw_request(front.port, "leaves while queued")
                    time.sleep(0.15)
            time.sleep(0.3)
            leaver.close()  # gives up while queued: must never reach the engine
            time.sleep(0.3)
            assert engine.arrivals == ["hold"]
            # The holder leaves mid-stream: the engine's request closes and the slot frees. The fake
            # engine would stream to the holder for ever, so learner 1 is answered only if it does.
            # (How soon is measured by `make bench`, not asserted here.)
            holder.__exit__(None, None, None)
            first = answers[0].result(timeout=60)
            results = [a.result(timeout=60) for a in answers]
    assert first["tag"] == "learner 1"
    for _ in range(500):  # polled, not timed
        if engine.closed_at is not None:
            break
        time.sleep(0.02)
    assert engine.closed_at is not None  # the engine saw its client leave
    assert engine.arrivals == ["hold"] + [f"learner {n}" for n in range(1, 6)]
    assert [r["tag"] for r in results] == [f"learner {n}" for n in range(1, 6)]
    assert set(engine.keys) == {f"Bearer {ENGINE_KEY}".encode()}  # the learner's key never reaches the engine


def test_a_client_that_stops_reading_does_not_keep_the_slot(fake):
    # Before, the front passed the engine's answer on at its client's pace: a client that stopped
    # reading while connected kept the one slot busy, and the next learner waited for ever
    # although the engine had finished.
    engine, front = fake
    reader = socket.socket()
    # Small receive buffer and segments keep the front's socket buffers small too (on loopback
    # Linux lets a socket queue about 4 MB for a peer that does not read): 2 MB fill them.
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if hasattr(socket, "TCP_MAXSEG"):
        reader.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 128)
    reader.settimeout(30)
    reader.connect(("127.0.0.1", front.port))
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "long"}]}).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    reader.sendall(head.encode() + body)
    try:
        assert reader.recv(1024).startswith(b"HTTP/1.1 200")  # then it reads nothing more, connected
        assert _chat(front.url, "learner", timeout=60)["tag"] == "learner"  # a liveness limit, not a timing
    finally:
        reader.close()
    assert engine.arrivals == ["long", "learner"]


def test_paths_below_v1_and_query_strings_reach_the_engine(fake):
    engine, front = fake
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(front.url + "/v1/chat/completions?x=1", json=body, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"tag": "hi", "path": "/v1/chat/completions"}


def test_an_engine_that_is_down_gives_an_openai_error():
    down = f"http://127.0.0.1:{free_port()}/v1"
    front = Served(ForwardingApp(EnginePool([down])))
    try:
        response = httpx.post(front.url + "/v1/chat/completions", json={"model": "m", "messages": []}, timeout=20)
    finally:
        front.stop()
    assert response.status_code == 503
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "server_error" and "could not reach" in error["message"]
    assert "Traceback" not in response.text and down not in response.text


def test_the_courses_front_over_an_engine_that_is_down_says_so_with_a_503():
    # The guard turned the forwarder's 503 into its own 500 pointing at the offline server's log.
    down = f"http://127.0.0.1:{free_port()}/v1"
    front = Served(create_front_app([down], engine_key=None, api_key=None, native_tools=True))
    body = {"model": catalog.OFFLINE_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    try:
        plain = httpx.post(front.url + "/v1/chat/completions", json=body, timeout=20)
        streamed = httpx.post(front.url + "/v1/chat/completions", json={**body, "stream": True}, timeout=20)
    finally:
        front.stop()
    for response in (plain, streamed):
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "engine_unavailable" and "could not reach" in error["message"]
        assert "local_server" not in error["message"]


def test_a_pool_hands_slots_out_first_come_first_served():
    async def scenario():
        pool = EnginePool(["http://a/v1", "http://b/v1"], slots_per_engine=1)
        first, second = await pool.acquire(), await pool.acquire()
        assert {first, second} == {0, 1}
        order = []

        async def wait(name):
            engine = await pool.acquire()
            order.append(name)
            return engine

        tasks = [asyncio.ensure_future(wait(n)) for n in "abcde"]
        await asyncio.sleep(0.01)
        tasks[1].cancel()  # "b" leaves while queued
        await asyncio.sleep(0.01)
        assert pool.queued == 4
        for engine in (first, second, first, second):
            pool.release(engine)
            await asyncio.sleep(0.01)
        assert order == ["a", "c", "d", "e"]
        assert pool.busy == [1, 1] and pool.queued == 0

    asyncio.run(scenario())


def test_an_engine_with_its_own_tool_calling_gets_tools_untouched_and_its_model_name():
    import openai

    engine = FakeEngine()
    served = Served(engine)
    front = Served(
        create_front_app(
            [served.url + "/v1"],
            engine_key=ENGINE_KEY,
            api_key=FRONT_KEY,
            model="class-model",
            engine_model="engine/model-7b",
            native_tools=True,
        )
    )
    try:
        client = openai.OpenAI(base_url=front.url + "/v1", api_key=FRONT_KEY, max_retries=0)
        schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        request = {
            "model": "class-model",
            "messages": [{"role": "user", "content": "complete"}],
            "tools": [WEATHER],
            "tool_choice": "auto",
            "response_format": {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
        }
        reply = client.chat.completions.create(**request)
        chunks = list(client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True}))
        with pytest.raises(openai.BadRequestError):  # the course's validation still answers first
            client.chat.completions.create(**request, extra_body={"colour": "red"})
    finally:
        front.stop()
        served.stop()
    sent = engine.bodies[0]
    assert sent["model"] == "engine/model-7b"
    assert sent["tools"] == [WEATHER] and sent["tool_choice"] == "auto"
    assert sent["response_format"]["type"] == "json_schema" and "grammar" not in sent
    assert reply.model == "class-model"
    assert reply.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert chunks[-1].usage.completion_tokens == 9  # the engine's own count, the stream made from its reply
    assert len(engine.bodies) == 2


# --- A second real engine process: llama-cpp-python's own server -------------------------------


ENGINE_LOG = {}  # what the engine printed: llama-cpp-python says so when a client disconnects


@pytest.fixture(scope="module")
def llama_engine(tmp_path_factory):
    """`python -m llama_cpp.server` on the course's model: a raw OpenAI-compatible engine, no course front."""
    port = free_port()
    log = tmp_path_factory.mktemp("engine") / "engine.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_file()),
        "--model_alias", catalog.OFFLINE_MODEL, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(catalog.OFFLINE_CONTEXT_TOKENS), "--n_threads", "1", "--api_key", ENGINE_KEY,
    ]  # fmt: skip
    written = log.open("w")
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(command, stdout=written, stderr=subprocess.STDOUT, env=environment)
    ENGINE_LOG["path"] = log
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/models", headers={"authorization": f"Bearer {ENGINE_KEY}"}, timeout=2).is_success:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("llama_cpp.server did not start")
    yield url
    process.terminate()
    process.wait(timeout=20)
    written.close()


@pytest.fixture(scope="module")
def front(llama_engine):
    served = Served(create_front_app([llama_engine], engine_key=ENGINE_KEY, api_key=FRONT_KEY))
    yield served
    served.stop()


def _client(front: Served):
    import openai

    return openai.OpenAI(base_url=front.url + "/v1", api_key=FRONT_KEY, timeout=60, max_retries=0)


@pytest.mark.server
def test_the_front_keeps_the_courses_validation(front):
    import openai

    client = _client(front)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "hi"}], extra_body={"colour": "red"}
        )
    assert caught.value.body["message"] == "Unrecognized request argument supplied: colour"
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-nothing", messages=[{"role": "user", "content": "hi"}])
    bad_key = openai.OpenAI(base_url=front.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.chat.completions.create(model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "hi"}])


@pytest.mark.server
def test_the_front_keeps_practice_failures(front):
    import openai

    client = _client(front)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model=catalog.OFFLINE_MODEL,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Practice-Fail": "429"},
        )
    assert caught.value.response.headers["retry-after"] == "1"
    reply = client.with_options(max_retries=1).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "hi"}],
        max_completion_tokens=5,
        extra_headers={"X-Practice-Fail": "503; times=1; id=upstream-test"},
    )  # the SDK retries once and the second attempt is answered by the engine
    assert reply.model == catalog.OFFLINE_MODEL and reply.choices[0].finish_reason in ("stop", "length")


@pytest.mark.server
def test_replies_streams_and_tool_calls_come_through(front):
    client = _client(front)
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    reply = client.chat.completions.create(model=catalog.OFFLINE_MODEL, messages=messages, max_completion_tokens=8)
    assert reply.usage.completion_tokens <= 8 and reply.id.startswith("chatcmpl")
    chunks = list(
        client.chat.completions.create(
            model=catalog.OFFLINE_MODEL,
            messages=messages,
            max_completion_tokens=8,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens <= 8
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    called = client.chat.completions.create(
        model=catalog.OFFLINE_MODEL, messages=messages, tools=[tool], tool_choice="required", max_completion_tokens=60
    )
    call = called.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and "city" in json.loads(call.function.arguments)


@pytest.mark.server
def test_a_client_leaving_mid_stream_frees_the_real_engine(front):
    client = _client(front)
    long = client.chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "Write a very long story about a river, chapter by chapter."}],
        max_completion_tokens=1500,
        stream=True,
    )
    next(iter(long))
    long.close()
    # The front closes its request to the engine, and the engine says it saw the client go
    # (polled, not timed: a loaded machine slows everything down).
    for _ in range(300):
        if "Disconnected from client" in ENGINE_LOG["path"].read_text():
            break
        time.sleep(0.1)
    assert "Disconnected from client" in ENGINE_LOG["path"].read_text()
    reply = client.chat.completions.create(
        model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=4
    )
    assert reply.choices[0].finish_reason in ("stop", "length")


@pytest.mark.server
def test_own_engines_serve_in_parallel_behind_a_forwarder(tmp_path):
    import openai

    engines = start_engines(2, threads=1, state_dir=str(tmp_path / "engines"))
    try:
        front = Served(create_engines_app(engines.urls, engine_key=engines.api_key))
        try:
            client = openai.OpenAI(base_url=front.url + "/v1", api_key="learner", timeout=60, max_retries=0)
            with ThreadPoolExecutor(max_workers=2) as pool:
                replies = list(
                    pool.map(
                        lambda n: client.chat.completions.create(
                            model=catalog.OFFLINE_MODEL,
                            messages=[{"role": "user", "content": f"Say {n}"}],
                            max_completion_tokens=4,
                        ),
                        range(4),
                    )
                )
            assert all(r.choices[0].finish_reason in ("stop", "length") for r in replies)
            with pytest.raises(openai.InternalServerError):  # the engines' own practice failures
                client.chat.completions.create(
                    model=catalog.OFFLINE_MODEL,
                    messages=[{"role": "user", "content": "hi"}],
                    extra_headers={"X-Practice-Fail": "503"},
                )
            pids = {lifecycle.status(port).pid for port in engines.ports}
            assert len(pids) == 2
        finally:
            front.stop()
    finally:
        stop_engines(engines)
    assert all(lifecycle.server_health("127.0.0.1", port) is None for port in engines.ports)


def test_an_engine_that_drops_a_connection_without_answering_is_asked_once_more():
    """A kept-alive connection the engine closes as the request goes out: the learner still gets the answer."""
    answered = json.dumps(ENGINE_REPLY).encode()
    seen = []

    async def engine(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        seen.append(length)
        if len(seen) > 1:  # the first request is dropped unanswered, as a closing connection drops it
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(answered)
            )
            writer.write(answered)
            await writer.drain()
        writer.close()

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(engine, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    front = Served(ForwardingApp(EnginePool([f"http://127.0.0.1:{port}/v1"])))
    try:
        reply = _chat(front.url, "once more")
    finally:
        front.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
    assert len(seen) == 2
    assert reply["choices"][0]["finish_reason"] == "tool_calls"
