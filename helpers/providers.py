"""Which server, key and model a lesson should use, with the offline model as fallback.

`provider_settings("openai")` returns the base URL, key and model for OpenAI when
a usable key is configured and OpenAI can be reached. When it is not (or Ollama is
not running, or CHAT_TUTORIAL_OFFLINE=1 is set), it starts the offline practice
server, prints one line saying why, and returns settings that point there instead,
so the same lesson cells run either way.

Whether a provider can be reached is a quick probe (a TCP connection, a few seconds
at most), remembered for a while in `.cache/local_server/reachability.json` so that
lessons do not pay it on every cell: on a plane or when the classroom's network
fails, lessons carry on offline, and go back to the provider when it answers again.

When the offline model is not installed (its build failed, or it was never built),
a running Ollama with a pulled model stands in instead; with neither, one clear
error names the ways on.

Any other OpenAI-compatible provider is added in `.env` (CHAT_TUTORIAL_PROVIDERS=groq,
GROQ_API_KEY=...): `configured_providers()` lists it after the built-in ones, and
`provider_settings("groq")` resolves it like OpenAI, by the catalogue's data for it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import openai
import requests

from . import catalog
from .environment import Setting, first_setting, get_setting, offline_forced
from .keys import KeyProblem, mask_key, validate_compatible_key, validate_gemini_key, validate_openai_key
from .offline import lifecycle
from .offline.model_file import OfflineModelMissing
from .offline.state import state_dir

# The SDK waits 600 s by default; this gives up on a dead network within seconds.
DEFAULT_TIMEOUT = openai.Timeout(catalog.REQUEST_TIMEOUT_SECONDS, connect=catalog.CONNECT_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class ProviderSettings:
    """Everything a lesson needs to call one provider. The key never shows in its repr."""

    provider: str  # "openai", "gemini", "ollama" or a provider added in .env: what the lesson asked for
    label: str  # who actually answers, for people to read
    base_url: str
    api_key: str = field(repr=False)
    model: str = ""
    offline: bool = False  # True when the offline practice model stands in
    reason: str = ""  # why it stands in
    key_source: str | None = None  # ".env", "environment", "Colab secret"
    emulated: bool = False  # True when the offline model answers by this provider's rules (CHAT_TUTORIAL_EMULATE)

    def __repr__(self) -> str:
        return (
            f"ProviderSettings(provider={self.provider!r}, label={self.label!r}, "
            f"base_url={self.base_url!r}, api_key={mask_key(self.api_key)!r}, "
            f"model={self.model!r}, offline={self.offline})"
        )


def _offline(provider: str, reason: str, quiet: bool) -> ProviderSettings:
    try:
        server = lifecycle.start()
    except OfflineModelMissing as missing:
        return _ollama_instead(provider, reason, missing, quiet)
    label = provider_facts(provider).label
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


def _ollama_instead(provider: str, reason: str, missing: OfflineModelMissing, quiet: bool) -> ProviderSettings:
    """Without the offline model, a running Ollama with a pulled model stands in; else one clear error."""
    label = provider_facts(provider).label
    base_url = get_setting(catalog.OLLAMA.base_url_var).value or catalog.OLLAMA.base_url
    try:
        pulled = ollama_models(base_url)
    except (requests.RequestException, ValueError):
        pulled = None
    if pulled:
        preferred = [m for m in pulled if m in (catalog.OLLAMA.model, f"{catalog.OLLAMA.model}:latest")]
        model = (preferred or pulled)[0]
        if not quiet:
            print(f"Using Ollama's {model} instead of {label}: {reason} (The offline model is not installed.)")
        return ProviderSettings(
            provider=provider,
            label=f"Ollama ({model}), standing in for {label}",
            base_url=base_url,
            api_key=catalog.OLLAMA_DUMMY_KEY,
            model=model,
            reason=reason,
        )
    raise OfflineModelMissing(f"{label} cannot answer here: {reason} {missing}") from None


# --- Providers added in .env ------------------------------------------------------------------


def added_providers() -> tuple[str, ...]:
    """The providers CHAT_TUTORIAL_PROVIDERS adds ("groq", "groq,openrouter"), in its order, built-in ones left out."""
    value = get_setting(catalog.ADDED_PROVIDERS_VAR).value or ""
    names = [name.strip().lower() for name in value.replace(" ", ",").split(",") if name.strip()]
    return tuple(dict.fromkeys(name for name in names if name not in catalog.PROVIDERS))


def configured_providers() -> tuple[str, ...]:
    """Every provider a lesson can compare: OpenAI, Gemini, Ollama, then those added in .env."""
    return (*catalog.PROVIDERS, *added_providers())


def provider_facts(name: str) -> catalog.ProviderFacts:
    """The catalogue's facts for a built-in or added provider; an added name it does not know gets bare ones."""
    if name in catalog.PROVIDERS:
        return catalog.PROVIDERS[name]
    if name not in added_providers():
        choices = ", ".join(configured_providers())
        raise ValueError(
            f"Unknown provider {name!r}: choose one of {choices}, or add it to {catalog.ADDED_PROVIDERS_VAR} in .env."
        )
    return catalog.COMPATIBLE_PROVIDERS.get(name) or catalog.compatible_provider(name)


# --- Emulation: the offline model answering by a provider's rules ---------------------------


def emulated_providers() -> tuple[str, ...]:
    """The providers CHAT_TUTORIAL_EMULATE names ("openai", "openai,gemini", "all"), in the catalogue's order."""
    value = get_setting(catalog.EMULATE_VAR).value or ""
    names = {name.strip().lower() for name in value.replace(" ", ",").split(",") if name.strip()}
    if "all" in names:
        return tuple(catalog.EMULATED_PROVIDERS)
    unknown = names - set(catalog.EMULATED_PROVIDERS)
    if unknown:
        known = ", ".join([*catalog.EMULATED_PROVIDERS, "all"])
        raise ValueError(f"{catalog.EMULATE_VAR} names {', '.join(sorted(unknown))}: use one or more of {known}.")
    return tuple(name for name in catalog.EMULATED_PROVIDERS if name in names)


def emulator_base_url(server: lifecycle.LocalServer, provider: str) -> str:
    """Where the offline server answers as `provider`: its base URL path under /emulate/<provider>."""
    return f"http://{server.host}:{server.port}/emulate/{provider}{catalog.EMULATED_PROVIDERS[provider].path}"


def _emulated(name: str, model: str | None, quiet: bool) -> ProviderSettings:
    facts = provider_facts(name)
    model = model or get_setting(facts.model_var).value or facts.model
    server = lifecycle.start()
    if not quiet:
        print(
            f"{facts.label}'s rules for {model}, emulated by the offline practice model "
            f"({catalog.EMULATE_VAR} is set): requests are checked as {facts.label} checks them; "
            "the replies are the small model's."
        )
    return ProviderSettings(
        provider=name,
        label=f"{facts.label} ({model}), emulated by the offline practice model",
        base_url=emulator_base_url(server, name),
        api_key=catalog.EMULATED_PROVIDERS[name].key_placeholder,
        model=model,
        emulated=True,
    )


# --- Can the provider be reached? A quick probe, remembered -------------------------------

REACHABLE_REMEMBERED_SECONDS = 600.0  # probe again after 10 minutes
UNREACHABLE_REMEMBERED_SECONDS = 60.0  # ...but after a minute when it could not be reached


def _reachability_file():
    return state_dir() / "reachability.json"


def _address(base_url: str) -> tuple[str, int]:
    """The host and port a request to `base_url` first connects to (a proxy's, if one is set)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urlsplit(proxy if "//" in proxy else f"http://{proxy}")
        return proxy_parts.hostname or host, proxy_parts.port or 80
    return host, port


def _probe(host: str, port: int, timeout: float) -> str | None:
    """Open (and close) a TCP connection to host:port; why it failed, or None."""
    result: dict[str, str | None] = {}

    def connect():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result["problem"] = None
        except socket.gaierror:
            result["problem"] = f"the name {host} could not be looked up (no network?)"
        except ConnectionRefusedError:
            result["problem"] = f"{host}:{port} refused the connection"
        except TimeoutError:
            result["problem"] = f"no answer from {host} within {timeout:.0f} s"
        except OSError as error:
            result["problem"] = f"{host}: {error.strerror or error}"

    # A thread, because looking a name up has no timeout of its own.
    worker = threading.Thread(target=connect, daemon=True, name=f"probe-{host}")
    worker.start()
    worker.join(timeout + 0.5)
    if "problem" not in result:
        return f"no answer from {host} within {timeout:.0f} s"
    return result["problem"]


def remember_reachability(base_url: str, problem: str | None) -> None:
    """Note whether `base_url` could be reached (None: it could), for the next cells."""
    path = _reachability_file()
    try:
        memory = json.loads(path.read_text())
    except (OSError, ValueError):
        memory = {}
    memory["{}:{}".format(*_address(base_url))] = {"at": time.time(), "problem": problem}
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(memory))
    os.replace(temporary, path)


def unreachable(base_url: str, timeout: float = catalog.CHECK_TIMEOUT_SECONDS) -> str | None:
    """Why the server at `base_url` cannot be reached right now, or None if it can.

    Probes at most every few minutes (see the *_REMEMBERED_SECONDS above); in between,
    the last answer, shared by every notebook, is used.
    """
    host, port = _address(base_url)
    try:
        entry = json.loads(_reachability_file().read_text()).get(f"{host}:{port}")
    except (OSError, ValueError):
        entry = None
    if entry:
        keep = REACHABLE_REMEMBERED_SECONDS if entry["problem"] is None else UNREACHABLE_REMEMBERED_SECONDS
        if 0 <= time.time() - entry["at"] < keep:
            return entry["problem"]
    problem = _probe(host, port, timeout)
    remember_reachability(base_url, problem)
    return problem


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
    A provider added in .env is checked by its catalogue entry (its key prefix, if known).
    """
    if name == "gemini":
        return validate_gemini_key(key.value, name=key.name)
    if name == "openai":
        own_server = base_url.rstrip("/") != catalog.OPENAI.base_url.rstrip("/")
        return validate_openai_key(key.value, name=key.name, check_format=not own_server)
    return validate_compatible_key(key.value, provider_facts(name), name=key.name)


def provider_settings(name: str, *, model: str | None = None, quiet: bool = False) -> ProviderSettings:
    """Settings for "openai", "gemini", "ollama" or a provider added in .env, or for the offline model standing in.

    `model` asks for another model than the catalogue's default (e.g. Ollama's
    reasoning model). `quiet=True` skips the one-line note about falling back.
    """
    facts = provider_facts(name)
    if name in emulated_providers():
        return _emulated(name, model, quiet)
    if offline_forced():
        return _offline(name, f"{catalog.OFFLINE_SWITCH_VAR}=1 is set.", quiet)
    base_url = get_setting(facts.base_url_var).value or facts.base_url
    model = model or get_setting(facts.model_var).value or facts.model
    for value, variable in ((base_url, facts.base_url_var), (model, facts.model_var)):
        if not value:  # a provider the catalogue does not know needs both in .env
            return _offline(name, f"no {variable} is set (a provider added in .env needs it).", quiet)

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
    problem = unreachable(base_url)
    if problem:
        return _offline(
            name,
            f"{facts.label} cannot be reached ({problem}); trying again in {UNREACHABLE_REMEMBERED_SECONDS:.0f} s.",
            quiet,
        )
    own_server = bool(facts.base_url) and base_url.rstrip("/") != facts.base_url.rstrip("/")
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
    if not settings.offline and not settings.emulated:
        http_client = openai.DefaultHttpxClient(event_hooks={"response": [_missing_model_note(settings)]})
    return openai.OpenAI(
        base_url=settings.base_url, api_key=settings.api_key, timeout=DEFAULT_TIMEOUT, http_client=http_client
    )


def missing_model_line(settings: ProviderSettings, model: str) -> str:
    """The one line a learner reads when `model` is not available to their key."""
    facts = provider_facts(settings.provider)
    example = f" (e.g. {facts.model})" if facts.model else ""
    return (
        f"{settings.label} has no model {model!r} for this key: set {facts.model_var} in .env to one it "
        f"serves{example}; list them with client.models.list() or python -m helpers.doctor."
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
