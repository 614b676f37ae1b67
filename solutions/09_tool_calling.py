"""Lesson 9, worked solutions."""

import json

from helpers.parameters import request_options

# Exercise 9.1
time_tool = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "description": "The local time now in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city's name, e.g. Tokyo"}},
            "required": ["city"],  # strict mode: every property listed here...
            "additionalProperties": False,  # ...and no other keys allowed
        },
        "strict": True,
    },
}


# Exercise 9.2
def collect_tool_calls(chunks):
    calls = {}  # index -> the call put together so far
    for chunk in chunks:
        if not chunk.choices:
            continue
        for piece in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(piece.index, {"id": None, "name": "", "arguments": ""})
            if piece.id:
                call["id"] = piece.id
            if piece.function and piece.function.name:
                call["name"] += piece.function.name
            if piece.function and piece.function.arguments:
                call["arguments"] += piece.function.arguments
    return [calls[index] for index in sorted(calls)]


# Exercise 9.3
def ask_with_tools(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    options = request_options(model, reasoning_effort="none").send  # gpt-6-luna: tools only without thinking
    for _ in range(max_rounds):
        response = client.chat.completions.create(
            model=model, messages=messages, tools=tools, max_completion_tokens=60, **options
        )
        message = response.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        for call in message.tool_calls:
            try:
                result = functions[call.function.name](**json.loads(call.function.arguments))
            except Exception as error:  # a failing tool is news for the model, not a crash
                result = {"error": f"{type(error).__name__}: {error}"}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    return None  # still asking for tools after max_rounds requests
