"""X-Practice-Fail: the offline server fails on request, so 429/5xx and retries can be shown for real."""

import uuid

import openai
import pytest

from helpers import catalog, local_server
from helpers.offline.practice_faults import PracticeFailureHeaderError, parse

MESSAGES = [{"role": "user", "content": "Say hi"}]


@pytest.fixture(scope="module")
def practice():
    server = local_server.start()
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=60)


def test_parse():
    assert parse("503") == (503, None, None)
    assert parse("429; times=2; id=abc") == (429, 2, "abc")


@pytest.mark.parametrize(
    "value",
    ["teapot", "418", "429; times=2", "503; colour=red", "429; times=-1; id=x", "503; code=credit_balance_exhausted"],
)
def test_parse_refuses_what_it_does_not_understand(value):
    with pytest.raises(PracticeFailureHeaderError):
        parse(value)


@pytest.mark.parametrize(
    ("status", "exception"),
    [(429, openai.RateLimitError), (500, openai.InternalServerError), (503, openai.InternalServerError)],
)
def test_the_sdk_raises_the_matching_exception(practice, status, exception):
    with pytest.raises(exception) as caught:
        practice.chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=MESSAGES, extra_headers={"X-Practice-Fail": str(status)}
        )
    assert caught.value.status_code == status
    assert "X-Practice-Fail" in caught.value.message


def test_the_sdk_retries_until_the_failures_run_out(practice):
    raw = practice.with_options(max_retries=3).chat.completions.with_raw_response.create(
        model=catalog.OFFLINE_MODEL,
        messages=MESSAGES,
        max_completion_tokens=5,
        extra_headers={"X-Practice-Fail": f"503; times=2; id={uuid.uuid4().hex}"},
    )
    assert raw.retries_taken == 2
    assert raw.parse().choices[0].message.role == "assistant"


def test_a_bad_header_is_a_400_that_says_why(practice):
    with pytest.raises(openai.BadRequestError, match="X-Practice-Fail"):
        practice.chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=MESSAGES, extra_headers={"X-Practice-Fail": "418"}
        )


def test_failures_come_after_the_key_check(practice):
    stranger = practice.with_options(api_key="not-a-real-key")
    with pytest.raises(openai.AuthenticationError):
        stranger.chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=MESSAGES, extra_headers={"X-Practice-Fail": "503"}
        )


def test_a_billing_failure_is_a_429_of_type_insufficient_quota(practice):
    """OpenAI's empty-balance error: same status as a rate limit, different type, and a code that says why."""
    with pytest.raises(openai.RateLimitError) as caught:
        practice.chat.completions.create(
            model=catalog.OFFLINE_MODEL,
            messages=MESSAGES,
            extra_headers={"X-Practice-Fail": "429; code=project_spend_limit_exceeded"},
        )
    assert caught.value.status_code == 429
    assert (caught.value.type, caught.value.code) == ("insufficient_quota", "project_spend_limit_exceeded")


def test_a_plain_429_is_a_rate_limit(practice):
    with pytest.raises(openai.RateLimitError) as caught:
        practice.chat.completions.create(
            model=catalog.OFFLINE_MODEL, messages=MESSAGES, extra_headers={"X-Practice-Fail": "429"}
        )
    assert (caught.value.type, caught.value.code) == ("requests", "rate_limit_exceeded")
