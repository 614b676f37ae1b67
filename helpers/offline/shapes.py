"""OpenAI's response shapes: llama-cpp-python's answers completed with the fields OpenAI always sends.

llama-cpp-python leaves out `message.refusal`, the token details in `usage`,
`system_fingerprint` and `service_tier`; code written for OpenAI reads them
(`usage.prompt_tokens_details.cached_tokens`), so they are filled in here, with
zeros where an offline model has nothing to count. This module also builds the
chunks of a stream from a finished reply, for the replies the server writes in
one piece (tool calls, several choices).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time

PROMPT_DETAILS = {"cached_tokens": 0, "audio_tokens": 0}
COMPLETION_DETAILS = {
    "reasoning_tokens": 0,
    "audio_tokens": 0,
    "accepted_prediction_tokens": 0,
    "rejected_prediction_tokens": 0,
}
SERVICE_TIER = "default"


def system_fingerprint(model: str) -> str:
    """Names the backend configuration, as OpenAI's does: it changes when llama-cpp-python or the model does."""
    import llama_cpp

    digest = hashlib.sha256(f"{model} {llama_cpp.__version__}".encode()).hexdigest()
    return f"fp_{digest[:10]}"


def completion_id() -> str:
    return f"chatcmpl-{secrets.token_hex(12)}"


def full_usage(usage: dict | None) -> dict:
    usage = dict(usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0})
    usage["total_tokens"] = usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
    usage["prompt_tokens_details"] = dict(PROMPT_DETAILS)
    usage["completion_tokens_details"] = dict(COMPLETION_DETAILS)
    return usage


def openai_logprobs(logprobs: dict | None, top: int) -> dict | None:
    """llama-cpp-python's logprobs as OpenAI gives them: each token's bytes, exactly `top` alternatives."""
    if logprobs is None:
        return None
    for entry in logprobs.get("content") or []:
        entry["bytes"] = list(entry["token"].encode())
        alternatives = sorted(entry.get("top_logprobs") or [], key=lambda item: -item["logprob"])[:top]
        entry["top_logprobs"] = [dict(item, bytes=list(item["token"].encode())) for item in alternatives]
    logprobs.setdefault("refusal", None)
    return logprobs


def finish_reply(reply: dict, fingerprint: str, top_logprobs: int = 0) -> dict:
    """A non-streamed chat completion from llama-cpp-python, completed to OpenAI's shape."""
    reply["object"] = "chat.completion"
    for choice in reply.get("choices", []):
        message = choice.setdefault("message", {})
        message.setdefault("content", None)
        message.setdefault("refusal", None)
        message.setdefault("annotations", [])
        if message.get("function_call") is None:
            message.pop("function_call", None)
        if not message.get("tool_calls"):
            message.pop("tool_calls", None)
        choice["logprobs"] = openai_logprobs(choice.get("logprobs"), top_logprobs)
    reply["usage"] = full_usage(reply.get("usage"))
    reply["system_fingerprint"] = fingerprint
    reply["service_tier"] = SERVICE_TIER
    return reply


def finish_chunk(chunk: dict, fingerprint: str, with_usage: bool, top_logprobs: int = 0) -> dict:
    """One streamed chunk from llama-cpp-python, completed to OpenAI's shape."""
    chunk["object"] = "chat.completion.chunk"
    for choice in chunk.get("choices", []):
        choice["logprobs"] = openai_logprobs(choice.get("logprobs"), top_logprobs)
        choice.setdefault("finish_reason", None)
        delta = choice.setdefault("delta", {})
        if "role" in delta:
            delta.setdefault("content", "")
            delta.setdefault("refusal", None)
    chunk["system_fingerprint"] = fingerprint
    chunk["service_tier"] = SERVICE_TIER
    if with_usage:
        chunk["usage"] = None
    return chunk


def usage_chunk(first: dict, usage: dict, fingerprint: str) -> dict:
    """The last chunk OpenAI sends when asked with stream_options.include_usage: no choices, the usage."""
    return {
        "id": first["id"],
        "object": "chat.completion.chunk",
        "created": first["created"],
        "model": first["model"],
        "choices": [],
        "system_fingerprint": fingerprint,
        "service_tier": SERVICE_TIER,
        "usage": full_usage(usage),
    }


_PIECE = re.compile(r"\s*\S+|\s+")


def text_pieces(text: str) -> list[str]:
    """`text` in word-sized pieces, for a stream written from a finished reply."""
    return _PIECE.findall(text) or [""]


def chunks_from_reply(reply: dict, with_usage: bool) -> list[dict]:
    """The chunks OpenAI would have streamed for the finished `reply` (all choices, tool calls included)."""
    base = {
        "id": reply["id"],
        "object": "chat.completion.chunk",
        "created": reply["created"],
        "model": reply["model"],
        "system_fingerprint": reply.get("system_fingerprint"),
        "service_tier": SERVICE_TIER,
    }
    if with_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict, finish_reason=None, logprobs=None):
        choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        return dict(base, choices=[choice])

    chunks = []
    for choice in reply["choices"]:
        index, message = choice["index"], choice["message"]
        chunks.append(chunk(index, {"role": "assistant", "content": "", "refusal": None}))
        content_logprobs = list(((choice.get("logprobs") or {}).get("content")) or [])
        if message.get("content"):
            pieces = text_pieces(message["content"])
            if content_logprobs:  # one token a chunk, each with its logprobs, as OpenAI streams them
                pieces = [entry["token"] for entry in content_logprobs]
            for number, piece in enumerate(pieces):
                logprobs = {"content": [content_logprobs[number]], "refusal": None} if content_logprobs else None
                chunks.append(chunk(index, {"content": piece}, logprobs=logprobs))
        for number, call in enumerate(message.get("tool_calls") or []):
            head = {"index": number, "id": call["id"], "type": "function"}
            head["function"] = {"name": call["function"]["name"], "arguments": ""}
            chunks.append(chunk(index, {"tool_calls": [head]}))
            for piece in text_pieces(call["function"]["arguments"]):
                chunks.append(chunk(index, {"tool_calls": [{"index": number, "function": {"arguments": piece}}]}))
        chunks.append(chunk(index, {}, finish_reason=choice["finish_reason"]))
    if with_usage:
        chunks.append(dict(base, choices=[], usage=reply["usage"]))
    return chunks


def sse(chunks) -> bytes:
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks)


DONE = b"data: [DONE]\n\n"


def now() -> int:
    return int(time.time())
