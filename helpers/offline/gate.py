"""Admitting a request: the pure checks (validation.py, which never change the body), then the one rewrite
(preparation.py), then llama-cpp-python's own request model on the rewritten body."""

from __future__ import annotations

import json

from .errors import invalid_request
from .inner import CHAT_PATH
from .preparation import prepare
from .validation import check_chat, check_fields, check_llama_schema


def parse_body(raw: bytes):
    """(400, error, None) for a body that is not a JSON object, else (200, None, body)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return 400, invalid_request("The request body is not valid JSON."), None
    if not isinstance(body, dict):
        return 400, invalid_request("The request body must be a JSON object."), None
    return 200, None, body


class RequestGate:
    """What this front refuses (OpenAI's 4xx) and what it lets through, rewritten for its engine."""

    def __init__(
        self,
        *,
        model: str,
        context_tokens: int,
        vocabulary_size: int | None = None,
        default_seed: int | None = None,
        native_tools: bool = False,
    ):
        self.model, self.context_tokens, self.vocabulary_size = model, context_tokens, vocabulary_size
        self.default_seed = default_seed  # the seed of a request that names none
        self.native_tools = native_tools  # the engine reads tools and response_format itself

    def check(self, path: str, body: dict):
        """(status, OpenAI error body) for a request to refuse, else (200, None). Never changes `body`."""
        status, problem = check_fields(path, body, model=self.model, context_tokens=self.context_tokens)
        if not problem and path == CHAT_PATH:
            status, problem = check_chat(body, vocabulary_size=self.vocabulary_size)
        return status, problem

    def admit(self, path: str, body: dict):
        """(status, error body, None) for a request to refuse, else (200, None, the body for the engine)."""
        status, problem = self.check(path, body)
        if problem:
            return status, problem, None
        body = prepare(path, body, default_seed=self.default_seed, native_tools=self.native_tools)
        if self.native_tools:  # llama-cpp-python's own request model is not the engine's
            return 200, None, body
        llama_body = {k: v for k, v in body.items() if k not in ("tools", "tool_choice", "parallel_tool_calls")}
        status, problem = check_llama_schema(path, llama_body)
        if problem:
            return status, problem, None
        return 200, None, body

    def admit_raw(self, path: str, raw: bytes):
        """`admit` for a request's raw body, refused with a 400 if it is not a JSON object."""
        status, problem, body = parse_body(raw)
        if problem:
            return status, problem, None
        return self.admit(path, body)
