"""Checkers for lesson 4: Gemini."""

from __future__ import annotations

from .. import catalog
from .practice import recording_client
from .registry import exercise


@exercise("4.1", "A client for Gemini")
def _check_gemini_client(answer) -> str | None:
    import openai

    key = "AIza" + "EXAMPLE" * 5
    client = answer(key)
    if not isinstance(client, openai.OpenAI):
        return "return an openai.OpenAI client."
    if str(client.base_url) != catalog.GEMINI.base_url:
        return f"the base URL should be Gemini's OpenAI-compatible one: {catalog.GEMINI.base_url}"
    if client.api_key != key:
        return "pass the key you were given as api_key."
    timeout = client.timeout
    seconds = getattr(timeout, "read", timeout)
    if seconds is None or seconds >= 600:
        return "set a timeout (e.g. timeout=60.0); the SDK's default waits 600 s."
    return None


@exercise("4.2", "Which models does this endpoint serve?", sends_requests=True)
def _check_served_models(answer) -> str | None:
    client, exchanges, server = recording_client()
    got = answer(client)
    listed = [e for e in exchanges if e.method == "GET" and e.path.endswith("/models")]
    if not listed:
        return "ask the endpoint: client.models.list() sends GET /models."
    expected = [entry["id"].removeprefix("models/") for entry in listed[-1].reply()["data"]]
    if not isinstance(got, list) or got != expected:
        return f"return the ids as a list of strings, {expected!r}; got {got!r}."
    return None
