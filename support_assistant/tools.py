"""What the model may ask the app to do: the shop's tools, their JSON schemas, and a safe dispatcher.

The model never runs anything. It answers with `tool_calls` (a name and JSON arguments);
`run_tool_call` looks the name up in an allow-list, parses and validates the arguments
against the tool's own schema, runs the function on the database, and returns text for a
`{"role": "tool"}` message. Every failure (unknown tool, bad JSON, a missing order) comes
back as an error the model can read and explain: nothing here raises to the caller.
"""

from __future__ import annotations

import json
import sqlite3

import jsonschema


def lookup_order(connection: sqlite3.Connection, order_id: int) -> dict:
    """An order's status, date and items, or an error if there is no such order."""
    order = connection.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:
        return {"error": f"There is no order {order_id}. Order numbers have four digits, like 1007."}
    items = connection.execute(
        "SELECT p.name, i.quantity FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.order_id = ?",
        (order_id,),
    ).fetchall()
    return {
        "order_id": order["id"],
        "status": order["status"],
        "placed_on": order["placed_on"],
        "items": [f"{row['quantity']} x {row['name']}" for row in items],
    }


def lookup_product(connection: sqlite3.Connection, name: str) -> dict:
    """Products whose name contains `name` (up to 5), with price and stock."""
    rows = connection.execute(
        "SELECT name, category, price_cents, in_stock FROM products WHERE name LIKE ? ORDER BY name LIMIT 5",
        (f"%{name.strip()}%",),
    ).fetchall()
    if not rows:
        return {"error": f"No product matches {name!r}."}
    return {
        "products": [
            {"name": r["name"], "price": f"${r['price_cents'] / 100:.2f}", "in_stock": r["in_stock"]} for r in rows
        ]
    }


def open_ticket(connection: sqlite3.Connection, order_id: int, summary: str) -> dict:
    """Write a support ticket to the database; a person from the shop follows it up."""
    if connection.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is None:
        return {"error": f"There is no order {order_id}; ask the customer for their order number."}
    with connection:  # one transaction: committed on success, rolled back on error
        cursor = connection.execute("INSERT INTO tickets (order_id, summary) VALUES (?, ?)", (order_id, summary))
    return {"ticket_id": cursor.lastrowid, "order_id": order_id, "status": "open"}


def _function(name: str, description: str, properties: dict) -> dict:
    """A tool in Chat Completions' format; every property required, nothing else allowed (strict mode's rules)."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "strict": True,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


ORDER_ID = {"type": "integer", "description": "The four-digit order number the customer gave."}

TOOLS = [
    _function("lookup_order", "Look up an order by its number: status, date and items.", {"order_id": ORDER_ID}),
    _function(
        "lookup_product",
        "Find products by (part of) their name: price and how many are in stock.",
        {"name": {"type": "string", "description": "A word from the product's name, as the customer wrote it."}},
    ),
    _function(
        "open_ticket",
        "Open a support ticket for a person at the shop to follow up, e.g. a damaged or missing item.",
        {
            "order_id": ORDER_ID,
            "summary": {"type": "string", "description": "One sentence: what went wrong.", "maxLength": 300},
        },
    ),
]

# The allow-list: the only functions a tool call can reach.
FUNCTIONS = {"lookup_order": lookup_order, "lookup_product": lookup_product, "open_ticket": open_ticket}
SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}


def run_tool_call(connection: sqlite3.Connection, name: str, arguments: str) -> str:
    """Run one tool call from the model; return the text of the `tool` message (a JSON object)."""
    if name not in FUNCTIONS:
        result = {"error": f"There is no tool {name!r}. The tools are: {', '.join(FUNCTIONS)}."}
        return json.dumps(result)
    try:
        parsed = json.loads(arguments or "{}")  # parsed as data: never eval() what a model wrote
        jsonschema.validate(parsed, SCHEMAS[name])
    except json.JSONDecodeError as error:
        return json.dumps({"error": f"The arguments are not valid JSON ({error.msg}); send a JSON object."})
    except jsonschema.ValidationError as error:
        return json.dumps({"error": f"Invalid arguments for {name}: {error.message}"})
    try:
        result = FUNCTIONS[name](connection, **parsed)
    except sqlite3.Error as error:
        result = {"error": f"The shop's database could not answer ({type(error).__name__}); try again later."}
    return json.dumps(result)
