"""Checkers for lesson 9: tool calling."""

from __future__ import annotations

import json

from .. import catalog
from .practice import completions, recording_client
from .registry import exercise


@exercise("9.1", "Describe a tool for the model", sends_requests=True)
def _check_time_tool(answer) -> str | None:
    import openai

    if not isinstance(answer, dict) or answer.get("type") != "function":
        return "a tool is a dict {'type': 'function', 'function': {...}}."
    function = answer.get("function")
    if not isinstance(function, dict) or function.get("name") != "get_local_time":
        return "put the function's details under 'function', with 'name': 'get_local_time'."
    if not str(function.get("description") or "").strip():
        return "give it a 'description': the model reads it to decide when to call the tool."
    parameters = function.get("parameters") or {}
    if parameters.get("type") != "object" or set(parameters.get("properties") or {}) != {"city"}:
        return "'parameters' is a JSON schema of type 'object' whose only property is 'city'."
    if (parameters["properties"]["city"] or {}).get("type") != "string":
        return "'city' is a string: {'type': 'string', 'description': ...}."
    if function.get("strict") is not True:
        return "set 'strict': True (next to 'name'), so that the arguments always fit the schema."
    # Now for real: the offline server refuses what OpenAI refuses in strict mode, then calls the tool.
    client, exchanges, server = recording_client()
    try:
        response = client.chat.completions.create(
            model=server.model,
            messages=[{"role": "user", "content": "What time is it in Tokyo?"}],
            tools=[answer],
            tool_choice={"type": "function", "function": {"name": "get_local_time"}},
            parallel_tool_calls=False,
            max_completion_tokens=40,
        )
    except openai.BadRequestError as error:
        return f"the server refused your tool, as OpenAI would: {error.message}"
    choice = response.choices[0]
    if choice.finish_reason != "tool_calls":
        return None  # cut off by the limit: nothing to judge the schema by
    arguments = json.loads(choice.message.tool_calls[0].function.arguments)
    if set(arguments) != {"city"} or not isinstance(arguments["city"], str):
        return f"the model called get_local_time with {arguments!r}: the schema should allow only a string city."
    return None


def _chunk(tool_calls=None, finish_reason=None, role=None):
    from openai.types.chat import ChatCompletionChunk

    delta = {"role": role, "content": None, "tool_calls": tool_calls}
    return ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-exercise",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": catalog.OFFLINE_MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
    )


def _piece(index, arguments, call_id=None, name=None):
    function = {"arguments": arguments} | ({"name": name} if name else {})
    return {"index": index, "function": function} | ({"id": call_id, "type": "function"} if call_id else {})


# Two calls as OpenAI streams them: each one's id and name once, then its arguments in pieces.
_OPENAI_CHUNKS = [
    [_piece(0, "", "call_paris", "get_weather")],
    [_piece(0, '{"city":')],
    [_piece(0, ' "Paris"}')],
    [_piece(1, "", "call_rome", "get_weather")],
    [_piece(1, '{"ci')],
    [_piece(1, 'ty": "Rome"}')],
]
_OPENAI_CALLS = [
    {"id": "call_paris", "name": "get_weather", "arguments": '{"city": "Paris"}'},
    {"id": "call_rome", "name": "get_weather", "arguments": '{"city": "Rome"}'},
]
_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather now in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome", "Oslo"]}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def _streamed_calls(exchange) -> list[dict]:
    """The tool calls in a streamed reply, put together from the server-sent events that were read."""
    calls: dict[int, dict] = {}
    for line in bytes(exchange.body).decode("utf-8").splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        for choice in json.loads(line[len("data: ") :]).get("choices", []):
            for piece in (choice.get("delta") or {}).get("tool_calls") or []:
                call = calls.setdefault(piece["index"], {"id": None, "name": "", "arguments": ""})
                call["id"] = call["id"] or piece.get("id")
                call["name"] += (piece.get("function") or {}).get("name") or ""
                call["arguments"] += (piece.get("function") or {}).get("arguments") or ""
    return [calls[index] for index in sorted(calls)]


@exercise("9.2", "Put streamed tool calls together", sends_requests=True)
def _check_collect_tool_calls(answer) -> str | None:
    client, exchanges, server = recording_client()
    stream = client.chat.completions.create(
        model=server.model,
        messages=[{"role": "user", "content": "What is the weather in Paris and in Rome?"}],
        tools=[_WEATHER_TOOL],
        tool_choice="required",
        max_completion_tokens=80,
        stream=True,
    )
    got = answer(stream)
    sent = completions(exchanges)[0]
    if sent.finished is None:
        return "read the stream to its end (loop over every chunk) before you return."
    if not isinstance(got, list) or not all(isinstance(call, dict) for call in got):
        return "return a list with one dict per call: {'id': ..., 'name': ..., 'arguments': ...}."
    expected = _streamed_calls(sent)
    if len(got) != len(expected):
        return (
            f"the server streamed {len(expected)} call(s) but you returned {len(got)} dict(s): "
            "put the pieces with the same index together, one dict per call."
        )
    if got != expected:
        return "join each call's pieces of arguments into one string, and keep its id and name from its first piece."
    # The same with OpenAI's chunks: two calls, told apart by their index.
    chunks = [_chunk(role="assistant")] + [_chunk(pieces) for pieces in _OPENAI_CHUNKS]
    chunks.append(_chunk(finish_reason="tool_calls"))
    if (got := answer(iter(chunks))) != _OPENAI_CALLS:
        return f"with OpenAI's chunks for two calls, expected {_OPENAI_CALLS!r} but got {got!r}."
    return None
