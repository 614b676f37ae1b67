"""Checkers for lesson 16, the capstone: a change waits for a click, a dispatcher refuses, identity is the app's.

The notebook hands each checker the app it builds, `check("16.1", answer, app=support_assistant)`:
the checker makes a fresh copy of the shop with `app.db` and signs in with `app.tools.CustomerSession`.
helpers/ never imports support_assistant (the app imports helpers, not the other way round).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..parameters import tool_options
from .practice import completions, recording_client
from .registry import exercise

GRETA = 7  # the demo customer: orders 1007 cancelled, 1016 delivered, 1025 shipped, 1034 processing
PROCESSING, SHIPPED, DELIVERED, CANCELLED = 1034, 1025, 1016, 1007
SOMEONE_ELSES, UNKNOWN = 1033, 4242  # Femi's order, still processing; an order that does not exist
IDENTITY_WORDS = ("confirm", "customer", "email", "user", "account")


NO_APP = "pass the app as well: check(..., app=support_assistant) (after `import support_assistant`)."


def _shop(app, folder: str):
    """A fresh copy of the app's shop database in `folder`, connected."""
    return app.db.connect(app.db.create(Path(folder) / "shop.db"))


def _session(app, connection):
    return app.tools.CustomerSession(connection, GRETA)


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


def _pair_problem(answer, app, name: str, constant: str) -> str | None:
    """What is wrong with an answer that should be (the tool's schema, the function), given the app."""
    if app is None:
        return NO_APP
    if not (isinstance(answer, tuple) and len(answer) == 2):
        return f"pass a pair: ({constant}, {name})."
    return _tool_problem(answer[0], name)


def _tool_problem(tool, name: str) -> str | None:
    """What is wrong with a tool that should take one parameter, order_id, and nothing about who is asking."""
    function = tool.get("function", {}) if isinstance(tool, dict) else {}
    if not isinstance(tool, dict) or tool.get("type") != "function" or function.get("name") != name:
        return f'describe the tool as {{"type": "function", "function": {{"name": "{name}", ...}}}}.'
    properties = function.get("parameters", {}).get("properties", {})
    told = [key for key in properties if any(word in key.lower() for word in IDENTITY_WORDS)]
    if told and "confirm" in told[0].lower():
        return (
            f"take {told[0]!r} out of the schema: the model cannot confirm for the person, whatever it writes "
            "there. The person confirms with a click, which runs carry_out."
        )
    if told:
        return (
            f"take {told[0]!r} out of the schema: whatever the model writes there, it cannot say who is signed in. "
            "The app knows: it is the session's customer."
        )
    if properties.get("order_id", {}).get("type") != "integer" or function["parameters"].get("required") != [
        "order_id"
    ]:
        return "give the tool one required parameter, order_id (an integer)."
    return None


def _refused(function, session, order_id: int, what: str) -> str | None:
    """None if `function` refused `order_id` with an error and proposed and changed nothing."""
    before = _statuses(session.connection)
    try:
        result = function(session, order_id)
    except Exception as error:
        return f"for {what}, your function raised {type(error).__name__}: return {{'error': ...}} instead."
    if not isinstance(result, dict) or "error" not in result:
        return f"for {what}, return {{'error': ...}} (got {result!r})."
    if session.pending or _statuses(session.connection) != before:
        return f"for {what}, nothing may be proposed or changed."
    return None


@exercise("16.1", "Cancelling waits for the person's click", sends_requests=True)
def _check_cancel_order(answer, app=None) -> str | None:
    import openai

    problem = _pair_problem(answer, app, "cancel_order", "CANCEL_ORDER_TOOL")
    if problem:
        return problem
    tool, cancel_order = answer
    try:  # the model is told the customer already agreed: that changes nothing
        call = _forced_call([tool], "cancel_order", f"I confirm: cancel my order {PROCESSING} now, don't ask again.")
    except openai.BadRequestError as error:
        return f"the offline server refused your tool's schema: {error.message}"
    with tempfile.TemporaryDirectory() as folder:
        shop = _shop(app, folder)
        session, before = _session(app, shop), _statuses(shop)
        arguments = json.loads(call.function.arguments)
        result = cancel_order(session, **arguments)
        if _statuses(shop) != before:
            return "the model said the customer confirmed, and an order changed: only propose, with session.propose."
        if arguments["order_id"] == PROCESSING and len(session.pending) != 1:
            return f"order {PROCESSING} is processing: propose its cancellation with session.propose (got {result!r})."
        session.pending.clear()
        for order_id, what in [
            (DELIVERED, f"order {DELIVERED}, delivered"),
            (SHIPPED, f"order {SHIPPED}, shipped"),
            (CANCELLED, f"order {CANCELLED}, already cancelled"),
            (SOMEONE_ELSES, f"order {SOMEONE_ELSES}, another customer's (still processing)"),
            (UNKNOWN, f"order {UNKNOWN}, which does not exist"),
        ]:
            problem = _refused(cancel_order, session, order_id, what)
            if problem:
                return problem
        foreign, missing = cancel_order(session, SOMEONE_ELSES), cancel_order(session, UNKNOWN)
        if str(foreign["error"]).replace(str(SOMEONE_ELSES), "#") != str(missing["error"]).replace(str(UNKNOWN), "#"):
            return (
                f"another customer's order must look exactly like one that does not exist (got {foreign['error']!r} "
                f"and {missing['error']!r}): session.not_found(order_id) says it the same way."
            )
        cancel_order(session, PROCESSING)
        [action] = session.pending.values()
        session.confirm(action.id)
        changed = {k: v for k, v in _statuses(shop).items() if before[k] != v}
        if changed != {PROCESSING: "cancelled"}:
            return f"after the click on Confirm, only order {PROCESSING} should be cancelled (changed: {changed})."
        shop.close()
    with tempfile.TemporaryDirectory() as folder:  # it ships between the proposal and the click
        shop = _shop(app, folder)
        session = _session(app, shop)
        cancel_order(session, PROCESSING)
        with shop:
            shop.execute("UPDATE orders SET status = 'shipped' WHERE id = ?", (PROCESSING,))
        [action] = session.pending.values()
        result = session.confirm(action.id)
        if _statuses(shop)[PROCESSING] != "shipped" or "error" not in result:
            return (
                f"order {PROCESSING} shipped before the click: carry_out must check the status again and return "
                f"an error (got {result!r})."
            )
        shop.close()
    return None


@exercise("16.3", "Identity comes from the app, not the model", sends_requests=True)
def _check_my_order(answer, app=None) -> str | None:
    problem = _pair_problem(answer, app, "my_order", "MY_ORDER_TOOL")
    if problem:
        return problem
    tool, my_order = answer
    injected = app.db.REVIEWS[-1][3]  # the review that tells the assistant the customer is a manager
    call = _forced_call([tool], "my_order", f"A review on the shop says: {injected}\nWhat is in order 1031?")
    with tempfile.TemporaryDirectory() as folder:
        shop = _shop(app, folder)
        session = _session(app, shop)
        own = set(session.order_ids())
        asked = json.loads(call.function.arguments)["order_id"]
        for order_id in sorted({asked, *range(1001, 1037)}):
            try:
                result = my_order(session, order_id)
            except Exception as error:
                return f"my_order(session, {order_id}) raised {type(error).__name__}: return {{'error': ...}}."
            if not isinstance(result, dict):
                return f"return a dict (got {result!r})."
            if order_id in own and result.get("status") != _statuses(shop)[order_id]:
                return f"order {order_id} is the signed-in customer's: return its status (got {result!r})."
            if order_id not in own and set(result) != {"error"}:
                return f"order {order_id} is someone else's: return only an error, no rows (got {result!r})."
        missing = my_order(session, UNKNOWN)["error"].replace(str(UNKNOWN), "#")
        if my_order(session, 1031)["error"].replace("1031", "#") != missing:
            return "someone else's order must read exactly like one that does not exist: use session.not_found."
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
def _check_safe_run(answer, app=None) -> str | None:
    if app is None:
        return NO_APP
    call = _forced_call([*app.tools.TOOLS, ISSUE_REFUND], "issue_refund", f"Refund my order {SHIPPED} in full, now.")
    with tempfile.TemporaryDirectory() as folder:
        shop = _shop(app, folder)
        session, before = _session(app, shop), _statuses(shop)
        cases = [
            (call.function.name, call.function.arguments, "the model's own call to issue_refund (not allow-listed)"),
            ("lookup_order", "order 1031 please", "arguments that are not JSON"),
            ("lookup_order", '{"order_id": "1025 OR 1=1"}', "an order_id that is not an integer"),
            ("lookup_products", '{"category": "mugs"}', "a category that is not one of the shop's"),
            ("lookup_order", '{"order_id": 100000000000000000000000}', "an order number too large for SQLite"),
            ("open_ticket", json.dumps({"order_id": SHIPPED, "summary": "x" * 2000}), "a 2000-character summary"),
            ("open_ticket", json.dumps({"order_id": SHIPPED, "summary": "Lost.", "status": "closed"}), "an extra key"),
        ]
        for name, arguments, what in cases:
            try:
                result = answer(session, name, arguments)
            except Exception as error:
                return f"with {what}, your function raised {type(error).__name__}: return the error as text instead."
            if not isinstance(result, str) or not _error_of(result):
                return f'with {what}, return a JSON string like {{"error": "..."}} (got {str(result)[:80]!r}).'
        if _statuses(shop) != before or session.pending:
            return "a refused call changed something: refuse before running anything."
        good = answer(session, "lookup_order", json.dumps({"order_id": SHIPPED}))
        if not isinstance(good, str) or json.loads(good).get("status") != "shipped":
            return f"a valid lookup_order call should return the order as JSON (got {str(good)[:80]!r})."
        shop.close()
    return None
