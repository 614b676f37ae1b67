"""The support assistant's web page: Gradio's chat component, one assistant per browser session.

    make app                                   # http://127.0.0.1:7860
    python -m support_assistant.app --port 7870

It answers with the provider the lessons use (`provider_settings("openai")`): your key if
you have one (or a class server), otherwise the offline practice model, with no key. It
listens on 127.0.0.1 only, so nobody else on your network can reach it (and spend your
tokens); `--host 0.0.0.0` opens it to them, knowingly.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no usage reports leave the machine
# Gradio's progress bars ask for ipywidgets in a notebook; the page needs none.
warnings.filterwarnings("ignore", message="IProgress not found")

import gradio as gr  # noqa: E402
import openai  # noqa: E402

from helpers import make_client, provider_settings  # noqa: E402

from . import db  # noqa: E402
from .assistant import SHOP, SupportAssistant  # noqa: E402

DEFAULT_PORT = 7860
PORT_VAR = "SUPPORT_APP_PORT"
DB_VAR = "SUPPORT_APP_DB"  # another database file (the browser test uses a temporary one)
EXAMPLES = [
    "Where is my order 1031?",
    "My order 1031 arrived with a broken pen, please open a ticket.",
    "Do you sell mugs?",
]
TOOL_TITLES = {
    "lookup_order": "Looked up the order",
    "lookup_product": "Looked up products",
    "open_ticket": "Opened a ticket",
}


def tool_step(name: str, arguments: str, result: str) -> gr.ChatMessage:
    """A folded line in the chat showing what the assistant looked up, and what the database said."""
    try:
        parsed = json.loads(result)
        shown = ", ".join(f"{key}: {value}" for key, value in parsed.items())
    except (ValueError, AttributeError):
        parsed, shown = {}, result
    title = f"{name} refused: {shown}" if "error" in parsed else f"{TOOL_TITLES.get(name, name)}: {shown}"
    return gr.ChatMessage(role="assistant", content=f"{name}({arguments}) returned {result}", metadata={"title": title})


def build(database: str | Path | None = None) -> gr.Blocks:
    """The chat page, ready to `launch()` (or to show inline in a notebook)."""
    settings = provider_settings("openai")
    client = make_client(settings)
    connection = db.connect(database or os.environ.get(DB_VAR) or db.DEFAULT_PATH)
    assistants: dict[str, SupportAssistant] = {}  # one conversation per browser session

    def answer(message: str, history: list, request: gr.Request):
        key = request.session_hash if request is not None else "notebook"
        assistant = assistants.setdefault(
            key, SupportAssistant(client, settings.model, connection, offline=settings.offline)
        )
        shown: list[gr.ChatMessage] = []
        text = ""
        try:
            for event in assistant.respond(message):
                if event[0] == "tool":
                    shown.insert(len(shown) - (1 if text else 0), tool_step(*event[1:]))
                elif event[0] == "text":
                    if not text:
                        shown.append(gr.ChatMessage(role="assistant", content=""))
                    text += event[1]
                    shown[-1] = gr.ChatMessage(role="assistant", content=text)
                yield shown, f"**Usage**: {assistant.tally.line()}"
        except openai.OpenAIError as error:  # the network, a key, a limit: say which, in the chat
            problem = f"{settings.label} could not answer ({type(error).__name__}: {error}). Please try again."
            shown.append(gr.ChatMessage(role="assistant", content=problem))
        yield shown, f"**Usage**: {assistant.tally.line()}"

    with gr.Blocks(title=f"{SHOP} support", analytics_enabled=False) as page:
        usage = gr.Markdown(
            f"**Usage**: nothing yet. Answers come from {settings.label} ({settings.model}).", render=False
        )
        gr.ChatInterface(
            answer,
            title=f"{SHOP} support",
            description=f"Ask about an order (numbers 1001 to 1036) or a product. Model: {settings.label}.",
            examples=EXAMPLES,
            run_examples_on_click=False,
            additional_outputs=[usage],
            chatbot=gr.Chatbot(height=560, placeholder="Ask about an order or a product."),
            fill_height=False,
        )
        usage.render()
    return page


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"{SHOP}'s support assistant in your browser.")
    parser.add_argument("--port", type=int, default=int(os.environ.get(PORT_VAR, DEFAULT_PORT)))
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (default): only this machine can connect")
    options = parser.parse_args(arguments)
    build().queue().launch(
        server_name=options.host, server_port=options.port, share=False, inbrowser=False, show_error=True
    )


if __name__ == "__main__":
    main()
