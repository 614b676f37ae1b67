"""Serving an admitted chat completion request (gate.py): `n` choices, tools, logprobs, streamed or not.

A plain stream is passed through (streaming.py), its chunks completed to OpenAI's shape;
everything else is written whole by the engine, once per choice (inner.py), merged,
completed (shapes.py, tools.py) and sent as JSON, as a stream made from the whole reply,
or to a `reply_sink` (the Responses API, a batch line) that sends it its own way.
"""

from __future__ import annotations

import json

from . import inner, shapes, streaming, tools
from .errors import send_json
from .failures import InnerError, describe, send_inner_error
from .preparation import plan_chat

_SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-store")]


class ChatService:
    """The chat completions of one engine (the inner ASGI app), answered in OpenAI's shape."""

    def __init__(self, app, *, model: str, counter=None, logprobs_model: str | None = None, native_tools=False):
        self.app = app
        self.model = model
        self.counter = counter  # tokens.TokenCounter: usage of streamed replies
        self.logprobs_model = logprobs_model  # the inner alias loaded with logits for every token
        self.native_tools = native_tools
        self.fingerprint = shapes.system_fingerprint(model)

    async def chat(self, scope, receive, send, body: dict, *, reply_sink=None):
        """Serve an admitted request; `reply_sink`, if given, takes the finished reply instead of `send`."""
        plan = plan_chat(body, native_tools=self.native_tools, logprobs_model=self.logprobs_model)
        body = plan.body
        # Without a counter (an engine with another tokenizer), a stream that wants usage is made
        # from the engine's whole reply, which carries the engine's own count.
        countable = self.counter is not None or not plan.include_usage
        if plan.stream and plan.choices == 1 and plan.tool_plan is None and reply_sink is None and countable:
            rewriter = streaming.StreamRewriter(
                model=self.model,
                fingerprint=self.fingerprint,
                counter=self.counter,
                body=body,
                include_usage=plan.include_usage,
                top_logprobs=plan.top_logprobs,
            )
            return await streaming.forward(self.app, scope, receive, send, body, rewriter)
        body.pop("stream", None)
        body.pop("stream_options", None)
        try:
            reply = await self._replies(scope, receive, body, plan.choices)
        except InnerError as error:
            return await send_inner_error(send, error)
        except Exception as error:  # noqa: BLE001 - every failure must still get an answer
            status, problem = describe(error, body, scope)
            return await send_json(send, status, problem)
        if plan.tool_plan is not None:
            reply["choices"] = [tools.finish_choice(choice) for choice in reply["choices"]]
        reply = shapes.finish_reply(reply, self.fingerprint, plan.top_logprobs)
        reply["model"] = self.model
        if reply_sink is not None:
            return await reply_sink(reply)
        if not plan.stream:
            return await send_json(send, 200, reply)
        events = shapes.sse(shapes.chunks_from_reply(reply, plan.include_usage)) + shapes.DONE
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        await send({"type": "http.response.body", "body": events})

    async def forward(self, scope, receive, send, body: dict):
        """Pass an admitted request of another kind (a text completion) through, errors cleaned."""
        return await streaming.forward(self.app, scope, receive, send, body)

    async def _replies(self, scope, receive, body: dict, choices: int) -> dict:
        """`choices` non-streamed replies from the inner app, merged into one with indexes 0..n-1."""
        merged = None
        for index in range(choices):
            one = dict(body)
            if index and one.get("seed") is not None:
                one["seed"] = one["seed"] + index  # the same seed would write the same text n times
            status, headers, raw = await inner.call(self.app, scope, receive, one, first=index == 0)
            if status != 200:
                raise InnerError(status, raw, headers)
            reply = json.loads(raw)
            choice = reply["choices"][0]
            choice["index"] = index
            if merged is None:
                merged = reply
                continue
            merged["choices"].append(choice)
            merged["usage"]["completion_tokens"] += reply["usage"]["completion_tokens"]  # the prompt counts once
        merged["usage"]["total_tokens"] = merged["usage"]["prompt_tokens"] + merged["usage"]["completion_tokens"]
        return merged
