"""Every response shape the offline server returns validates against OpenAI's OpenAPI specification.

tests/openai_response_schemas.json is a trimmed copy of the response schemas of
github.com/openai/openai-openapi (source commit and date inside; rebuilt with
scripts/trim_openai_spec.py).
"""

import functools
import json
from pathlib import Path

import jsonschema
import pytest
import requests

from helpers import catalog, local_server

pytestmark = pytest.mark.server

SCHEMAS = Path(__file__).with_name("openai_response_schemas.json")
MODEL = catalog.OFFLINE_MODEL
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@functools.cache
def _validator(name):
    document = json.loads(SCHEMAS.read_text())
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", **document})


def assert_fits(name, instance):
    errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in _validator(name).iter_errors(instance)]
    assert not errors, f"{name}: {errors}"


@pytest.fixture(scope="module")
def server():
    return local_server.start()


def _request(server, method, path, body=None):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    return requests.request(method, server.base_url + path, json=body, headers=headers, timeout=120)


def _events(response):
    """The JSON payloads of a server-sent event stream, [DONE] left out."""
    payloads = []
    for block in response.text.split("\n\n"):
        data = [line[len("data: ") :] for line in block.splitlines() if line.startswith("data: ")]
        if data and data[0] != "[DONE]":
            payloads.append(json.loads(data[0]))
    return payloads


def test_the_copy_names_its_source_and_date():
    document = json.loads(SCHEMAS.read_text())
    assert document["source"].startswith("https://github.com/openai/openai-openapi/blob/")
    assert document["retrieved"]


CHAT = [
    {"max_completion_tokens": 3},
    {"max_completion_tokens": 3, "logprobs": True, "top_logprobs": 2},
    {"max_completion_tokens": 3, "n": 2},
    {"max_completion_tokens": 40, "tools": [TOOL], "tool_choice": "required"},
    {"max_completion_tokens": 20, "response_format": {"type": "json_object"}},
]


@pytest.mark.parametrize("extra", CHAT, ids=["plain", "logprobs", "n", "tools", "json"])
def test_chat_completions_fit_the_spec(server, extra):
    response = _request(server, "post", "/chat/completions", {"model": MODEL, "messages": QUESTION, **extra})
    assert response.status_code == 200
    assert_fits("CreateChatCompletionResponse", response.json())


@pytest.mark.parametrize(
    "extra",
    [{"stream_options": {"include_usage": True}}, {"tools": [TOOL], "tool_choice": "required"}, {"n": 2}],
    ids=["usage", "tools", "n"],
)
def test_stream_chunks_fit_the_spec(server, extra):
    body = {"model": MODEL, "messages": QUESTION, "max_completion_tokens": 30, "stream": True, **extra}
    response = _request(server, "post", "/chat/completions", body)
    chunks = _events(response)
    assert len(chunks) > 2 and response.text.rstrip().endswith("data: [DONE]")
    for chunk in chunks:
        assert_fits("CreateChatCompletionStreamResponse", chunk)


IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/chat/completions", {"model": MODEL}),
        ("post", "/chat/completions", {"model": "gpt-nope", "messages": QUESTION}),
        ("post", "/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": [IMAGE]}]}),
        ("get", "/models/gpt-nope", None),
        ("post", "/responses", {"model": MODEL, "input": "hi", "previous_response_id": "resp_1"}),
        ("get", "/responses/resp_1", None),
        ("post", "/nowhere", {}),
    ],
)
def test_errors_fit_the_spec(server, method, path, body):
    response = _request(server, method, path, body)
    assert response.status_code >= 400
    assert_fits("ErrorResponse", response.json())


def test_the_model_routes_fit_the_spec(server):
    assert_fits("ListModelsResponse", _request(server, "get", "/models").json())
    assert_fits("Model", _request(server, "get", f"/models/{MODEL}").json())


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"tools": [{"type": "function", **TOOL["function"]}], "tool_choice": "required"},
        {"text": {"format": {"type": "json_schema", "name": "city", "schema": TOOL["function"]["parameters"]}}},
    ],
    ids=["text", "tools", "json_schema"],
)
def test_responses_fit_the_spec(server, extra):
    body = {"model": MODEL, "input": "What is the weather in Paris?", "max_output_tokens": 40, **extra}
    response = _request(server, "post", "/responses", body)
    assert response.status_code == 200
    assert_fits("Response", response.json())
    streamed = _request(server, "post", "/responses", {**body, "stream": True})
    for event in _events(streamed):
        assert_fits("ResponseStreamEvent", event)
