"""Checkers for lesson 13: async and concurrency."""

from __future__ import annotations

import json

from . import practice
from .registry import exercise

_QUESTIONS_11 = [
    "Name a fruit.",
    "Name a colour.",
    "Name a planet.",
    "Name a musical instrument.",
    "Name a tree.",
]
_REPLY_TOKENS_11 = 16  # the checker keeps replies short, so that a check takes seconds
_SLOW_FIRST_11 = 0.5  # seconds the first question's request waits, so its answer comes back late
_LIMITS_11 = (2, 3, 1)  # each is tried in turn: the answer must keep to the limit it is given


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


@exercise("13.1", "Ask every question, a few at a time", sends_requests=True)
def _check_ask_all(answer) -> str | None:
    import inspect

    if not inspect.iscoroutinefunction(answer):
        return "define ask_all with `async def`, so that it can await the requests."
    server = practice.practice_server()
    for limit in _LIMITS_11:  # more than one limit, so that a fixed Semaphore(2) is caught
        if problem := _check_one_limit(answer, server, limit):
            return problem
    return None


def _check_one_limit(answer, server, limit: int) -> str | None:
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
    if log["most"] == 1 < limit:
        return (
            f"at most 1 request was in flight at a time, with limit={limit}: the requests ran one "
            "after another. Start them all (asyncio.gather) and let the semaphore hold back the extra ones."
        )
    if log["most"] < limit:
        return (
            f"at most {log['most']} requests were in flight at once, with limit={limit}: use the limit you are "
            "given, asyncio.Semaphore(limit), not a number of your own."
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


_QUESTIONS_12 = ["Name a fruit.", "Name a colour.", "Name a planet."]
_BATCH_WAIT_12 = 300  # seconds the checker waits for its batch (a few seconds offline)
_REPLY_TOKENS_12 = 16  # the checker keeps replies short, so that a check takes seconds


def _short_replies(row: str) -> str:
    """A request line whose reply is capped at _REPLY_TOKENS_12 tokens; any other line as it is."""
    try:
        request = json.loads(row)
    except ValueError:
        return row
    body = request.get("body") if isinstance(request, dict) else None
    if not isinstance(body, dict):
        return row
    for name in ("max_completion_tokens", "max_tokens"):
        if isinstance(body.get(name), int) and body[name] > _REPLY_TOKENS_12:
            body[name] = _REPLY_TOKENS_12
    if "max_tokens" not in body:
        body.setdefault("max_completion_tokens", _REPLY_TOKENS_12)
    return json.dumps(request)


@exercise("13.2", "Many questions as one batch file", sends_requests=True)
def _check_batch_file(answer) -> str | None:
    import io
    import time

    import openai

    server = practice.practice_server()
    text = answer(server.model, list(_QUESTIONS_12))
    if not isinstance(text, str):
        return f"return the file's text (a str, one JSON request per line), not {type(text).__name__}."
    rows = [row for row in text.splitlines() if row.strip()]
    if len(rows) != len(_QUESTIONS_12):
        return (
            f"the file has {len(rows)} non-empty lines for {len(_QUESTIONS_12)} questions: write one line per "
            'question, each json.dumps(request) followed by "\\n" (JSONL), not one JSON array.'
        )
    client = openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=60)
    sent = "".join(_short_replies(row) + "\n" for row in rows)
    try:
        uploaded = client.files.create(file=("questions.jsonl", io.BytesIO(sent.encode())), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        deadline = time.monotonic() + _BATCH_WAIT_12
        while batch.status not in ("completed", "failed", "cancelled", "expired") and time.monotonic() < deadline:
            time.sleep(0.5)
            batch = client.batches.retrieve(batch.id)
        if batch.status == "failed":
            error = batch.errors.data[0]
            return (
                f"the batch failed on line {error.line}: {error.code} ({error.message}). Each line is an object "
                'with a unique "custom_id", "method": "POST", "url": "/v1/chat/completions" and the request as "body".'
            )
        if batch.status != "completed":
            return f"the batch did not finish within {_BATCH_WAIT_12} s (status {batch.status}): keep requests short."
        if batch.request_counts.failed:
            refused = json.loads(client.files.content(batch.error_file_id).text.splitlines()[0])
            error = refused["response"]["body"]["error"]
            return (
                f"the request {refused['custom_id']!r} was refused ({refused['response']['status_code']}): "
                f'{error["message"]} Each "body" is what client.chat.completions.create would send.'
            )
        answered = [json.loads(r) for r in client.files.content(batch.output_file_id).text.splitlines()]
    finally:
        client.close()
    requests_by_id = {json.loads(row)["custom_id"]: json.loads(row)["body"] for row in rows}
    asked = sorted(
        next((m.get("content") for m in requests_by_id[a["custom_id"]]["messages"] if m.get("role") == "user"), None)
        for a in answered
    )
    if asked != sorted(_QUESTIONS_12):
        return (
            f"the requests asked {asked}, not the questions {sorted(_QUESTIONS_12)}: put each question in its own "
            'request, as the "content" of a user message.'
        )
    return None
