"""Lesson 15's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import time

from exercises.cases import exercise_tests, solution


def median_of_one(client, model, prompt, runs):
    started = time.perf_counter()
    client.chat.completions.create(model=model, messages=prompt)
    return time.perf_counter() - started


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Measures once, whatever `runs` says.
    "15.2": (lambda: solution("15").median_seconds, lambda: median_of_one),
    "15.1": (
        lambda: solution("15").cheapest,
        lambda: lambda rows: min(rows, key=lambda r: r["dollars"] or 0)["model"] if rows else None,
    ),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
