"""Lesson 14's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution


def classify_by_the_chosen_token(client, model, text, labels):
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": f"{text}\nIs this {' or '.join(labels)}? Answer with one word."}],
        max_completion_tokens=1,
        logprobs=True,
        top_logprobs=20,
    )
    chosen = response.choices[0].logprobs.content[0]
    return chosen.token.strip().lower(), __import__("math").exp(chosen.logprob)


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Returns the logprobs themselves, not probabilities.
    "14.1": (
        lambda: solution("14").token_probabilities,
        lambda: lambda response: [(t.token, t.logprob) for t in response.choices[0].logprobs.content],
    ),
    # Trusts the one token the model happened to write, and its raw probability.
    "14.2": (lambda: solution("14").classify, lambda: classify_by_the_chosen_token),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
