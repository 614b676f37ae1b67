"""Rules for API keys: every accepted format passes, every common mistake names its fix."""

import pytest
from fakes import fake_key

from helpers import KeyProblem, mask_key, validate_gemini_key, validate_openai_key

OPENAI_PROJECT = fake_key("sk-proj-", 164)
OPENAI_SERVICE_ACCOUNT = fake_key("sk-svcacct-", 164)
OPENAI_LEGACY = fake_key("sk-", 51)
OPENAI_USER = fake_key("sk-None-", 56)
OPENAI_ADMIN = fake_key("sk-admin-", 164)
ANTHROPIC = fake_key("sk-ant-api03-", 108)
GEMINI_STANDARD = fake_key("AIza", 39)
GEMINI_AUTH = fake_key("AQ.Ab8RN6", 53, "aBc.D-e_F12")


@pytest.mark.parametrize("key", [OPENAI_PROJECT, OPENAI_SERVICE_ACCOUNT, OPENAI_LEGACY, OPENAI_USER])
def test_openai_accepts_every_current_format(key):
    assert validate_openai_key(key) == key


@pytest.mark.parametrize("key", [GEMINI_STANDARD, GEMINI_AUTH])
def test_gemini_accepts_standard_and_auth_keys(key):
    assert validate_gemini_key(key) == key


OPENAI_MISTAKES = [
    (None, "missing"),
    ("", "missing"),
    ("   ", "missing"),
    ("sk-proj-your-key-here", "placeholder"),
    ("sk-xxxxxxx", "placeholder"),
    (" " + OPENAI_PROJECT, "whitespace"),
    (OPENAI_PROJECT + "\n", "whitespace"),
    ('"' + OPENAI_PROJECT + '"', "quotes"),
    ("'" + OPENAI_PROJECT + "'", "quotes"),
    ("\u201c" + OPENAI_PROJECT + "\u201d", "quotes"),
    (OPENAI_PROJECT[:40] + " " + OPENAI_PROJECT[41:], "bad_characters"),
    (OPENAI_PROJECT[:40] + "\u00e9" + OPENAI_PROJECT[41:], "bad_characters"),
    (OPENAI_PROJECT[:40] + "\u2019" + OPENAI_PROJECT[41:], "bad_characters"),
    (GEMINI_STANDARD, "wrong_provider"),
    (GEMINI_AUTH, "wrong_provider"),
    (ANTHROPIC, "wrong_provider"),
    (OPENAI_ADMIN, "admin_key"),
    (OPENAI_PROJECT[:30], "truncated"),
    (OPENAI_LEGACY[:-1], "truncated"),
    (fake_key("pk-", 60), "unknown_format"),
]


@pytest.mark.parametrize(("key", "reason"), OPENAI_MISTAKES)
def test_openai_mistakes_are_named(key, reason):
    with pytest.raises(KeyProblem) as caught:
        validate_openai_key(key)
    assert caught.value.reason == reason
    assert "OPENAI_API_KEY" in str(caught.value)


GEMINI_MISTAKES = [
    (None, "missing"),
    ("AQ.your-key-here", "placeholder"),
    ("AIza-your-key-here", "placeholder"),
    ("\t" + GEMINI_STANDARD, "whitespace"),
    ("'" + GEMINI_STANDARD + "'", "quotes"),
    (GEMINI_STANDARD[:20] + " " + GEMINI_STANDARD[21:], "bad_characters"),
    (OPENAI_PROJECT, "wrong_provider"),
    (ANTHROPIC, "wrong_provider"),
    (GEMINI_STANDARD[:30], "truncated"),
    (GEMINI_STANDARD + "abc", "too_long"),
    (GEMINI_AUTH[:20], "truncated"),
    (fake_key("ya29.", 60), "unknown_format"),
]


@pytest.mark.parametrize(("key", "reason"), GEMINI_MISTAKES)
def test_gemini_mistakes_are_named(key, reason):
    with pytest.raises(KeyProblem) as caught:
        validate_gemini_key(key)
    assert caught.value.reason == reason


def test_messages_say_where_the_key_goes():
    with pytest.raises(KeyProblem, match=r"\.env"):
        validate_openai_key(None)
    with pytest.raises(KeyProblem, match="GOOGLE_API_KEY"):
        validate_openai_key(GEMINI_STANDARD)
    with pytest.raises(KeyProblem, match="OPENAI_API_KEY"):
        validate_gemini_key(OPENAI_PROJECT)


def test_the_slot_name_appears_in_the_message():
    with pytest.raises(KeyProblem, match="GEMINI_API_KEY"):
        validate_gemini_key("", name="GEMINI_API_KEY")


@pytest.mark.parametrize("key", [k for k, _ in OPENAI_MISTAKES + GEMINI_MISTAKES if k and len(k.strip()) > 12])
def test_no_message_or_repr_contains_the_key(key):
    for validate in (validate_openai_key, validate_gemini_key):
        try:
            validate(key)
        except KeyProblem as problem:
            shown = str(problem) + repr(problem) + str(problem.args)
            assert key.strip().strip("\"'\u201c\u201d") not in shown
            assert key.strip()[8:-4] not in shown


def test_class_server_keys_skip_format_rules_but_not_hygiene():
    assert validate_openai_key("classroom-student-17", check_format=False) == "classroom-student-17"
    with pytest.raises(KeyProblem) as caught:
        validate_openai_key(" classroom-student-17", check_format=False)
    assert caught.value.reason == "whitespace"


def test_key_problem_is_a_value_error():
    assert issubclass(KeyProblem, ValueError)


@pytest.mark.parametrize(
    ("key", "prefix"),
    [
        (OPENAI_PROJECT, "sk-proj-"),
        (OPENAI_SERVICE_ACCOUNT, "sk-svcacct-"),
        (OPENAI_LEGACY, "sk-"),
        (GEMINI_STANDARD, "AIza"),
        (GEMINI_AUTH, "AQ."),
    ],
)
def test_mask_shows_at_most_prefix_and_last_four(key, prefix):
    masked = mask_key(key)
    assert masked == f"{prefix}...{key[-4:]}"
    assert key[len(prefix) : -4] not in masked


def test_mask_hides_short_values_entirely():
    assert mask_key("practice-key") == "..."
    assert mask_key("sk-proj-abc") == "sk-proj-..."
    assert mask_key(None) == "(none)"
