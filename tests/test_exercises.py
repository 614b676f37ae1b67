"""Every exercise: the worked solution passes its checker, and a wrong answer fails it."""

import asyncio
import importlib.util
from pathlib import Path

import openai
import pytest

from helpers import catalog
from helpers.exercises import evaluate, exercise_ids

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def solution(lesson: str):
    path = next(SOLUTIONS.glob(f"{lesson}_*.py"))
    spec = importlib.util.spec_from_file_location(f"solutions_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _reply(client, model, question):
    response = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content


async def ask_all_one_by_one(client, model, questions, limit):
    return [await _reply(client, model, question) for question in questions]


async def ask_all_unbounded(client, model, questions, limit):
    return await asyncio.gather(*(_reply(client, model, question) for question in questions))


async def ask_all_as_they_finish(client, model, questions, limit):
    semaphore = asyncio.Semaphore(limit)

    async def ask(question):
        async with semaphore:
            return await _reply(client, model, question)

    return [await reply for reply in asyncio.as_completed([ask(question) for question in questions])]


# exercise id -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "1.1": (lambda: solution("01").fixed_line, lambda: "OPENAI_API_KEY=\u201csk-proj-" + "EXAMPLE0" * 20 + "\u201d"),
    "1.2": (lambda: solution("01").my_mask, lambda: lambda key: key[:8] + "..."),
    "2.1": (
        lambda: solution("02").make_pirate_payload("smollm2-135m-instruct"),
        lambda: {"model": "m", "messages": [{"role": "user", "content": "Tell me a fun fact"}]},
    ),
    "2.2": (
        lambda: solution("02").reply_text,
        lambda: lambda response: response.json()["choices"][0]["message"]["content"],
    ),
    "3.1": (lambda: solution("03").ask, lambda: lambda client, model, question: "hi"),
    "4.1": (lambda: solution("04").gemini_client, lambda: lambda key: __import__("openai").OpenAI(api_key=key)),
    "5.1": (lambda: solution("05").answer_only, lambda: lambda text: text.replace("<think>", "").strip()),
    "6.1": (lambda: solution("06").trim_to_pairs, lambda: lambda messages, max_pairs: messages[-2 * max_pairs :]),
    "7.1": (
        lambda: solution("07").collect,
        lambda: lambda chunks: "".join(c.choices[0].delta.content or "" for c in chunks),
    ),
    "8.1": (
        lambda: solution("08").portable_request,
        lambda: lambda model, temperature, limit: {"temperature": temperature, "max_completion_tokens": limit},
    ),
    "8.1 by name prefix": (
        lambda: solution("08").portable_request,
        # the old rule of thumb: strip temperature for gpt-5 names, send it everywhere else
        lambda: (
            lambda model, temperature, limit: (
                {"max_completion_tokens": limit}
                | ({} if model.startswith(("gpt-5", "o")) else {"temperature": temperature})
            )
        ),
    ),
    "8.2": (lambda: solution("08").book_format, lambda: {"type": "json_object"}),
    "9.1": (
        lambda: solution("09").should_retry,
        # retries every 429, billing errors included
        lambda: (
            lambda error: (
                isinstance(error, (openai.RateLimitError, openai.APIConnectionError))
                or getattr(error, "status_code", 0) >= 500
            )
        ),
    ),
    "9.2": (
        lambda: solution("09").conversation_cost,
        lambda: lambda usages, model: sum(u.prompt_tokens + u.completion_tokens for u in usages) / 1_000_000,
    ),
    "9.2 without the cache": (
        lambda: solution("09").conversation_cost,
        lambda: (
            lambda usages, model: (
                sum(
                    u.prompt_tokens * catalog.PRICES[model].input + u.completion_tokens * catalog.PRICES[model].output
                    for u in usages
                )
                / 1_000_000
            )
        ),
    ),
    "10.1": (
        lambda: solution("10").cheapest,
        lambda: lambda rows: min(rows, key=lambda r: r["dollars"] or 0)["model"] if rows else None,
    ),
    "11.1": (lambda: solution("11").ask_all, lambda: ask_all_one_by_one),
    "11.1 without a limit": (lambda: solution("11").ask_all, lambda: ask_all_unbounded),
    "11.1 in the order they finish": (lambda: solution("11").ask_all, lambda: ask_all_as_they_finish),
    "11.1 not async": (
        lambda: solution("11").ask_all,
        lambda: lambda client, model, questions, limit: [question for question in questions],
    ),
}


def test_every_exercise_has_a_case():
    assert sorted({case.split()[0] for case in CASES}) == sorted(exercise_ids())


@pytest.mark.parametrize("exercise_id", sorted(CASES))
def test_the_worked_solution_passes(exercise_id):
    right, _ = CASES[exercise_id]
    passed, report = evaluate(exercise_id.split()[0], right())
    assert passed, report


@pytest.mark.parametrize("exercise_id", sorted(CASES))
def test_a_wrong_answer_fails_with_a_hint(exercise_id):
    _, wrong = CASES[exercise_id]
    passed, report = evaluate(exercise_id.split()[0], wrong())
    assert not passed
    assert report.startswith(f"NOT YET  {exercise_id.split()[0]}") and "Hint: " in report


def test_an_unknown_exercise_is_named():
    with pytest.raises(KeyError, match="6.1"):
        evaluate("99.9", None)
