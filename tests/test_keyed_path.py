"""What a learner with a key runs: every lesson, solution and the support assistant, under provider emulation.

The offline server answers by OpenAI's, Gemini's and Ollama's rules (helpers/offline/emulation.py),
and CHAT_TUTORIAL_EMULATE=all points every provider the lessons use there, with a key-shaped value,
as a learner with keys would be configured. Outputs are not compared (the plain offline run does
that); a run passes when no cell raises an error the lesson did not mean to show (cells tagged
`raises-exception`). Two tests show that it bites: solution 14.2 as it was fails under OpenAI's
rules, and a lesson whose client-side rule is removed from the catalogue fails.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import openai
import pytest
from exercises.cases import all_cases
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers import catalog, providers
from helpers.exercises import evaluate

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CASES = all_cases()  # every lesson's, from tests/exercises/


@pytest.fixture
def emulated(monkeypatch):
    """Every provider emulated, as for a learner with keys: no offline switch, key-shaped keys."""
    monkeypatch.delenv(catalog.OFFLINE_SWITCH_VAR, raising=False)
    monkeypatch.setenv(catalog.EMULATE_VAR, "all")


def run_notebook(path: Path, setup: str | None = None) -> None:
    """Execute a copy of the lesson; CellExecutionError if a cell not tagged raises-exception fails."""
    notebook = nbformat.read(path, as_version=4)
    if setup:
        notebook.cells.insert(0, nbformat.v4.new_code_cell(setup))
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_lesson_runs_clean_under_emulation(path, emulated):
    run_notebook(path)


@pytest.mark.parametrize("exercise_id", sorted(CASES))
def test_every_worked_solution_passes_under_openai_rules(exercise_id, emulated):
    right, _, given = CASES[exercise_id]
    passed, report = evaluate(exercise_id.split()[0], right(), **given)
    assert passed, report


def test_the_support_assistant_answers_under_each_provider(emulated, tmp_path):
    from support_assistant import db
    from support_assistant.assistant import SupportAssistant
    from support_assistant.tools import CustomerSession

    for name in ("openai", "gemini", "ollama"):
        settings = providers.provider_settings(name, quiet=True)
        assert settings.emulated
        client = providers.make_client(settings)
        connection = db.connect(db.create(tmp_path / f"{name}.db"))
        session = CustomerSession(connection, db.DEMO_CUSTOMER)
        assistant = SupportAssistant(client, settings.model, session, offline=False)
        events = list(assistant.respond("Where is my order 1025?"))
        events += list(assistant.respond("My order 1025 arrived broken. Please open a ticket.", assistant.turn))
        connection.close()
        assert [e for e in events if e[0] == "error"] == [], name  # the provider accepted every request
        assert events[-1][0] == "usage" and assistant.tally.requests >= 2, name


# --- It bites ---------------------------------------------------------------------------------


def classify_as_solution_14_2_was(client, model, text, labels):
    """Solution 14.2 before 2026-11-30: logprobs without reasoning_effort="none"."""
    question = f"{text}\nIs this {' or '.join(labels)}? Answer with one word."
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        max_completion_tokens=1,
        logprobs=True,
        top_logprobs=20,
    )
    scores = dict.fromkeys(labels, 0.0)
    for alternative in response.choices[0].logprobs.content[0].top_logprobs:
        word = alternative.token.strip().lower()
        for label in labels:
            if word and label.lower().startswith(word):
                scores[label] += math.exp(alternative.logprob)
    total = sum(scores.values())
    best = max(labels, key=lambda label: scores[label])
    return (best, scores[best] / total) if total else (None, 0.0)


def test_the_old_solution_14_2_passes_offline_but_fails_under_openai_rules(monkeypatch):
    passed, report = evaluate("14.2", classify_as_solution_14_2_was)
    assert passed, report  # the offline model takes logprobs with any reasoning_effort
    monkeypatch.setenv(catalog.EMULATE_VAR, "openai")
    passed, report = evaluate("14.2", classify_as_solution_14_2_was)
    assert not passed
    assert "logprobs" in report and "reasoning_effort" in report


# Lesson 9 sends reasoning_effort="none" with its tools because catalog.MODEL_RULES says gpt-6-luna calls
# functions in Chat Completions only then. A kernel whose catalogue forgot that rule leaves it out, and
# OpenAI's emulated 400 follows.
FORGET_THE_TOOLS_RULE = """
import dataclasses
from helpers import catalog
catalog.MODEL_RULES = tuple(
    dataclasses.replace(rule, tools="always") if rule.prefix == catalog.OPENAI.model else rule
    for rule in catalog.MODEL_RULES
)
"""


def test_a_lesson_fails_when_its_rule_is_removed_from_the_catalogue(emulated):
    lesson = ROOT / "notebooks" / "09_tool_calling.ipynb"
    with pytest.raises(CellExecutionError, match="reasoning_effort"):
        run_notebook(lesson, setup=FORGET_THE_TOOLS_RULE)


# --- What the emulator refuses, as each provider does -------------------------------------------


@pytest.fixture
def emulated_client(emulated):
    def client(name):
        settings = providers.provider_settings(name, quiet=True)
        return providers.make_client(settings).with_options(max_retries=0), settings.model

    return client


def test_openai_rules_refuse_sampling_and_tools_with_thinking_on(emulated_client):
    client, model = emulated_client("openai")
    ask = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 5}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**ask, temperature=0.2)
    assert refused.value.code == "unsupported_value" and refused.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as refused:  # out of the API's range: that error comes first
        client.chat.completions.create(**ask, temperature=2.5)
    assert refused.value.param == "temperature" and "2.5" in refused.value.message
    assert refused.value.code != "unsupported_value"
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**ask, logprobs=True)
    assert refused.value.param == "logprobs"
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**ask, reasoning_effort="minimal")
    assert refused.value.code == "unsupported_value" and refused.value.param == "reasoning_effort"
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**ask, tools=[tool])
    assert refused.value.param == "tools"
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=ask["messages"], max_tokens=5)
    assert refused.value.param == "max_tokens" and "max_completion_tokens" in refused.value.message
    reply = client.chat.completions.create(**ask, reasoning_effort="none", temperature=0.2, logprobs=True)
    assert reply.model == model and reply.choices[0].logprobs is not None


def test_openai_rules_name_unknown_and_retired_models_404(emulated_client):
    client, _ = emulated_client("openai")
    for model in ("gpt-7-imaginary", "gemini-3.5-flash-lite"):
        with pytest.raises(openai.NotFoundError) as missing:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
        assert missing.value.code == "model_not_found"
    assert [m.id for m in client.models.list()] == [catalog.OPENAI.model]


def test_openai_rules_refuse_a_malformed_key_with_401(emulated):
    settings = providers.provider_settings("openai", quiet=True)
    client = openai.OpenAI(base_url=settings.base_url, api_key="sk-typo", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        client.models.list()
    assert refused.value.code == "invalid_api_key" and "sk-typo" not in refused.value.message


def test_gemini_answers_in_its_own_error_shape_and_has_no_responses_api(emulated_client):
    client, model = emulated_client("gemini")
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hi"}], extra_body={"reasoning": {"effort": "low"}}
        )
    body = refused.value.response.json()
    assert isinstance(body, list) and body[0]["error"]["status"] == "INVALID_ARGUMENT"
    assert 'Unknown name "reasoning"' in body[0]["error"]["message"]
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=model, input="Hi")
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], temperature=0.3, max_completion_tokens=5
    )
    assert reply.model == model


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_gemini_signs_its_tool_calls_and_refuses_a_turn_sent_back_without_the_signature(emulated_client, stream):
    client, model = emulated_client("gemini")
    question = [{"role": "user", "content": "Weather in Oslo?"}]
    asked = dict(model=model, messages=question, tools=[WEATHER], tool_choice="required", max_completion_tokens=40)
    if stream:
        pieces = [c.choices[0].delta for c in client.chat.completions.create(**asked, stream=True) if c.choices]
        first = next(p.tool_calls[0] for p in pieces if p.tool_calls and p.tool_calls[0].id)
        call = {"id": first.id, "type": "function", "function": {"name": first.function.name, "arguments": "{}"}}
        call["extra_content"] = first.model_extra["extra_content"]
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    else:
        message = client.chat.completions.create(**asked).choices[0].message.model_dump(exclude_none=True)
    signature = message["tool_calls"][0]["extra_content"]["google"]["thought_signature"]
    assert signature
    result = {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": "12 C"}
    sent_back = client.chat.completions.create(model=model, messages=[*question, message, result])  # as it came
    assert sent_back.choices[0].finish_reason in ("stop", "length")
    rebuilt = {**message, "tool_calls": [{k: v for k, v in message["tool_calls"][0].items() if k != "extra_content"}]}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model=model, messages=[*question, rebuilt, result])
    assert "thought_signature" in refused.value.response.json()[0]["error"]["message"]
    later = [*question, rebuilt, result, {"role": "assistant", "content": "12 C."}, {"role": "user", "content": "Ok"}]
    client.chat.completions.create(model=model, messages=later)  # only the current turn is checked


def test_ollama_ignores_what_it_does_not_read_and_lists_its_models(emulated_client):
    client, model = emulated_client("ollama")
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hi"}], n=3, max_tokens=4, seed=1
    )
    assert len(reply.choices) == 1 and reply.model == model  # n is not read
    assert reply.usage.completion_tokens <= 4
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="qwen9", messages=[{"role": "user", "content": "Hi"}])
    assert "try pulling it first" in missing.value.message
    pulled = providers.ollama_models(str(client.base_url))
    assert pulled == ["llama3.2:latest", "deepseek-r1:1.5b", "llama3.2-vision:latest"]


def test_a_streamed_reply_names_the_emulated_model(emulated_client):
    client, model = emulated_client("openai")
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=5, stream=True
    )
    assert {chunk.model for chunk in stream} == {model}


def test_an_image_reaches_a_model_that_reads_images(emulated_client):
    client, model = emulated_client("openai")
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
        "rkJggg=="
    )
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": pixel}}]
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}], max_completion_tokens=5
    )
    assert reply.choices[0].finish_reason in ("stop", "length")


def test_a_responses_image_reaches_a_model_that_reads_images(emulated_client):
    client, model = emulated_client("openai")
    assert catalog.IMAGE_INPUT[model][0]
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
        "rkJggg=="
    )
    image = {"type": "input_image", "image_url": pixel, "detail": "auto"}
    content = [{"type": "input_text", "text": "What is this?"}, image]
    response = client.responses.create(model=model, input=[{"role": "user", "content": content}], max_output_tokens=16)
    assert response.status in ("completed", "incomplete") and response.model == model


def test_the_emulator_is_documented_in_the_catalogue():
    for name, facts in catalog.EMULATED_PROVIDERS.items():
        assert name in catalog.PROVIDERS and facts.source is not None and facts.source.checked
        assert "mulated" in facts.key_placeholder or facts.key_placeholder == catalog.OLLAMA_DUMMY_KEY
