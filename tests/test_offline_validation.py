"""helpers/offline/validation.py and spec.py: what OpenAI refuses is refused, with OpenAI's error body and param.

The matrix below is requests that OpenAI's API refuses with a 400 (its published
specification, or its documented rules); the offline server must refuse each
with a 400 naming the same parameter, never a 200 or a 500.
"""

import pytest
import requests

from helpers import catalog, local_server
from helpers.offline import spec

pytestmark = pytest.mark.server

MODEL = catalog.OFFLINE_MODEL
HI = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
CITY = {"type": "object", "properties": {"city": {"type": "string"}}}
STRICT_OPEN_FORM = {"name": "r", "strict": True, "schema": CITY}  # strict, but its object is open
CLOSED_WHERE = {"required": ["where"], "additionalProperties": False}  # closed itself, but the nested object is not


def strict_tool(parameters):
    return {"type": "function", "function": {"name": "f", "parameters": parameters, "strict": True}}


BAD_REQUESTS = [
    ({"bogus": 1}, "bogus"),
    ({"n": 0}, "n"),
    ({"n": 200}, "n"),
    ({"n": 9}, "n"),  # above this server's maximum
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"temperature": 3}, "temperature"),
    ({"temperature": "hot"}, "temperature"),
    ({"top_p": -1}, "top_p"),
    ({"presence_penalty": 5}, "presence_penalty"),
    ({"frequency_penalty": "x"}, "frequency_penalty"),
    ({"seed": "x"}, "seed"),
    ({"stream": "yes"}, "stream"),
    ({"logprobs": "yes"}, "logprobs"),
    ({"top_logprobs": 30, "logprobs": True}, "top_logprobs"),
    ({"top_logprobs": 2}, "top_logprobs"),  # without logprobs
    ({"tool_choice": "auto"}, "tool_choice"),  # without tools
    ({"parallel_tool_calls": True}, "parallel_tool_calls"),
    ({"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "g"}}}, "tool_choice.function.name"),
    ({"tools": [TOOL], "tool_choice": "sometimes"}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function"}]}, "tools[0].function"),
    # strict mode: every object closed (additionalProperties false) and every key required, nested ones too
    ({"tools": [TOOL, strict_tool({**CITY, "required": ["city"]})]}, "tools[1].function.parameters"),
    ({"tools": [strict_tool({**CITY, "additionalProperties": False})]}, "tools[0].function.parameters"),
    ({"tools": [strict_tool({**CITY, "properties": {"where": CITY}, **CLOSED_WHERE})]}, "tools[0].function.parameters"),
    ({"response_format": {"type": "json_schema", "json_schema": STRICT_OPEN_FORM}}, "response_format"),
    ({"stream_options": {"include_usage": True}}, "stream_options"),  # without stream
    ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, "response_format.json_schema.name"),
    ({"response_format": {"type": "yaml"}}, "response_format.type"),
    ({"logit_bias": {"abc": 1}}, "logit_bias"),
    ({"logit_bias": {"10": 500}}, "logit_bias"),
    ({"logit_bias": {"99999999": 1}}, "logit_bias"),
    ({"messages": [{"role": "tool", "tool_call_id": "call_1", "content": "x"}]}, "messages.[0].role"),
    ({"messages": [*HI, {"role": "assistant", "content": None, "tool_calls": [CALL]}]}, "messages.[1].role"),
    ({"messages": [{"role": "user", "content": "hi", "name": 5}]}, "messages[0].name"),
    ({"max_completion_tokens": 0}, "max_completion_tokens"),
    ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ({"metadata": {"k": 1}}, "metadata.k"),
]


@pytest.fixture(scope="module")
def server():
    return local_server.start()


def _post(server, body, path="/chat/completions"):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    return requests.post(server.base_url + path, json=body, headers=headers, timeout=120)


@pytest.mark.parametrize(("extra", "param"), BAD_REQUESTS, ids=[p for _, p in BAD_REQUESTS])
def test_a_request_openai_refuses_is_a_400_naming_the_parameter(server, extra, param):
    response = _post(server, {"model": MODEL, "messages": HI, **extra})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    assert error["param"] == param, error
    assert error["message"].strip()


def test_messages_for_the_spec_read_like_openais(server):
    body = {"model": MODEL, "messages": HI}
    assert _post(server, {**body, "n": 0}).json()["error"]["message"] == (
        "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead."
    )
    assert _post(server, {**body, "temperature": "hot"}).json()["error"]["message"] == (
        "Invalid type for 'temperature': expected a decimal, but got a string instead."
    )
    assert _post(server, {**body, "bogus": 1}).json()["error"]["message"] == (
        "Unrecognized request argument supplied: bogus"
    )


def test_a_strict_schema_openai_refuses_is_refused_with_its_words(server):
    body = {"model": MODEL, "messages": HI, "tools": [strict_tool({**CITY, "additionalProperties": False})]}
    error = _post(server, body).json()["error"]
    assert error["code"] == "invalid_function_parameters"
    assert error["message"] == (
        "Invalid schema for function 'f': In context=(), 'required' is required to be supplied and to be an "
        "array including every key in properties. Missing 'city'."
    )
    closed = {**CITY, "required": ["city"], "additionalProperties": False}
    accepted = {**body, "tools": [strict_tool(closed)], "tool_choice": "required", "max_completion_tokens": 30}
    assert _post(server, accepted).status_code == 200


def test_a_strict_response_format_openai_refuses_is_refused_with_its_words(server):
    def form(schema, strict=True):
        return {"type": "json_schema", "json_schema": {"name": "city", "strict": strict, "schema": schema}}

    body = {"model": MODEL, "messages": HI, "max_completion_tokens": 20}
    error = _post(server, {**body, "response_format": form(CITY)}).json()["error"]
    assert error == {
        "message": "Invalid schema for response_format 'city': In context=(), 'additionalProperties' is required "
        "to be supplied and to be false.",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": None,
    }
    closed = {**CITY, "required": ["city"], "additionalProperties": False}
    assert _post(server, {**body, "response_format": form(closed)}).status_code == 200
    not_strict = form(CITY, strict=False)  # taken as given
    assert _post(server, {**body, "response_format": not_strict}).status_code == 200
    text = {"format": {"type": "json_schema", **form(CITY)["json_schema"]}}
    responses = _post(server, {"model": MODEL, "input": "hi", "text": text}, path="/responses")
    assert responses.status_code == 400
    assert (responses.json()["error"]["param"], responses.json()["error"]["code"]) == (
        "text.format.schema",
        "invalid_json_schema",
    )


IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}


@pytest.mark.parametrize("url", ["https://example.com/cat.png", "data:image/png;base64,iVBORw0KGgo="])
def test_an_image_gets_openais_answer_for_a_text_only_model(server, url):
    """The offline model reads text only: it refuses an image part word for word as OpenAI's text-only models do."""
    image = {"type": "image_url", "image_url": {"url": url}}
    messages = [*HI, {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}]
    response = _post(server, {"model": MODEL, "messages": messages})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Invalid content type. image_url is only supported by certain models.",
            "type": "invalid_request_error",
            "param": "messages.[1].content.[1].type",
            "code": None,
        }
    }


def test_a_valid_tool_round_trip_is_accepted(server):
    messages = [
        *HI,
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{}"},
    ]
    body = {"model": MODEL, "messages": messages, "tools": [TOOL], "max_completion_tokens": 2}
    assert _post(server, body).status_code == 200


def test_every_parameter_of_the_spec_is_known():
    """Rules come from the specification, so a parameter nobody listed here is still checked."""
    known = spec.known_parameters("chat")
    assert {"messages", "model", "n", "logprobs", "tools", "stream_options", "seed", "top_logprobs"} <= known
    assert len(known) > 30
    assert spec.check("chat", {"model": MODEL, "messages": HI, "verbosity": "loud"})[0] == 400
    assert spec.check("chat", {"model": MODEL, "messages": HI, "verbosity": "low"})[0] == 200
