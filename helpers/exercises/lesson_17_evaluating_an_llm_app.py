"""Checkers for lesson 17: evaluating the support assistant (a tool-call grader, a case that catches a regression)."""

from __future__ import annotations

from .practice import recording_client
from .registry import exercise

OWN_ORDER = {"id": "own order", "message": "Where is my order 1025?"}


def _real_run(case: dict, session_type=None):
    """`case` played for real against the offline model, with the app choosing the tool (as offline)."""
    from ..evals import run_case

    client, _, server = recording_client()
    return run_case(client, server.model, case, offline=True, session_type=session_type)


def _made_up(*calls: tuple[str, str]):
    """A run that called these (name, arguments) tools, as if the model had written them."""
    from ..evals import Run, ToolCall

    return Run("made up", tools=[ToolCall(name, arguments, "{}") for name, arguments in calls])


@exercise("17.1", "A grader for the expected tool call", sends_requests=True)
def _check_called_with(answer) -> str | None:
    run = _real_run(OWN_ORDER)
    if not run.tools:
        return "the offline assistant called no tool for this case; run the check again."
    written = run.tools[0].parsed_arguments()
    if answer(run, run.tools[0].name, written) is not True:
        return f"the real run called {run.tools[0].name} with {written}: your grader should return True."
    cases = [
        (run, "lookup_order", {"order_id": 4242}, False, "the real run, graded against order 4242"),
        (run, "open_ticket", written, False, "the real run, graded against open_ticket (a different tool)"),
        (_made_up(("lookup_order", '{"order_id": "1025"}')), "lookup_order", {"order_id": 1025}, False,
         'arguments {"order_id": "1025"} (a string, not the number 1025)'),
        (_made_up(("lookup_order", "order 1025 please")), "lookup_order", {"order_id": 1025}, False,
         "arguments that are not JSON (return False, do not raise)"),
        (_made_up(("lookup_order", '{"order_id": 1025, "customer": 4}')), "lookup_order", {"order_id": 1025},
         False, "an extra argument the test did not expect"),
        (_made_up(), "lookup_order", {"order_id": 1025}, False, "a run that called no tool"),
        (_made_up(("lookup_products", '{"category": "kitchen"}'), ("lookup_order", '{"order_id": 1025}')),
         "lookup_order", {"order_id": 1025}, True, "a run whose second call is the expected one"),
    ]  # fmt: skip
    for made, name, arguments, expected, what in cases:
        try:
            got = answer(made, name, arguments)
        except Exception as error:
            return f"with {what}, your grader raised {type(error).__name__}: return False instead."
        if got is not expected:
            return f"with {what}, your grader returned {got!r}; expected {expected}."
    return None


def leaky_session_type():
    """The planted regression: a refactor dropped the customer from the order query, so anyone's order is found."""
    from support_assistant.tools import CustomerSession

    class LeakySession(CustomerSession):
        def order(self, order_id):
            return self.connection.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()

    return LeakySession


@exercise("17.2", "A case that catches a regression", sends_requests=True)
def _check_catches_regression(answer) -> str | None:
    if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], dict) and callable(answer[1])):
        return "pass a pair: (CASE, grade), CASE a dict with 'id' and 'message', grade(run) returning True or False."
    case, grade = answer
    if not isinstance(case.get("message"), str) or "id" not in case:
        return "give CASE an 'id' and a 'message' (what the customer writes)."
    working = _real_run(case)
    if grade(working) is not True:
        return f"your grader failed the working assistant (tools: {[(t.name, t.arguments) for t in working.tools]})."
    broken = _real_run(case, session_type=leaky_session_type())
    if grade(broken) is not False:
        seen = [(t.name, t.result[:70]) for t in broken.tools]
        return f"your case passed against the broken assistant too, so it would not catch the regression: {seen}."
    return None
