"""Checkers for lesson 7: streaming."""

from __future__ import annotations

import time

from .. import catalog
from .practice import completions, recording_client
from .registry import exercise


def _chunk(content=None, finish_reason=None, usage=None, role=None):
    from openai.types.chat import ChatCompletionChunk

    choices = []
    if content is not None or finish_reason is not None or role is not None:
        delta = {"role": role, "content": content}
        choices = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    return ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-exercise",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": catalog.OFFLINE_MODEL,
            "choices": choices,
            "usage": usage,
        }
    )


@exercise("7.1", "Collect a stream into one reply", sends_requests=True)
def _check_collect(answer) -> str | None:
    client, exchanges, server = recording_client()
    stream = client.chat.completions.create(
        model=server.model,
        messages=[{"role": "user", "content": "Describe a bicycle in two sentences."}],
        max_completion_tokens=40,
        stream=True,
        stream_options={"include_usage": True},
    )
    got = answer(stream)
    sent = completions(exchanges)[0]
    if sent.finished is None:
        return "read the stream to its end (loop over every chunk) before you return."
    if got != (expected := sent.streamed_text()):
        return f"the server streamed {expected[:40]!r}... but your function returned {str(got)[:40]!r}..."
    # What OpenAI sends, in the order it sends it: a role, text, a finish_reason, then the usage chunk.
    chunks = [
        _chunk(role="assistant", content=""),
        _chunk(content="Bicycles "),
        _chunk(content="appeared in "),
        _chunk(content="1817."),
        _chunk(finish_reason="stop"),
        _chunk(usage={"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26}),
    ]
    if (got := answer(iter(chunks))) != "Bicycles appeared in 1817.":
        return f"with OpenAI's chunks, expected 'Bicycles appeared in 1817.' but got {got!r}."
    return None


@exercise("7.2", "Time the first token", sends_requests=True)
def _check_first_token(answer) -> str | None:
    client, exchanges, server = recording_client()
    messages = [{"role": "user", "content": "Write two sentences about the history of the bicycle."}]
    started = time.perf_counter()
    got = answer(client, server.model, messages)
    total = time.perf_counter() - started
    sent = completions(exchanges)
    if len(sent) != 1:
        return f"send exactly one request (you sent {len(sent)})."
    if sent[0].sent.get("stream") is not True:
        return "ask for a stream (stream=True): without one, the first token arrives with the last."
    if sent[0].sent.get("messages") != messages or sent[0].sent.get("model") != server.model:
        return "send the model and messages you were given."
    if not (isinstance(got, tuple) and len(got) == 2):
        return "return a pair: (seconds until the first text arrived, the whole reply text)."
    seconds, text = got
    if text != sent[0].streamed_text():
        return "the second item should be the whole reply: every piece of delta.content, joined."
    if not isinstance(seconds, float) or not 0 < seconds <= total:
        return f"the first item should be seconds as a float, between 0 and {total:.2f}; got {seconds!r}."
    first_text = (sent[0].first_text_at or sent[0].finished) - started
    if seconds > first_text + 0.2:
        return (
            f"the first text arrived after about {first_text:.2f} s but you measured {seconds:.2f} s: "
            "stop the clock at the first chunk with text, inside the loop (time.perf_counter())."
        )
    return None
