"""Lesson 3's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution


def ask_catching_everything(client, model, question):
    try:
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    except Exception:
        return f"Unknown model: {model}"
    return response.choices[0].message.content


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # A bare `except` that also swallows a wrong key and a timeout.
    "3.1": (lambda: solution("03").ask, lambda: ask_catching_everything),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
