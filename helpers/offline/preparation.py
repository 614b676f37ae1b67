"""The one stage that rewrites a request: an admitted OpenAI request into what the inner engine reads.

Two steps, each returning a new body (the caller's is left as it was):

- `prepare`, at admission (gate.py), for every chat and completion request: the default
  seed, earlier tool calls as text, then adapt.py's rewrite (max_tokens, roles, text
  parts, a grammar for a JSON schema);
- `plan_chat`, when a chat request is served (chat.py): `n` taken out, tools into the
  prompt and a grammar (tools.py), the default reply cap, and the logprobs model.

An engine that does tools and structured output itself (`native_tools`) gets those as sent.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from . import tools
from .adapt import adapt_chat_request
from .inner import CHAT_PATH


def prepare(path: str, body: dict, *, default_seed: int | None, native_tools: bool) -> dict:
    """A checked request rewritten for the engine."""
    body = copy.deepcopy(body)
    if "seed" not in body and default_seed is not None:
        body["seed"] = default_seed
    if path == CHAT_PATH and not native_tools:
        tools.history_as_text(body["messages"])
    return adapt_chat_request(body, grammar=not native_tools)


@dataclass
class ChatPlan:
    """How to serve one admitted chat request, and the body the engine gets."""

    body: dict
    stream: bool
    include_usage: bool  # a stream that ends with a usage chunk
    choices: int  # `n`: the engine writes one choice per call
    tool_plan: dict | None  # tools.prepare's plan, when tools went into the prompt
    top_logprobs: int  # as asked; the engine is asked for at least one


def plan_chat(body: dict, *, native_tools: bool, logprobs_model: str | None) -> ChatPlan:
    """The serving plan for an admitted chat request (gate.py), with the engine's body."""
    body = copy.deepcopy(body)
    stream = bool(body.get("stream"))
    include_usage = stream and bool((body.get("stream_options") or {}).get("include_usage"))
    choices = body.pop("n", None) or 1
    tool_plan = tools.prepare(body) if tools.uses_tools(body) and not native_tools else None
    if body.get("max_tokens") is None:  # OpenAI would write on to the end of the context window
        body["max_tokens"] = tools.default_max_tokens(tool_plan)
    for name in ("tools", "tool_choice", "parallel_tool_calls") if not native_tools else ():
        body.pop(name, None)  # with tool_choice "none": text only
    top = body.get("top_logprobs") or 0
    if body.get("logprobs") and logprobs_model:
        body["model"] = logprobs_model
        # llama-cpp-python returns no logprobs at all without top_logprobs, and always one
        # alternative more than asked (the chosen token): ask for one, keep `top` (shapes.py).
        body["top_logprobs"] = max(top, 1)
    else:
        body.pop("top_logprobs", None)
    return ChatPlan(body, stream, include_usage, choices, tool_plan, top)
