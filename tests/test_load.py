"""A bounded load run on the offline server: 32 requests at once from 4 processes, all answered, none mixed up.

Correctness only; the speed figures go to BENCHMARKS.md (make bench).
"""

import pytest

from benchmarks import load
from helpers import local_server

pytestmark = pytest.mark.server


def test_every_request_is_answered_and_each_reply_belongs_to_its_request():
    server = local_server.start()
    result = load.run_load(server.base_url, server.api_key, server.model)
    assert result.problems == [], result.summary()
    assert [o.index for o in result.outcomes] == list(range(load.REQUESTS))
    assert {o.stream for o in result.outcomes} == {True, False}
    assert local_server.status().pid == server.pid  # the same process served them all


def test_the_checks_would_notice_a_swapped_reply():
    """The run's checks are not vacuous: two swapped replies, a lost one and a cut stream are all reported."""
    outcomes = [
        load.Outcome(
            i,
            stream=False,
            ok=True,
            reply_id=f"r{i}",
            prompt_tokens=30 + i,
            completion_tokens=8 + i,
            finish_reason="length",
        )
        for i in range(4)
    ]
    assert load.check(outcomes, 30, 4) == []
    outcomes[1].prompt_tokens, outcomes[2].prompt_tokens = outcomes[2].prompt_tokens, outcomes[1].prompt_tokens
    outcomes[3] = load.Outcome(3, stream=True, ok=True, reply_id="r3", completion_tokens=2, finish_reason=None)
    problems = load.check(outcomes[:3] + [outcomes[3]], 30, 5)
    assert any("request 1 got a reply for a prompt" in p for p in problems)
    assert any("request 2 got a reply for a prompt" in p for p in problems)
    assert any("without a finish reason" in p for p in problems)
    assert any("one outcome per request" in p for p in problems)
