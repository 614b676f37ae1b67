"""Lesson 8's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution

# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
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
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
