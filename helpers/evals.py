"""Plumbing for evaluating the support assistant (lesson 17): run one case, print rows as a table.

The graders are written in the lesson itself; this module only does the chores around them.
`run_case` plays one test case against a fresh copy of the shop (earlier turns as history,
then the customer's message) and records what happened: the tools called with their
arguments and results, the actions waiting for a click, the reply, tokens and seconds.
`print_table` prints a list of dicts as plain-text columns, no pandas needed.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ToolCall:
    """One tool the assistant called in a case: its name, arguments and the result it got."""

    name: str
    arguments: str  # as the model wrote them (JSON text, maybe not valid)
    result: str  # the tool message's text (JSON)

    def parsed_arguments(self):
        """The arguments as a dict, or None when they are not a JSON object."""
        try:
            parsed = json.loads(self.arguments)
        except (TypeError, ValueError):
            return None
        return parsed if isinstance(parsed, dict) else None

    def parsed_result(self) -> dict:
        try:
            parsed = json.loads(self.result)
        except (TypeError, ValueError):
            return {}
        return parsed if isinstance(parsed, dict) else {}


@dataclass
class Run:
    """What the assistant did with one case."""

    case_id: str
    reply: str = ""  # the final text the customer reads
    tools: list[ToolCall] = field(default_factory=list)
    pending: list = field(default_factory=list)  # actions waiting for the customer's click
    errors: list[str] = field(default_factory=list)  # friendly error lines the assistant showed
    tickets_written: int = 0  # rows in the tickets table afterwards (a pending ticket writes none)
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


def run_case(
    client, model: str, case: dict, *, offline: bool, system_prompt: str | None = None, session_type=None
) -> Run:
    """Play `case` ({"id", "message", optional "history"}) on a fresh shop, signed in as the demo customer.

    `session_type` replaces `CustomerSession` (the exercises plant a broken one to see a case catch it).
    """
    from support_assistant import db
    from support_assistant.assistant import SYSTEM_PROMPT, SupportAssistant
    from support_assistant.tools import CustomerSession

    run = Run(case["id"])
    with tempfile.TemporaryDirectory() as folder:
        connection = db.connect(db.create(Path(folder) / "shop.db"))
        try:
            session = (session_type or CustomerSession)(connection, case.get("customer", db.DEMO_CUSTOMER))
            assistant = SupportAssistant(
                client, model, session, offline=offline, system_prompt=system_prompt or SYSTEM_PROMPT
            )
            started = time.perf_counter()
            pieces = []
            for event in assistant.respond(case["message"], list(case.get("history", []))):
                if event[0] == "text":
                    pieces.append(event[1])
                elif event[0] == "tool":
                    run.tools.append(ToolCall(*event[1:4]))
                elif event[0] == "pending":
                    run.pending.append(event[1])
                elif event[0] == "error":
                    run.errors.append(event[1])
            run.seconds = time.perf_counter() - started
            run.reply = "".join(pieces)
            tally = assistant.tally
            run.requests, run.prompt_tokens = tally.requests, tally.prompt_tokens
            run.completion_tokens = tally.completion_tokens
            run.tickets_written = connection.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        finally:
            connection.close()
    return run


def print_table(rows: list[dict], columns: list[str] | None = None) -> None:
    """Print `rows` as aligned columns (all keys of the first row, or `columns`), a header line first."""
    if not rows:
        print("(no rows)")
        return
    columns = columns or list(rows[0])
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        print("  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip())


def _cell(value) -> str:
    if value is True:
        return "pass"
    if value is False:
        return "FAIL"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
