"""Checkers for lesson 6: conversations."""

from __future__ import annotations

import json

from .practice import completions, recording_client
from .registry import exercise


def _conversation(*roles: str) -> list[dict]:
    return [{"role": role, "content": f"{role} {index}"} for index, role in enumerate(roles)]


def _last_pairs(messages: list[dict], max_pairs: int) -> list[dict]:
    """The system message(s), the last `max_pairs` user/assistant pairs, and a final unanswered question."""
    system = [m for m in messages if m["role"] == "system"]
    others = [m for m in messages if m["role"] != "system"]
    waiting = others[-1:] if others and others[-1]["role"] == "user" else []
    answered = others[: len(others) - len(waiting)]
    return system + answered[max(0, len(answered) - 2 * max_pairs) :] + waiting


@exercise("6.1", "Trim a conversation to its last pairs")
def _check_trim_to_pairs(answer) -> str | None:
    conversation = _conversation("system", "user", "assistant", "user", "assistant", "user", "assistant")
    original = json.dumps(conversation)
    got = answer(conversation, 2)
    if json.dumps(conversation) != original:
        return "your function changed the list it was given; build and return a new list instead."
    if not got or got[0]["role"] != "system":
        return "keep the system message, first."
    if got != [conversation[0], *conversation[3:]]:
        return "with max_pairs=2, keep the system message and the last 2 user/assistant pairs (5 messages)."
    asking = _conversation("system", "user", "assistant", "user", "assistant", "user")
    if answer(asking, 1) != [asking[0], asking[3], asking[4], asking[5]]:
        return "a final unanswered user message is kept, in addition to the last max_pairs pairs."
    if answer(conversation, 0) != [conversation[0]]:
        return "with max_pairs=0, only the system message remains."
    if (got := answer(conversation, 5)) != conversation:
        return (
            f"with max_pairs=5 and only 3 pairs, keep all 3 (7 messages), not {len(got)}: "
            "a negative slice start counts from the end, so clamp it at 0."
        )
    return None


@exercise("6.2", "Trim to a token budget, measured with usage", sends_requests=True)
def _check_trim_to_budget(answer) -> str | None:
    client, exchanges, server = recording_client()
    conversation = [
        {"role": "system", "content": "You are a helpful assistant. Keep answers short."},
        {"role": "user", "content": "Name a large animal."},
        {"role": "assistant", "content": "The blue whale, the largest animal that has ever lived."},
        {"role": "user", "content": "Where does it live?"},
        {"role": "assistant", "content": "In every ocean, often far from the coast."},
        {"role": "user", "content": "What does it eat?"},
        {"role": "assistant", "content": "Krill: tiny shrimp-like animals, several tonnes a day."},
        {"role": "user", "content": "How long does it live?"},
    ]
    sizes = {}
    for pairs in range(4):
        trimmed = _last_pairs(conversation, pairs)
        response = client.chat.completions.create(model=server.model, messages=trimmed, max_completion_tokens=1)
        sizes[pairs] = response.usage.prompt_tokens
    original = json.dumps(conversation)
    for budget, pairs in [(sizes[2] + 1, 2), (sizes[3], 3), (sizes[1], 1), (sizes[0], 0)]:
        exchanges.clear()
        got = answer(client, server.model, conversation, budget)
        if json.dumps(conversation) != original:
            return "your function changed the list it was given; return a new list instead."
        if not completions(exchanges):
            return "measure with a request: send the trimmed conversation and read response.usage.prompt_tokens."
        expected = _last_pairs(conversation, pairs)
        if got != expected:
            count = "no" if not isinstance(got, list) else len(got)
            return (
                f"with a budget of {budget} prompt tokens, expected the system message, the last {pairs} pair(s) "
                f"and the question ({len(expected)} messages), got {count}: keep as many recent pairs as fit."
            )
    too_small = sizes[0] - 1
    exchanges.clear()
    if (got := answer(client, server.model, conversation, too_small)) is not None:
        return f"when not even the system message and the question fit ({too_small} tokens), return None."
    return None
