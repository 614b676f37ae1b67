"""Lesson 2's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution

# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "2.1": (
        lambda: solution("02").make_pirate_payload("smollm2-135m-instruct"),
        lambda: {"model": "m", "messages": [{"role": "user", "content": "Tell me a fun fact about parrots."}]},
    ),
    "2.2": (
        lambda: solution("02").reply_text,
        lambda: lambda response: response.json()["choices"][0]["message"]["content"],
    ),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
