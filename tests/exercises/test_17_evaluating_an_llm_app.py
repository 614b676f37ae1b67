"""Lesson 17's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import json

from exercises.cases import exercise_tests, solution

# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Checks the name only: any lookup_order passes, whatever its arguments.
    "17.1": (
        lambda: solution("17").called_with,
        lambda: lambda run, name, arguments: name in [c.name for c in run.tools],
    ),
    # json.loads without a guard: arguments that are not JSON raise instead of failing the case.
    "17.1 unguarded": (
        lambda: solution("17").called_with,
        lambda: (
            lambda run, name, arguments: any(c.name == name and json.loads(c.arguments) == arguments for c in run.tools)
        ),
    ),
    # Looks at the first call only.
    "17.1 first call only": (
        lambda: solution("17").called_with,
        lambda: (
            lambda run, name, arguments: (
                bool(run.tools) and run.tools[0].name == name and run.tools[0].parsed_arguments() == arguments
            )
        ),
    ),
    # The customer's own order: passes with the planted regression too, so it catches nothing.
    "17.2": (
        lambda: (solution("17").CASE, solution("17").grade),
        lambda: (
            {"id": "own order", "message": "Where is my order 1025?"},
            lambda run: any(c.name == "lookup_order" and "error" not in c.parsed_result() for c in run.tools),
        ),
    ),
    # A grader that fails everything fails the working assistant too.
    "17.2 fails everything": (
        lambda: (solution("17").CASE, solution("17").grade),
        lambda: (solution("17").CASE, lambda run: False),
    ),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
