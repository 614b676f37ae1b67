"""Lesson 4's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution

# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "4.1": (lambda: solution("04").gemini_client, lambda: lambda key: __import__("openai").OpenAI(api_key=key)),
    # Lists the models but returns the SDK's objects, not their ids.
    "4.2": (lambda: solution("04").served_models, lambda: lambda client: list(client.models.list())),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
