"""Lesson 6's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution


def trim_with_wrapping_slice(messages, max_pairs):
    system = [m for m in messages if m["role"] == "system"]
    others = [m for m in messages if m["role"] != "system"]
    waiting = others[-1:] if others and others[-1]["role"] == "user" else []
    answered = others[: len(others) - len(waiting)]
    kept = answered[len(answered) - 2 * max_pairs :] if max_pairs > 0 else []
    return system + kept + waiting


def trim_by_guessed_tokens(client, model, messages, budget):
    trim = solution("06").trim_to_pairs
    client.chat.completions.create(model=model, messages=messages, max_completion_tokens=1)
    for keep in range(len(messages) // 2, -1, -1):
        if sum(len(m["content"]) for m in trim(messages, keep)) / 4 <= budget:
            return trim(messages, keep)
    return None


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Right for every max_pairs the conversation can satisfy; a larger one wraps round (negative slice start).
    "6.1": (lambda: solution("06").trim_to_pairs, lambda: trim_with_wrapping_slice),
    # Counts characters / 4 instead of asking the server (usage.prompt_tokens).
    "6.2": (lambda: solution("06").trim_to_budget, lambda: trim_by_guessed_tokens),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
