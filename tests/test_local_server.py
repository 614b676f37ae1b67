"""The offline model server: a real model, one shared process, and OpenAI's manners."""

import os
import signal
import socket
import subprocess
import sys

import openai
import psutil
import pytest
import requests

from helpers import catalog, local_server
from helpers.local_server import LocalServerError

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
    server = local_server.start()
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
    assert local_server.log_file(private_server).is_file()


def test_streaming_passes_through(private_server):
    server = local_server.start()
    stream = _client(server).chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "Count to three."}],
        max_completion_tokens=12,
        stream=True,
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert "".join(pieces).strip()


def test_a_second_start_reuses_the_running_server(private_server):
    first = local_server.start()
    second = local_server.start()
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
    first = local_server.start()
    os.kill(first.pid, signal.SIGKILL)
    psutil.Process(first.pid).wait(10) if psutil.pid_exists(first.pid) else None
    second = local_server.start()
    assert second.pid != first.pid
    assert local_server.status().pid == second.pid


def test_a_hung_server_is_replaced(private_server):
    first = local_server.start()
    os.kill(first.pid, signal.SIGSTOP)  # alive, holding the port, answering nothing
    second = local_server.start()
    assert second.pid != first.pid
    assert not psutil.pid_exists(first.pid) or psutil.Process(first.pid).status() == psutil.STATUS_ZOMBIE


def test_a_port_held_by_another_program_gives_a_clear_error(private_server):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", private_server))
        squatter.listen()
        with pytest.raises(
            LocalServerError, match=f"Port {private_server} .* another program.*CHAT_TUTORIAL_LOCAL_PORT"
        ):
            local_server.start()


def test_stop_stops_it(private_server):
    local_server.start()
    assert local_server.stop() is True
    assert local_server.status() is None
    assert local_server.stop() is False


def test_a_server_with_another_key_is_not_silently_reused(private_server):
    local_server.start(api_key="first-key")
    with pytest.raises(LocalServerError, match="different API key"):
        local_server.start(api_key="second-key")


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
    return local_server.start()  # the default port, as the lessons use it


def test_unknown_model_is_a_404_like_openais(shared):
    with pytest.raises(openai.NotFoundError) as caught:
        _client(shared).chat.completions.create(model="gpt-5-nano", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"
    assert "gpt-5-nano" in caught.value.message and catalog.OFFLINE_MODEL in caught.value.message


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
