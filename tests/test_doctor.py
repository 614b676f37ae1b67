"""The self-check: passes with no keys, fails on a broken key or an offline server that cannot start."""

import io
import json
import socket
import subprocess
import sys
import time

from fakes import fake_key

from helpers import doctor

OPENAI_KEY = fake_key("sk-proj-", 164)


def _run(**kwargs):
    out = io.StringIO()
    status = doctor.run(out=out, **kwargs)
    return status, out.getvalue()


def test_no_keys_is_a_working_state(online, env_file):
    status, out = _run()
    assert status == 0, out
    assert "[FAIL]" not in out
    assert "OPENAI_API_KEY not set" in out
    assert "[ok]   offline model smollm2-135m-instruct answers" in out


def test_every_line_has_a_mark(online, env_file):
    _, out = _run()
    lines = [line for line in out.splitlines() if line and line != "All set."]
    assert all(line[:6] in {doctor.OK, doctor.FAIL, doctor.WARN, doctor.INFO} for line in lines), out


def test_a_malformed_key_fails_with_its_fix_and_stays_masked(online, env_file):
    env_file.write_text(f"OPENAI_API_KEY={OPENAI_KEY[:30]}\n")
    status, out = _run(network=False)
    assert status == 1
    assert "[FAIL] OPENAI_API_KEY sk-proj-..." in out and "cut off" in out
    assert OPENAI_KEY[8:30] not in out


def test_a_key_the_server_accepts_is_reported_masked_with_its_source(online, env_file, httpserver):
    httpserver.expect_request("/v1/models").respond_with_json({"object": "list", "data": []})
    env_file.write_text(f"OPENAI_BASE_URL={httpserver.url_for('/v1')}\nOPENAI_API_KEY={OPENAI_KEY}\n")
    status, out = _run()
    assert status == 0, out
    assert f"OPENAI_API_KEY sk-proj-...{OPENAI_KEY[-4:]} (from .env): format ok" in out
    assert "accepted the key" in out
    assert OPENAI_KEY not in out
    request, _ = httpserver.log[-1]
    assert request.headers["Authorization"] == f"Bearer {OPENAI_KEY}"


def test_a_key_the_server_rejects_fails(online, env_file, httpserver):
    httpserver.expect_request("/v1/models").respond_with_json({"error": {"message": "no"}}, status=401)
    env_file.write_text(f"OPENAI_BASE_URL={httpserver.url_for('/v1')}\nOPENAI_API_KEY={OPENAI_KEY}\n")
    status, out = _run()
    assert status == 1
    assert "[FAIL] OpenAI rejected the key (401)" in out


def test_an_unreachable_provider_is_a_warning_not_a_failure(online, env_file):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env_file.write_text(f"OPENAI_BASE_URL=http://127.0.0.1:{port}/v1\nOPENAI_API_KEY={OPENAI_KEY}\n")
    status, out = _run()
    assert status == 0, out
    line = next(line for line in out.splitlines() if "could not reach" in line)
    assert line.startswith(f"[warn] could not reach 127.0.0.1:{port} within 5 s (no network?): OpenAI lessons use the")
    assert "add CHAT_TUTORIAL_OFFLINE=1 to .env; delete that line to go back." in line


def test_a_build_in_progress_is_reported_not_waited_for(online, env_file, tmp_path, monkeypatch):
    monkeypatch.setenv("CHAT_TUTORIAL_BUILD_DIR", str(tmp_path / "build"))
    (tmp_path / "build").mkdir()
    builder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "build" / "build.json").write_text(
            json.dumps({"status": "building", "pid": builder.pid, "started": time.time() - 75, "expected": 300})
        )
        status, out = _run(network=False)
    finally:
        builder.kill()
        builder.wait()
    assert status == 0, out
    assert "[--]   the offline model is being built: 1 min 15 s of about 5 min 00 s" in out
    assert "lessons that need it wait for it." in out


def test_fails_when_the_offline_server_cannot_start(online, env_file, private_server):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", private_server))
        squatter.listen()
        status, out = _run()
    assert status == 1
    assert f"[FAIL] offline model server: Port {private_server}" in out


def test_the_command_runs_as_documented(online, env_file):
    result = subprocess.run([sys.executable, "-m", "helpers.doctor"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("All set.")
