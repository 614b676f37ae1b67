"""A class on llama.cpp's llama-server: `python -m helpers.classroom start --llama-server BINARY`.

The class server starts llama-server with the course's model on a loopback port and puts
the whole course front before it (keys, limits, validation, the course's tool grammar).

CI has no llama-server (it takes a compiler and minutes to build: docs/engines.md), so the
tests run against a stand-in: a script that reads llama-server's flags (the names in
`llama-server --help`; an unknown flag fails as llama-server's own parser does), records
them, and serves the course model with llama-cpp-python's server. With LLAMA_SERVER set to
a real llama-server, the same tests run against it too.
"""

import json
import os
import sys
import textwrap

import pytest

from course_tools.class_server import running_class_server
from helpers import catalog
from helpers.offline import llama_server

pytestmark = pytest.mark.server

STAND_IN = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for llama-server: its flags, then the course model on llama-cpp-python's server.
    import argparse, json, os, sys

    flags = argparse.ArgumentParser(prog="llama-server")
    for name in ("--model", "--host", "--port", "--api-key"):
        flags.add_argument(name, required=True)
    for name in ("--parallel", "--ctx-size", "--threads"):
        flags.add_argument(name, type=int, required=True)
    flags.add_argument("--no-webui", action="store_true")
    given = flags.parse_args()
    with open(os.environ["STAND_IN_RECORD"], "w") as record:
        json.dump(vars(given), record)
    os.execv(sys.executable, [
        sys.executable, "-m", "llama_cpp.server", "--model", given.model, "--host", given.host,
        "--port", given.port, "--api_key", given.api_key,
        "--n_ctx", str(given.ctx_size // given.parallel), "--n_threads", "1",
    ])
    """
)


def _binaries() -> list[str]:
    found = [os.environ[llama_server.LLAMA_SERVER_VAR]] if os.environ.get(llama_server.LLAMA_SERVER_VAR) else []
    return ["stand-in", *found]


@pytest.fixture(scope="module", params=_binaries())
def class_on_llama_server(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("llama-server")
    record = folder / "flags.json"
    binary = request.param
    if binary == "stand-in":
        binary = folder / "llama-server"
        binary.write_text(STAND_IN.format(python=sys.executable))
        binary.chmod(0o755)
    printed = {}
    engine = ["--llama-server", str(binary)]
    with running_class_server(folder / "state", 2, engine, printed, {"STAND_IN_RECORD": str(record)}) as running:
        port, process, roster = running
        yield {"port": port, "roster": roster, "record": record, "request": request}
    assert process.returncode == 0, printed["err"]


def _client(server, learner="learner-01"):
    import openai

    key = server["roster"].learners[learner].key
    return openai.OpenAI(base_url=f"http://127.0.0.1:{server['port']}/v1", api_key=key, timeout=120, max_retries=0)


def test_llama_server_gets_the_course_model_on_loopback_with_its_slots(class_on_llama_server):
    if class_on_llama_server["request"].param != "stand-in":
        pytest.skip("only the stand-in records its flags")
    flags = json.loads(class_on_llama_server["record"].read_text())
    assert flags["host"] == "127.0.0.1"
    assert flags["parallel"] == llama_server.DEFAULT_SLOTS
    assert flags["ctx_size"] == catalog.OFFLINE_CONTEXT_TOKENS * llama_server.DEFAULT_SLOTS  # 2,048 per slot
    assert flags["model"].endswith(".gguf")
    assert flags["no_webui"]


def test_a_learner_is_answered_through_llama_server_with_the_courses_tool_calls(class_on_llama_server):
    client = _client(class_on_llama_server)
    reply = client.chat.completions.create(
        model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "Say hello."}], max_tokens=8, seed=1
    )
    assert reply.model == catalog.OFFLINE_MODEL
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens <= 8
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    called = client.chat.completions.create(
        model=catalog.OFFLINE_MODEL,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[weather],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=60,
    )
    call = called.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)  # the course's grammar, read by the engine


def test_the_front_before_llama_server_still_refuses_what_openai_refuses(class_on_llama_server):
    import openai

    client = _client(class_on_llama_server, "learner-02")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=[{"role": "user", "content": "Hi"}], temperature=3
        )
    assert caught.value.body["param"] == "temperature"


def test_a_missing_llama_server_names_the_ways_on(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        llama_server.start_llama_server(str(tmp_path / "no-such-llama-server"))
    assert "docs/engines.md" in str(caught.value)


def test_llama_server_is_found_where_an_instructor_puts_it(tmp_path, monkeypatch):
    named, on_path = tmp_path / "named" / "llama-server", tmp_path / "bin" / "llama-server"
    for binary in (named, on_path):
        binary.parent.mkdir()
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.delenv(llama_server.LLAMA_SERVER_VAR, raising=False)
    assert llama_server.find_binary() == str(on_path)
    monkeypatch.setenv(llama_server.LLAMA_SERVER_VAR, str(named))
    assert llama_server.find_binary() == str(named)
    assert llama_server.find_binary(str(tmp_path / "elsewhere")) is None  # a named one that is not there
