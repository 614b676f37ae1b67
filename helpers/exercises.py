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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx2  # the HTTP library under the openai SDK

from . import catalog

Checker = Callable[[object], "str | None"]  # returns None on success, else a hint
_CHECKERS: dict[str, Checker] = {}
_TITLES: dict[str, str] = {}
_SENDS_REQUESTS: set[str] = set()


def exercise(exercise_id: str, title: str, *, sends_requests: bool = False):
    """Register a checker under an exercise id such as "6.1".

    `sends_requests=True` marks a checker that runs the answer against the offline model
    and inspects what was sent and what came back.
    """

    def register(checker: Checker) -> Checker:
        _CHECKERS[exercise_id] = checker
        _TITLES[exercise_id] = title
        if sends_requests:
            _SENDS_REQUESTS.add(exercise_id)
        return checker

    return register


def makes_request(exercise_id: str) -> bool:
    """Whether this exercise's checker sends real requests to the offline model."""
    return exercise_id in _SENDS_REQUESTS


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


@dataclass
class Exchange:
    """One request a checker's client sent, and what came back (the body as far as it was read)."""

    method: str
    path: str
    sent: dict | None
    status: int
    body: bytearray = field(default_factory=bytearray)
    started: float = 0.0  # time.perf_counter() when the request left
    first_text_at: float | None = None  # when the first piece of reply text arrived (streams)
    finished: float | None = None  # when the last byte of the body was read

    def reply(self) -> dict:
        return json.loads(bytes(self.body))

    def streamed_text(self) -> str:
        """The text of a streamed reply, joined from the server-sent events that were read."""
        pieces = []
        for line in bytes(self.body).decode("utf-8").splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                for choice in json.loads(line[len("data: ") :]).get("choices", []):
                    pieces.append((choice.get("delta") or {}).get("content") or "")
        return "".join(pieces)


_TEXT_PIECE = re.compile(rb'"content": ?"[^"]')  # a delta (or message) with some text in it


class _Tee(httpx2.SyncByteStream):
    def __init__(self, inner, exchange: Exchange):
        self.inner, self.exchange = inner, exchange

    def __iter__(self):
        for part in self.inner:
            self.exchange.body.extend(part)
            if self.exchange.first_text_at is None and _TEXT_PIECE.search(part):
                self.exchange.first_text_at = time.perf_counter()
            if b"data: [DONE]" in part:  # the end of a stream (the SDK may stop reading here)
                self.exchange.finished = time.perf_counter()
            yield part
        if self.exchange.finished is None:
            self.exchange.finished = time.perf_counter()

    def close(self):
        self.inner.close()


class _RecordingTransport(httpx2.HTTPTransport):
    """The SDK's own HTTP transport, keeping a copy of each request and of the bytes read back."""

    def __init__(self):
        super().__init__()
        self.exchanges: list[Exchange] = []

    def handle_request(self, request):
        content = request.read()
        sent = json.loads(content) if content else None
        started = time.perf_counter()
        response = super().handle_request(request)
        exchange = Exchange(request.method, request.url.path, sent, response.status_code, started=started)
        self.exchanges.append(exchange)
        response.stream = _Tee(response.stream, exchange)
        return response


def _recording_client(**options):
    """An OpenAI client for the offline server that records what it sends: (client, exchanges, server)."""
    import openai

    server = _practice_server()
    transport = _RecordingTransport()
    options = {"api_key": server.api_key, "timeout": 180.0, "max_retries": 0, **options}
    http_client = openai.DefaultHttpxClient(transport=transport)
    client = openai.OpenAI(base_url=server.base_url, http_client=http_client, **options)
    return client, transport.exchanges, server


def _completions(exchanges: list[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if e.method == "POST" and e.path.endswith("/chat/completions")]


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
    client, exchanges, server = _recording_client()
    question = "Name one planet of the solar system."
    got = answer(client, server.model, question)
    sent = _completions(exchanges)
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


# --- Lesson 2: the raw HTTP endpoint ----------------------------------------------------------


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


@exercise("3.1", "Ask, and survive a wrong model name", sends_requests=True)
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


@exercise("4.2", "Which models does this endpoint serve?", sends_requests=True)
def _check_served_models(answer) -> str | None:
    client, exchanges, server = _recording_client()
    got = answer(client)
    listed = [e for e in exchanges if e.method == "GET" and e.path.endswith("/models")]
    if not listed:
        return "ask the endpoint: client.models.list() sends GET /models."
    expected = [entry["id"].removeprefix("models/") for entry in listed[-1].reply()["data"]]
    if not isinstance(got, list) or got != expected:
        return f"return the ids as a list of strings, {expected!r}; got {got!r}."
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


@exercise("5.2", "Ask a local model, keep the answer", sends_requests=True)
def _check_local_answer(answer) -> str | None:
    client, exchanges, server = _recording_client()
    question = "Tell me a fun fact about octopuses."
    got = answer(client, server.model, question)
    sent = _completions(exchanges)
    if len(sent) != 1:
        return f"send exactly one request (you sent {len(sent)})."
    if sent[0].sent.get("messages") != [{"role": "user", "content": question}]:
        return "send the question as the only user message."
    content = sent[0].reply()["choices"][0]["message"]["content"]
    expected = re.sub(r"<think>.*?</think>", "", content, flags=re.DOTALL).strip()
    if got != expected:
        return "return the reply's content with every <think>...</think> block removed and the ends stripped."
    return None


# --- Lesson 6: conversations ---------------------------------------------------------------


def _last_pairs(messages: list[dict], max_pairs: int) -> list[dict]:
    """The system message(s), the last `max_pairs` user/assistant pairs, and a final unanswered question."""
    system = [m for m in messages if m["role"] == "system"]
    others = [m for m in messages if m["role"] != "system"]
    waiting = others[-1:] if others and others[-1]["role"] == "user" else []
    answered = others[: len(others) - len(waiting)]
    return system + answered[max(0, len(answered) - 2 * max_pairs) :] + waiting


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
    if (got := answer(conversation, 5)) != conversation:
        return (
            f"with max_pairs=5 and only 3 pairs, keep all 3 (7 messages), not {len(got)}: "
            "a negative slice start counts from the end, so clamp it at 0."
        )
    return None


@exercise("6.2", "Trim to a token budget, measured with usage", sends_requests=True)
def _check_trim_to_budget(answer) -> str | None:
    client, exchanges, server = _recording_client()
    conversation = [
        {"role": "system", "content": "You are a helpful assistant. Keep answers short."},
        {"role": "user", "content": "Name a large animal."},
        {"role": "assistant", "content": "The blue whale, the largest animal that has ever lived."},
        {"role": "user", "content": "Where does it live?"},
        {"role": "assistant", "content": "In every ocean, often far from the coast."},
        {"role": "user", "content": "What does it eat?"},
        {"role": "assistant", "content": "Krill: tiny shrimp-like animals, several tonnes a day."},
        {"role": "user", "content": "How long does it live?"},
    ]
    sizes = {}
    for pairs in range(4):
        trimmed = _last_pairs(conversation, pairs)
        response = client.chat.completions.create(model=server.model, messages=trimmed, max_completion_tokens=1)
        sizes[pairs] = response.usage.prompt_tokens
    original = json.dumps(conversation)
    for budget, pairs in [(sizes[2] + 1, 2), (sizes[3], 3), (sizes[1], 1), (sizes[0], 0)]:
        exchanges.clear()
        got = answer(client, server.model, conversation, budget)
        if json.dumps(conversation) != original:
            return "your function changed the list it was given; return a new list instead."
        if not _completions(exchanges):
            return "measure with a request: send the trimmed conversation and read response.usage.prompt_tokens."
        expected = _last_pairs(conversation, pairs)
        if got != expected:
            count = "no" if not isinstance(got, list) else len(got)
            return (
                f"with a budget of {budget} prompt tokens, expected the system message, the last {pairs} pair(s) "
                f"and the question ({len(expected)} messages), got {count}: keep as many recent pairs as fit."
            )
    too_small = sizes[0] - 1
    exchanges.clear()
    if (got := answer(client, server.model, conversation, too_small)) is not None:
        return f"when not even the system message and the question fit ({too_small} tokens), return None."
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


@exercise("7.1", "Collect a stream into one reply", sends_requests=True)
def _check_collect(answer) -> str | None:
    client, exchanges, server = _recording_client()
    stream = client.chat.completions.create(
        model=server.model,
        messages=[{"role": "user", "content": "Describe a bicycle in two sentences."}],
        max_completion_tokens=40,
        stream=True,
        stream_options={"include_usage": True},
    )
    got = answer(stream)
    sent = _completions(exchanges)[0]
    if sent.finished is None:
        return "read the stream to its end (loop over every chunk) before you return."
    if got != (expected := sent.streamed_text()):
        return f"the server streamed {expected[:40]!r}... but your function returned {str(got)[:40]!r}..."
    # What OpenAI sends, in the order it sends it: a role, text, a finish_reason, then the usage chunk.
    chunks = [
        _chunk(role="assistant", content=""),
        _chunk(content="Bicycles "),
        _chunk(content="appeared in "),
        _chunk(content="1817."),
        _chunk(finish_reason="stop"),
        _chunk(usage={"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26}),
    ]
    if (got := answer(iter(chunks))) != "Bicycles appeared in 1817.":
        return f"with OpenAI's chunks, expected 'Bicycles appeared in 1817.' but got {got!r}."
    return None


@exercise("7.2", "Time the first token", sends_requests=True)
def _check_first_token(answer) -> str | None:
    client, exchanges, server = _recording_client()
    messages = [{"role": "user", "content": "Write two sentences about the history of the bicycle."}]
    started = time.perf_counter()
    got = answer(client, server.model, messages)
    total = time.perf_counter() - started
    sent = _completions(exchanges)
    if len(sent) != 1:
        return f"send exactly one request (you sent {len(sent)})."
    if sent[0].sent.get("stream") is not True:
        return "ask for a stream (stream=True): without one, the first token arrives with the last."
    if sent[0].sent.get("messages") != messages or sent[0].sent.get("model") != server.model:
        return "send the model and messages you were given."
    if not (isinstance(got, tuple) and len(got) == 2):
        return "return a pair: (seconds until the first text arrived, the whole reply text)."
    seconds, text = got
    if text != sent[0].streamed_text():
        return "the second item should be the whole reply: every piece of delta.content, joined."
    if not isinstance(seconds, float) or not 0 < seconds <= total:
        return f"the first item should be seconds as a float, between 0 and {total:.2f}; got {seconds!r}."
    first_text = (sent[0].first_text_at or sent[0].finished) - started
    if seconds > first_text + 0.2:
        return (
            f"the first text arrived after about {first_text:.2f} s but you measured {seconds:.2f} s: "
            "stop the clock at the first chunk with text, inside the loop (time.perf_counter())."
        )
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


@exercise("10.2", "Measure more than once", sends_requests=True)
def _check_median_seconds(answer) -> str | None:
    import statistics

    client, exchanges, server = _recording_client()
    prompt = [{"role": "user", "content": "In one sentence, why is the sky blue?"}]
    got = answer(client, server.model, prompt, 3)
    sent = _completions(exchanges)
    if len(sent) != 3:
        return f"with runs=3, send the prompt 3 times (you sent {len(sent)})."
    if any(e.sent.get("messages") != prompt or e.sent.get("model") != server.model for e in sent):
        return "send the model and prompt you were given, unchanged, each time."
    if not isinstance(got, float):
        return f"return the median in seconds, as a float (got {type(got).__name__})."
    durations = sorted(e.finished - e.started for e in sent if e.finished is not None)
    if len(durations) != 3:
        return "read each response to the end before you stop its clock."
    if not durations[0] * 0.8 - 0.05 <= got <= durations[-1] * 1.2 + 0.05:
        return f"the 3 requests took {', '.join(f'{d:.2f}' for d in durations)} s; their median is not {got:.2f}."
    if abs(got - statistics.median(durations)) > abs(got - statistics.mean(durations)) + 0.05 and len(
        set(round(d, 2) for d in durations)
    ) == 3:
        return "return the median (statistics.median), not the mean: one slow outlier must not move it."
    return None


# --- Lesson 8: parameters and formats ---------------------------------------------------------


@exercise("8.1", "Parameters that work on every model", sends_requests=True)
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
    client, exchanges, server = _recording_client()
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


# --- Lesson 9: errors, retries and cost --------------------------------------------------


@exercise("9.1", "Which failures to retry", sends_requests=True)
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


@exercise("9.3", "Retry what is worth retrying", sends_requests=True)
def _check_patient_ask(answer) -> str | None:
    import uuid

    client, exchanges, server = _recording_client()
    flaky = client.with_options(default_headers={"X-Practice-Fail": f"503; times=2; id={uuid.uuid4().hex}"})
    got = answer(flaky, server.model, "Say hi")
    sent = _completions(exchanges)
    statuses = [e.status for e in sent]
    if statuses[:2] != [503, 503] or len(statuses) < 3:
        return f"the server failed twice with 503 and your function stopped after {statuses}: retry server errors."
    if statuses[2] != 200 or not isinstance(got, str) or got != sent[2].reply()["choices"][0]["message"]["content"]:
        return "after the retries, return the reply's text from the request that succeeded."
    exchanges.clear()
    wrong_key = _recording_client(api_key="not-a-real-key")
    try:
        answer(wrong_key[0], server.model, "Say hi")
    except Exception as error:
        if not isinstance(error, __import__("openai").AuthenticationError):
            return f"a wrong key should raise the SDK's AuthenticationError, not {type(error).__name__}."
    else:
        return "with a wrong key your function returned: let AuthenticationError reach the caller."
    if len(tries := _completions(wrong_key[1])) != 1:
        return f"a 401 will fail the same way every time, but you sent it {len(tries)} times: do not retry it."
    return None
