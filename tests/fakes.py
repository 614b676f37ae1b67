"""Made-up keys and replies for tests: right shape, never real."""


def fake_key(prefix: str, length: int, alphabet: str = "abcDEF123xyzQRS_-") -> str:
    """A made-up key of the given total length; never a real one."""
    body = (alphabet * (length // len(alphabet) + 1))[: length - len(prefix)]
    return prefix + body


# A minimal chat completion, as a local recording server answers in place of a provider.
CHAT_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "recorded",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
}
