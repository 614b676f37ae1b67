"""A provider added in .env (CHAT_TUTORIAL_PROVIDERS) reaches the doctor and lesson 15, its key masked.

The added provider is a local stand-in (pytest-httpserver) reached as if it were "groq" with
a key of Groq's shape: what we send it and what the learner reads are what is tested.
"""

import io
import json
from pathlib import Path

import pytest
from fakes import CHAT_REPLY, fake_key

from helpers import catalog, doctor, keys, provider_settings
from helpers.environment import Setting
from helpers.keys import KeyProblem, mask_key, validate_compatible_key
from helpers.providers import added_providers, configured_providers, provider_facts, validate_provider_key

GROQ_KEY = fake_key("gsk_", 56)
LESSON_15 = Path(__file__).resolve().parent.parent / "notebooks" / "15_comparing_providers.ipynb"


def _stand_in(httpserver, model="llama-3.1-8b-instant"):
    """A Groq stand-in: /models lists `model`, chat completions answer as it."""
    httpserver.expect_request("/openai/v1/models").respond_with_json(
        {"object": "list", "data": [{"id": model, "object": "model"}]}
    )
    reply = {**CHAT_REPLY, "model": model, "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}
    httpserver.expect_request("/openai/v1/chat/completions", method="POST").respond_with_json(reply)
    return httpserver.url_for("/openai/v1")


def _add_groq(env_file, base_url, key=GROQ_KEY, extra=""):
    env_file.write_text(f"CHAT_TUTORIAL_PROVIDERS=groq\nGROQ_API_KEY={key}\nGROQ_BASE_URL={base_url}\n{extra}")


def test_the_catalogue_knows_the_common_providers_each_sourced_on_the_day():
    for name in ("anthropic", "mistral", "groq", "openrouter", "deepseek", "together", "cerebras"):
        facts = catalog.COMPATIBLE_PROVIDERS[name]
        assert facts.base_url.startswith("https://") and facts.model, name
        assert facts.source and facts.source.checked == "2026-11-30" and facts.source.url.startswith("https://"), name
        assert facts.key_vars == (f"{name.upper()}_API_KEY",) and facts.model_var == f"{name.upper()}_MODEL"
    assert not set(catalog.COMPATIBLE_PROVIDERS) & set(catalog.PROVIDERS)


def test_added_providers_are_read_from_env_in_order_without_the_built_in_ones(online, env_file):
    env_file.write_text("CHAT_TUTORIAL_PROVIDERS=Groq, openrouter openai groq\n")
    assert added_providers() == ("groq", "openrouter")
    assert configured_providers() == ("openai", "gemini", "ollama", "groq", "openrouter")


def test_an_unknown_name_is_refused_with_the_way_to_add_it(online, env_file):
    with pytest.raises(ValueError, match="CHAT_TUTORIAL_PROVIDERS"):
        provider_settings("groq")


def test_a_key_is_checked_by_the_entry_and_masked_by_its_prefix():
    groq = catalog.COMPATIBLE_PROVIDERS["groq"]
    assert validate_compatible_key(GROQ_KEY, groq) == GROQ_KEY
    assert mask_key(GROQ_KEY) == f"gsk_...{GROQ_KEY[-4:]}"
    cases = {
        fake_key("sk-proj-", 164): "wrong_provider",  # an OpenAI key in GROQ_API_KEY
        fake_key("sk-or-v1-", 73): "wrong_provider",  # OpenRouter's
        fake_key("xyz", 56): "unknown_format",
        "gsk_your-key-here": "placeholder",
        f" {GROQ_KEY}": "whitespace",
        None: "missing",
    }
    for key, reason in cases.items():
        with pytest.raises(KeyProblem) as problem:
            validate_compatible_key(key, groq)
        assert problem.value.reason == reason, key
        assert key is None or key.strip()[6:-4] not in str(problem.value)
    # A provider without a documented prefix gets the hygiene rules only.
    assert validate_compatible_key("AbC123" * 6, catalog.COMPATIBLE_PROVIDERS["mistral"]) == "AbC123" * 6


def test_the_known_providers_keys_go_through_the_generic_rule_not_a_branch_of_their_own(online, env_file):
    env_file.write_text("CHAT_TUTORIAL_PROVIDERS=groq,my-lab\n")
    setting = Setting("GROQ_API_KEY", fake_key("sk-ant-", 100), ".env")
    with pytest.raises(KeyProblem, match="a key from Anthropic"):
        validate_provider_key("groq", setting, catalog.COMPATIBLE_PROVIDERS["groq"].base_url)
    assert provider_facts("my-lab").key_vars == ("MY_LAB_API_KEY",)
    assert keys.validate_compatible_key("anything-123", provider_facts("my-lab")) == "anything-123"


def test_an_added_provider_resolves_to_its_server_with_its_default_model(online, env_file, httpserver):
    _add_groq(env_file, _stand_in(httpserver))
    settings = provider_settings("groq", quiet=True)
    assert not settings.offline
    assert (settings.model, settings.key_source) == ("llama-3.1-8b-instant", ".env")
    assert GROQ_KEY not in repr(settings)


def test_an_unknown_added_provider_without_base_url_or_model_falls_back_saying_which(online, env_file, capsys):
    env_file.write_text(f"CHAT_TUTORIAL_PROVIDERS=my-lab\nMY_LAB_API_KEY={GROQ_KEY}\n")
    settings = provider_settings("my-lab")
    assert settings.offline
    assert "no MY_LAB_BASE_URL is set" in capsys.readouterr().out


def test_the_doctor_checks_an_added_provider_with_its_key_masked(online, env_file, httpserver):
    base_url = _stand_in(httpserver)
    _add_groq(env_file, base_url)
    out = io.StringIO()
    status = doctor.run(out=out, network=True)
    text = out.getvalue()
    assert status == 0, text
    assert "[--]   CHAT_TUTORIAL_PROVIDERS adds groq (the catalogue knows groq)" in text
    assert f"[ok]   GROQ_API_KEY gsk_...{GROQ_KEY[-4:]} (from .env): format ok" in text
    assert "[ok]   Groq accepted the key" in text
    assert "[ok]   Groq model llama-3.1-8b-instant: served, no shutdown date" in text
    assert GROQ_KEY not in text
    request, _ = httpserver.log[-1]
    assert request.headers["Authorization"] == f"Bearer {GROQ_KEY}"


def test_the_doctor_fails_an_added_provider_that_lacks_a_base_url_or_a_model(online, env_file):
    env_file.write_text(f"CHAT_TUTORIAL_PROVIDERS=my-lab\nMY_LAB_API_KEY={GROQ_KEY}\n")
    out = io.StringIO()
    assert doctor.run(out=out, network=False) == 1
    assert "[FAIL] my-lab has no base URL: set MY_LAB_BASE_URL in .env" in out.getvalue()
    assert GROQ_KEY not in out.getvalue()


def test_the_doctor_fails_a_malformed_added_key_with_its_fix(online, env_file):
    _add_groq(env_file, "https://api.groq.com/openai/v1", key=fake_key("sk-proj-", 164))
    out = io.StringIO()
    assert doctor.run(out=out, network=False) == 1
    assert "[FAIL] GROQ_API_KEY sk-proj-..." in out.getvalue() and "a key from OpenAI" in out.getvalue()


def test_the_doctor_gives_up_on_an_added_provider_within_seconds_when_the_network_is_down(online, env_file):
    _add_groq(env_file, "http://127.0.0.1:9/openai/v1")  # the discard port: nothing listens
    out = io.StringIO()
    doctor.check_added_providers(doctor.Report(out), network=True)
    assert "could not reach 127.0.0.1:9 within 5 s (no network?): Groq lessons use the offline model" in out.getvalue()


def _lesson_15_cells(upto: str) -> str:
    """Lesson 15's code, from its first provider cell up to the cell that starts with `upto`."""
    cells = [c for c in json.loads(LESSON_15.read_text())["cells"] if c["cell_type"] == "code"]
    code = ["".join(c["source"]) for c in cells]
    first = next(i for i, source in enumerate(code) if "configured_providers()" in source)
    last = next(i for i, source in enumerate(code) if source.startswith(upto))
    return "\n\n".join(code[first : last + 1])


def test_lesson_15_compares_a_provider_added_in_env(online, env_file, httpserver, capsys):
    _add_groq(env_file, _stand_in(httpserver))
    namespace: dict = {}
    exec(_lesson_15_cells(upto="for r in results:\n    price ="), namespace)  # the cells as a learner runs them
    out = capsys.readouterr().out
    groq = [row for row in namespace["results"] if row["provider"].startswith("Groq")]
    assert groq and groq[0]["model"] == "llama-3.1-8b-instant", out
    assert "configured: openai, gemini, ollama, groq" in out
    assert f"Groq (via {httpserver.url_for('/openai/v1')}): llama-3.1-8b-instant, no price listed" in out
    assert GROQ_KEY not in out
    sent = json.loads(httpserver.log[-1][0].data)
    assert sent["model"] == "llama-3.1-8b-instant" and sent["messages"][0]["role"] == "user"
