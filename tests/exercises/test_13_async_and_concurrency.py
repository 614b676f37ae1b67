"""Lesson 13's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import asyncio
import json

from exercises.cases import exercise_tests, solution


def _batch_request(model, question, number, **changes):
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_completion_tokens": 1000}
    request = {"custom_id": f"q{number}", "method": "POST", "url": "/v1/chat/completions", "body": body}
    return {**request, **changes}


def batch_file_as_one_array(model, questions):
    return json.dumps([_batch_request(model, q, n) for n, q in enumerate(questions)])


def batch_file_with_one_custom_id(model, questions):
    requests = [_batch_request(model, q, n, custom_id="question") for n, q in enumerate(questions)]
    return "".join(json.dumps(request) + "\n" for request in requests)


def batch_file_without_v1(model, questions):
    requests = [_batch_request(model, q, n, url="/chat/completions") for n, q in enumerate(questions)]
    return "".join(json.dumps(request) + "\n" for request in requests)


def batch_file_without_body(model, questions):
    lines = []
    for number, question in enumerate(questions):
        request = _batch_request(model, question, number)
        lines.append(json.dumps({**{k: v for k, v in request.items() if k != "body"}, **request["body"]}) + "\n")
    return "".join(lines)


def batch_file_with_zero_tokens(model, questions):
    lines = []
    for number, question in enumerate(questions):
        request = _batch_request(model, question, number)
        request["body"]["max_completion_tokens"] = 0
        lines.append(json.dumps(request) + "\n")
    return "".join(lines)


async def _reply(client, model, question):
    response = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content


async def ask_all_one_by_one(client, model, questions, limit):
    return [await _reply(client, model, question) for question in questions]


async def ask_all_unbounded(client, model, questions, limit):
    return await asyncio.gather(*(_reply(client, model, question) for question in questions))


async def ask_all_two_at_a_time(client, model, questions, limit):
    semaphore = asyncio.Semaphore(2)  # the number from the lesson, not the `limit` given

    async def ask(question):
        async with semaphore:
            return await _reply(client, model, question)

    return await asyncio.gather(*(ask(question) for question in questions))


async def ask_all_as_they_finish(client, model, questions, limit):
    semaphore = asyncio.Semaphore(limit)

    async def ask(question):
        async with semaphore:
            return await _reply(client, model, question)

    return [await reply for reply in asyncio.as_completed([ask(question) for question in questions])]


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "13.1": (lambda: solution("13").ask_all, lambda: ask_all_one_by_one),
    "13.1 without a limit": (lambda: solution("13").ask_all, lambda: ask_all_unbounded),
    "13.1 in the order they finish": (lambda: solution("13").ask_all, lambda: ask_all_as_they_finish),
    # A semaphore, but Semaphore(2) whatever `limit` says: passes limit=2, fails limit=3 and limit=1.
    "13.1 with a fixed limit": (lambda: solution("13").ask_all, lambda: ask_all_two_at_a_time),
    # One JSON array, not one request per line (JSONL).
    "13.2": (lambda: solution("13").batch_file, lambda: batch_file_as_one_array),
    # The same custom_id on every line: the batch fails with duplicate_custom_id.
    "13.2 same custom_id": (lambda: solution("13").batch_file, lambda: batch_file_with_one_custom_id),
    # The SDK's path, not the endpoint's: the batch fails with url_mismatch.
    "13.2 without /v1": (lambda: solution("13").batch_file, lambda: batch_file_without_v1),
    # The request's fields at the top of the line, with no "body".
    "13.2 no body": (lambda: solution("13").batch_file, lambda: batch_file_without_body),
    # max_tokens 0: a body the API refuses, so each request goes to the error file.
    "13.2 refused body": (lambda: solution("13").batch_file, lambda: batch_file_with_zero_tokens),
    "13.1 not async": (
        lambda: solution("13").ask_all,
        lambda: lambda client, model, questions, limit: [question for question in questions],
    ),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
