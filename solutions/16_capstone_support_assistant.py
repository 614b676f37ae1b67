"""Lesson 16, worked solutions."""

import json

import jsonschema

from support_assistant.tools import FUNCTIONS, SCHEMAS

# Exercise 16.1
CANCEL_ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "cancel_order",
        "description": "Cancel an order that has not shipped. Set confirm to true only once the customer said yes.",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {
                "order_id": {"type": "integer", "description": "The four-digit order number."},
                "confirm": {"type": "boolean", "description": "Has the customer confirmed the cancellation?"},
            },
            "required": ["order_id", "confirm"],
            "additionalProperties": False,
        },
    },
}


def cancel_order(connection, order_id, confirm):
    order = connection.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:
        return {"error": f"There is no order {order_id}."}
    if order["status"] != "processing":
        return {"error": f"Order {order_id} is {order['status']}: it can no longer be cancelled."}
    if not confirm:
        return {"needs_confirmation": f"Ask the customer to confirm that order {order_id} should be cancelled."}
    with connection:
        connection.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
    return {"order_id": order_id, "status": "cancelled"}


# Exercise 16.2
def safe_run(connection, name, arguments):
    if name not in FUNCTIONS:  # the allow-list: nothing else can run, whatever the model writes
        return json.dumps({"error": f"There is no tool {name!r}."})
    try:
        parsed = json.loads(arguments)
        jsonschema.validate(parsed, SCHEMAS[name])
    except json.JSONDecodeError:
        return json.dumps({"error": "The arguments are not valid JSON."})
    except jsonschema.ValidationError as error:
        return json.dumps({"error": f"Invalid arguments for {name}: {error.message}"})
    return json.dumps(FUNCTIONS[name](connection, **parsed))
