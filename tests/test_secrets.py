"""No key-shaped string in the repository, the recorded outputs, the doctor's output or the server log.

Made-up keys that tests need are built at run time (tests/fakes.py), so no tracked
file holds one literally; a literal key shape in a tracked file fails here, tests included.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from fakes import fake_key

from helpers import catalog, provider_settings
from helpers.environment import repo_root
from helpers.offline.state import configured_port, log_file, state_dir
from helpers.providers import make_client

KEY_SHAPES = re.compile(
    r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}"
    r"|sk-[A-Za-z0-9]{40,}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|AQ\.[A-Za-z0-9_-]{30,}"
    # Providers added in .env whose key prefix the catalogue knows (Anthropic, Groq, OpenRouter).
    r"|sk-(?:ant|or)-[A-Za-z0-9_-]{30,}"
    r"|gsk_[A-Za-z0-9]{30,}"
)
ROOT = repo_root()


def _hits(text: str) -> list[str]:
    """The key-shaped strings in `text`, shortened so that a real key is not printed whole."""
    return [match.group(0)[:12] + "..." for match in KEY_SHAPES.finditer(text)]


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_the_pattern_catches_every_key_shape():
    shapes = [
        fake_key("sk-proj-", 164),
        fake_key("sk-svcacct-", 100),
        fake_key("sk-admin-", 80),
        fake_key("sk-None-", 60),
        fake_key("sk-", 51, alphabet="abcDEF123"),
        fake_key("AIza", 39),
        fake_key("AQ.", 60),
        fake_key("sk-ant-api03-", 108),
        fake_key("sk-or-v1-", 73),
        fake_key("gsk_", 56, alphabet="abcDEF123"),
    ]
    assert all(_hits(f"key={shape}\n") for shape in shapes)
    assert not _hits("sk-proj-your-key-here AQ.your-key-here AIza-your-key-here sk-proj-... practice-key")
    assert not _hits("gsk_your-key-here sk-or-... sk-ant-...")


def test_no_tracked_file_holds_a_key():
    found = {}
    for path in _tracked_files():
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        hits = _hits(path.read_bytes().decode("utf-8", errors="replace"))
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    assert not found, f"key-shaped strings in tracked files: {found}"


def test_no_recorded_notebook_output_holds_a_key():
    found = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells):
            hits = _hits(json.dumps(cell.get("outputs", [])))
            if hits:
                found[f"{path.name} cell {number}"] = hits
    assert not found, f"key-shaped strings in notebook outputs: {found}"


def _doctor(env_overrides=None):
    env = {**os.environ, "CHAT_TUTORIAL_DOCTOR_NETWORK": "0", **(env_overrides or {})}
    return subprocess.run(
        [sys.executable, "-m", "helpers.doctor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_doctor_output_and_the_server_log_hold_no_key():
    run = _doctor()
    assert not _hits(run.stdout + run.stderr)
    log = log_file(configured_port())
    assert log.is_file()  # the doctor started (or reused) the offline server
    for path in state_dir().glob("*.log"):
        assert not _hits(path.read_text(errors="replace")), path.name


def test_dot_env_is_ignored_by_git():
    assert subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode == 0


@pytest.fixture
def made_up_keys(online, env_file, httpserver):
    """Well-formed, made-up keys in a temporary .env; key checks go to a local recording server."""
    served = [{"id": facts.model, "object": "model"} for facts in (catalog.OPENAI, catalog.GEMINI)]
    httpserver.expect_request("/v1/models").respond_with_json({"object": "list", "data": served})
    keys = {"OPENAI_API_KEY": fake_key("sk-proj-", 164), "GOOGLE_API_KEY": fake_key("AIza", 39)}
    env_file.write_text(
        f"OPENAI_BASE_URL={httpserver.url_for('/v1')}\n"
        f"GEMINI_BASE_URL={httpserver.url_for('/v1')}\n" + "".join(f"{name}={value}\n" for name, value in keys.items())
    )
    return keys


def test_a_configured_key_shows_nowhere(made_up_keys, httpserver, capsys):
    run = _doctor({"CHAT_TUTORIAL_DOCTOR_NETWORK": "1"})
    assert run.returncode == 0, run.stdout
    assert "accepted the key" in run.stdout  # the keys were really used...
    sent = [request.headers["Authorization"] for request, _ in httpserver.log]
    assert {f"Bearer {key}" for key in made_up_keys.values()} <= set(sent)

    shown = [run.stdout, run.stderr]  # ...and never shown
    for name in ("openai", "gemini"):
        settings = provider_settings(name)
        assert settings.api_key in made_up_keys.values() and not settings.offline
        client = make_client(settings)
        shown += [repr(settings), str(settings), repr(client), f"{settings!r:>10}"]
        with pytest.raises(openai.APIStatusError) as caught:  # the recording server has no chat route
            client.with_options(max_retries=0).chat.completions.create(
                model=settings.model, messages=[{"role": "user", "content": "hi"}]
            )
        shown += [str(caught.value), repr(caught.value)]
    captured = capsys.readouterr()
    shown += [captured.out, captured.err]
    shown += [path.read_text(errors="replace") for path in state_dir().glob("*.log")]
    for key in made_up_keys.values():
        assert not any(key in text for text in shown)
        assert not any(key[8:30] in text for text in shown)  # nor a long piece of it
