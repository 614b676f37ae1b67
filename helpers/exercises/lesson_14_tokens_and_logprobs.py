"""Checkers for lesson 14: tokens and logprobs."""

from __future__ import annotations

import math

from ..parameters import request_options
from .practice import completions, recording_client
from .registry import exercise

_REVIEW = "The soup was cold and the waiter was rude."


def _reply(logprobs: list[tuple[str, float]]):
    """A ChatCompletion as OpenAI returns it with logprobs=True, for the tokens and logprobs given."""
    from openai.types.chat import ChatCompletion

    content = [
        {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": []}
        for token, logprob in logprobs
    ]
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-exercise",
            "object": "chat.completion",
            "created": 0,
            "model": "exercise",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "".join(token for token, _ in logprobs)},
                    "logprobs": {"content": content, "refusal": None},
                }
            ],
        }
    )


def _same(got, expected) -> bool:
    if not isinstance(got, list) or len(got) != len(expected):
        return False
    for pair, (token, probability) in zip(got, expected, strict=True):
        if not (isinstance(pair, tuple) and len(pair) == 2 and pair[0] == token):
            return False
        if not isinstance(pair[1], float) or not math.isclose(pair[1], probability, abs_tol=1e-9):
            return False
    return True


@exercise("14.1", "Each token with its probability", sends_requests=True)
def _check_probabilities(answer) -> str | None:
    # OpenAI's numbers first: a sure token (logprob 0) and one chosen one time in four.
    made_up = [("Yes", 0.0), (",", math.log(0.25))]
    got = answer(_reply(made_up))
    if not _same(got, [("Yes", 1.0), (",", 0.25)]):
        return (
            f"for logprobs 0.0 and {math.log(0.25):.4f} expected [('Yes', 1.0), (',', 0.25)], got {str(got)[:80]}: "
            "a probability is math.exp(logprob)."
        )
    client, exchanges, server = recording_client()
    response = client.chat.completions.create(
        model=server.model,
        messages=[{"role": "user", "content": "Name three colours."}],
        max_completion_tokens=12,
        **request_options(server.model, reasoning_effort="none", logprobs=True, top_logprobs=2).send,
    )
    tokens = completions(exchanges)[0].reply()["choices"][0]["logprobs"]["content"]
    expected = [(item["token"], math.exp(item["logprob"])) for item in tokens]
    got = answer(response)
    if not _same(got, expected):
        return f"expected {len(expected)} (token, probability) pairs, in the reply's order; got {str(got)[:80]}."
    return None


def _label_shares(top_logprobs: list[dict], labels: list[str]) -> tuple[str | None, float]:
    scores = dict.fromkeys(labels, 0.0)
    for alternative in top_logprobs:
        word = alternative["token"].strip().lower()
        for label in labels:
            if word and label.lower().startswith(word):
                scores[label] += math.exp(alternative["logprob"])
    total = sum(scores.values())
    if total == 0:
        return None, 0.0
    best = max(labels, key=lambda label: scores[label])
    return best, scores[best] / total


@exercise("14.2", "Classify with logprobs, and say how sure", sends_requests=True)
def _check_classify(answer) -> str | None:
    client, exchanges, server = recording_client()
    labels = ["positive", "negative"]
    got = answer(client, server.model, _REVIEW, labels)
    sent = completions(exchanges)
    if len(sent) != 1:
        return f"send exactly one request (you sent {len(sent)}): the probabilities come with the answer."
    request = sent[0].sent
    if request.get("logprobs") is not True or (request.get("top_logprobs") or 0) < 5:
        return "ask for logprobs=True and top_logprobs of at least 5: the labels you need are among the alternatives."
    limit = request.get("max_completion_tokens") or request.get("max_tokens")
    if not limit or limit > 5:
        return "the answer is one word: cap the reply at a token or two (max_completion_tokens=1)."
    if _REVIEW not in str(request.get("messages")):
        return "put the text to classify in the message."
    first = sent[0].reply()["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
    label, share = _label_shares(first, labels)
    if not (isinstance(got, tuple) and len(got) == 2):
        return "return a pair: (the most likely label, its share of the labels' probability)."
    if got[0] != label or not isinstance(got[1], float) or not math.isclose(got[1], share, abs_tol=1e-6):
        return (
            f"from the first token's alternatives expected ({label!r}, {share:.3f}), got {str(got)[:60]}: add up "
            "math.exp(logprob) of the alternatives that start each label (stripped, any case), then divide "
            "the best by the labels' total."
        )
    return None
