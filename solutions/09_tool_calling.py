"""Lesson 9, worked solutions."""

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
