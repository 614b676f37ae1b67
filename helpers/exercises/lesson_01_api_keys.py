"""Checkers for lesson 1: API keys."""

from __future__ import annotations

import io

from .practice import completions, recording_client
from .registry import exercise

MADE_UP_KEY = "sk-proj-" + "EXAMPLE0" * 20  # the right shape, not a real key
BROKEN_ENV_LINE = "OPEN_API_KEY=\u201c" + MADE_UP_KEY + "\u201d"


@exercise("1.1", "Repair a broken .env line")
def _check_env_line(answer) -> str | None:
    from dotenv import dotenv_values

    from ..keys import KeyProblem, validate_openai_key

    if not isinstance(answer, str):
        return f"`fixed_line` should be a string (a line of text), not {type(answer).__name__}."
    values = dotenv_values(stream=io.StringIO(answer))
    if "OPENAI_API_KEY" not in values:
        return "the variable must be named exactly OPENAI_API_KEY (the broken line says OPEN_API_KEY)."
    try:
        validate_openai_key(values["OPENAI_API_KEY"])
    except KeyProblem as problem:
        return str(problem)
    if values["OPENAI_API_KEY"] != MADE_UP_KEY:
        return "keep the key itself exactly as it was; only the name and the quotes were wrong."
    return None


@exercise("1.2", "Mask a key yourself")
def _check_mask(answer) -> str | None:
    from ..keys import mask_key

    cases = [
        MADE_UP_KEY,
        "sk-svcacct-" + "EXAMPLE1" * 20,
        "sk-" + "EXAMPLE2" * 6,  # an older key: just sk-
        "AIza" + "EXAMPLE" * 5,
        "AQ.Ab8" + "EXAMPLE" * 7,  # a newer Gemini key
    ]
    for key in cases:
        shown = answer(key)
        if not isinstance(shown, str):
            return f"return a string; for a key your function returned {type(shown).__name__}."
        if key[len(key) // 3 : -4] in shown:
            return "your mask still shows the middle of the key: keep only the prefix and the last 4 characters."
        if not shown.endswith(key[-4:]):
            return "end with the key's last 4 characters, so it can be matched on the provider's page."
        if shown != mask_key(key):
            return f"for a key starting {mask_key(key).split('...')[0]!r}, expected the form {mask_key(key)!r}."
    return None


@exercise("1.3", "Your first request", sends_requests=True)
def _check_first_reply(answer) -> str | None:
    client, exchanges, server = recording_client()
    question = "Name one planet of the solar system."
    got = answer(client, server.model, question)
    sent = completions(exchanges)
    if not sent:
        return "send a request: client.chat.completions.create(model=model, messages=[...])."
    if len(sent) > 1:
        return f"send one request, not {len(sent)}."
    request = sent[0].sent
    if request.get("model") != server.model:
        return f"pass the model you were given (model=model); the request said {request.get('model')!r}."
    if request.get("messages") != [{"role": "user", "content": question}]:
        return "send the question as the only message: messages=[{'role': 'user', 'content': question}]."
    if not isinstance(got, str):
        return f"return the reply's text (response.choices[0].message.content), not a {type(got).__name__}."
    if got != sent[0].reply()["choices"][0]["message"]["content"]:
        return "return the reply's text exactly as it came back: response.choices[0].message.content."
    return None
