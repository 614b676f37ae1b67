"""Request adaptation: an OpenAI request rewritten into what llama-cpp-python's app reads."""

from __future__ import annotations

import json


def adapt_chat_request(body: dict, grammar: bool = True) -> dict:
    """Rewrite a (valid) request in place for llama-cpp-python, and return it.

    `grammar=False`: structured output stays as OpenAI's response_format (an engine that reads it).
    """
    # llama-cpp-python reads only the older `max_tokens` and ignores the current
    # name, which would let a reply run on to the end of the context window.
    if "max_completion_tokens" in body:
        body["max_tokens"] = body.pop("max_completion_tokens")
    for message in body.get("messages") or []:
        # It has no "developer" role (OpenAI's newer name for "system").
        if message.get("role") == "developer":
            message["role"] = "system"
        # Its chat template reads only plain strings; OpenAI also takes a list of text parts.
        if isinstance(message.get("content"), list):
            message["content"] = "\n".join(part["text"] for part in message["content"])
    # It does not know OpenAI's structured output ({"type": "json_schema", ...}): enforce
    # the schema with a grammar of our own instead.
    response_format = body.get("response_format")
    if grammar and isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        grammar = schema_grammar(schema) if isinstance(schema, dict) else None
        if grammar:
            del body["response_format"]
            body["grammar"] = grammar
        else:
            body["response_format"] = {"type": "json_object"}
    return body


def schema_grammar(schema: dict) -> str | None:
    """A llama.cpp grammar that admits only JSON matching `schema`, or None if it cannot be built.

    llama-cpp-python's converter lets raw control characters (a line break, say) into
    strings, which JSON forbids and json.loads refuses; the grammar is narrowed here.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        grammar = json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # a schema feature the converter does not support
        return None
    return grammar.replace(r'char ::= [^"\\]', r'char ::= [^"\\\x00-\x1F]')
