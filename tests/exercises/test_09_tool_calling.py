"""Lesson 9's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import json

from exercises.cases import exercise_tests, solution


def collect_ignoring_index(chunks):
    call = {"id": None, "name": "", "arguments": ""}
    for chunk in chunks:
        for piece in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call["id"] = call["id"] or piece.id
            call["name"] = piece.function.name or call["name"]
            call["arguments"] += piece.function.arguments or ""
    return [call] if call["id"] else []


def time_tool_left_open():
    tool = solution("09").time_tool
    parameters = {"type": "object", "properties": tool["function"]["parameters"]["properties"]}
    return {"type": "function", "function": {**tool["function"], "parameters": parameters}}


def ask_with_tools_letting_errors_through(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    for _ in range(max_rounds):
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        for call in message.tool_calls:
            result = functions[call.function.name](**json.loads(call.function.arguments))  # no try: a failure crashes
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    return None


def answer_calls(message, functions, messages):
    """Run each tool call of `message` and append its result (or its error) to `messages`."""
    for call in message.tool_calls:
        try:
            result = functions[call.function.name](**json.loads(call.function.arguments))
        except Exception as error:
            result = {"error": str(error)}
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})


def ask_with_tools_without_a_cap(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    while True:  # max_rounds ignored
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        answer_calls(message, functions, messages)


def ask_with_tools_for_one_round(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
    message = reply.choices[0].message
    if not message.tool_calls or max_rounds < 2:
        return message.content
    messages.append(message)
    answer_calls(message, functions, messages)  # the calls of the first reply only; no second round
    reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
    return reply.choices[0].message.content


def ask_with_tools_one_request_too_many(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    for _ in range(max_rounds + 1):  # "max_rounds rounds of tools, then one more for the answer"
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        answer_calls(message, functions, messages)
    return None


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # strict, but the schema leaves other keys open and city optional: OpenAI (and the offline server) refuse it.
    "9.1": (lambda: solution("09").time_tool, time_tool_left_open),
    # Puts every piece into one call: right for one call, wrong for two.
    "9.2": (lambda: solution("09").collect_tool_calls, lambda: collect_ignoring_index),
    # The loop, but a tool that raises crashes it.
    "9.3": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_letting_errors_through),
    "9.3 without a cap": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_without_a_cap),
    # Runs the first reply's calls and asks once more, whatever that reply asks for.
    "9.3 one round only": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_for_one_round),
    "9.3 one request too many": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_one_request_too_many),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
