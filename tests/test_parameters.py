"""Parameter rules per model: what is sent with temperature and reasoning_effort, and what is left out."""

import json

import pytest
from fakes import CHAT_REPLY

from helpers import catalog
from helpers.parameters import accepts_sampling, model_rule, request_options

# One real model name per rule in catalog.MODEL_RULES (a new rule needs an example here).
EXAMPLES = {
    "gpt-6-luna": "gpt-6-luna",
    "gpt-6-sol": "gpt-6-sol",
    "gpt-5.": "gpt-5.4-mini",
    "gpt-5": "gpt-5-mini",
    "o1": "o1",
    "o3": "o3-mini",
    "o4": "o4-mini",
    "gpt-4": "gpt-4.1-mini",
    "gemini-3.5-flash-lite": "gemini-3.5-flash-lite",
    "gemini-3.6": "gemini-3.6-flash",
    "gemini-3": "gemini-3.5-flash",
    "gemini-2.5": "gemini-2.5-flash-lite",
    "llama": "llama3.2",
    "deepseek-r1": "deepseek-r1:1.5b",
    catalog.OFFLINE_MODEL: catalog.OFFLINE_MODEL,
}

# model -> (sent with reasoning_effort="none" and temperature=0.2, sent with only temperature=0.2)
EXPECTED = {
    "gpt-6-luna": ({"reasoning_effort": "none", "temperature": 0.2}, {}),
    "gpt-6-sol": ({"reasoning_effort": "none", "temperature": 0.2}, {}),
    "gpt-5.4-mini": ({"reasoning_effort": "none", "temperature": 0.2}, {}),
    "gpt-5-mini": ({}, {}),  # no "none" effort, never sampling
    "o1": ({}, {}),
    "o3-mini": ({}, {}),
    "o4-mini": ({}, {}),
    "gpt-4.1-mini": ({"temperature": 0.2}, {"temperature": 0.2}),  # no reasoning_effort at all
    "gemini-3.5-flash-lite": ({}, {}),  # ignores temperature; its efforts start at "minimal"
    "gemini-3.6-flash": ({}, {}),
    "gemini-3.5-flash": ({"temperature": 0.2}, {"temperature": 0.2}),
    "gemini-2.5-flash-lite": ({"reasoning_effort": "none", "temperature": 0.2}, {"temperature": 0.2}),
    "llama3.2": ({"temperature": 0.2}, {"temperature": 0.2}),
    "deepseek-r1:1.5b": ({"temperature": 0.2}, {"temperature": 0.2}),
    catalog.OFFLINE_MODEL: ({"reasoning_effort": "none", "temperature": 0.2}, {"temperature": 0.2}),
    "mystery-model": ({}, {}),  # unknown: the safe choice
}


def test_every_rule_has_an_example_and_an_expectation():
    assert sorted(EXAMPLES) == sorted(rule.prefix for rule in catalog.MODEL_RULES)
    for prefix, model in EXAMPLES.items():
        assert model_rule(model).prefix == prefix, model
        assert model in EXPECTED


def test_every_rule_cites_a_source_checked_in_2026():
    for rule in catalog.MODEL_RULES:
        assert rule.source.url and rule.source.checked.startswith("2026-"), rule
        assert rule.sampling in {"always", "effort-none", "never", "ignored"}, rule
        assert rule.tools in {"always", "effort-none"}, rule
        assert set(rule.efforts) <= set(catalog.REASONING_EFFORTS), rule
        assert rule.default_effort is None or rule.default_effort in rule.efforts, rule


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_what_is_sent_for_each_model(model, httpserver):
    """The request that reaches a (recording) server: temperature only where the model takes it."""
    from openai import OpenAI

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json(CHAT_REPLY)
    client = OpenAI(base_url=httpserver.url_for("/v1"), api_key="recorded", max_retries=0)
    with_none, plain = EXPECTED[model]
    for effort, expected in (("none", with_none), (None, plain)):
        options = request_options(model, reasoning_effort=effort, temperature=0.2, max_completion_tokens=50)
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **options.send)
        sent = json.loads(httpserver.log[-1][0].data)
        assert {k: sent[k] for k in ("reasoning_effort", "temperature") if k in sent} == expected, (model, effort)
        assert sent["max_completion_tokens"] == 50  # other parameters always pass
        assert set(options.left_out) == {"reasoning_effort", "temperature"} - set(expected) - (
            set() if effort else {"reasoning_effort"}
        )


def test_the_default_openai_model_takes_temperature_only_with_effort_none():
    model = catalog.OPENAI.model
    assert accepts_sampling(model, "none")
    assert not accepts_sampling(model)  # its default effort is medium
    assert not accepts_sampling(model, "low")


def test_a_left_out_parameter_is_explained_in_one_line():
    options = request_options(catalog.OPENAI.model, temperature=0.2)
    assert options.send == {}
    assert (
        options.explain()
        == f'temperature left out: {catalog.OPENAI.model} accepts it only with reasoning_effort="none"'
    )
    unknown = request_options("mystery-model", temperature=0.2)
    assert "not in catalog.MODEL_RULES" in unknown.explain() and unknown.rule is None


def test_gemini_model_names_from_its_models_list_match_too():
    assert model_rule("models/gemini-3.5-flash-lite").prefix == "gemini-3.5-flash-lite"


def test_tool_options_add_reasoning_effort_none_only_where_tools_need_it():
    from helpers.parameters import tool_options

    assert tool_options("gpt-6-luna") == {"reasoning_effort": "none"}
    assert tool_options(catalog.GEMINI.model) == {} and tool_options(catalog.OFFLINE_MODEL) == {}
    assert tool_options("some-unknown-model") == {}


@pytest.mark.parametrize(
    ("model", "name"),
    [("gpt-6-luna", "max_completion_tokens"), ("gemini-3.5-flash-lite", "max_completion_tokens"),
     ("llama3.2", "max_tokens"), ("deepseek-r1:1.5b", "max_tokens"), ("mystery-model", "max_completion_tokens")],
)  # fmt: skip
def test_the_reply_cap_goes_under_the_name_the_model_reads(model, name):
    """Ollama's /v1 reads max_tokens (catalog.OLLAMA_MAX_TOKENS_PARAMETER); OpenAI's reasoning models refuse it."""
    assert request_options(model, reply_tokens=300).send == {name: 300}
    assert request_options(model).send == {}  # no cap asked for, none sent
