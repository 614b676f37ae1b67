"""Every response shape the offline server returns validates against OpenAI's OpenAPI specification.

tests/openai_response_schemas.json is a trimmed copy of the response schemas of
github.com/openai/openai-openapi (source commit and date inside; rebuilt with
scripts/trim_openai_spec.py).
"""

import functools
import json
import time
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


def _batch_line(custom_id, **extra):
    body = {"model": MODEL, "messages": QUESTION, "max_completion_tokens": 3, **extra}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})


def test_the_files_and_batch_routes_fit_the_spec(server):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    lines = "\n".join([_batch_line("a"), _batch_line("b", temperature=5)]).encode()
    uploaded = requests.post(
        server.base_url + "/files", headers=headers, files={"file": ("in.jsonl", lines)}, data={"purpose": "batch"}
    ).json()
    assert_fits("OpenAIFile", uploaded)
    assert_fits("ListFilesResponse", _request(server, "get", "/files").json())
    body = {"input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    batch = _request(server, "post", "/batches", body).json()
    assert_fits("Batch", batch)
    deadline = time.monotonic() + 120
    while batch["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.3)
        batch = _request(server, "get", f"/batches/{batch['id']}").json()
    assert batch["status"] == "completed" and batch["error_file_id"]
    assert_fits("Batch", batch)
    assert_fits("ListBatchesResponse", _request(server, "get", "/batches").json())
    for item in _request(server, "get", f"/files/{batch['output_file_id']}/content").text.splitlines():
        assert_fits("CreateChatCompletionResponse", json.loads(item)["response"]["body"])
    for item in _request(server, "get", f"/files/{batch['error_file_id']}/content").text.splitlines():
        assert_fits("ErrorResponse", json.loads(item)["response"]["body"])
    failed = _request(server, "post", "/files", None)  # not multipart: refused
    assert_fits("ErrorResponse", failed.json())
    assert_fits("DeleteFileResponse", _request(server, "delete", f"/files/{uploaded['id']}").json())
    assert_fits("ErrorResponse", _request(server, "get", f"/files/{uploaded['id']}").json())


def test_a_failed_batch_fits_the_spec(server):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    lines = (_batch_line("a") + "\n{not json\n").encode()
    uploaded = requests.post(
        server.base_url + "/files", headers=headers, files={"file": ("in.jsonl", lines)}, data={"purpose": "batch"}
    ).json()
    body = {"input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    batch = _request(server, "post", "/batches", body).json()
    deadline = time.monotonic() + 60
    while batch["status"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.3)
        batch = _request(server, "get", f"/batches/{batch['id']}").json()
    assert batch["errors"]["data"][0]["code"] == "invalid_json_line"
    assert_fits("Batch", batch)
