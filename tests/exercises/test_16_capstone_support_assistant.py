"""Lesson 16's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import json

import pytest

import support_assistant
from exercises.cases import exercise_tests, solution
from helpers.exercises import evaluate


def cancel_without_asking(session, order_id):
    order = session.order(order_id)
    if order is None or order["status"] != "processing":
        return {"error": f"Order {order_id} cannot be cancelled."}
    with session.connection:  # cancels at once: the model's word is taken as the person's
        session.connection.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
    return {"order_id": order_id, "status": "cancelled"}


def _propose_cancel(session, order_id, recheck=True):
    def carry_out():
        status = "processing" if recheck else "%"
        with session.connection:
            cursor = session.connection.execute(
                "UPDATE orders SET status = 'cancelled' WHERE id = ? AND status LIKE ?", (order_id, status)
            )
        return {"order_id": order_id, "status": "cancelled"} if cursor.rowcount else {"error": "Too late."}

    return session.propose(f"Cancel order {order_id}", carry_out)


def cancel_refusing_only_shipped(session, order_id):
    order = session.order(order_id)
    if order is None:
        return session.not_found(order_id)
    if order["status"] == "shipped":  # a delivered or cancelled order gets proposed too
        return {"error": f"Order {order_id} has shipped."}
    return _propose_cancel(session, order_id)


def cancel_any_customers_order(session, order_id):
    order = session.connection.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:  # reads the order by number only: anyone's order can be cancelled
        return {"error": f"There is no order {order_id}."}
    if order["status"] != "processing":
        return {"error": f"Order {order_id} is {order['status']}."}
    return _propose_cancel(session, order_id)


def cancel_without_checking_again(session, order_id):
    order = session.order(order_id)
    if order is None:
        return session.not_found(order_id)
    if order["status"] != "processing":
        return {"error": f"Order {order_id} is {order['status']}."}
    return _propose_cancel(session, order_id, recheck=False)  # at the click, cancels whatever the status


def cancel_saying_it_is_someone_elses(session, order_id):
    order = session.connection.execute("SELECT customer_id FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is not None and order["customer_id"] != session.customer_id:
        return {"error": f"Order {order_id} belongs to another customer."}  # tells that it exists
    return solution("16").cancel_order(session, order_id)


CANCEL_TOOL_WITH_CONFIRM = {
    "type": "function",
    "function": {
        "name": "cancel_order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "confirm": {"type": "boolean"}},
            "required": ["order_id", "confirm"],
        },
    },
}


MY_ORDER_TOOL_BY_EMAIL = {
    "type": "function",
    "function": {
        "name": "my_order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "email": {"type": "string"}},
            "required": ["order_id", "email"],
        },
    },
}


def my_order_unscoped(session, order_id):
    order = session.connection.execute("SELECT id, status FROM orders WHERE id = ?", (order_id,)).fetchone()
    return {"order_id": order_id, "status": order["status"]} if order else {"error": f"No order {order_id}."}


def my_order_with_its_own_not_found(session, order_id):
    order = session.order(order_id)
    if order is None:
        owned = session.connection.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone()
        return {"error": f"Order {order_id} is not yours." if owned else f"No order {order_id}."}
    return {"order_id": order_id, "status": order["status"]}


def run_allow_listed_without_validation(session, name, arguments):
    from support_assistant.tools import FUNCTIONS

    if name not in FUNCTIONS:
        return json.dumps({"error": f"There is no tool {name!r}."})
    try:
        return json.dumps(FUNCTIONS[name](session, **json.loads(arguments)))
    except (ValueError, TypeError) as error:
        return json.dumps({"error": str(error)})


def run_by_name(session, name, arguments):
    from support_assistant import tools

    return json.dumps(getattr(tools, name)(session, **json.loads(arguments)))


GIVEN = {"app": support_assistant}  # the notebook hands the checkers its app: check(..., app=support_assistant)

# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    # Takes the model's word for the person's: cancels at once.
    "16.1": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_without_asking),
    ),
    "16.1 a confirm parameter": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (CANCEL_TOOL_WITH_CONFIRM, solution("16").cancel_order),
    ),
    "16.1 delivered proposed": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_refusing_only_shipped),
    ),
    "16.1 another customer's": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_any_customers_order),
    ),
    "16.1 says it exists": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_saying_it_is_someone_elses),
    ),
    "16.1 no second check": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_without_checking_again),
    ),
    "16.3": (
        lambda: (solution("16").MY_ORDER_TOOL, solution("16").my_order),
        lambda: (solution("16").MY_ORDER_TOOL, my_order_unscoped),
    ),
    "16.3 email in the schema": (
        lambda: (solution("16").MY_ORDER_TOOL, solution("16").my_order),
        lambda: (MY_ORDER_TOOL_BY_EMAIL, solution("16").my_order),
    ),
    "16.3 an oracle": (
        lambda: (solution("16").MY_ORDER_TOOL, solution("16").my_order),
        lambda: (solution("16").MY_ORDER_TOOL, my_order_with_its_own_not_found),
    ),
    # Allow-listed, but trusts the arguments: a 2000-character summary goes into the database.
    "16.2": (lambda: solution("16").safe_run, lambda: run_allow_listed_without_validation),
    "16.2 by name": (lambda: solution("16").safe_run, lambda: run_by_name),
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__, GIVEN
)


@pytest.mark.parametrize("exercise_id", ["16.1", "16.2", "16.3"])
def test_a_check_without_the_app_says_to_pass_it(exercise_id):
    passed, report = evaluate(exercise_id, solution("16").safe_run)
    assert not passed and "app=support_assistant" in report
