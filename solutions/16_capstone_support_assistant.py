"""Lesson 16, worked solutions."""

import json

import jsonschema

from support_assistant.tools import FUNCTIONS, SCHEMAS

# Exercise 16.1: the model can only ask; the person's click on Confirm runs carry_out.
CANCEL_ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "cancel_order",
        "description": "Propose cancelling one of the customer's orders that has not shipped yet. "
        "The customer confirms on the page.",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer", "description": "The four-digit order number."}},
            "required": ["order_id"],
            "additionalProperties": False,
        },
    },
}


def cancel_order(session, order_id):
    order = session.order(order_id)  # None for another customer's order, as for one that does not exist
    if order is None:
        return session.not_found(order_id)
    if order["status"] != "processing":
        return {"error": f"Order {order_id} is {order['status']}: it can no longer be cancelled."}

    def carry_out():
        with session.connection:  # checked again at the click: it may have shipped since
            cursor = session.connection.execute(
                "UPDATE orders SET status = 'cancelled' WHERE id = ? AND customer_id = ? AND status = 'processing'",
                (order_id, session.customer_id),
            )
        if cursor.rowcount == 0:
            return {"error": f"Order {order_id} can no longer be cancelled."}
        return {"order_id": order_id, "status": "cancelled"}

    return session.propose(f"Cancel order {order_id}", carry_out)


# Exercise 16.2
def safe_run(session, name, arguments):
    if name not in FUNCTIONS:  # the allow-list: nothing else can run, whatever the model writes
        return json.dumps({"error": f"There is no tool {name!r}."})
    try:
        parsed = json.loads(arguments)
        jsonschema.validate(parsed, SCHEMAS[name])
    except json.JSONDecodeError:
        return json.dumps({"error": "The arguments are not valid JSON."})
    except jsonschema.ValidationError as error:
        return json.dumps({"error": f"Invalid arguments for {name}: {error.message}"})
    try:
        return json.dumps(FUNCTIONS[name](session, **parsed))
    except Exception as error:  # e.g. an integer too large for SQLite: an error for the model, never a crash
        return json.dumps({"error": f"The tool failed ({type(error).__name__})."})


# Exercise 16.3: no email in the schema; the signed-in customer comes from the session.
MY_ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "my_order",
        "description": "The status of one of the signed-in customer's orders.",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer", "description": "The four-digit order number."}},
            "required": ["order_id"],
            "additionalProperties": False,
        },
    },
}


def my_order(session, order_id):
    order = session.order(order_id)
    if order is None:
        return session.not_found(order_id)
    return {"order_id": order_id, "status": order["status"]}
