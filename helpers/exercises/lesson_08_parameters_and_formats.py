"""Checkers for lesson 8: parameters and formats."""

from __future__ import annotations

import json

from .. import catalog
from . import practice
from .practice import recording_client
from .registry import exercise


@exercise("8.1", "Parameters that work on every model", sends_requests=True)
def _check_portable_request(answer) -> str | None:
    from ..parameters import model_rule

    # What a portable request sends besides max_completion_tokens, by the model's rule in catalog.MODEL_RULES
    # (lesson 8): temperature where it is always taken, temperature with reasoning_effort="none" where it is
    # taken only then, nothing where it is ignored or refused, nothing for a model the rules do not know.
    by_sampling = {"always": {"temperature": 0.3}, "effort-none": {"temperature": 0.3, "reasoning_effort": "none"}}
    models = [*(facts.model for facts in catalog.PROVIDERS.values()), catalog.OFFLINE_MODEL, "mystery-model-1"]
    expected = {model: by_sampling.get(rule.sampling, {}) if (rule := model_rule(model)) else {} for model in models}
    for model, extra in expected.items():
        got = answer(model, 0.3, 500)
        if not isinstance(got, dict):
            return f"return a dict of keyword arguments, not {type(got).__name__}."
        if "max_tokens" in got:
            return "use max_completion_tokens: reasoning models refuse max_tokens."
        if got.get("max_completion_tokens") != 500:
            return "ask for at most `limit` tokens with max_completion_tokens=limit."
        if got != {"max_completion_tokens": 500, **extra}:
            rule = model_rule(model)
            why = f"its rule says sampling={rule.sampling!r}" if rule else "it is not in catalog.MODEL_RULES"
            return f"for {model} ({why}) expected {{'max_completion_tokens': 500, **{extra}}}, got {got!r}."
    # And the request really goes through, here on the offline model.
    server = practice.practice_server()
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=120)
    options = answer(server.model, 0.3, 5)
    reply = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": "Hi"}], **options)
    if reply.usage.completion_tokens > 5:
        return "the reply ran past `limit` tokens: pass limit as max_completion_tokens."
    return None


@exercise("8.2", "A strict JSON schema for a book", sends_requests=True)
def _check_book_format(answer) -> str | None:
    if not isinstance(answer, dict) or answer.get("type") != "json_schema":
        return "use {'type': 'json_schema', 'json_schema': {...}} (json_object does not fix the keys)."
    spec = answer.get("json_schema") or {}
    if not spec.get("name"):
        return "the json_schema needs a 'name', such as 'book'."
    if spec.get("strict") is not True:
        return "set 'strict': True inside json_schema."
    schema = spec.get("schema") or {}
    if schema.get("type") != "object":
        return "the schema's 'type' should be 'object'."
    properties = schema.get("properties") or {}
    if set(properties) != {"title", "year"}:
        return f"the properties should be exactly title and year, not {sorted(properties)}."
    if properties["title"].get("type") != "string" or properties["year"].get("type") != "integer":
        return "title is a 'string' and year an 'integer'."
    if set(schema.get("required") or []) != {"title", "year"}:
        return "list both keys in 'required'."
    if schema.get("additionalProperties") is not False:
        return "strict mode needs 'additionalProperties': False."
    # Now for real: the offline server enforces the schema, as OpenAI does in strict mode.
    client, exchanges, server = recording_client()
    response = client.chat.completions.create(
        model=server.model,
        messages=[{"role": "user", "content": "Invent a book: its title and the year it came out."}],
        response_format=answer,
        max_completion_tokens=200,
    )
    if response.choices[0].finish_reason != "stop":
        return None  # cut off by the limit: nothing to judge the schema by
    book = json.loads(response.choices[0].message.content)
    if set(book) != {"title", "year"} or not isinstance(book["title"], str) or type(book["year"]) is not int:
        return f"the model answered {book!r} with your schema: it should allow only a string title and an int year."
    return None
