"""The self-check: passes with no keys, fails on a broken key or an offline server that cannot start."""

import datetime
import io
import json
import socket
import subprocess
import sys
import time

from fakes import fake_key

from helpers import catalog, doctor

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
    _models_list(httpserver, {catalog.OPENAI.model: None})
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


def _models_list(httpserver, models: dict):
    data = [{"id": name, "object": "model", "shutdown_date": date} for name, date in models.items()]
    httpserver.expect_request("/v1/models").respond_with_json({"object": "list", "data": data})


def _configure(env_file, httpserver, model=None):
    lines = [f"OPENAI_BASE_URL={httpserver.url_for('/v1')}", f"OPENAI_API_KEY={OPENAI_KEY}"]
    if model:
        lines.append(f"OPENAI_MODEL={model}")
    env_file.write_text("\n".join(lines) + "\n")


def test_a_served_model_without_a_shutdown_date_is_ok(online, env_file, httpserver):
    _models_list(httpserver, {"gpt-6-luna": None, "gpt-5-nano": "2026-12-11"})
    _configure(env_file, httpserver)
    status, out = _run(today=datetime.date(2026, 11, 26))
    assert status == 0, out
    assert "[ok]   OpenAI model gpt-6-luna: served, no shutdown date" in out


def test_a_model_shutting_down_within_90_days_is_a_warning_naming_the_setting(online, env_file, httpserver):
    _models_list(httpserver, {"gpt-6-luna": None, "gpt-5-nano": "2026-12-11"})
    _configure(env_file, httpserver, model="gpt-5-nano")
    status, out = _run(today=datetime.date(2026, 11, 26))
    assert status == 0, out
    assert (
        "[warn] OpenAI model gpt-5-nano shuts down on 2026-12-11 (in 15 days): set OPENAI_MODEL in .env to gpt-6-luna."
        in out
    )


def test_a_shutdown_date_further_off_is_only_information(online, env_file, httpserver):
    _models_list(httpserver, {"gpt-6-luna": "2027-09-30"})
    _configure(env_file, httpserver)
    status, out = _run(today=datetime.date(2026, 11, 26))
    assert status == 0, out
    assert "[ok]   OpenAI model gpt-6-luna: served; shuts down on 2027-09-30" in out


def test_a_model_past_its_shutdown_date_fails(online, env_file, httpserver):
    _models_list(httpserver, {"gpt-6-luna": None, "gpt-5-nano": "2026-12-11"})
    _configure(env_file, httpserver, model="gpt-5-nano")
    status, out = _run(today=datetime.date(2026, 12, 12))
    assert status == 1
    assert "[FAIL] OpenAI model gpt-5-nano was shut down on 2026-12-11: set OPENAI_MODEL in .env to gpt-6-luna." in out


def test_a_model_the_provider_does_not_list_fails_with_the_way_on(online, env_file, httpserver):
    _models_list(httpserver, {"gpt-6-luna": None})
    _configure(env_file, httpserver, model="gpt-5-nano")
    status, out = _run(today=datetime.date(2026, 11, 26))
    assert status == 1
    assert "[FAIL] OpenAI does not serve gpt-5-nano to this key: set OPENAI_MODEL in .env" in out
    assert "client.models.list()" in out


def test_without_a_network_the_catalogue_still_knows_a_retirement(online, env_file):
    env_file.write_text(f"OPENAI_API_KEY={OPENAI_KEY}\nOPENAI_MODEL=gpt-5-nano\n")
    status, out = _run(network=False, today=datetime.date(2026, 11, 26))
    assert status == 0, out
    assert "[warn] OpenAI model gpt-5-nano shuts down on 2026-12-11" in out


def test_gemini_model_ids_in_its_models_list_are_read_without_their_prefix(online, env_file, httpserver):
    httpserver.expect_request("/v1beta/openai/models").respond_with_json(
        {"object": "list", "data": [{"id": "models/gemini-3.5-flash-lite", "object": "model"}]}
    )
    key = fake_key("AQ.", 53)
    env_file.write_text(f"GOOGLE_API_KEY={key}\nGEMINI_BASE_URL={httpserver.url_for('/v1beta/openai/')}\n")
    status, out = _run(today=datetime.date(2026, 11, 26))
    assert status == 0, out
    assert "[ok]   Google Gemini model gemini-3.5-flash-lite: served, no shutdown date" in out


def test_a_provider_that_never_answers_is_given_up_within_seconds(online, env_file):
    """A server that takes the connection and then says nothing must not hang the doctor."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel accepts the connection; nobody ever answers
        port = silent.getsockname()[1]
        env_file.write_text(f"OPENAI_BASE_URL=http://127.0.0.1:{port}/v1\nOPENAI_API_KEY={OPENAI_KEY}\n")
        started = time.monotonic()
        out = io.StringIO()
        doctor.check_key(doctor.Report(out), catalog.OPENAI, network=True)
        elapsed = time.monotonic() - started
    assert elapsed < doctor.NETWORK_TIMEOUT_SECONDS + 3, elapsed
    assert f"could not reach 127.0.0.1:{port} within 5 s" in out.getvalue()
