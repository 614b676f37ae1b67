"""Which server, key and model a lesson should use, with the offline model as fallback.

`provider_settings("openai")` returns the base URL, key and model for OpenAI when
a usable key is configured. When it is not (or Ollama is not running, or
CHAT_TUTORIAL_OFFLINE=1 is set), it starts the offline practice server, prints
one line saying why, and returns settings that point there instead, so the same
lesson cells run either way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import openai
import requests

from . import catalog, local_server
from .environment import Setting, first_setting, get_setting, offline_forced
from .keys import KeyProblem, mask_key, validate_gemini_key, validate_openai_key

# The SDK waits 600 s by default; this gives up on a dead network within seconds.
DEFAULT_TIMEOUT = openai.Timeout(catalog.REQUEST_TIMEOUT_SECONDS, connect=catalog.CONNECT_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class ProviderSettings:
    """Everything a lesson needs to call one provider. The key never shows in its repr."""

    provider: str  # "openai", "gemini" or "ollama": what the lesson asked for
    label: str  # who actually answers, for people to read
    base_url: str
    api_key: str = field(repr=False)
    model: str = ""
    offline: bool = False  # True when the offline practice model stands in
    reason: str = ""  # why it stands in
    key_source: str | None = None  # ".env", "environment", "Colab secret"

    def __repr__(self) -> str:
        return (
            f"ProviderSettings(provider={self.provider!r}, label={self.label!r}, "
            f"base_url={self.base_url!r}, api_key={mask_key(self.api_key)!r}, "
            f"model={self.model!r}, offline={self.offline})"
        )


def _offline(provider: str, reason: str, quiet: bool) -> ProviderSettings:
    server = local_server.start()
    label = catalog.PROVIDERS[provider].label
    if not quiet:
        print(f"Using the offline practice model ({catalog.OFFLINE_MODEL}) instead of {label}: {reason}")
    return ProviderSettings(
        provider=provider,
        label=f"offline practice model, standing in for {label}",
        base_url=server.base_url,
        api_key=server.api_key,
        model=catalog.OFFLINE_MODEL,
        offline=True,
        reason=reason,
    )


def ollama_models(base_url: str | None = None) -> list[str]:
    """Names of the models Ollama has pulled; raises requests.RequestException if it is down."""
    base_url = base_url or get_setting(catalog.OLLAMA.base_url_var).value or catalog.OLLAMA.base_url
    root = base_url.rstrip("/").removesuffix("/v1")
    response = requests.get(f"{root}/api/tags", timeout=catalog.CHECK_TIMEOUT_SECONDS)
    response.raise_for_status()
    return [entry["name"] for entry in response.json().get("models", [])]


def ollama_problem(base_url: str, model: str) -> str | None:
    """Why Ollama cannot answer with `model` (not running, model not pulled), or None."""
    try:
        pulled = ollama_models(base_url)
    except requests.RequestException:
        root = base_url.rstrip("/").removesuffix("/v1")
        return f"Ollama is not running at {root}. Start it with `ollama serve` (or open the Ollama app)."
    if model not in pulled and f"{model}:latest" not in pulled:
        return f"Ollama has not pulled {model} yet. Run `ollama pull {model}` in a terminal."
    return None


def validate_provider_key(name: str, key: Setting, base_url: str) -> str:
    """Validate `key` for provider `name`; raise KeyProblem with the fix if it cannot work.

    A class server reached through OPENAI_BASE_URL hands out keys of its own
    shape, so for it only the copy-and-paste rules apply, not OpenAI's formats.
    """
    if name == "gemini":
        return validate_gemini_key(key.value, name=key.name)
    own_server = base_url.rstrip("/") != catalog.OPENAI.base_url.rstrip("/")
    return validate_openai_key(key.value, name=key.name, check_format=not own_server)


def provider_settings(name: str, *, model: str | None = None, quiet: bool = False) -> ProviderSettings:
    """Settings for "openai", "gemini" or "ollama", or for the offline model standing in.

    `model` asks for another model than the catalogue's default (e.g. Ollama's
    reasoning model). `quiet=True` skips the one-line note about falling back.
    """
    if name not in catalog.PROVIDERS:
        raise ValueError(f"Unknown provider {name!r}: choose one of {', '.join(catalog.PROVIDERS)}.")
    facts = catalog.PROVIDERS[name]
    if offline_forced():
        return _offline(name, f"{catalog.OFFLINE_SWITCH_VAR}=1 is set.", quiet)
    base_url = get_setting(facts.base_url_var).value or facts.base_url
    model = model or get_setting(facts.model_var).value or facts.model

    if name == "ollama":
        problem = ollama_problem(base_url, model)
        if problem:
            return _offline(name, problem, quiet)
        return ProviderSettings(name, facts.label, base_url, catalog.OLLAMA_DUMMY_KEY, model)

    key = first_setting(facts.key_vars)
    try:
        validate_provider_key(name, key, base_url)
    except KeyProblem as problem:
        reason = f"no {key.name} is set." if problem.reason == "missing" else str(problem)
        return _offline(name, reason, quiet)
    own_server = base_url.rstrip("/") != facts.base_url.rstrip("/")
    label = f"{facts.label} (via {base_url})" if own_server else facts.label
    return ProviderSettings(name, label, base_url, key.value, model, key_source=key.source)


def make_client(settings: ProviderSettings | str) -> openai.OpenAI:
    """An `openai.OpenAI` client for these settings (or a provider name), with a finite timeout.

    For a real provider it also prints one line when a request names a model the key
    cannot use (a 404), saying which setting to change; the SDK's error follows as usual.
    """
    if isinstance(settings, str):
        settings = provider_settings(settings)
    http_client = None
    if not settings.offline:
        http_client = openai.DefaultHttpxClient(event_hooks={"response": [_missing_model_note(settings)]})
    return openai.OpenAI(
        base_url=settings.base_url, api_key=settings.api_key, timeout=DEFAULT_TIMEOUT, http_client=http_client
    )


def missing_model_line(settings: ProviderSettings, model: str) -> str:
    """The one line a learner reads when `model` is not available to their key."""
    facts = catalog.PROVIDERS[settings.provider]
    return (
        f"{settings.label} has no model {model!r} for this key: set {facts.model_var} in .env to one it "
        f"serves (e.g. {facts.model}); list them with client.models.list() or python -m helpers.doctor."
    )


def _missing_model_note(settings: ProviderSettings):
    def note(response) -> None:
        if response.status_code != 404 or response.request.method != "POST":
            return
        response.read()
        try:
            body = response.json()
            sent = json.loads(response.request.content or b"{}")
        except ValueError:
            return
        error = body[0] if isinstance(body, list) and body else body  # Gemini wraps its error in a list
        error = error.get("error", {}) if isinstance(error, dict) else {}
        model = sent.get("model") if isinstance(sent, dict) else None
        text = f"{error.get('code')} {error.get('message')}" if isinstance(error, dict) else ""
        if model and ("model_not_found" in text or model in text):
            print(missing_model_line(settings, model))

    return note
