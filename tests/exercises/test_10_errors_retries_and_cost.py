"""Lesson 10's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import openai

from exercises.cases import exercise_tests, solution
from helpers import catalog


def retry_everything(client, model, question):
    for attempt in range(3):
        try:
            response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
            return response.choices[0].message.content
        except Exception:
            if attempt == 2:
                raise
    return None


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "10.1": (
        lambda: solution("10").should_retry,
        # retries every 429, billing errors included
        lambda: (
            lambda error: (
                isinstance(error, (openai.RateLimitError, openai.APIConnectionError))
                or getattr(error, "status_code", 0) >= 500
            )
        ),
    ),
    "10.2": (
        lambda: solution("10").conversation_cost,
        lambda: lambda usages, model: sum(u.prompt_tokens + u.completion_tokens for u in usages) / 1_000_000,
    ),
    # Retries every exception, a wrong key included.
    "10.3": (lambda: solution("10").patient_ask, lambda: retry_everything),
    "10.2 without the cache": (
        lambda: solution("10").conversation_cost,
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
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
