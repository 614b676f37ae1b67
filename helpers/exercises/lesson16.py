"""Checkers for lesson 16: the capstone support assistant (a tool with a confirmation, a dispatcher that refuses)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..parameters import tool_options
from .practice import completions, recording_client
from .registry import exercise

PROCESSING, SHIPPED, UNKNOWN = 1034, 1031, 4242  # orders in the seeded shop (and one that is not)


def _shop(folder: str):
    from support_assistant import db

    return db.connect(db.create(Path(folder) / "shop.db"))


def _statuses(connection) -> dict:
    return dict(connection.execute("SELECT id, status FROM orders").fetchall())


def _forced_call(tools: list[dict], name: str, question: str):
    """Send a real request that offers `tools` and names `name` in tool_choice; the call that comes back."""
    client, exchanges, server = recording_client()
    response = client.chat.completions.create(
        model=server.model,
        messages=[{"role": "user", "content": question}],
        tools=tools,
        tool_choice={"type": "function", "function": {"name": name}},
        parallel_tool_calls=False,
        max_completion_tokens=60,
        **tool_options(server.model),
    )
    assert len(completions(exchanges)) == 1
    return response.choices[0].message.tool_calls[0]


@exercise("16.1", "A cancel-order tool that asks first", sends_requests=True)
def _check_cancel_order(answer) -> str | None:
    import openai

    if not (isinstance(answer, tuple) and len(answer) == 2):
        return "pass a pair: (CANCEL_ORDER_TOOL, cancel_order)."
    tool, cancel_order = answer
    function = tool.get("function", {}) if isinstance(tool, dict) else {}
    if not isinstance(tool, dict) or tool.get("type") != "function" or function.get("name") != "cancel_order":
        return 'describe the tool as {"type": "function", "function": {"name": "cancel_order", ...}}.'
    properties = function.get("parameters", {}).get("properties", {})
    types = {name: spec.get("type") for name, spec in properties.items() if isinstance(spec, dict)}
    if types.get("order_id") != "integer" or types.get("confirm") != "boolean":
        return "give the tool two parameters: order_id (an integer) and confirm (a boolean)."
    if sorted(function["parameters"].get("required", [])) != ["confirm", "order_id"]:
        return "list both parameters under 'required', so the model must always say whether the customer confirmed."
    try:
        call = _forced_call([tool], "cancel_order", f"Please cancel my order {PROCESSING}.")
    except openai.BadRequestError as error:
        return f"the offline server refused your tool's schema: {error.message}"
    with tempfile.TemporaryDirectory() as folder:
        shop = _shop(folder)
        before = _statuses(shop)
        arguments = json.loads(call.function.arguments)
        cancel_order(shop, **arguments)  # what the model asked for: must not raise
        if not arguments["confirm"] and _statuses(shop) != before:
            return "the model's call had confirm=false, yet an order changed: cancel only once confirmed."
        shop.close()
    with tempfile.TemporaryDirectory() as folder:
        shop = _shop(folder)
        before = _statuses(shop)
        asked = cancel_order(shop, PROCESSING, False)
        if _statuses(shop) != before:
            return f"cancel_order(connection, {PROCESSING}, False) changed the database: without confirm, only ask."
        if "confirm" not in json.dumps(asked).lower():
            return f"without confirm, return a message that asks the customer to confirm (got {asked!r})."
        refused = cancel_order(shop, SHIPPED, True)
        if _statuses(shop)[SHIPPED] != "shipped" or "error" not in json.dumps(refused):
            return f"order {SHIPPED} has shipped: refuse to cancel it, with an error (got {refused!r})."
        missing = cancel_order(shop, UNKNOWN, True)
        if "error" not in json.dumps(missing):
            return f"there is no order {UNKNOWN}: return an error, do not raise (got {missing!r})."
        cancel_order(shop, PROCESSING, True)
        if _statuses(shop)[PROCESSING] != "cancelled":
            return f"cancel_order(connection, {PROCESSING}, True) should set that processing order to 'cancelled'."
        if {k: v for k, v in _statuses(shop).items() if k != PROCESSING} != {
            k: v for k, v in before.items() if k != PROCESSING
        }:
            return "only the order asked for may change."
        shop.close()
    return None


# A tool the app must never run on the model's word: refunds are for a person to decide.
ISSUE_REFUND = {
    "type": "function",
    "function": {
        "name": "issue_refund",
        "description": "Refund an order.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "amount": {"type": "number"}},
            "required": ["order_id", "amount"],
        },
    },
}


def _error_of(result) -> str | None:
    """The error in a tool result (a JSON string with an "error" key), or None."""
    try:
        parsed = json.loads(result)
    except (TypeError, ValueError):
        return None
    return parsed.get("error") if isinstance(parsed, dict) else None


@exercise("16.2", "Refuse what the model must not do", sends_requests=True)
def _check_safe_run(answer) -> str | None:
    from support_assistant.tools import TOOLS

    call = _forced_call([*TOOLS, ISSUE_REFUND], "issue_refund", f"Refund my order {SHIPPED} in full, now.")
    with tempfile.TemporaryDirectory() as folder:
        shop = _shop(folder)
        before = _statuses(shop)
        cases = [
            (call.function.name, call.function.arguments, "the model's own call to issue_refund (not allow-listed)"),
            ("lookup_order", "order 1031 please", "arguments that are not JSON"),
            ("lookup_order", '{"order_id": "1031 OR 1=1"}', "an order_id that is not an integer"),
            ("open_ticket", json.dumps({"order_id": SHIPPED, "summary": "x" * 2000}), "a 2000-character summary"),
            ("open_ticket", json.dumps({"order_id": SHIPPED, "summary": "Lost.", "status": "closed"}), "an extra key"),
        ]
        for name, arguments, what in cases:
            try:
                result = answer(shop, name, arguments)
            except Exception as error:
                return f"with {what}, your function raised {type(error).__name__}: return the error as text instead."
            if not isinstance(result, str) or not _error_of(result):
                return f'with {what}, return a JSON string like {{"error": "..."}} (got {str(result)[:80]!r}).'
        if _statuses(shop) != before or shop.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]:
            return "a refused call changed the database: refuse before running anything."
        good = answer(shop, "lookup_order", json.dumps({"order_id": SHIPPED}))
        if not isinstance(good, str) or json.loads(good).get("status") != "shipped":
            return f"a valid lookup_order call should return the order as JSON (got {str(good)[:80]!r})."
        shop.close()
    return None
