"""Checkers for lesson 9: tool calling."""

from __future__ import annotations

import json

from .. import catalog
from ..parameters import tool_options
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
            **tool_options(server.model),  # reasoning_effort="none" where the model takes tools only then
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
        **tool_options(server.model),
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


_ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_order",
        "description": "The status of one of the customer's orders",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "enum": ["A-1001", "B-2002"]}},
            "required": ["order_id"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
_ORDER_QUESTION = [{"role": "user", "content": "Where is my order A-1001?"}]


class _Recorder:
    """A function for the tool that keeps the arguments of each call (and fails, if told to)."""

    def __init__(self, fail: str | None = None):
        self.calls: list[dict] = []
        self.fail = fail

    def __call__(self, **arguments):
        self.calls.append(arguments)
        if self.fail:
            raise RuntimeError(self.fail)
        return {"order_id": arguments.get("order_id"), "status": "shipped"}


def _check_round_trips(sent, recorder) -> str | None:
    """Each request after a reply with calls carries that reply and one tool message per call, in order."""
    calls_made = []
    for before, after in zip(sent, sent[1:], strict=False):
        calls = before.reply()["choices"][0]["message"].get("tool_calls") or []
        if not calls:
            return "you asked again after the model answered in text: stop at the first reply without tool_calls."
        tail = after.sent["messages"][-(len(calls) + 1) :]
        if [call["id"] for call in tail[0].get("tool_calls") or []] != [call["id"] for call in calls]:
            return "before the tool messages, append the assistant's message with its tool_calls, as it came back."
        for call, message in zip(calls, tail[1:], strict=True):
            if message.get("role") != "tool" or message.get("tool_call_id") != call["id"]:
                return "answer each call with {'role': 'tool', 'tool_call_id': call.id, 'content': ...}, in order."
            calls_made.append((json.loads(call["function"]["arguments"]), message.get("content")))
    for _, content in calls_made:
        if not isinstance(content, str):
            return "a tool message's content is a string: send the result as json.dumps(result)."
    if [arguments for arguments, _ in calls_made] != recorder.calls:
        return "run functions[name](**arguments) once for each call, with the arguments json.loads gives you."
    return None


def _model_calling_for(rounds: int | None):
    """Play a model that wants tools in its first `rounds` replies (None: in every reply), then may answer.

    The offline model answers in text as soon as a tool result comes back; a provider's model
    often calls again (another order, a retry). Requests that leave `tool_choice` at "auto" get
    "required" instead, so the learner's loop meets a second round, and a model that never stops.
    """

    def rewrite(body: dict, index: int) -> dict:
        if body.get("tools") and body.get("tool_choice", "auto") == "auto" and (rounds is None or index < rounds):
            return {**body, "tool_choice": "required"}
        return body

    return rewrite


@exercise("9.3", "Answer with tools, in a loop with a cap", sends_requests=True)
def _check_ask_with_tools(answer) -> str | None:
    # 1. A tool that works, and a model that looks twice before it answers: call, call, text.
    client, exchanges, server = recording_client(rewrite=_model_calling_for(2), most=8)
    recorder = _Recorder()
    got = answer(client, server.model, list(_ORDER_QUESTION), [_ORDER_TOOL], {"get_order": recorder}, 3)
    sent = completions(exchanges)
    first_calls = sent[0].reply()["choices"][0]["message"].get("tool_calls") if sent else None
    if first_calls and len(sent) == 1:
        return "the model asked for a tool call: run it, send the result back in a tool message, and ask again."
    if hint := _check_round_trips(sent, recorder):
        return hint
    last = sent[-1].reply()["choices"][0]["message"]
    if last.get("tool_calls") and len(sent) < 3:
        return (
            f"reply {len(sent)} asked for tools again and you stopped: loop, running the calls of each "
            "reply, until the model answers in text or you have sent max_rounds requests."
        )
    tool_results = [m for e in sent for m in e.sent["messages"] if m.get("role") == "tool"]
    if tool_results and json.loads(tool_results[0]["content"]).get("status") != "shipped":
        return "send the function's result as the tool message's content: json.dumps(result)."
    if not last.get("tool_calls") and got != last.get("content"):
        return "return the text of the model's last reply (message.content)."
    # 2. A tool that fails: the error goes back to the model; nothing crashes.
    client, exchanges, server = recording_client(most=8)
    failing = _Recorder(fail="the order database is offline")
    try:
        answer(client, server.model, list(_ORDER_QUESTION), [_ORDER_TOOL], {"get_order": failing}, 3)
    except Exception as error:  # noqa: BLE001 - the learner's loop let the tool's error through
        if "the order database is offline" not in str(error):
            raise  # something else failed (a timeout, a typo): reported as it is
        return (
            f"the tool raised {type(error).__name__} and your function crashed: catch it, and send "
            "{'error': str(error)} as the tool's result, so the model can tell the user."
        )
    sent = completions(exchanges)
    errors = [m.get("content") or "" for e in sent for m in e.sent["messages"] if m.get("role") == "tool"]
    if failing.calls and not any("the order database is offline" in content for content in errors):
        return "when a tool raises, send the error's text back as the tool's result (e.g. {'error': str(error)})."
    # 3. The cap: a model that never stops asking; max_rounds requests at most, then None.
    client, exchanges, server = recording_client(rewrite=_model_calling_for(None), most=4)
    raised = None
    try:
        got = answer(client, server.model, list(_ORDER_QUESTION), [_ORDER_TOOL], {"get_order": _Recorder()}, 2)
    except Exception as error:  # noqa: BLE001 - the checker's limit stopped it, or the learner's code failed
        raised = error
    sent = completions(exchanges)
    if len(sent) > 2:
        still = ", and kept going until the checker stopped you" if raised else ""
        return f"with max_rounds=2 you sent {len(sent)} requests{still}: stop after max_rounds requests."
    if raised:
        raise raised
    if len(sent) < 2:
        return "with max_rounds=2 and a model that keeps asking for tools, send 2 requests before you give up."
    if got is not None:
        return "when the model still asks for tools after max_rounds requests, return None."
    return None
