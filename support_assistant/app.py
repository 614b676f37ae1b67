"""The support assistant's web page: sign in, chat, and confirm what the assistant proposes.

    make app                                   # http://127.0.0.1:7860
    python -m support_assistant.app --port 7870

It answers with the provider the lessons use (`provider_settings("openai")`): your key if
you have one (or a class server), otherwise the offline practice model, with no key.

What keeps it safe, in code rather than in the prompt:
- the person signs in (a demo sign-in: pick a customer of the made-up shop); who they are is
  held on the server, in Gradio's per-session state, and every tool sees only their orders;
- a change (a ticket) waits under the chat until the person presses Confirm;
- model text is shown as plain text (no links or images rendered), and each session has limits;
- with `--host 0.0.0.0 --auth user:password`, everyone who has the password can sign in as any
  demo customer: the sign-in is a demo, not a login;
- it listens on 127.0.0.1 only and never makes a public share link (`share=False`, also on
  Colab and with GRADIO_SHARE set); `--host 0.0.0.0` opens it to your network only with `--auth`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
import warnings
from collections import deque
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no usage reports leave the machine
# Gradio's progress bars ask for ipywidgets in a notebook; the page needs none.
warnings.filterwarnings("ignore", message="IProgress not found")

import gradio as gr  # noqa: E402

from helpers import make_client, provider_settings  # noqa: E402

from . import db  # noqa: E402
from .assistant import SHOP, SupportAssistant  # noqa: E402
from .tools import CustomerSession, PendingAction  # noqa: E402

DEFAULT_PORT = 7860
PORT_VAR = "SUPPORT_APP_PORT"
DB_VAR = "SUPPORT_APP_DB"  # another database file (the browser test uses a temporary one)
AUTH_VAR = "SUPPORT_APP_AUTH"  # "user:password", required to listen beyond this machine
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EXAMPLES = [
    "Where is my order 1025?",
    "My order 1025 arrived with a broken pen, please open a ticket.",
    "Do you sell mugs?",
]
TOOL_TITLES = {
    "lookup_order": "Looked up the order",
    "lookup_products": "Looked up products",
    "open_ticket": "Proposed a ticket",
}

# Limits per browser session: a page on the internet meets people who type a lot, or scripts.
MAX_MESSAGE_CHARACTERS = 1000
MAX_TURNS = 30  # questions per conversation; Clear starts a new one
MAX_PER_MINUTE = 10  # questions per minute
SESSION_SECONDS = 2 * 3600  # a session's state is freed two hours after sign-in (sign in again to go on)


@dataclass
class Visit:
    """One browser session's state, held on the server: who signed in, their assistant, their pace."""

    session: CustomerSession
    assistant: SupportAssistant
    asked_at: deque = field(default_factory=lambda: deque(maxlen=MAX_PER_MINUTE))

    def refusal(self, message: str, history: list) -> str | None:
        """Why this message is not sent to the model, or None if it may be."""
        if len(message) > MAX_MESSAGE_CHARACTERS:
            return f"That message is {len(message)} characters long; please keep it under {MAX_MESSAGE_CHARACTERS}."
        if sum(1 for m in history if _role(m) == "user") >= MAX_TURNS:
            return f"This conversation has reached {MAX_TURNS} questions. Press Clear to start a new one."
        now = time.monotonic()
        if len(self.asked_at) == MAX_PER_MINUTE and now - self.asked_at[0] < 60:
            return "That is a lot of questions in a minute. Please wait a moment and ask again."
        self.asked_at.append(now)
        return None


def _role(message) -> str:
    return message["role"] if isinstance(message, dict) else message.role


def _text(content) -> str | None:
    """A message's text: Gradio 6 gives content as a list of parts; None if any part is not text (a file)."""
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else [content]
    texts = [part.get("text") for part in parts if isinstance(part, dict) and part.get("type") == "text"]
    return "".join(texts) if texts and len(texts) == len(parts) else None


def conversation(history: list) -> list[dict]:
    """Gradio's chat history as Chat Completions messages: the questions and answers, not the tool lines."""
    messages = []
    for message in history:
        if not isinstance(message, dict):
            message = {"role": message.role, "content": message.content, "metadata": message.metadata}
        text = _text(message.get("content"))
        if (message.get("metadata") or {}).get("title") or text is None:
            continue  # a folded tool line, or a file: the page's, not the model's
        if message["role"] in ("user", "assistant"):
            messages.append({"role": message["role"], "content": text})
    return messages


def tool_step(name: str, arguments: str, result: str) -> gr.ChatMessage:
    """A folded line in the chat showing what the assistant looked up, and what the database said."""
    try:
        parsed = json.loads(result)
        shown = ", ".join(f"{key}: {value}" for key, value in parsed.items() if key != "note")
    except (ValueError, AttributeError):
        parsed, shown = {}, result
    title = f"{name} refused: {shown}" if "error" in parsed else f"{TOOL_TITLES.get(name, name)}: {shown}"
    return gr.ChatMessage(role="assistant", content=f"{name}({arguments}) returned {result}", metadata={"title": title})


MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def as_text(text: str) -> str:
    """Text the model wrote, for a Markdown component: every sign escaped, so no link or image is made."""
    return MARKDOWN_SIGNS.sub(r"\\\1", text)


def pending_panel(visit: Visit | None, outcome: str = ""):
    """The Confirm / Cancel panel: each waiting action (Confirm acts on the first), and the last click's outcome."""
    waiting = list(visit.session.pending.values()) if visit else []
    lines = [outcome] if outcome else []
    lines += [
        f"**Waiting for you** ({n} of {len(waiting)}): {as_text(a.description)}" for n, a in enumerate(waiting, 1)
    ]
    buttons = gr.update(visible=bool(waiting))
    return gr.update(value="\n\n".join(lines), visible=bool(lines)), buttons, buttons


def close_visit(visit: Visit | None) -> None:
    if visit is not None:
        visit.session.connection.close()


def build(database: str | Path | None = None) -> gr.Blocks:
    """The page, ready to `launch()` (or to show inline in a notebook)."""
    settings = provider_settings("openai")
    client = make_client(settings)
    path = database or os.environ.get(DB_VAR) or db.default_path()
    with closing(db.connect(path)) as connection:
        accounts = {f"{row['name']} ({row['email']})": row["id"] for row in db.customers(connection)}

    def sign_in(account: str):
        # A connection of the session's own: a transaction (a ticket) never mixes with another session's.
        session = CustomerSession(db.connect(path), accounts[account])
        visit = Visit(session, SupportAssistant(client, settings.model, session, offline=settings.offline))
        note = f"Signed in as **{session.name}**. Your orders: {', '.join(map(str, session.order_ids()))}."
        return visit, note, [], *pending_panel(visit)

    def answer(message: str, history: list, visit: Visit | None):
        if visit is None:
            yield "Please sign in first (at the top of the page).", gr.update(), *pending_panel(None)
            return
        refused = visit.refusal(message, history)
        if refused:
            yield refused, gr.update(), *pending_panel(visit)
            return
        visit.session.pending.clear()  # a new question: proposals left unconfirmed lapse
        shown: list[gr.ChatMessage] = []
        text = ""
        for event in visit.assistant.respond(message, conversation(history)):
            if event[0] == "tool":
                shown.insert(len(shown) - (1 if text else 0), tool_step(*event[1:]))
            elif event[0] in ("text", "error"):
                if not text:
                    shown.append(gr.ChatMessage(role="assistant", content=""))
                text += event[1]
                shown[-1] = gr.ChatMessage(role="assistant", content=text)
            yield shown, f"**Usage**: {visit.assistant.tally.line()}", *pending_panel(visit)

    def decide(confirmed: bool, visit: Visit | None):
        """Confirm or Cancel was clicked: carry out (or drop) the first waiting action, and say so under the chat."""
        waiting: list[PendingAction] = list(visit.session.pending.values()) if visit else []
        if not waiting:
            return pending_panel(visit)
        action = waiting[0]
        result = visit.session.confirm(action.id) if confirmed else visit.session.discard(action.id)
        described = as_text(action.description)
        if confirmed and "error" not in result:
            outcome = f"**Done**: {described} (ticket {result.get('ticket_id', '')})."
        elif confirmed:
            outcome = f"**Not done**: {as_text(result['error'])}"
        else:
            outcome = f"**Cancelled**: {described}. Nothing was changed."
        return pending_panel(visit, outcome)

    def forget_pending(visit: Visit | None):
        if visit:
            visit.session.pending.clear()
        return pending_panel(visit)

    with gr.Blocks(title=f"{SHOP} support", analytics_enabled=False) as page:
        # Per browser session, on the server; freed (its connection closed) two hours after sign-in.
        visit = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=close_visit)
        with gr.Row():
            account = gr.Dropdown(list(accounts), value=None, label="Demo sign-in: who are you?", scale=3)
            signed_in = gr.Markdown("Not signed in.")
        chatbot = gr.Chatbot(
            height=520,
            placeholder="Sign in, then ask about your orders or the products, e.g. "
            + " / ".join(f"*{example}*" for example in EXAMPLES),
            render_markdown=False,  # model text stays text: no links or images it could plant
            render=False,
        )
        waiting = gr.Markdown(visible=False, render=False)
        confirm = gr.Button("Confirm", variant="primary", visible=False, scale=0, render=False)
        cancel = gr.Button("Cancel", visible=False, scale=0, render=False)
        usage = gr.Markdown(
            f"**Usage**: nothing yet. Answers come from {settings.label} ({settings.model}).", render=False
        )
        gr.ChatInterface(
            answer,
            chatbot=chatbot,
            title=None,
            description=f"{SHOP} support. Model: {settings.label}.",
            additional_inputs=[visit],
            additional_outputs=[usage, waiting, confirm, cancel],
            fill_height=False,
        )
        with gr.Row():  # a proposed change, under the chat, until the person decides
            waiting.render()
            confirm.render()
            cancel.render()
        usage.render()
        panel = [waiting, confirm, cancel]
        account.change(sign_in, [account], [visit, signed_in, chatbot, *panel])
        # The outcome shows under the chat, not in it: the chat's history is the conversation with the model.
        confirm.click(lambda v: decide(True, v), [visit], panel)
        cancel.click(lambda v: decide(False, v), [visit], panel)
        chatbot.clear(forget_pending, [visit], panel)
    return page


def launch(page: gr.Blocks, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, auth: str | None = None, **options):
    """Start the page: never a public share link; beyond this machine only behind a password."""
    if host not in LOOPBACK and not auth:
        raise SystemExit(
            f"Listening on {host} lets anyone on your network spend your tokens and write to the shop's "
            f"database. Give a password: --auth user:password (or {AUTH_VAR}=user:password in .env)."
        )
    credentials = tuple(auth.split(":", 1)) if auth else None
    return page.queue().launch(server_name=host, server_port=port, share=False, auth=credentials, **options)


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"{SHOP}'s support assistant in your browser.")
    parser.add_argument("--port", type=int, default=int(os.environ.get(PORT_VAR, DEFAULT_PORT)))
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (default): only this machine can connect")
    parser.add_argument("--auth", default=os.environ.get(AUTH_VAR), help="user:password, required with --host")
    options = parser.parse_args(arguments)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    launch(build(), host=options.host, port=options.port, auth=options.auth, inbrowser=False, show_error=True)


if __name__ == "__main__":
    main()
