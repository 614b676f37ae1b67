"""Which request parameters a model accepts, from the rules in `catalog.MODEL_RULES`.

`request_options("gpt-6-luna", reasoning_effort="none", temperature=0.2)` returns the
keyword arguments to send: here both, because gpt-6-luna takes `temperature` only with
reasoning_effort="none". For a model that refuses a parameter it is left out, and
`explain` says why in one line. A model the table does not know gets the safe choice
(no sampling parameters, no reasoning_effort) and a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog


@dataclass(frozen=True)
class Options:
    """What to send for one request, and what was left out and why."""

    send: dict
    left_out: dict  # parameter -> the one-line reason
    rule: catalog.ModelRule | None  # None: a model the catalogue does not know

    def explain(self) -> str:
        return "; ".join(f"{name} left out: {why}" for name, why in self.left_out.items())


def model_rule(model: str) -> catalog.ModelRule | None:
    """The rule for `model` (a name such as "gpt-6-luna" or "models/gemini-3.5-flash-lite"), or None."""
    name = model.removeprefix("models/")
    for rule in catalog.MODEL_RULES:
        if name.startswith(rule.prefix):
            return rule
    return None


def accepts_sampling(model: str, reasoning_effort: str | None = None) -> bool:
    """Whether `temperature`, `top_p` and `logprobs` take effect on `model` at this reasoning_effort."""
    rule = model_rule(model)
    if rule is None:
        return False
    if rule.sampling == "always":
        return True
    if rule.sampling == "effort-none":
        return (reasoning_effort or rule.default_effort) == "none"
    return False  # "never" (a 400) or "ignored" (no effect)


def request_options(
    model: str, *, reasoning_effort: str | None = None, reply_tokens: int | None = None, **wanted
) -> Options:
    """The parameters out of `wanted` (and `reasoning_effort`) that `model` accepts.

    `reply_tokens` caps the reply under the name the model reads: max_completion_tokens, or
    max_tokens for Ollama's models (`max_tokens_parameter`).
    """
    rule = model_rule(model)
    send, left_out = {}, {}
    if reply_tokens is not None:
        send[max_tokens_parameter(model)] = reply_tokens
    if reasoning_effort is not None:
        if rule is None:
            left_out["reasoning_effort"] = f"{model} is not in catalog.MODEL_RULES, so it is not sent"
        elif reasoning_effort not in rule.efforts:
            takes = ", ".join(rule.efforts) if rule.efforts else "no reasoning_effort at all"
            left_out["reasoning_effort"] = f"{model} takes {takes}"
        else:
            send["reasoning_effort"] = reasoning_effort
    effort = send.get("reasoning_effort")
    for name, value in wanted.items():
        if name not in catalog.SAMPLING_PARAMETERS:
            send[name] = value
        elif accepts_sampling(model, effort):
            send[name] = value
        else:
            left_out[name] = _why_not(model, rule)
    return Options(send, left_out, rule)


def max_tokens_parameter(model: str) -> str:
    """The parameter that caps `model`'s reply: the catalogue's word, max_completion_tokens where it has none."""
    rule = model_rule(model)
    return rule.max_tokens_parameter if rule is not None else "max_completion_tokens"


def _why_not(model: str, rule: catalog.ModelRule | None) -> str:
    if rule is None:
        return f"{model} is not in catalog.MODEL_RULES (the safe choice is to leave it out)"
    if rule.sampling == "effort-none":
        return f'{model} accepts it only with reasoning_effort="none"'
    if rule.sampling == "ignored":
        return f"{model} ignores it"
    return f"{model} refuses it"


def tool_options(model: str) -> dict:
    """What a request with function tools must add for `model`: reasoning_effort="none" where tools need it.

    gpt-6-luna calls functions in Chat Completions only with reasoning_effort="none" (catalog.MODEL_RULES).
    """
    rule = model_rule(model)
    return {"reasoning_effort": "none"} if rule is not None and rule.tools == "effort-none" else {}
