"""Provider resolution, the offline fallback, and what our clients really send on the wire."""

import json
import socket

import openai
import pytest
from fakes import CHAT_REPLY, fake_key

from course_tools.isolation import free_port
from helpers import catalog, make_client, provider_settings, providers
from helpers.providers import DEFAULT_TIMEOUT, ProviderSettings, remember_reachability

OPENAI_KEY = fake_key("sk-proj-", 164)
GEMINI_KEY = fake_key("AIza", 39)


@pytest.fixture
def memory(tmp_path, monkeypatch):
    """A reachability memory of this test's own, where the real providers answered a moment ago.

    So that these tests make no network call (CI has no internet): what a probe of
    api.openai.com would find is what the test says it found.
    """
    monkeypatch.setenv("CHAT_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    for url in (catalog.OPENAI.base_url, catalog.GEMINI.base_url, "http://class-server:4000/v1"):
        remember_reachability(url, None)


def test_forced_offline_uses_the_local_server_and_says_why(capsys):
    settings = provider_settings("openai")
    assert settings.offline
    assert settings.base_url.startswith("http://127.0.0.1:")
    assert settings.model == catalog.OFFLINE_MODEL
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "offline practice model" in out and "CHAT_TUTORIAL_OFFLINE=1" in out


def test_a_chat_completion_through_the_helpers_returns_real_model_text():
    settings = provider_settings("gemini", quiet=True)
    reply = make_client(settings).chat.completions.create(
        model=settings.model,
        messages=[{"role": "user", "content": "Tell me a fun fact"}],
        max_completion_tokens=24,
    )
    assert reply.model == catalog.OFFLINE_MODEL
    assert reply.choices[0].message.role == "assistant"
    assert len(reply.choices[0].message.content.strip()) > 0


def test_no_key_falls_back_offline(online, env_file, capsys):
    settings = provider_settings("openai")
    assert settings.offline
    assert "no OPENAI_API_KEY is set" in capsys.readouterr().out


def test_a_bad_key_falls_back_with_the_fix_and_without_the_key(online, env_file, capsys):
    env_file.write_text(f"OPENAI_API_KEY='{OPENAI_KEY}'\n".replace("'", "\u201c", 1))
    settings = provider_settings("openai")
    out = capsys.readouterr().out
    assert settings.offline
    assert "OPENAI_API_KEY" in out
    assert OPENAI_KEY[8:-4] not in out


def test_a_valid_key_resolves_to_openai_when_it_answered_a_moment_ago(online, env_file, memory):
    env_file.write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n")
    settings = provider_settings("openai")
    assert not settings.offline
    assert (settings.base_url, settings.model) == (catalog.OPENAI.base_url, catalog.OPENAI.model)
    assert settings.key_source == ".env"
    assert OPENAI_KEY not in repr(settings)


def test_models_and_base_urls_can_be_overridden(online, env_file, memory):
    env_file.write_text(f"GEMINI_API_KEY={GEMINI_KEY}\nGEMINI_MODEL=gemini-3-flash\n")
    settings = provider_settings("gemini")
    assert (settings.model, settings.base_url) == ("gemini-3-flash", catalog.GEMINI.base_url)


def test_google_api_key_wins_over_gemini_api_key(online, env_file, memory):
    other = fake_key("AIza", 39, "zyxWVU987")
    env_file.write_text(f"GEMINI_API_KEY={other}\nGOOGLE_API_KEY={GEMINI_KEY}\n")
    assert provider_settings("gemini").api_key == GEMINI_KEY


def test_a_class_server_via_openai_base_url_accepts_its_own_keys(online, env_file, memory):
    env_file.write_text("OPENAI_BASE_URL=http://class-server:4000/v1\nOPENAI_API_KEY=student-17\n")
    settings = provider_settings("openai")
    assert not settings.offline
    assert settings.base_url == "http://class-server:4000/v1"
    assert "class-server" in settings.label


def test_ollama_not_running_falls_back_and_says_how_to_start_it(online, env_file, capsys):
    env_file.write_text(f"OLLAMA_BASE_URL=http://127.0.0.1:{free_port()}/v1\n")
    settings = provider_settings("ollama")
    assert settings.offline
    assert "ollama serve" in capsys.readouterr().out


def test_ollama_without_the_model_says_which_pull_to_run(online, env_file, httpserver, capsys):
    httpserver.expect_request("/api/tags").respond_with_json({"models": [{"name": "qwen3:0.6b"}]})
    env_file.write_text(f"OLLAMA_BASE_URL={httpserver.url_for('/v1')}\n")
    assert provider_settings("ollama").offline
    assert "ollama pull llama3.2" in capsys.readouterr().out


def test_unknown_provider_is_refused():
    with pytest.raises(ValueError, match="openai, gemini, ollama"):
        provider_settings("claude")


def test_gemini_client_posts_to_the_openai_compatible_path_with_bearer(online, env_file, httpserver):
    httpserver.expect_request("/v1beta/openai/chat/completions", method="POST").respond_with_json(CHAT_REPLY)
    env_file.write_text(f"GOOGLE_API_KEY={GEMINI_KEY}\nGEMINI_BASE_URL={httpserver.url_for('/v1beta/openai/')}\n")
    client = make_client("gemini")
    client.chat.completions.create(model=catalog.GEMINI.model, messages=[{"role": "user", "content": "hi"}])
    request, _ = httpserver.log[-1]
    assert request.path == "/v1beta/openai/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {GEMINI_KEY}"
    assert json.loads(request.data)["model"] == catalog.GEMINI.model


def test_ollama_client_posts_to_v1_chat_completions(online, env_file, httpserver):
    httpserver.expect_request("/api/tags").respond_with_json({"models": [{"name": "llama3.2:latest"}]})
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(CHAT_REPLY)
    env_file.write_text(f"OLLAMA_BASE_URL={httpserver.url_for('/v1')}\n")
    settings = provider_settings("ollama")
    assert not settings.offline and settings.model == "llama3.2"
    make_client(settings).chat.completions.create(model=settings.model, messages=[{"role": "user", "content": "hi"}])
    request, _ = httpserver.log[-1]
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {catalog.OLLAMA_DUMMY_KEY}"


def test_clients_have_a_finite_timeout():
    client = make_client(provider_settings("openai", quiet=True))
    assert client.timeout.connect == catalog.CONNECT_TIMEOUT_SECONDS
    assert client.timeout.read == catalog.REQUEST_TIMEOUT_SECONDS


def test_a_closed_port_raises_the_sdks_connection_error():
    nowhere = ProviderSettings("openai", "OpenAI", f"http://127.0.0.1:{free_port()}/v1", "anything", "gpt-5-nano")
    client = make_client(nowhere).with_options(max_retries=0)
    assert client.timeout == DEFAULT_TIMEOUT
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=catalog.OPENAI.model, messages=[{"role": "user", "content": "hi"}])


def test_a_model_the_key_cannot_use_gets_one_line_naming_the_setting(online, env_file, httpserver, capsys):
    """A real provider's 404 for a retired or mistyped model: one line says what to change, then the SDK raises."""
    body = {"error": {"message": "The model `gpt-5-nano` does not exist", "type": "invalid_request_error",
                      "param": None, "code": "model_not_found"}}  # fmt: skip
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(body, status=404)
    env_file.write_text(f"OPENAI_BASE_URL={httpserver.url_for('/v1')}\nOPENAI_API_KEY={OPENAI_KEY}\n")
    client = make_client(provider_settings("openai")).with_options(max_retries=0)
    capsys.readouterr()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-5-nano", messages=[{"role": "user", "content": "hi"}])
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    assert "has no model 'gpt-5-nano' for this key" in out
    assert "set OPENAI_MODEL in .env" in out and "client.models.list()" in out
    assert OPENAI_KEY[8:-4] not in out


def test_a_gemini_404_in_a_list_is_explained_too(online, env_file, httpserver, capsys):
    body = [{"error": {"code": 404, "message": "models/gemini-9 is not found for API version v1main", "status":
             "NOT_FOUND"}}]  # fmt: skip
    httpserver.expect_request("/v1beta/openai/chat/completions", method="POST").respond_with_json(body, status=404)
    env_file.write_text(f"GOOGLE_API_KEY={GEMINI_KEY}\nGEMINI_BASE_URL={httpserver.url_for('/v1beta/openai/')}\n")
    client = make_client("gemini").with_options(max_retries=0)
    capsys.readouterr()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gemini-9", messages=[{"role": "user", "content": "hi"}])
    assert "set GEMINI_MODEL in .env" in capsys.readouterr().out


def test_other_errors_print_nothing_extra(online, env_file, httpserver, capsys):
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        {"error": {"message": "bad", "type": "invalid_request_error", "param": "messages", "code": None}}, status=400
    )
    env_file.write_text(f"OPENAI_BASE_URL={httpserver.url_for('/v1')}\nOPENAI_API_KEY={OPENAI_KEY}\n")
    client = make_client(provider_settings("openai", quiet=True)).with_options(max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])
    assert capsys.readouterr().out == ""


# --- A provider that cannot be reached: the lessons carry on offline ----------------------


def test_an_unreachable_provider_falls_back_offline_naming_the_cause(online, env_file, memory, capsys):
    port = free_port()
    env_file.write_text(f"OPENAI_BASE_URL=http://127.0.0.1:{port}/v1\nOPENAI_API_KEY=anything\n")
    settings = provider_settings("openai")
    assert settings.offline and settings.model == catalog.OFFLINE_MODEL
    out = capsys.readouterr().out
    assert out == (
        f"Using the offline practice model ({catalog.OFFLINE_MODEL}) instead of OpenAI: OpenAI cannot be reached "
        f"(127.0.0.1:{port} refused the connection); trying again in 60 s.\n"
    )


def test_the_answer_is_remembered_for_a_while_then_probed_again(online, env_file, memory, monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        env_file.write_text(f"OPENAI_BASE_URL=http://127.0.0.1:{port}/v1\nOPENAI_API_KEY=anything\n")
        assert provider_settings("openai", quiet=True).offline  # not listening yet: refused
        listener.listen()
        assert provider_settings("openai", quiet=True).offline  # remembered: not probed again
        monkeypatch.setattr(providers, "UNREACHABLE_REMEMBERED_SECONDS", 0.0)
        settings = provider_settings("openai", quiet=True)  # forgotten: probed, and it answers
        assert not settings.offline and settings.base_url == f"http://127.0.0.1:{port}/v1"


def test_a_name_that_cannot_be_looked_up_falls_back(online, env_file, memory, capsys):
    env_file.write_text("OPENAI_BASE_URL=http://no-such-host.invalid/v1\nOPENAI_API_KEY=anything\n")
    assert provider_settings("openai").offline
    assert "cannot be reached (the name no-such-host.invalid could not be looked up" in capsys.readouterr().out


def test_a_proxy_is_probed_instead_of_the_provider(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert providers._address("https://api.openai.com/v1") == ("proxy.example", 3128)
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.delenv("https_proxy", raising=False)
    assert providers._address("https://api.openai.com/v1") == ("api.openai.com", 443)
