"""The self-check: run `python -m helpers.doctor` before the first lesson.

It prints one line per check, each with a mark and, when something is wrong, the
fix. It exits 1 when something the notebooks need is broken and 0 otherwise;
having no API keys at all is fine, since every lesson then uses the offline model.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import sys
import time

import requests

from . import catalog
from .environment import env_file, first_setting, get_setting, offline_forced, repo_root
from .keys import KeyProblem, mask_key
from .offline import build, lifecycle
from .providers import added_providers, ollama_models, provider_facts, remember_reachability, validate_provider_key

OK, FAIL, WARN, INFO = "[ok]  ", "[FAIL]", "[warn]", "[--]  "
NETWORK_TIMEOUT_SECONDS = 5.0
MIN_PYTHON = (3, 10)

# (distribution, why the course needs it); all are installed by requirements.txt.
# The offline model's packages (requirements-offline.txt) are checked by check_offline_model.
PACKAGES = [
    ("openai", "the SDK the lessons teach"),
    ("requests", "raw HTTP calls"),
    ("python-dotenv", "reads .env"),
    ("filelock", "one offline server for all notebooks"),
    ("psutil", "finds a stuck offline server"),
    ("jupyterlab", "opens the notebooks"),
]


class Report:
    """Collects check lines; `failed` tells whether any check failed."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.failed = False

    def line(self, mark: str, text: str) -> None:
        if mark == FAIL:
            self.failed = True
        print(f"{mark} {text}", file=self.out, flush=True)


def check_python(report: Report) -> None:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        report.line(OK, f"Python {version}")
    else:
        need = ".".join(map(str, MIN_PYTHON))
        report.line(FAIL, f"Python {version}: the course needs {need} or newer. Install a newer Python.")


def check_packages(report: Report) -> None:
    for name, purpose in PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            report.line(FAIL, f"{name} is missing ({purpose}). Run: pip install -r requirements.txt")
            continue
        if name == "openai" and not version.startswith("3."):
            report.line(
                FAIL, f"openai {version}: the lessons are written for 3.x. Run: pip install -r requirements.txt"
            )
            continue
        report.line(OK, f"{name} {version}")


def check_env_file(report: Report) -> None:
    path = env_file()
    try:
        shown = path.relative_to(repo_root())
    except ValueError:
        shown = path.name
    if path.is_file():
        report.line(OK, f".env found ({shown})")
    elif (repo_root() / ".env.txt").exists():
        report.line(WARN, "found .env.txt, not .env: rename it to .env (no .txt at the end).")
    else:
        report.line(INFO, "no .env file: copy .env.example to .env to add keys (lessons run offline without one).")


def _probe_key(report: Report, facts: catalog.ProviderFacts, base_url: str, key: str, today) -> None:
    """Ask the provider's /models whether it accepts the key (giving up within 5 s), then report its models."""
    label = facts.label
    host = base_url.split("//")[-1].split("/")[0]
    try:
        response = requests.get(
            f"{base_url.rstrip('/')}/models",
            headers={"Authorization": f"Bearer {key}"},
            timeout=NETWORK_TIMEOUT_SECONDS,
        )
    except requests.RequestException:
        report_unreachable(report, label, base_url, host)
        check_model(report, facts, None, today)
        return
    remember_reachability(base_url, None)
    if response.status_code == 200:
        report.line(OK, f"{label} accepted the key ({host} answered 200)")
        check_model(report, facts, _listed_models(response), today)
    elif response.status_code in (401, 403):
        report.line(
            FAIL,
            f"{label} rejected the key ({response.status_code}): it was revoked, mistyped or "
            "lacks access. Create a new one and put it in .env.",
        )
    else:
        report.line(WARN, f"{host} answered {response.status_code} when checking the key.")


def report_unreachable(report: Report, label: str, base_url: str, host: str) -> None:
    """The "could not reach" line: lessons carry on offline; how to force that, and how to go back."""
    remember_reachability(base_url, f"no answer from {host} within {NETWORK_TIMEOUT_SECONDS:.0f} s")
    switch = catalog.OFFLINE_SWITCH_VAR
    report.line(
        WARN,
        f"could not reach {host} within {NETWORK_TIMEOUT_SECONDS:.0f} s (no network?): {label} lessons use the "
        f"offline model until it answers again. To stay offline anyway, add {switch}=1 to .env; "
        "delete that line to go back.",
    )


def _listed_models(response) -> dict[str, str | None] | None:
    """{model id: shutdown date or None} from a /models answer; None if it is not a models list."""
    try:
        entries = response.json()["data"]
        return {entry["id"].removeprefix("models/"): entry.get("shutdown_date") for entry in entries}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def check_model(report: Report, facts: catalog.ProviderFacts, listed: dict | None, today=None) -> None:
    """Say whether the configured model is served, and warn before its shutdown date.

    `listed` is what the provider's /models returned ({id: shutdown_date or None}), or
    None when it could not be asked; then only the catalogue's RETIREMENTS table speaks.
    """
    today = today or datetime.date.today()
    model = get_setting(facts.model_var).value or facts.model
    where = f"set {facts.model_var} in .env"
    if not model:  # a provider the catalogue does not know
        report.line(FAIL, f"{facts.label} has no model: {where} (e.g. one its /models lists).")
        return
    if listed is not None and model not in listed:
        example = f"e.g. {facts.model}; " if facts.model and facts.model != model else ""
        report.line(
            FAIL,
            f"{facts.label} does not serve {model} to this key: {where} to a model it lists "
            f"({example}see client.models.list()).",
        )
        return
    shutdown = listed.get(model) if listed else None
    known = catalog.RETIREMENTS.get(model)
    if shutdown is None and known:
        shutdown = known[0]
    if not shutdown:
        served = "served" if listed is not None else "not checked (no answer from the provider)"
        report.line(OK if listed is not None else INFO, f"{facts.label} model {model}: {served}, no shutdown date")
        return
    replacement = known[1] if known else facts.model
    instead = f"{where} to {replacement}" if replacement != model else "watch the provider's deprecations page"
    days = (datetime.date.fromisoformat(shutdown) - today).days
    if days < 0:
        report.line(FAIL, f"{facts.label} model {model} was shut down on {shutdown}: {instead}.")
    elif days <= catalog.SHUTDOWN_WARNING_DAYS:
        report.line(WARN, f"{facts.label} model {model} shuts down on {shutdown} (in {days} days): {instead}.")
    else:
        report.line(OK, f"{facts.label} model {model}: served; shuts down on {shutdown}")


def check_key(report: Report, facts: catalog.ProviderFacts, network: bool, today=None) -> None:
    setting = first_setting(facts.key_vars)
    if setting.value is None:
        names = " or ".join(facts.key_vars)
        report.line(INFO, f"{names} not set: {facts.label} lessons use the offline model.")
        return
    shown = f"{setting.name} {mask_key(setting.value)} (from {setting.source})"
    base_url = get_setting(facts.base_url_var).value or facts.base_url
    if not base_url:  # a provider the catalogue does not know
        report.line(FAIL, f"{facts.label} has no base URL: set {facts.base_url_var} in .env (its docs give it).")
        return
    try:
        validate_provider_key(facts.name, setting, base_url)
    except KeyProblem as problem:
        report.line(FAIL, f"{shown}: {problem}")
        return
    report.line(OK, f"{shown}: format ok")
    if setting.shadowed:
        report.line(WARN, f"{setting.name} is also set in your shell, to a different value; .env wins.")
    others = [get_setting(n) for n in facts.key_vars if n != setting.name]
    if any(o.value and o.value != setting.value for o in others):
        report.line(WARN, f"{' and '.join(facts.key_vars)} hold different keys; {setting.name} is used.")
    if network:
        _probe_key(report, facts, base_url, setting.value, today)
    else:
        check_model(report, facts, None, today)


def check_added_providers(report: Report, network: bool, today=None) -> None:
    """Each provider CHAT_TUTORIAL_PROVIDERS adds, checked as OpenAI and Gemini are (key, endpoint, model)."""
    names = added_providers()
    if not names:
        return
    known = [name for name in names if name in catalog.COMPATIBLE_PROVIDERS]
    note = f" (the catalogue knows {', '.join(known)})" if known else ""
    report.line(INFO, f"{catalog.ADDED_PROVIDERS_VAR} adds {', '.join(names)}{note}")
    for name in names:
        check_key(report, provider_facts(name), network, today)


def check_ollama(report: Report) -> None:
    base_url = get_setting(catalog.OLLAMA.base_url_var).value or catalog.OLLAMA.base_url
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        pulled = ollama_models(base_url)
    except requests.RequestException:
        report.line(
            INFO,
            f"Ollama is not running at {root} (optional): install it from https://ollama.com, then run `ollama serve`.",
        )
        return
    report.line(OK, f"Ollama answers at {root}; models pulled: {', '.join(pulled) or 'none'}")
    for model in (catalog.OLLAMA.model, catalog.OLLAMA_REASONING_MODEL):
        if model not in pulled and f"{model}:latest" not in pulled:
            report.line(WARN, f"Ollama has not pulled {model}: run `ollama pull {model}`.")


def check_offline_server(report: Report) -> None:
    from openai import OpenAI

    started = time.perf_counter()
    try:
        server = lifecycle.start()
        client = OpenAI(base_url=server.base_url, api_key=server.api_key, timeout=60, max_retries=0)
        reply = client.chat.completions.create(
            model=server.model,
            messages=[{"role": "user", "content": "Say hello."}],
            max_completion_tokens=8,
        )
    except Exception as error:  # any failure here means the lessons cannot run offline
        report.line(FAIL, f"offline model server: {error}")
        return
    seconds = time.perf_counter() - started
    if not reply.choices or reply.choices[0].message.content is None:
        report.line(FAIL, "offline model server answered without any text.")
        return
    report.line(OK, f"offline model {server.model} answers at {server.base_url} ({seconds:.1f} s)")


def _offline_model_needed() -> bool:
    """Whether the lessons need the offline model: no usable OpenAI key, and no Ollama running."""
    if offline_forced():
        return True
    key = first_setting(catalog.OPENAI.key_vars)
    base_url = get_setting(catalog.OPENAI.base_url_var).value or catalog.OPENAI.base_url
    if key.value is not None:
        try:
            validate_provider_key("openai", key, base_url)
            return False
        except KeyProblem:
            pass
    try:
        return not ollama_models()
    except (requests.RequestException, ValueError):
        return True


def check_offline_model(report: Report) -> None:
    """The offline model: ready (then a real request), still building, failed, or not installed."""
    state = build.build_state()
    if state.status == "ready":
        check_offline_server(report)
    elif state.status == "building":
        report.line(INFO, f"{state.describe()}; lessons that need it wait for it.")
    elif _offline_model_needed():
        report.line(FAIL, state.describe())
    else:
        report.line(INFO, f"{state.describe()} (optional: your key or Ollama serves the lessons)")


def run(network: bool = True, out=None, today: datetime.date | None = None) -> int:
    """Run every check; return the exit status (1 if any check failed). `today` is for tests."""
    report = Report(out)
    check_python(report)
    check_packages(report)
    check_env_file(report)
    if offline_forced():
        report.line(INFO, f"{catalog.OFFLINE_SWITCH_VAR} is set: every lesson uses the offline model.")
    check_key(report, catalog.OPENAI, network, today)
    check_key(report, catalog.GEMINI, network, today)
    check_added_providers(report, network, today)
    check_ollama(report)
    check_offline_model(report)
    print("\nAll set." if not report.failed else "\nFix the [FAIL] lines above, then run this again.", file=report.out)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(run(network=os.environ.get("CHAT_TUTORIAL_DOCTOR_NETWORK", "1") != "0"))
