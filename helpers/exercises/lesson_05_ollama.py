"""Checkers for lesson 5: Ollama."""

from __future__ import annotations

import re

from .practice import completions, recording_client
from .registry import exercise


@exercise("5.1", "Keep only the answer")
def _check_answer_only(answer) -> str | None:
    cases = [
        ("<think>Short.</think>Octopuses have three hearts.", "Octopuses have three hearts."),
        ("<think>\nLine one.\nLine two.\n</think>\n\nHoney never spoils.", "Honey never spoils."),
        ("No reasoning here.", "No reasoning here."),
        ("  <think></think>  Bananas are berries. ", "Bananas are berries."),
        ("<think>One.</think>Sloths hold their breath.<think>Two.</think>", "Sloths hold their breath."),
    ]
    for text, expected in cases:
        got = answer(text)
        if got != expected:
            return (
                f"for {text!r} expected {expected!r} but got {got!r} "
                "(remove every block; blocks can span lines: re.DOTALL)."
            )
    return None


@exercise("5.2", "Ask a local model, keep the answer", sends_requests=True)
def _check_local_answer(answer) -> str | None:
    client, exchanges, server = recording_client()
    question = "Tell me a fun fact about octopuses."
    got = answer(client, server.model, question)
    sent = completions(exchanges)
    if len(sent) != 1:
        return f"send exactly one request (you sent {len(sent)})."
    if sent[0].sent.get("messages") != [{"role": "user", "content": question}]:
        return "send the question as the only user message."
    content = sent[0].reply()["choices"][0]["message"]["content"]
    expected = re.sub(r"<think>.*?</think>", "", content, flags=re.DOTALL).strip()
    if got != expected:
        return "return the reply's content with every <think>...</think> block removed and the ends stripped."
    return None
