"""The Responses API (`POST /v1/responses`), its basic part, translated to and from chat completions.

A request's `input` (a string, or messages and function-call items),
`instructions`, `max_output_tokens`, `temperature`, `top_p`, `text.format` (JSON
mode and Structured Outputs), function `tools`, `tool_choice` and `stream` become a
chat completion request, admitted and served as /v1/chat/completions is (gate.py,
chat.py); its reply becomes a Response object (`output` items, `output_text` parts,
`usage` with input and output tokens). A streamed
request gets the documented event sequence (response.created ... response.completed);
the events are written once the reply is finished.

What needs OpenAI's side cannot work offline and gets a clear 400: stored state
(`previous_response_id`, `conversation`, `background`, stored prompts) and
built-in tools (web search, file search, ...); retrieving a stored response
(GET /v1/responses/{id}) gets a 404 that says nothing is stored. `reasoning` and
`text.verbosity` are echoed as sent, as OpenAI does.

Reasoning items sent back in `input` (as a stateless client does with a reasoning
model's output, after `store=False, include=["reasoning.encrypted_content"]`) are
accepted and set aside, since this model does not reason; one without its
`encrypted_content` gets OpenAI's 404 for an item it would have had to look up
in storage. `include` is accepted; there is never a reasoning item to fill in.
"""

from __future__ import annotations

import json
import secrets

from . import shapes, spec
from .errors import invalid_request, model_not_found, send_json
from .gate import parse_body
from .inner import CHAT_PATH
from .validation import strict_format_problem

_UNSUPPORTED = {
    "previous_response_id": "stored responses",
    "conversation": "stored conversations",
    "prompt": "stored prompts",
    "background": "background responses",
}
_INPUT_ITEMS = ("message", "function_call", "function_call_output", "reasoning")
_TEXT_PARTS = ("input_text", "output_text", "refusal")  # refusal: in an assistant message sent back
_EVENT_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store")]


def _unpaired_call(items: list) -> str | None:
    """OpenAI's words (as quoted in public bug reports) for a function call and its output that do not pair up."""
    calls = [item.get("call_id") for item in items if item.get("type") == "function_call"]
    outputs = [item.get("call_id") for item in items if item.get("type") == "function_call_output"]
    for call_id in outputs:
        if call_id not in calls:
            return f"No tool call found for function call output with call_id {call_id}."
    for call_id in calls:
        if call_id not in outputs:
            return f"No tool output found for function call {call_id}."
    return None


def _not_stored(item_id, index: int) -> dict:
    """OpenAI's 404 (as quoted in public bug reports) for a reasoning item sent by id alone, without storage."""
    message = (
        f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to false. "
        "Try again with `store` set to true, or remove this item from your input. (The offline practice "
        "server stores nothing: send reasoning items with their encrypted_content, asked for with "
        "include=['reasoning.encrypted_content'].)"
    )
    return invalid_request(message, f"input[{index}]", None)


def _text_only(kind, param: str) -> dict | None:
    """The offline model's refusal of a content part it cannot read (it reads text), as the chat path words it.

    An image gets the words OpenAI's text-only models answer an image part with in chat
    completions (validation.text_only_model_refuses_images), with the part's type named
    and no `code`; other parts (a file) get the chat path's "reads text only" 400.
    """
    if kind in _TEXT_PARTS:
        return None
    if kind == "input_image":
        return invalid_request("Invalid content type. input_image is only supported by certain models.", param)
    message = f"Invalid '{param}': {kind!r}. This offline model reads text only: send parts of type 'input_text'."
    return invalid_request(message, param, "invalid_value")


def _offline_only(what: str, param: str) -> dict:
    message = (
        f"The offline practice server cannot serve {what} ('{param}'): it keeps nothing between requests. "
        "Send the whole conversation in 'input' instead."
    )
    return invalid_request(message, param, "unsupported_parameter")


async def serve(gate, chat, scope, receive, send, raw: bytes):
    """Answer a Responses API request through the chat path: `gate` admits (gate.RequestGate), `chat` serves.

    `chat` is a chat.ChatService; its finished reply comes back here and goes out as a Response.
    """
    status, problem, request = parse_body(raw)
    if not problem:
        status, problem = check(request, gate.model)
    if not problem:
        status, problem, body = gate.admit(CHAT_PATH, to_chat(request))
    if problem:
        if problem["error"]["param"] == "max_completion_tokens":
            problem["error"]["param"] = "max_output_tokens"
        return await send_json(send, status, problem)

    async def answer(reply: dict):
        response = from_chat(reply, request)
        if not request.get("stream"):
            return await send_json(send, 200, response)
        await send({"type": "http.response.start", "status": 200, "headers": _EVENT_HEADERS})
        await send({"type": "http.response.body", "body": b"".join(_event(e) for e in stream_events(response))})

    return await chat.chat(scope, receive, send, body, reply_sink=answer)


async def refuse_stored(send, response_id: str):
    """GET or DELETE /v1/responses/{id}: nothing is stored offline, so there is nothing to find."""
    message = (
        f"Response with id '{response_id}' not found. The offline practice server stores no responses "
        "(it answers every request with store: false): keep what you need from each response yourself."
    )
    return await send_json(send, 404, invalid_request(message, "response_id", "not_found"))


def check(request: dict, model: str):
    if request.get("model") and request["model"] != model:
        return 404, model_not_found(request["model"], model)
    status, problem = spec.check("responses", request)
    if problem:
        return status, problem
    for param, what in _UNSUPPORTED.items():
        if request.get(param):
            return 400, _offline_only(what, param)
    form = (request.get("text") or {}).get("format") or {}
    if form.get("type") == "json_schema" and (problem := strict_format_problem(form)):
        return 400, invalid_request(problem, "text.format.schema", "invalid_json_schema")
    for index, tool in enumerate(request.get("tools") or []):
        if tool.get("type") != "function":
            message = (
                f"The offline practice server has no built-in tool '{tool.get('type')}': "
                "only tools of type 'function' work offline."
            )
            return 400, invalid_request(message, f"tools[{index}].type", "unsupported_value")
    items = request.get("input")
    for index, item in enumerate(items if isinstance(items, list) else []):
        kind = item.get("type", "message")
        if kind not in _INPUT_ITEMS:
            message = "The offline practice server reads input items of type 'message', 'function_call', "
            message += f"'function_call_output' and 'reasoning', not {kind!r}."
            return 400, invalid_request(message, f"input[{index}].type", "unsupported_value")
        if kind == "reasoning" and not item.get("encrypted_content"):
            return 404, _not_stored(item.get("id"), index)
        parts = item.get("content") if kind == "message" else item.get("output")
        if kind in ("message", "function_call_output") and isinstance(parts, list):
            field = "content" if kind == "message" else "output"
            for number, part in enumerate(parts):
                if problem := _text_only(part.get("type"), f"input[{index}].{field}[{number}].type"):
                    return 400, problem
    if problem := _unpaired_call(items if isinstance(items, list) else []):
        return 400, invalid_request(problem, "input", None)
    return 200, None


def to_chat(request: dict) -> dict:
    """The chat completion request that answers `request`."""
    messages = []
    if request.get("instructions"):
        messages.append({"role": "developer", "content": request["instructions"]})
    items = request.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for item in items or []:
        kind = item.get("type", "message")
        if kind == "message":
            content = item["content"]
            if isinstance(content, list):
                content = "\n".join(part.get("text", part.get("refusal", "")) for part in content)
            messages.append({"role": item["role"], "content": content})
        elif kind == "function_call":
            call = {"id": item["call_id"], "type": "function"}
            call["function"] = {"name": item["name"], "arguments": item["arguments"]}
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": _output_text(item["output"])})
        # a reasoning item: the model that wrote it reads it back; this one has no reasoning to resume
    body = {"model": request["model"], "messages": messages}
    for name, chat_name in [
        ("max_output_tokens", "max_completion_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("parallel_tool_calls", "parallel_tool_calls"),
        ("seed", "seed"),
    ]:
        if request.get(name) is not None:
            body[chat_name] = request[name]
    form = (request.get("text") or {}).get("format") or {}
    if form.get("type") == "json_schema":  # Structured Outputs: the same schema, in chat's wrapping
        fields = {k: form[k] for k in ("name", "description", "schema", "strict") if k in form}
        body["response_format"] = {"type": "json_schema", "json_schema": fields}
    elif form.get("type") == "json_object":
        body["response_format"] = {"type": "json_object"}
    if request.get("tools"):
        body["tools"] = [
            {"type": "function", "function": {k: tool[k] for k in ("name", "description", "parameters") if k in tool}}
            for tool in request["tools"]
        ]
        choice = request.get("tool_choice")
        if isinstance(choice, dict):
            body["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
        elif choice is not None:
            body["tool_choice"] = choice
    return body


def _output_text(output) -> str:
    """A function_call_output's `output`: a string, or (as the specification also allows) input_text parts."""
    if isinstance(output, list):
        return "\n".join(part.get("text", "") for part in output if part.get("type") == "input_text")
    return str(output)


def from_chat(reply: dict, request: dict) -> dict:
    """The Response object for a finished chat completion."""
    choice = reply["choices"][0]
    message = choice["message"]
    output = []
    if message.get("content") is not None:
        part = {"type": "output_text", "text": message["content"], "annotations": [], "logprobs": []}
        output.append(
            {
                "type": "message",
                "id": f"msg_{secrets.token_hex(24)}",
                "status": "completed",
                "role": "assistant",
                "content": [part],
            }
        )
    for call in message.get("tool_calls") or []:
        output.append(
            {
                "type": "function_call",
                "id": f"fc_{secrets.token_hex(24)}",
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        )
    cut = choice["finish_reason"] == "length"
    reasoning, text = request.get("reasoning") or {}, request.get("text") or {}
    usage = reply["usage"]
    tools = [  # as OpenAI echoes them: every field, strict by default
        {"description": None, "parameters": None, "strict": True, **tool} for tool in request.get("tools") or []
    ]
    return {
        "id": f"resp_{secrets.token_hex(24)}",
        "object": "response",
        "created_at": reply["created"],
        "status": "incomplete" if cut else "completed",
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": reply["model"],
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        # What the request asked for, echoed as OpenAI does; this model has no reasoning to apply it to.
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "service_tier": shapes.SERVICE_TIER,
        "store": False,  # nothing is kept offline
        "temperature": request.get("temperature", 1.0),
        "text": {"format": text.get("format") or {"type": "text"}, "verbosity": text.get("verbosity") or "medium"},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": tools,
        "top_logprobs": 0,
        "top_p": request.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage["total_tokens"],
        },
        "metadata": request.get("metadata") or {},
    }


def stream_events(response: dict) -> list[dict]:
    """The events OpenAI streams for `response`, in the documented order, numbered."""
    start = {key: value for key, value in response.items() if key != "usage"}
    start.update(status="in_progress", output=[], incomplete_details=None)
    events = [{"type": "response.created", "response": start}, {"type": "response.in_progress", "response": start}]
    for index, item in enumerate(response["output"]):
        opened = dict(item, status="in_progress")
        if item["type"] == "message":
            opened["content"] = []
        elif item["type"] == "function_call":
            opened["arguments"] = ""
        events.append({"type": "response.output_item.added", "output_index": index, "item": opened})
        if item["type"] == "message":
            part = item["content"][0]
            where = {"item_id": item["id"], "output_index": index, "content_index": 0}
            events.append(dict(where, type="response.content_part.added", part=dict(part, text="")))
            for piece in shapes.text_pieces(part["text"]):
                events.append(dict(where, type="response.output_text.delta", delta=piece, logprobs=[]))
            events.append(dict(where, type="response.output_text.done", text=part["text"], logprobs=[]))
            events.append(dict(where, type="response.content_part.done", part=part))
        else:
            where = {"item_id": item["id"], "output_index": index}
            for piece in shapes.text_pieces(item["arguments"]):
                events.append(dict(where, type="response.function_call_arguments.delta", delta=piece))
            done = dict(where, type="response.function_call_arguments.done", name=item["name"])
            events.append(dict(done, arguments=item["arguments"]))
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    finished = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    events.append({"type": finished, "response": response})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def _event(event: dict) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
