"""Lesson 6, worked solutions."""


# Exercise 6.1
def trim_to_pairs(messages, max_pairs):
    system = [m for m in messages if m["role"] == "system"]
    others = [m for m in messages if m["role"] != "system"]
    waiting = others[-1:] if others and others[-1]["role"] == "user" else []
    answered = others[: len(others) - len(waiting)]
    start = max(0, len(answered) - 2 * max_pairs)  # a negative start would count from the end
    return system + answered[start:] + waiting


# Exercise 6.2
def trim_to_budget(client, model, messages, budget):
    """The most recent pairs that fit in `budget` prompt tokens, measured by the server itself."""
    pairs = sum(1 for m in messages if m["role"] == "assistant")
    for keep in range(pairs, -1, -1):
        trimmed = trim_to_pairs(messages, keep)
        response = client.chat.completions.create(model=model, messages=trimmed, max_completion_tokens=1)
        if response.usage.prompt_tokens <= budget:
            return trimmed
    return None
