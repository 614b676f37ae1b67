"""Checkers for lesson 10: errors, retries and cost."""

from __future__ import annotations

from .. import catalog
from . import practice
from .practice import completions, recording_client
from .registry import exercise


@exercise("10.1", "Which failures to retry", sends_requests=True)
def _check_should_retry(answer) -> str | None:
    import openai

    server = practice.practice_server()
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


@exercise("10.2", "The cost of a conversation")
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
    for model in [facts.model for facts in catalog.PROVIDERS.values()]:  # the course's default models
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
    if answer([], catalog.OPENAI.model) != 0:
        return "an empty conversation costs nothing."
    return None


@exercise("10.3", "Retry what is worth retrying", sends_requests=True)
def _check_patient_ask(answer) -> str | None:
    import uuid

    client, exchanges, server = recording_client()
    flaky = client.with_options(default_headers={"X-Practice-Fail": f"503; times=2; id={uuid.uuid4().hex}"})
    got = answer(flaky, server.model, "Say hi")
    sent = completions(exchanges)
    statuses = [e.status for e in sent]
    if statuses[:2] != [503, 503] or len(statuses) < 3:
        return f"the server failed twice with 503 and your function stopped after {statuses}: retry server errors."
    if statuses[2] != 200 or not isinstance(got, str) or got != sent[2].reply()["choices"][0]["message"]["content"]:
        return "after the retries, return the reply's text from the request that succeeded."
    exchanges.clear()
    wrong_key = recording_client(api_key="not-a-real-key")
    try:
        answer(wrong_key[0], server.model, "Say hi")
    except Exception as error:
        if not isinstance(error, __import__("openai").AuthenticationError):
            return f"a wrong key should raise the SDK's AuthenticationError, not {type(error).__name__}."
    else:
        return "with a wrong key your function returned: let AuthenticationError reach the caller."
    if len(tries := completions(wrong_key[1])) != 1:
        return f"a 401 will fail the same way every time, but you sent it {len(tries)} times: do not retry it."
    return None
