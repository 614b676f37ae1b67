"""Checkers for lesson 3: the SDK."""

from __future__ import annotations

from . import practice
from .registry import exercise


@exercise("3.1", "Ask, and survive a wrong model name", sends_requests=True)
def _check_ask(answer) -> str | None:
    import openai

    server = practice.practice_server()
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, timeout=60, max_retries=0)
    text = answer(client, server.model, "Say hi")
    if not isinstance(text, str) or not text:
        return "for a model that exists, return the reply text (response.choices[0].message.content)."
    try:
        text = answer(client, "gpt-0-imaginary", "Say hi")
    except Exception as error:
        return f"catch openai.NotFoundError instead of letting {type(error).__name__} escape."
    if text != "Unknown model: gpt-0-imaginary":
        return "for an unknown model, return exactly f'Unknown model: {model}'."
    # Other failures must still reach the caller: a broad `except` would hide a wrong key or a dead network.
    wrong_key = openai.OpenAI(base_url=server.base_url, api_key="not-a-real-key", timeout=60, max_retries=0)
    impatient = client.with_options(timeout=0.001)
    for failing_client, expected, what in [
        (wrong_key, openai.AuthenticationError, "a wrong key (401)"),
        (impatient, openai.APITimeoutError, "a timeout"),
    ]:
        try:
            text = answer(failing_client, server.model, "Say hi")
        except expected:
            continue
        except Exception as error:
            return f"{what} should raise {expected.__name__} unchanged, not {type(error).__name__}."
        return (
            f"{what} came back as {text!r}: catch only openai.NotFoundError, "
            "so that every other failure still reaches you (a bare `except` hides them)."
        )
    return None
