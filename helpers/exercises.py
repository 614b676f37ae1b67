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
        {"model": "gpt-6-luna", "dollars": 0.00012},
        {"model": "mystery-model", "dollars": None},
        {"model": "llama3.2", "dollars": 0.0},
        {"model": "gemini-3.5-flash-lite", "dollars": 0.00009},
    ]
    if (got := answer(rows)) != "llama3.2":
        return f"expected 'llama3.2' (a free local model is the cheapest) but got {got!r}."
    if (got := answer([rows[1], rows[0]])) != "gpt-6-luna":
        return f"skip rows whose price is None; expected 'gpt-6-luna' but got {got!r}."
    if (got := answer([rows[1]])) is not None:
        return f"with no known price at all, return None (got {got!r})."
    if (got := answer([])) is not None:
        return f"with no rows, return None (got {got!r})."
    return None


# --- Lesson 8: parameters and formats ---------------------------------------------------------


@exercise("8.1", "Parameters that work on every model")
def _check_portable_request(answer) -> str | None:
    from .parameters import model_rule

    # model -> what a portable request sends besides max_completion_tokens
    expected = {
        "gpt-6-luna": {"temperature": 0.3, "reasoning_effort": "none"},  # temperature only with effort "none"
        "gemini-3.5-flash-lite": {},  # ignores temperature
        "llama3.2": {"temperature": 0.3},
        catalog.OFFLINE_MODEL: {"temperature": 0.3},
        "mystery-model-1": {},  # not in the rules: the safe choice
    }
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
    server = _practice_server()
    from openai import OpenAI

    client = OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=120)
    options = answer(server.model, 0.3, 5)
    reply = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": "Hi"}], **options)
    if reply.usage.completion_tokens > 5:
        return "the reply ran past `limit` tokens: pass limit as max_completion_tokens."
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
    import openai

    server = _practice_server()
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=60)
    hello = [{"role": "user", "content": "Hi"}]

    def failing(header):
        return lambda: client.chat.completions.create(
            model=server.model, messages=hello, max_completion_tokens=5, extra_headers={"X-Practice-Fail": header}
        )

    # what happened -> (how to provoke it for real, whether retrying might help)
    cases = {
        "a rate limit (429, type requests)": (failing("429"), True),
        "an empty balance (429, type insufficient_quota)": (failing("429; code=credit_balance_exhausted"), False),
        "a spend limit (429, type insufficient_quota)": (failing("429; code=project_spend_limit_exceeded"), False),
        "a server error (503)": (failing("503"), True),
        "a request timeout on the server (408)": (failing("408"), True),
        "a bad parameter (400)": (
            lambda: client.chat.completions.create(model=server.model, messages=hello, max_completion_tokens=0),
            False,
        ),
        "a wrong key (401)": (
            lambda: client.with_options(api_key="not-a-real-key").chat.completions.create(
                model=server.model, messages=hello
            ),
            False,
        ),
        "an unknown model (404)": (
            lambda: client.chat.completions.create(model="no-such-model", messages=hello),
            False,
        ),
        "no server listening (connection error)": (
            lambda: client.with_options(base_url="http://127.0.0.1:9/v1").chat.completions.create(
                model=server.model, messages=hello
            ),
            True,
        ),
    }
    for what, (provoke, retry) in cases.items():
        try:
            provoke()
        except openai.APIError as error:
            got = answer(error)
        else:  # pragma: no cover - the practice server always fails these
            return f"could not provoke {what}; is the offline server up to date?"
        if got is not retry:
            advice = "might succeed next time" if retry else "will fail the same way every time"
            hint = " Look at error.type, not only the status." if "insufficient_quota" in what else ""
            return f"{what} {advice}: expected {retry}, got {got!r}.{hint}"
    return None


def _tokens(details, name: str) -> int:
    """A count from usage.*_tokens_details, which some servers leave out or set to null."""
    return getattr(details, name, None) or 0


@exercise("9.2", "The cost of a conversation")
def _check_conversation_cost(answer) -> str | None:
    from types import SimpleNamespace as Usage

    usages = [
        # cached and reasoning tokens reported, as OpenAI does
        Usage(
            prompt_tokens=2000,
            completion_tokens=300,
            prompt_tokens_details=Usage(cached_tokens=1536),
            completion_tokens_details=Usage(reasoning_tokens=192),
        ),
        Usage(prompt_tokens=90, completion_tokens=25, prompt_tokens_details=None, completion_tokens_details=None),
        Usage(prompt_tokens=130, completion_tokens=60),  # no details at all
    ]
    for model in ("gpt-6-luna", "gemini-3.5-flash-lite", "llama3.2"):
        price = catalog.PRICES[model]
        expected = 0.0
        for usage in usages:
            cached = _tokens(getattr(usage, "prompt_tokens_details", None), "cached_tokens")
            cached_price = price.input if price.cached_input is None else price.cached_input
            expected += (usage.prompt_tokens - cached) * price.input + cached * cached_price
            expected += usage.completion_tokens * price.output  # reasoning tokens are already in here
        expected /= 1_000_000
        got = answer(usages, model)
        if not isinstance(got, (int, float)) or abs(got - expected) > 1e-12:
            only_plain = sum(u.prompt_tokens * price.input + u.completion_tokens * price.output for u in usages)
            if isinstance(got, (int, float)) and abs(got - only_plain / 1_000_000) < 1e-12:
                return (
                    f"for {model}: cached prompt tokens cost {price.cached_input} per million, not {price.input}; "
                    "read usage.prompt_tokens_details.cached_tokens (it may be missing or None)."
                )
            return (
                f"for {model} expected ${expected:.8f}, got {got!r}: prices are per million tokens; input, "
                "cached input and output are priced separately, and reasoning tokens are already in completion_tokens."
            )
    if answer([], "gpt-6-luna") != 0:
        return "an empty conversation costs nothing."
    return None


# --- Lesson 11: async and concurrency ------------------------------------------------------
# Self-contained: everything exercise 11.1 needs is in this block.

_QUESTIONS_11 = [
    "Name a fruit.",
    "Name a colour.",
    "Name a planet.",
    "Name a musical instrument.",
    "Name a tree.",
]
_REPLY_TOKENS_11 = 16  # the checker keeps replies short, so that a check takes seconds
_SLOW_FIRST_11 = 0.5  # seconds the first question's request waits, so its answer comes back late


def _watched_async_client(server, log: dict):
    """An AsyncOpenAI client for the offline server that records what passes through it.

    Its transport counts the requests in flight (the most at once goes to log["most"]),
    notes which reply answered which question, delays the first question's request (a
    slow network, as a hosted provider's replies vary), and caps each reply's length.
    """
    import asyncio
    import sys

    import openai

    # The HTTP library the SDK is built on (httpx, or its successor httpx2 in newer releases).
    http = sys.modules[openai.DefaultAsyncHttpxClient.__mro__[1].__module__.partition(".")[0]]

    class Watching(http.AsyncBaseTransport):
        def __init__(self):
            self.inner = http.AsyncHTTPTransport()

        async def handle_async_request(self, request):
            body = json.loads(request.content or b"{}")
            users = [message.get("content") for message in body.get("messages", []) if message.get("role") == "user"]
            question = users[-1] if users else None
            body.pop("max_tokens", None)
            body["max_completion_tokens"] = min(body.get("max_completion_tokens") or _REPLY_TOKENS_11, _REPLY_TOKENS_11)
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            request = http.Request(request.method, request.url, headers=headers, content=json.dumps(body).encode())
            log["now"] += 1
            log["most"] = max(log["most"], log["now"])
            try:
                if question == _QUESTIONS_11[0]:
                    await asyncio.sleep(_SLOW_FIRST_11)
                response = await self.inner.handle_async_request(request)
                await response.aread()
            finally:
                log["now"] -= 1
            if response.status_code == 200:
                reply = json.loads(response.content)["choices"][0]["message"]["content"]
                log["replies"].setdefault(question, []).append(reply)
            return response

        async def aclose(self):
            await self.inner.aclose()

    return openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key=server.api_key,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(transport=Watching(), timeout=120),
    )


def _run_in_own_loop(make_coroutine):
    """Run a coroutine to the end in a thread with its own event loop (Jupyter's is busy running the cell)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


@exercise("11.1", "Ask every question, a few at a time")
def _check_ask_all(answer) -> str | None:
    import inspect

    if not inspect.iscoroutinefunction(answer):
        return "define ask_all with `async def`, so that it can await the requests."
    server = _practice_server()
    limit = 2
    log = {"now": 0, "most": 0, "replies": {}}

    async def run():
        client = _watched_async_client(server, log)
        try:
            return await answer(client, server.model, list(_QUESTIONS_11), limit)
        finally:
            await client.close()

    answers = _run_in_own_loop(run)
    if not isinstance(answers, list) or len(answers) != len(_QUESTIONS_11):
        got = f"a list of {len(answers)}" if isinstance(answers, list) else type(answers).__name__
        return f"return a list with one answer per question ({len(_QUESTIONS_11)}), not {got}."
    asked = [question for question in _QUESTIONS_11 if question in log["replies"]]
    if len(asked) != len(_QUESTIONS_11) or any(len(replies) != 1 for replies in log["replies"].values()):
        return "send each question exactly once, as the user message of its own request."
    if log["most"] > limit:
        return (
            f"{log['most']} requests were in flight at once, with limit={limit}: "
            "take an asyncio.Semaphore(limit) around each request (async with ...)."
        )
    if log["most"] < limit:
        return (
            f"at most {log['most']} request was in flight at a time, with limit={limit}: the requests ran one "
            "after another. Start them all (asyncio.gather) and let the semaphore hold back the extra ones."
        )
    for number, (question, got) in enumerate(zip(_QUESTIONS_11, answers, strict=True)):
        reply = log["replies"][question][0]
        if not isinstance(got, str) or got.strip() != (reply or "").strip():
            return (
                f"answer {number} should be the reply to {question!r} (the text of its message), "
                f"but it is {got!r}. asyncio.gather returns results in the order you passed them in, "
                "whatever order they finish in."
            )
    return None
