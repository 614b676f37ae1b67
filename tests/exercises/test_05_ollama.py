"""Lesson 5's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution

# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Asks, but returns the message object rather than its text.
    "5.2": (
        lambda: solution("05").local_answer,
        lambda: (
            lambda client, model, question: (
                client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
                .choices[0]
                .message
            )
        ),
    ),
    "5.1": (lambda: solution("05").answer_only, lambda: lambda text: text.replace("<think>", "").strip()),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
