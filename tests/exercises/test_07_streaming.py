"""Lesson 7's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import time

from exercises.cases import exercise_tests, solution


def first_token_after_the_loop(client, model, messages):
    started = time.perf_counter()
    pieces = []
    for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    return time.perf_counter() - started, "".join(pieces)


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Assumes every chunk has choices[0]: fails on OpenAI's final usage chunk.
    "7.1": (
        lambda: solution("07").collect,
        lambda: lambda chunks: "".join(c.choices[0].delta.content or "" for c in chunks),
    ),
    # Streams, but stops the clock after the loop: the time of the whole reply.
    "7.2": (lambda: solution("07").first_token, lambda: first_token_after_the_loop),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
