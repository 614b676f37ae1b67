"""Checkers for lesson 2: the raw HTTP endpoint."""

from __future__ import annotations

from . import practice
from .registry import exercise

PIRATE_QUESTION = "Tell me a fun fact about parrots."


@exercise("2.1", "Build a payload with a system message")
def _check_payload(answer) -> str | None:
    if not isinstance(answer, dict):
        return "`payload` should be a dict with the keys 'model' and 'messages'."
    if not isinstance(answer.get("model"), str) or not answer["model"]:
        return "the payload needs a 'model': use settings.model."
    messages = answer.get("messages")
    if not isinstance(messages, list) or len(messages) != 2:
        return "'messages' should be a list of exactly two messages: the system one, then the user one."
    first, second = messages
    if not isinstance(first, dict) or first.get("role") != "system":
        return "the first message needs role 'system': instructions come first."
    if "pirate" not in str(first.get("content", "")).lower():
        return "the system message should tell the model to talk like a pirate."
    if not isinstance(second, dict) or second.get("role") != "user" or second.get("content") != PIRATE_QUESTION:
        return f"the second message should be the user's: {PIRATE_QUESTION!r}."
    return None


@exercise("2.2", "Read the reply, or raise the error", sends_requests=True)
def _check_reply_text(answer) -> str | None:
    import requests

    server = practice.practice_server()
    url = f"{server.base_url}/chat/completions"
    payload = {"model": server.model, "messages": [{"role": "user", "content": "Say hi"}], "max_completion_tokens": 8}
    good = requests.post(url, headers={"Authorization": f"Bearer {server.api_key}"}, json=payload, timeout=60)
    text = answer(good)
    if not isinstance(text, str) or not text:
        return "for a 200 response, return body['choices'][0]['message']['content'] (a non-empty string)."
    bad = requests.post(url, headers={"Authorization": "Bearer not-a-real-key"}, json=payload, timeout=60)
    try:
        answer(bad)
    except RuntimeError as error:
        if "401" not in str(error):
            return "put the status code in the RuntimeError's message, e.g. f'HTTP {response.status_code}: ...'."
        if bad.json()["error"]["message"] not in str(error):
            return "put the error body's message (response.json()['error']['message']) in the RuntimeError."
        return None
    except Exception as error:
        return f"for an error status, raise RuntimeError, not {type(error).__name__} (check status_code first)."
    return "for a 401 response your function returned instead of raising RuntimeError."
