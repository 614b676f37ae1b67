"""helpers/offline/: the offline server answers like OpenAI for what a learner's code meets.

Tools, logprobs, n, usage in streams, the model routes, request ids, the Responses
API and the default seed, each through the openai SDK against the real model.
Response shapes against OpenAI's specification are in test_offline_shapes.py,
refused requests in test_offline_validation.py.
"""

import json
import re
import socket
import time

import httpx
import openai
import pytest
import requests

from helpers import catalog, local_server
from helpers.offline.app import DEFAULT_SEED_VAR

pytestmark = pytest.mark.server

MODEL = catalog.OFFLINE_MODEL
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Get the current time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def server():
    return local_server.start()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=120)


def _valid_call(call, tool):
    import jsonschema

    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == tool["function"]["name"]
    jsonschema.validate(json.loads(call.function.arguments), tool["function"]["parameters"])


# --- Tools ----------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
def test_a_required_or_named_tool_is_called_with_arguments_that_fit_its_schema(client, choice):
    reply = client.chat.completions.create(
        model=MODEL, messages=QUESTION, tools=[WEATHER, TIME], tool_choice=choice, max_completion_tokens=150, seed=1
    )
    message = reply.choices[0].message
    assert reply.choices[0].finish_reason == "tool_calls"
    assert message.content is None and message.tool_calls
    tools = {"get_weather": WEATHER, "get_time": TIME}
    for call in message.tool_calls:
        _valid_call(call, tools[call.function.name])
    if isinstance(choice, dict):
        assert {call.function.name for call in message.tool_calls} == {"get_weather"}


def test_the_tools_reach_the_prompt(client):
    plain = client.chat.completions.create(model=MODEL, messages=QUESTION, max_completion_tokens=1)
    offered = client.chat.completions.create(
        model=MODEL, messages=QUESTION, tools=[WEATHER], tool_choice="none", max_completion_tokens=1
    )
    called = client.chat.completions.create(
        model=MODEL, messages=QUESTION, tools=[WEATHER], tool_choice="auto", max_completion_tokens=40, seed=1
    )
    assert offered.usage.prompt_tokens == plain.usage.prompt_tokens  # "none": text only, as OpenAI
    assert called.usage.prompt_tokens > plain.usage.prompt_tokens + 30
    assert offered.choices[0].message.tool_calls is None


def test_auto_calls_the_tool_for_a_request_that_needs_it(client):
    reply = client.chat.completions.create(
        model=MODEL, messages=QUESTION, tools=[WEATHER], max_completion_tokens=60, seed=3
    )
    assert reply.choices[0].finish_reason == "tool_calls"
    _valid_call(reply.choices[0].message.tool_calls[0], WEATHER)


def test_a_call_cut_short_by_max_tokens_keeps_the_complete_calls():
    from helpers.offline.tools import finish_choice

    text = '<tool_call>[{"name": "f", "arguments": {"a": 1}}, {"name": "g", "argu'
    choice = finish_choice({"message": {"role": "assistant", "content": text}, "finish_reason": "length"})
    calls = [(call["function"]["name"], call["function"]["arguments"]) for call in choice["message"]["tool_calls"]]
    assert calls == [("f", '{"a": 1}'), ("g", "")]  # the unfinished call as it stands, as OpenAI returns it
    assert choice["finish_reason"] == "length" and choice["message"]["content"] is None


def test_a_reply_cut_short_inside_a_tool_call_ends_as_openai_ends_it(client):
    reply = client.chat.completions.create(
        model=MODEL, messages=QUESTION, tools=[WEATHER], tool_choice="required", max_completion_tokens=16, seed=1
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "length" and choice.message.content is None  # not '<tool_call>[{"name": ...'
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather" and call.id.startswith("call_")
    with pytest.raises(ValueError):  # the arguments stop where the reply did: not JSON yet
        json.loads(call.function.arguments)


def test_parallel_tool_calls_false_gives_one_call(client):
    reply = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather and time in Paris, Rome and Oslo?"}],
        tools=[WEATHER, TIME],
        tool_choice="required",
        parallel_tool_calls=False,
        max_completion_tokens=80,
        seed=2,
    )
    assert len(reply.choices[0].message.tool_calls) == 1


def test_the_round_trip_with_a_tool_result_ends_in_text(client):
    first = client.chat.completions.create(
        model=MODEL, messages=QUESTION, tools=[WEATHER], tool_choice="required", max_completion_tokens=60, seed=1
    )
    call = first.choices[0].message.tool_calls[0]
    messages = [
        *QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 18, "sky": "sunny"})},
    ]
    second = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER], max_completion_tokens=30, seed=1
    )
    assert second.choices[0].message.tool_calls is None
    assert second.choices[0].message.content.strip()
    assert not second.choices[0].message.content.startswith("message:")
    assert second.usage.prompt_tokens > first.usage.prompt_tokens  # the call and its result are in the prompt


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_the_answer_to_a_tool_result_is_a_sentence_not_a_call_written_as_text(client, seed):
    # SmolLM2-135M imitates the call above it in the prompt: '<tool_call>[{"name": "get_weather", ...' came
    # back as the final answer's text (seed 5), which no OpenAI model would send as content.
    call = {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    messages = [
        *QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_abc", "content": json.dumps({"temperature_c": 18})},
    ]
    reply = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER], max_completion_tokens=20, seed=seed
    )
    text = reply.choices[0].message.content
    assert reply.choices[0].message.tool_calls is None
    assert text[:1] not in "<[{" and not text[:1].isspace(), text
    assert "<tool_call>" not in text and '"name"' not in text, text


def test_the_answer_to_a_tool_result_may_start_as_any_reply_starts():
    # It was held to a letter or digit first, so "$799" came back as "79.0".
    from llama_cpp import LlamaGrammar

    from helpers.offline.tools import ANSWER_GRAMMAR

    assert LlamaGrammar.from_string(ANSWER_GRAMMAR, verbose=False) is not None
    first = re.search(r'" " (\[[^\]]*\])', ANSWER_GRAMMAR).group(1)  # the first character's class
    assert all(re.fullmatch(first, start) for start in '$"*(-€Ab7'), first
    assert not any(re.fullmatch(first, start) for start in " \n<[{"), first


def test_a_streamed_tool_call_is_assembled_by_the_sdks_stream_helper(client):
    with client.chat.completions.stream(
        model=MODEL, messages=QUESTION, tools=[WEATHER], tool_choice="required", max_completion_tokens=60, seed=1
    ) as stream:
        chunks = [event.chunk for event in stream if event.type == "chunk"]
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"  # not "get_weatherget_weather..."
    _valid_call(call, WEATHER)
    deltas = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert sum(1 for d in deltas if d.id) == 1 and sum(1 for d in deltas if d.function.name) == 1
    assert len(deltas) > 2  # the arguments come in pieces
    assert final.choices[0].finish_reason == "tool_calls"


# --- logprobs, n, usage ------------------------------------------------------------------


@pytest.mark.parametrize("top", [None, 0, 3])
def test_logprobs_and_top_logprobs(client, top):
    extra = {} if top is None else {"top_logprobs": top}
    reply = client.chat.completions.create(
        model=MODEL, messages=QUESTION, max_completion_tokens=4, logprobs=True, seed=1, **extra
    )
    entries = reply.choices[0].logprobs.content
    assert len(entries) == reply.usage.completion_tokens
    assert "".join(entry.token for entry in entries) == reply.choices[0].message.content
    for entry in entries:
        assert entry.logprob <= 0 and bytes(entry.bytes).decode() == entry.token
        assert len(entry.top_logprobs) == (top or 0)
        assert [alt.logprob for alt in entry.top_logprobs] == sorted(
            (alt.logprob for alt in entry.top_logprobs), reverse=True
        )


def test_logprobs_stream_one_token_a_chunk(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=QUESTION, max_completion_tokens=4, logprobs=True, top_logprobs=2, stream=True, seed=1
    )
    entries = [e for c in stream if c.choices and c.choices[0].logprobs for e in c.choices[0].logprobs.content]
    assert len(entries) == 4 and all(len(e.top_logprobs) == 2 for e in entries)


def test_n_gives_that_many_choices(client):
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, n=3, max_completion_tokens=6, seed=5)
    assert [choice.index for choice in reply.choices] == [0, 1, 2]
    assert len({choice.message.content for choice in reply.choices}) > 1
    single = client.chat.completions.create(model=MODEL, messages=QUESTION, max_completion_tokens=1)
    assert reply.usage.prompt_tokens == single.usage.prompt_tokens  # the prompt counts once, as OpenAI bills it
    assert reply.usage.completion_tokens > 6


def test_n_streams_every_choice(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=QUESTION, n=2, max_completion_tokens=4, stream=True, seed=5
    )
    finished = {c.choices[0].index for c in stream if c.choices and c.choices[0].finish_reason}
    assert finished == {0, 1}


def test_a_stream_ends_with_usage_when_asked_and_it_matches_the_unstreamed_count(client):
    request = {"model": MODEL, "messages": QUESTION, "max_completion_tokens": 12, "seed": 4, "temperature": 0}
    whole = client.chat.completions.create(**request)
    chunks = list(client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (
        whole.usage.prompt_tokens,
        whole.usage.completion_tokens,
    )
    assert last.usage.prompt_tokens_details.cached_tokens == 0
    plain = list(client.chat.completions.create(**request, stream=True))
    assert all(chunk.usage is None for chunk in plain) and plain[-1].choices


def test_replies_carry_refusal_usage_details_and_a_fingerprint(client):
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, max_completion_tokens=2)
    assert reply.choices[0].message.refusal is None
    assert reply.usage.prompt_tokens_details.cached_tokens == 0
    assert reply.usage.completion_tokens_details.reasoning_tokens == 0
    assert reply.system_fingerprint.startswith("fp_")


# --- Routes and headers ------------------------------------------------------------------


def test_a_model_is_retrieved_by_id_and_an_unknown_one_is_a_404(client):
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-5-nano")
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/models", None, 200),
        ("get", "/models/nope", None, 404),
        ("post", "/chat/completions", {"model": MODEL}, 400),
        ("post", "/chat/completion", {}, 404),
        ("post", "/chat/completions", {"model": MODEL, "messages": QUESTION, "max_completion_tokens": 1}, 200),
    ],
)
def test_every_answer_has_a_request_id(server, method, path, body, status):
    headers = {"Authorization": f"Bearer {server.api_key}"}
    response = requests.request(method, server.base_url + path, json=body, headers=headers, timeout=60)
    assert response.status_code == status
    assert response.headers.get("x-request-id")


def test_a_practice_429_says_when_to_retry(client):
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model=MODEL, messages=QUESTION, extra_headers={"X-Practice-Fail": "429"}, max_completion_tokens=1
        )
    assert caught.value.response.headers.get("retry-after") == "1"
    assert caught.value.response.headers.get("x-request-id")
    with pytest.raises(openai.RateLimitError) as billing:
        client.chat.completions.create(
            model=MODEL,
            messages=QUESTION,
            extra_headers={"X-Practice-Fail": "429; code=credit_balance_exhausted"},
            max_completion_tokens=1,
        )
    assert "retry-after" not in billing.value.response.headers


# --- The Responses API --------------------------------------------------------------------


def test_responses_create_answers_with_text_and_usage(client):
    response = client.responses.create(
        model=MODEL, instructions="Answer briefly.", input="Say hello.", max_output_tokens=16, temperature=0
    )
    assert response.object == "response" and response.status in ("completed", "incomplete")
    assert response.output_text.strip()
    assert response.usage.output_tokens <= 16 and response.usage.input_tokens > 5


def test_responses_stream_the_documented_events(client):
    events = list(client.responses.create(model=MODEL, input="Say hello.", max_output_tokens=16, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    assert "response.output_text.delta" in kinds and "response.output_item.done" in kinds
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == events[-1].response.output_text
    assert [event.sequence_number for event in events] == list(range(len(events)))


def test_responses_call_a_function_tool_and_read_its_output(client):
    tool = {"type": "function", **WEATHER["function"]}
    first = client.responses.create(
        model=MODEL, input="What is the weather in Paris?", tools=[tool], tool_choice="required", max_output_tokens=60
    )
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments)["city"]
    second = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": 18}'},
        ],
        tools=[tool],
        max_output_tokens=30,
    )
    assert second.output_text.strip()


def test_responses_take_the_output_items_back_statelessly(client):
    # The stateless pattern for reasoning models: store=False, include the encrypted reasoning,
    # and send every output item back (the SDK's own objects) with the function's output.
    tool = {"type": "function", **WEATHER["function"]}
    stateless = {"store": False, "include": ["reasoning.encrypted_content"]}
    conversation = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.responses.create(
        model=MODEL, input=conversation, tools=[tool], tool_choice="required", max_output_tokens=60, **stateless
    )
    assert first.store is False
    conversation += first.output
    for call in (item for item in first.output if item.type == "function_call"):
        conversation.append({"type": "function_call_output", "call_id": call.call_id, "output": "18 C, cloudy"})
    second = client.responses.create(model=MODEL, input=conversation, tools=[tool], max_output_tokens=30, **stateless)
    assert second.output_text.strip()


def test_responses_read_past_reasoning_items_only_with_their_encrypted_content(client):
    reasoning = {"type": "reasoning", "id": "rs_123", "summary": []}
    asked = [{"role": "user", "content": "Hi"}, {**reasoning, "encrypted_content": "gAAAA..."}]
    assert client.responses.create(model=MODEL, input=asked, max_output_tokens=16, store=False).output_text
    with pytest.raises(openai.NotFoundError, match="not persisted when `store` is set to false") as caught:
        client.responses.create(model=MODEL, input=[{"role": "user", "content": "Hi"}, reasoning], max_output_tokens=16)
    assert caught.value.param == "input[1]"


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([{"type": "function_call_output", "call_id": "call_9", "output": "18"}], "No tool call found"),
        ([{"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": "{}"}], "No tool output"),
    ],
)
def test_responses_refuse_a_function_call_and_output_that_do_not_pair_up(client, items, words):
    with pytest.raises(openai.BadRequestError, match=words) as caught:
        client.responses.create(model=MODEL, input=[{"role": "user", "content": "Hi"}, *items], max_output_tokens=16)
    assert caught.value.param == "input" and "call_9" in caught.value.message


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"temperature": 5}, "temperature"),
        ({"extra_body": {"bogus": 1}}, "bogus"),
    ],
)
def test_responses_refuse_what_needs_openai_with_a_clear_400(client, extra, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="hi", **extra)
    assert caught.value.param == param


PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)
INPUT_IMAGE = {"type": "input_image", "image_url": PIXEL, "detail": "auto"}
CHAT_IMAGE = {"type": "image_url", "image_url": {"url": PIXEL}}  # chat completions' part, not the Responses API's


def _asking(*parts):
    return [{"role": "user", "content": [{"type": "input_text", "text": "What is in this image?"}, *parts]}]


@pytest.mark.parametrize(
    "items",
    [
        [{"role": "user", "content": "Say hello."}],  # EasyInputMessage, string content
        [{"role": "user", "content": [{"type": "input_text", "text": "Say hello."}]}],  # ... and a list of parts
        [  # InputMessage, with its type
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello."}]},
        ],
    ],
    ids=["string", "parts", "typed"],
)
def test_responses_take_every_form_of_a_text_message(client, items):
    assert client.responses.create(model=MODEL, input=items, max_output_tokens=16).output_text is not None


@pytest.mark.parametrize(
    "part",
    [
        INPUT_IMAGE,
        {"type": "input_image", "file_id": "file-abc123", "detail": "low"},
        {"type": "input_image", "image_url": PIXEL},  # detail left out: the SDK says it defaults to auto
    ],
    ids=["image_url", "file_id", "no-detail"],
)
def test_responses_refuse_an_image_as_a_text_only_model_does(client, part):
    """The spec takes the image part; the offline model, which reads text only, refuses it as chat does."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=_asking(part), max_output_tokens=16)
    assert caught.value.response.json() == {
        "error": {
            "message": "Invalid content type. input_image is only supported by certain models.",
            "type": "invalid_request_error",
            "param": "input[0].content[1].type",
            "code": None,
        }
    }


def test_responses_refuse_a_file_part_the_model_cannot_read(client):
    part = {"type": "input_file", "filename": "notes.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=_asking(part), max_output_tokens=16)
    assert (caught.value.param, caught.value.code) == ("input[0].content[1].type", "invalid_value")
    assert "reads text only" in caught.value.message


@pytest.mark.parametrize(
    ("part", "param", "code", "words"),
    [
        ({"type": "text", "text": "hi"}, "input[0].content[1].type", "invalid_value", "Invalid value: 'text'."),
        (CHAT_IMAGE, "input[0].content[1].type", "invalid_value", "Supported values are: 'input_text', 'input_image'"),
        ({"type": "input_text"}, "input[0].content[1].text", "missing_required_parameter", "Missing required"),
        ({**INPUT_IMAGE, "detail": "huge"}, "input[0].content[1].detail", "invalid_value", "Invalid value: 'huge'."),
        ("a picture", "input[0].content[1]", "invalid_type", "expected an object"),
    ],
    ids=["chat-text-part", "chat-image-part", "no-text", "bad-detail", "not-an-object"],
)
def test_responses_refuse_a_malformed_content_part_as_openai_does(client, part, param, code, words):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=_asking(part), max_output_tokens=16)
    assert (caught.value.param, caught.value.code) == (param, code)
    assert words in caught.value.message and "not one of the forms" not in caught.value.message


@pytest.mark.parametrize(
    ("item", "param", "code", "words"),
    [
        ({"role": "robot", "content": "hi"}, "input[0].role", "invalid_value", "Supported values are: 'user'"),
        ({"type": "message", "role": "wizard", "content": "hi"}, "input[0].role", "invalid_value", "'assistant'"),
        ({"type": "function_call_output", "call_id": "call_1"}, "input[0].output", "missing_required_parameter", ""),
        ({"type": "funky"}, "input[0].type", "invalid_value", "'function_call_output'"),
    ],
    ids=["unknown-role", "unknown-role-of-a-typed-message", "tool-output-without-output", "unknown-type"],
)
def test_responses_name_what_is_wrong_with_an_input_item(client, item, param, code, words):
    # The item unions overlap (a message is an EasyInputMessage and an Item): the error must
    # come from the form the item was meant as, not from one it never tried to be.
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=[item], max_output_tokens=16)
    assert (caught.value.param, caught.value.code) == (param, code)
    assert words in caught.value.message


def test_responses_echo_the_reasoning_and_verbosity_asked_for(client):
    # OpenAI echoes `reasoning` and `text.verbosity` in the Response; the offline model has no
    # reasoning, so no reasoning item and no reasoning tokens, but the settings read back as sent.
    asked = client.responses.create(
        model=MODEL, input="Say hello.", max_output_tokens=16, reasoning={"effort": "low", "summary": "auto"}
    )
    assert (asked.reasoning.effort, asked.reasoning.summary) == ("low", "auto")
    assert [item.type for item in asked.output] == ["message"]
    assert asked.usage.output_tokens_details.reasoning_tokens == 0
    assert asked.text.verbosity == "medium"  # OpenAI's default
    plain = client.responses.create(model=MODEL, input="Say hello.", max_output_tokens=16, text={"verbosity": "low"})
    assert (plain.reasoning.effort, plain.reasoning.summary, plain.text.verbosity) == (None, None, "low")


def test_responses_follow_a_json_schema_in_text_format(client):
    # Structured Outputs in the Responses API live in text.format, not in response_format.
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["name", "year"],
        "additionalProperties": False,
    }
    form = {"type": "json_schema", "name": "book", "schema": schema, "strict": True}
    response = client.responses.create(
        model=MODEL, input="Invent a book: its name and year.", text={"format": form}, max_output_tokens=60
    )
    import jsonschema

    jsonschema.validate(json.loads(response.output_text), schema)
    assert response.text.format.type == "json_schema" and response.text.format.name == "book"


def test_a_stored_response_is_not_found_and_the_error_says_why(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve("resp_123")
    assert "resp_123" in caught.value.message and "stores no responses" in caught.value.message
    with pytest.raises(openai.NotFoundError, match="stores no responses"):
        client.responses.delete("resp_123")


# --- CHAT_TUTORIAL_DEFAULT_SEED ------------------------------------------------------------


def test_the_default_seed_makes_requests_without_a_seed_repeatable(private_server, monkeypatch):
    monkeypatch.setenv(DEFAULT_SEED_VAR, "7")
    server = local_server.start()
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=120)
    request = {"model": MODEL, "messages": [{"role": "user", "content": "Name a fish."}], "max_completion_tokens": 24}
    first, second = (client.chat.completions.create(**request, temperature=1.5) for _ in range(2))
    assert first.choices[0].message.content == second.choices[0].message.content
    answers = [
        client.responses.create(model=MODEL, input="Name a fish.", max_output_tokens=24, temperature=1.5)
        for _ in range(2)
    ]
    assert answers[0].output_text == answers[1].output_text
    seeded = client.chat.completions.create(**request, temperature=1.5, seed=8)  # a request's own seed wins
    assert seeded.choices[0].message.content != first.choices[0].message.content


# --- Serving that never stalls ------------------------------------------------------------

RUNAWAY = {
    "model": MODEL,
    "messages": [{"role": "user", "content": "Count from 1 to 5000, one number per line."}],
    "logit_bias": {"2": -100},  # <|im_end|> never: the reply runs on until something stops it
}


def _stops(server) -> int:
    return requests.get(f"http://{server.host}:{server.port}/health", timeout=10).json()["stopped_for_disconnect"]


@pytest.mark.parametrize("stream", [False, True], ids=["unstreamed", "streamed"])
def test_a_client_that_goes_away_stops_its_reply_and_frees_the_model(server, stream):
    # Before, a learner who gave up on a long reply left the one model writing it for nobody.
    before = _stops(server)
    url, headers = f"{server.base_url}/chat/completions", {"Authorization": f"Bearer {server.api_key}"}
    body = {**RUNAWAY, "max_tokens": 1800, "stream": stream}  # about 15 s of writing on 2 cores
    if stream:  # the client reads the first piece, then closes the connection
        with httpx.stream("POST", url, json=body, headers=headers, timeout=httpx.Timeout(60, connect=10)) as answer:
            for _ in answer.iter_raw():
                break
    else:
        with pytest.raises(httpx.ReadTimeout):  # the client gives up after 2 s without a byte
            httpx.post(url, json=body, headers=headers, timeout=httpx.Timeout(2.0, connect=10))
    for _ in range(100):  # the server notices within a token or two; polled, not timed
        if _stops(server) > before:
            break
        time.sleep(0.2)
    assert _stops(server) == before + 1
    reply = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=3
    )
    assert reply.choices[0].finish_reason == "length"


def _stalled_reader(server, body: dict) -> socket.socket:
    """A client that sends `body`, reads the first piece of the answer and then reads nothing more, connected."""
    reader = socket.socket()
    # Small receive buffer and segments: on loopback Linux lets the server's socket queue about
    # 4 MB for a client that does not read, more than any reply of this model; with segments of
    # 128 bytes its queue holds some tens of KB, which a long streamed reply fills.
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if hasattr(socket, "TCP_MAXSEG"):
        reader.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 128)
    reader.settimeout(120)
    reader.connect((server.host, server.port))
    raw = json.dumps(body).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {server.host}\r\nAuthorization: Bearer {server.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n\r\n"
    )
    reader.sendall(head.encode() + raw)
    assert reader.recv(1024).startswith(b"HTTP/1.1 200")
    return reader


def test_a_client_that_stops_reading_does_not_hold_the_model(server):
    # Before, a streamed reply was written at its client's pace while the reply held the model:
    # a client that stopped reading (a stalled notebook, a paused laptop) kept every other
    # request waiting, forever once the socket's buffers were full.
    before = _stops(server)
    body = {**RUNAWAY, "max_completion_tokens": 1200, "stream": True}  # about 390 KB of stream
    reader = _stalled_reader(server, body)
    try:
        # A liveness limit, not a timing: the reply goes on being written (1200 tokens, over
        # 100 s on a busy machine) and the next request is answered once it is done.
        other = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=600)
        reply = other.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], max_tokens=3)
        assert reply.choices[0].finish_reason == "length"
    finally:
        reader.close()  # it leaves before reading its reply: counted once as a reply not sent in full
    for _ in range(100):
        if _stops(server) > before:
            break
        time.sleep(0.2)
    assert _stops(server) == before + 1


def test_a_stream_that_fails_midway_still_ends_with_an_error_event():
    # streaming.forward sends through an outbox now: what the app sent, then the error event, in order.
    import asyncio

    from helpers.offline import streaming

    async def breaks_off(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: {}\n\n", "more_body": True})
        raise RuntimeError("the model broke off")

    sent = []

    async def send(message):
        await asyncio.sleep(0.01)  # a client slower than the app
        sent.append(message)

    async def receive():
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "POST", "path": "/v1/completions", "headers": []}
    asyncio.run(streaming.forward(breaks_off, scope, receive, send, {"model": MODEL, "prompt": "Hi"}))
    bodies = [m.get("body", b"") for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["status"] == 200 and bodies[0] == b"data: {}\n\n"
    assert json.loads(bodies[1].removeprefix(b"data: "))["error"]["type"] == "server_error"
    assert not sent[-1].get("more_body") and sent[-1]["body"] == b""


def test_a_request_that_sets_no_limit_gets_the_servers_cap(client):
    # 512 tokens: about 5 s on an idle machine, over 120 s on a busy one; a client limit, not a timing
    reply = client.with_options(timeout=900).chat.completions.create(**RUNAWAY, seed=1)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == catalog.OFFLINE_DEFAULT_MAX_TOKENS


def test_a_reply_that_may_be_a_tool_call_has_a_shorter_cap():
    from helpers.offline import tools

    body = {"messages": [{"role": "user", "content": "Weather?"}], "tools": [WEATHER]}
    assert tools.default_max_tokens(tools.prepare(body)) == catalog.OFFLINE_DEFAULT_TOOL_CALL_TOKENS
    body = {"messages": [*QUESTION, {"role": "tool", "tool_call_id": "c", "content": "18"}], "tools": [WEATHER]}
    assert tools.default_max_tokens(tools.prepare(body)) == catalog.OFFLINE_DEFAULT_MAX_TOKENS  # an answer


# --- Seeded replies that repeat -------------------------------------------------------------

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}


def test_a_seeded_request_gives_the_same_reply_whatever_came_before_it(client):
    # llama-cpp-python reuses the previous request's prompt prefix, so the same system prompt
    # before another question changed how the next prompt was evaluated, and with it a seeded
    # reply: a learner re-running one cell got a reply that differed from the recording.
    def ask(question):
        reply = client.chat.completions.create(
            model=MODEL,
            messages=[SYSTEM, {"role": "user", "content": question}],
            max_completion_tokens=48,
            seed=42,
        )
        return reply.choices[0].message.content

    bicycle = "Describe a bicycle in 3 sentences."
    first = ask(bicycle)
    replies = [first]
    for other in ["What is rain?", "Name three colours.", bicycle, "Describe a bicycle in 2 sentences."]:
        ask(other)
        replies.append(ask(bicycle))
    assert replies == [first] * len(replies)
