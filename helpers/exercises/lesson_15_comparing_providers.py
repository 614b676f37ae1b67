"""Checkers for lesson 15: comparing providers."""

from __future__ import annotations

from .. import catalog
from .practice import completions, recording_client
from .registry import exercise


@exercise("15.1", "Find the cheapest model")
def _check_cheapest(answer) -> str | None:
    paid, local, cheaper = catalog.OPENAI.model, catalog.OLLAMA.model, catalog.GEMINI.model
    rows = [
        {"model": paid, "dollars": 0.00012},
        {"model": "mystery-model", "dollars": None},
        {"model": local, "dollars": 0.0},
        {"model": cheaper, "dollars": 0.00009},
    ]
    if (got := answer(rows)) != local:
        return f"expected {local!r} (a free local model is the cheapest) but got {got!r}."
    if (got := answer([rows[1], rows[0]])) != paid:
        return f"skip rows whose price is None; expected {paid!r} but got {got!r}."
    if (got := answer([rows[1]])) is not None:
        return f"with no known price at all, return None (got {got!r})."
    if (got := answer([])) is not None:
        return f"with no rows, return None (got {got!r})."
    return None


@exercise("15.2", "Measure more than once", sends_requests=True)
def _check_median_seconds(answer) -> str | None:
    import statistics

    client, exchanges, server = recording_client()
    prompt = [{"role": "user", "content": "In one sentence, why is the sky blue?"}]
    got = answer(client, server.model, prompt, 3)
    sent = completions(exchanges)
    if len(sent) != 3:
        return f"with runs=3, send the prompt 3 times (you sent {len(sent)})."
    if any(e.sent.get("messages") != prompt or e.sent.get("model") != server.model for e in sent):
        return "send the model and prompt you were given, unchanged, each time."
    if not isinstance(got, float):
        return f"return the median in seconds, as a float (got {type(got).__name__})."
    durations = sorted(e.finished - e.started for e in sent if e.finished is not None)
    if len(durations) != 3:
        return "read each response to the end before you stop its clock."
    if not durations[0] * 0.8 - 0.05 <= got <= durations[-1] * 1.2 + 0.05:
        return f"the 3 requests took {', '.join(f'{d:.2f}' for d in durations)} s; their median is not {got:.2f}."
    if (
        abs(got - statistics.median(durations)) > abs(got - statistics.mean(durations)) + 0.05
        and len(set(round(d, 2) for d in durations)) == 3
    ):
        return "return the median (statistics.median), not the mean: one slow outlier must not move it."
    return None
