"""Check API keys before they are sent anywhere, and show them only masked.

`validate_openai_key`, `validate_gemini_key` and, for any other OpenAI-compatible
provider, `validate_compatible_key` (by the catalogue's data for it) return the key
when it looks usable and raise `KeyProblem` with a one-line, actionable message otherwise.
No message ever contains the key itself.
"""

from __future__ import annotations

import unicodedata

from . import catalog

_KEY_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_QUOTES = "\"'`\u2018\u2019\u201c\u201d\u00ab\u00bb"
_PLACEHOLDER_MARKERS = ("your-key", "your_key", "yourkey", "xxxx", "...", "\u2026", "<", ">")
# Prefixes that say which provider issued a key, longest first (sk- alone says nothing: several use it).
_PREFIX_OWNERS = sorted(
    [
        *((prefix, catalog.OPENAI.label) for prefix in catalog.OPENAI_KEY_PREFIXES if prefix != "sk-"),
        (catalog.OPENAI_ADMIN_KEY_PREFIX, catalog.OPENAI.label),
        (catalog.GEMINI_STANDARD_PREFIX, catalog.GEMINI.label),
        (catalog.GEMINI_AUTH_PREFIX, catalog.GEMINI.label),
        *((prefix, facts.label) for facts in catalog.COMPATIBLE_PROVIDERS.values() for prefix in facts.key_prefixes),
    ],
    key=lambda owner: len(owner[0]),
    reverse=True,
)
_KNOWN_PREFIXES = sorted(
    {*catalog.OPENAI_KEY_PREFIXES, *(prefix for prefix, _ in _PREFIX_OWNERS)}, key=len, reverse=True
)


class KeyProblem(ValueError):
    """A key that cannot work; `reason` is a short code, the message says the fix."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def mask_key(key: str | None) -> str:
    """Show a key as its prefix and last four characters at most: `sk-proj-...AbCd`."""
    if not key:
        return "(none)"
    key = key.strip()
    prefix = next((p for p in _KNOWN_PREFIXES if key.startswith(p)), "")
    if len(key) < len(prefix) + 16:  # too short to show any of the tail safely
        return f"{prefix}..."
    return f"{prefix}...{key[-4:]}"


def _check_hygiene(key: str | None, name: str, where: str) -> str:
    """Rules every key shares: present, not the placeholder, no stray characters."""
    if key is None or not key.strip():
        raise KeyProblem(f"No key found in {name}. {where}, then run the cell again.", "missing")
    lowered = key.lower()
    if key.strip().strip(_QUOTES) in catalog.KEY_PLACEHOLDERS.values() or any(
        marker in lowered for marker in _PLACEHOLDER_MARKERS
    ):
        raise KeyProblem(
            f"{name} still holds the placeholder from .env.example: replace it with your real key.",
            "placeholder",
        )
    if key != key.strip():
        raise KeyProblem(
            f"{name} starts or ends with whitespace (a space, tab or line break): "
            "delete it so the value is the key alone.",
            "whitespace",
        )
    if key[0] in _QUOTES or key[-1] in _QUOTES:
        raise KeyProblem(
            f"{name} is wrapped in quotation marks that became part of the value (typographic "
            f"quotes, or quotes typed into a shell export or a Colab secret): keep only the key.",
            "quotes",
        )
    for position, char in enumerate(key, start=1):
        if char in _KEY_CHARACTERS:
            continue
        if char.isspace():
            what = "a space"
        elif char in _QUOTES:
            what = "a typographic quote (added by a word processor or chat app)"
        elif ord(char) > 127:
            what = f"the non-ASCII character {unicodedata.name(char, f'U+{ord(char):04X}')}"
        else:
            what = f"the character {char!r}"
        raise KeyProblem(
            f"{name} contains {what} at position {position}, which no API key contains: "
            "copy the key again in one piece from the provider's page.",
            "bad_characters",
        )
    return key


def validate_openai_key(key: str | None, *, name: str = "OPENAI_API_KEY", check_format: bool = True) -> str:
    """Return `key` if it can be an OpenAI key; raise `KeyProblem` saying what to fix.

    `check_format=False` keeps only the hygiene rules, for a class server reached
    through OPENAI_BASE_URL whose keys need not look like OpenAI's.
    """
    where = (
        f"Add a line {name}=sk-proj-... to the .env file in the course folder "
        f"(copy .env.example to .env); create a key at {catalog.OPENAI.key_page}"
    )
    key = _check_hygiene(key, name, where)
    if not check_format:
        return key
    if key.startswith(catalog.ANTHROPIC_KEY_PREFIX):
        raise KeyProblem(
            f"{name} holds an Anthropic key (sk-ant-), which OpenAI does not accept: "
            f"create an OpenAI key at {catalog.OPENAI.key_page}.",
            "wrong_provider",
        )
    if key.startswith((catalog.GEMINI_STANDARD_PREFIX, catalog.GEMINI_AUTH_PREFIX)):
        raise KeyProblem(
            f"{name} holds a Google Gemini key: move it to "
            f"{catalog.GEMINI.key_vars[0]} and put your OpenAI key in {name}.",
            "wrong_provider",
        )
    if key.startswith(catalog.OPENAI_ADMIN_KEY_PREFIX):
        raise KeyProblem(
            f"{name} holds an OpenAI admin key (sk-admin-), which manages an "
            "organisation but cannot call models: create a project key (sk-proj-) "
            f"at {catalog.OPENAI.key_page}.",
            "admin_key",
        )
    if not key.startswith(catalog.OPENAI_KEY_PREFIXES):
        raise KeyProblem(
            f"{name} does not look like an OpenAI key: OpenAI keys start with "
            f"sk-proj-, sk-svcacct- or sk-. Copy it again from {catalog.OPENAI.key_page}.",
            "unknown_format",
        )
    if len(key) < catalog.OPENAI_KEY_MIN_LENGTH:
        raise KeyProblem(
            f"{name} looks cut off: it has {len(key)} characters and OpenAI keys have "
            f"at least {catalog.OPENAI_KEY_MIN_LENGTH}. Copy the whole key again.",
            "truncated",
        )
    return key


def validate_gemini_key(key: str | None, *, name: str = "GOOGLE_API_KEY") -> str:
    """Return `key` if it can be a Gemini key (AIza... or AQ....); raise `KeyProblem`."""
    where = (
        f"Add a line {name}=AIza... (or AQ....) to the .env file in the course folder "
        f"(copy .env.example to .env); create a key at {catalog.GEMINI.key_page}"
    )
    key = _check_hygiene(key, name, where)
    if key.startswith(catalog.ANTHROPIC_KEY_PREFIX):
        raise KeyProblem(
            f"{name} holds an Anthropic key (sk-ant-), which Gemini does not accept: "
            f"create a Gemini key at {catalog.GEMINI.key_page}.",
            "wrong_provider",
        )
    if key.startswith("sk-"):
        raise KeyProblem(
            f"{name} holds an OpenAI key: move it to {catalog.OPENAI.key_vars[0]} and "
            f"create a Gemini key at {catalog.GEMINI.key_page}.",
            "wrong_provider",
        )
    if key.startswith(catalog.GEMINI_STANDARD_PREFIX):
        expected = catalog.GEMINI_STANDARD_LENGTH
        if len(key) < expected:
            raise KeyProblem(
                f"{name} looks cut off: it has {len(key)} characters and keys starting "
                f"AIza have exactly {expected}. Copy the whole key again.",
                "truncated",
            )
        if len(key) > expected:
            raise KeyProblem(
                f"{name} is too long: it has {len(key)} characters and keys starting "
                f"AIza have exactly {expected}. Something extra was pasted with it.",
                "too_long",
            )
        return key
    if key.startswith(catalog.GEMINI_AUTH_PREFIX):
        if len(key) < catalog.GEMINI_AUTH_MIN_LENGTH:
            raise KeyProblem(
                f"{name} looks cut off: it has {len(key)} characters and keys starting "
                f"AQ. have at least {catalog.GEMINI_AUTH_MIN_LENGTH}. "
                "Copy the whole key again.",
                "truncated",
            )
        return key
    raise KeyProblem(
        f"{name} does not look like a Gemini key: keys from Google AI Studio start "
        f"with AIza or AQ. Copy it again from {catalog.GEMINI.key_page}.",
        "unknown_format",
    )


def validate_compatible_key(key: str | None, facts: catalog.ProviderFacts, *, name: str | None = None) -> str:
    """Return `key` if it can be a key for `facts`' provider (by its catalogue entry); raise `KeyProblem`.

    Every provider gets the hygiene rules; one whose key prefix is known also gets the
    prefix check, and a key that plainly belongs to another provider is named as such.
    """
    name = name or facts.key_vars[0]
    example = f"{facts.key_prefixes[0]}..." if facts.key_prefixes else "your-key"
    where = f"Add a line {name}={example} to the .env file in the course folder (copy .env.example to .env)"
    if facts.key_page:
        where += f"; create a key at {facts.key_page}"
    key = _check_hygiene(key, name, where)
    if not facts.key_prefixes or key.startswith(facts.key_prefixes):
        return key
    owner = next((label for prefix, label in _PREFIX_OWNERS if key.startswith(prefix)), None)
    fetch = f" from {facts.key_page}" if facts.key_page else " from the provider's page"
    if owner and owner != facts.label:
        raise KeyProblem(
            f"{name} holds a key from {owner}, which {facts.label} does not accept: copy yours{fetch}.",
            "wrong_provider",
        )
    starts = " or ".join(facts.key_prefixes)
    raise KeyProblem(
        f"{name} does not look like a {facts.label} key: they start with {starts}. Copy it again{fetch}.",
        "unknown_format",
    )
