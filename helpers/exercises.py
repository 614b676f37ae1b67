"""Checkers for the "Your turn" exercises at the end of each lesson.

`check("6.1", answer)` runs the learner's answer on prepared cases and prints PASS, or
NOT YET with a hint about the first case that went wrong (`evaluate` returns the same
as a value, for tests). Checkers never call a
network service: the few that make a real request use the offline practice server on
127.0.0.1. Worked solutions live in `solutions/`, apart from the lessons.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from . import catalog

Checker = Callable[[object], "str | None"]  # returns None on success, else a hint
_CHECKERS: dict[str, Checker] = {}
_TITLES: dict[str, str] = {}


def exercise(exercise_id: str, title: str):
    """Register a checker under an exercise id such as "6.1"."""

    def register(checker: Checker) -> Checker:
        _CHECKERS[exercise_id] = checker
        _TITLES[exercise_id] = title
        return checker

    return register


def evaluate(exercise_id: str, answer) -> tuple[bool, str]:
    """Run the checker; return (passed, the report `check` prints)."""
    if exercise_id not in _CHECKERS:
        raise KeyError(f"No exercise {exercise_id!r}; the exercises are {', '.join(exercise_ids())}.")
    try:
        hint = _CHECKERS[exercise_id](answer)
    except Exception as error:  # the learner's code raised: say so, as a hint
        hint = f"your answer raised {type(error).__name__}: {error}"
    title = _TITLES[exercise_id]
    if hint is None:
        return True, f"PASS  {exercise_id} {title}"
    return False, f"NOT YET  {exercise_id} {title}\n  Hint: {hint}"


def check(exercise_id: str, answer) -> None:
    """Check an answer and print PASS, or NOT YET with a hint."""
    print(evaluate(exercise_id, answer)[1])


def exercise_ids() -> list[str]:
    return sorted(_CHECKERS, key=lambda i: tuple(int(p) for p in i.split(".")))


def _practice_server():
    """The offline server, so that checking an answer never costs a real provider anything."""
    from .local_server import start

    return start()


def _conversation(*roles: str) -> list[dict]:
    return [{"role": role, "content": f"{role} {index}"} for index, role in enumerate(roles)]


# --- Lesson 1: API keys -----------------------------------------------------------------

MADE_UP_KEY = "sk-proj-" + "EXAMPLE0" * 20  # the right shape, not a real key
BROKEN_ENV_LINE = "OPEN_API_KEY=\u201c" + MADE_UP_KEY + "\u201d"


@exercise("1.1", "Repair a broken .env line")
def _check_env_line(answer) -> str | None:
    from dotenv import dotenv_values

    from .keys import KeyProblem, validate_openai_key

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
    from .keys import mask_key

    cases = [MADE_UP_KEY, "sk-svcacct-" + "EXAMPLE1" * 20, "AIza" + "EXAMPLE" * 5]
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


# --- Lesson 2: the raw HTTP endpoint ----------------------------------------------------------


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
    if not isinstance(second, dict) or second.get("role") != "user" or second.get("content") != "Tell me a fun fact":
        return "the second message should be the user's: 'Tell me a fun fact'."
    return None


@exercise("2.2", "Read the reply, or raise the error")
def _check_reply_text(answer) -> str | None:
    import requests

    server = _practice_server()
    url = f"{server.base_url}/chat/completions"
    payload = {"model": server.model, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 8}
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


# --- Lesson 3: the SDK ----------------------------------------------------------------------


@exercise("3.1", "Ask, and survive a wrong model name")
def _check_ask(answer) -> str | None:
    import openai

    server = _practice_server()
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
    return None


# --- Lesson 4: Gemini -------------------------------------------------------------------------


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


# --- Lesson 5: Ollama -------------------------------------------------------------------------


@exercise("5.1", "Keep only the answer")
def _check_answer_only(answer) -> str | None:
    cases = [
        ("<think>Short.</think>Octopuses have three hearts.", "Octopuses have three hearts."),
        ("<think>\nLine one.\nLine two.\n</think>\n\nHoney never spoils.", "Honey never spoils."),
        ("No reasoning here.", "No reasoning here."),
        ("  <think></think>  Bananas are berries. ", "Bananas are berries."),
        ("<think>One.</think>Sloths hold their breath.<think>Two.</think>", "Sloths hold their breath."),
    ]
    for text, expected in cases:
        got = answer(text)
        if got != expected:
            return (
                f"for {text!r} expected {expected!r} but got {got!r} "
                "(remove every block; blocks can span lines: re.DOTALL)."
            )
    return None


# --- Lesson 6: conversations ---------------------------------------------------------------


@exercise("6.1", "Trim a conversation to its last pairs")
def _check_trim_to_pairs(answer) -> str | None:
    conversation = _conversation("system", "user", "assistant", "user", "assistant", "user", "assistant")
    original = json.dumps(conversation)
    got = answer(conversation, 2)
    if json.dumps(conversation) != original:
        return "your function changed the list it was given; build and return a new list instead."
    if not got or got[0]["role"] != "system":
        return "keep the system message, first."
    if got != [conversation[0], *conversation[3:]]:
        return "with max_pairs=2, keep the system message and the last 2 user/assistant pairs (5 messages)."
    asking = _conversation("system", "user", "assistant", "user", "assistant", "user")
    if answer(asking, 1) != [asking[0], asking[3], asking[4], asking[5]]:
        return "a final unanswered user message is kept, in addition to the last max_pairs pairs."
    if answer(conversation, 0) != [conversation[0]]:
        return "with max_pairs=0, only the system message remains."
    return None


# --- Lesson 7: streaming ---------------------------------------------------------------------


def _chunk(content=None, finish_reason=None, usage=None, role=None):
    from openai.types.chat import ChatCompletionChunk

    choices = []
    if content is not None or finish_reason is not None or role is not None:
        delta = {"role": role, "content": content}
        choices = [{"index": 0, "delta": delta, "finish_reason": finish_reason}]
    return ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-exercise",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": catalog.OFFLINE_MODEL,
            "choices": choices,
            "usage": usage,
        }
    )


@exercise("7.1", "Collect a stream into one reply")
def _check_collect(answer) -> str | None:
    chunks = [
        _chunk(role="assistant", content=None),
        _chunk(content="Bicycles "),
        _chunk(content="appeared in "),
        _chunk(content="1817."),
        _chunk(finish_reason="stop"),
        _chunk(usage={"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26}),
    ]
    got = answer(iter(chunks))
    if got != "Bicycles appeared in 1817.":
        return f"expected 'Bicycles appeared in 1817.' but got {got!r}."
    return None


# --- Lesson 10: comparing providers -------------------------------------------------------


@exercise("10.1", "Find the cheapest model")
def _check_cheapest(answer) -> str | None:
    rows = [
        {"model": "gpt-5-nano", "dollars": 0.00012},
        {"model": "mystery-model", "dollars": None},
        {"model": "llama3.2", "dollars": 0.0},
        {"model": "gemini-2.5-flash-lite", "dollars": 0.00009},
    ]
    if (got := answer(rows)) != "llama3.2":
        return f"expected 'llama3.2' (a free local model is the cheapest) but got {got!r}."
    if (got := answer([rows[1], rows[0]])) != "gpt-5-nano":
        return f"skip rows whose price is None; expected 'gpt-5-nano' but got {got!r}."
    if (got := answer([rows[1]])) is not None:
        return f"with no known price at all, return None (got {got!r})."
    if (got := answer([])) is not None:
        return f"with no rows, return None (got {got!r})."
    return None


# --- Lesson 8: parameters and formats ---------------------------------------------------------


@exercise("8.1", "Parameters that work on every model")
def _check_portable_request(answer) -> str | None:
    for model in ("gpt-5-nano", "gpt-5", "o3-mini"):
        got = answer(model, 0.3, 500)
        if "max_tokens" in got:
            return "use max_completion_tokens: reasoning models refuse max_tokens."
        if got.get("max_completion_tokens") != 500:
            return "ask for at most `limit` tokens with max_completion_tokens=limit."
        if "temperature" in got or "top_p" in got:
            return f"{model} is a reasoning model: leave temperature out (see catalog.REASONING_MODEL_PREFIXES)."
    for model in ("gemini-2.5-flash-lite", "llama3.2", catalog.OFFLINE_MODEL):
        got = answer(model, 0.3, 500)
        if got != {"max_completion_tokens": 500, "temperature": 0.3}:
            return f"for {model}, expected {{'max_completion_tokens': 500, 'temperature': 0.3}}, got {got!r}."
    return None


@exercise("8.2", "A strict JSON schema for a book")
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
    return None


# --- Lesson 9: errors, retries and cost --------------------------------------------------


@exercise("9.1", "Which failures to retry")
def _check_should_retry(answer) -> str | None:
    expected = {None: True, 408: True, 409: True, 429: True, 500: True, 502: True, 503: True, 504: True}
    expected |= {400: False, 401: False, 403: False, 404: False, 422: False}
    for status, retry in expected.items():
        got = answer(status)
        if got is not retry:
            what = "a connection error or timeout (None)" if status is None else f"HTTP {status}"
            advice = "might succeed next time" if retry else "will fail the same way every time"
            return f"{what} {advice}: expected {retry}, got {got!r}."
    return None


@exercise("9.2", "The cost of a conversation")
def _check_conversation_cost(answer) -> str | None:
    from types import SimpleNamespace

    usages = [SimpleNamespace(prompt_tokens=p, completion_tokens=c) for p, c in [(40, 30), (90, 25), (130, 60)]]
    for model in ("gpt-5-nano", "gemini-2.5-flash-lite", "llama3.2"):
        per_in, per_out = catalog.PRICES_PER_MILLION_TOKENS[model]
        expected = sum(u.prompt_tokens * per_in + u.completion_tokens * per_out for u in usages) / 1_000_000
        got = answer(usages, model)
        if not isinstance(got, (int, float)) or abs(got - expected) > 1e-12:
            return (
                f"for {model} expected ${expected:.8f}, got {got!r}: prices are per million tokens, "
                "input and output priced separately."
            )
    if answer([], "gpt-5-nano") != 0:
        return "an empty conversation costs nothing."
    return None
