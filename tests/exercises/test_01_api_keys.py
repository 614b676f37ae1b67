"""Lesson 1's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution


def wrong_mask(key):
    for prefix in ("sk-svcacct-", "sk-proj-", "AIza"):
        if key.startswith(prefix):
            return f"{prefix}...{key[-4:]}"
    return f"{key[:4]}...{key[-4:]}"


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "1.1": (lambda: solution("01").fixed_line, lambda: "OPENAI_API_KEY=\u201csk-proj-" + "EXAMPLE0" * 20 + "\u201d"),
    # Knows the prefixes the checker used to try, but not an older sk- key or a newer AQ. key.
    "1.2": (lambda: solution("01").my_mask, lambda: wrong_mask),
    # Sends the question, but returns the whole response object instead of its text.
    "1.3": (
        lambda: solution("01").first_reply,
        lambda: (
            lambda client, model, question: client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": question}]
            )
        ),
    ),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
