"""The offline server's Files and Batch API (helpers/offline/batches.py), through the openai SDK.

A batch of chat requests goes through the whole life a learner sees with OpenAI: upload,
create, poll until completed, download the output and error files; cancel; list. Input
files OpenAI refuses fail the same way (a refused create, or a batch that fails with
`errors`). The shapes are checked against OpenAI's spec in test_offline_shapes.py.
"""

import io
import json
import time

import openai
import pytest
import requests
from fakes import fake_key

from helpers import catalog, local_server
from helpers.offline import batch_files

pytestmark = pytest.mark.server

MODEL = catalog.OFFLINE_MODEL


@pytest.fixture(scope="module")
def server():
    return local_server.start()


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0)


def line(custom_id, question="Name a fruit.", model=MODEL, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_completion_tokens": 8, **extra}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def jsonl(lines) -> bytes:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in lines).encode()


def upload(client, lines, name="requests.jsonl", purpose="batch"):
    return client.files.create(file=(name, io.BytesIO(jsonl(lines))), purpose=purpose)


def run(client, lines, timeout=300):
    """Upload `lines`, start a batch and poll it until it has finished; (batch, statuses seen)."""
    uploaded = upload(client, lines)
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    seen = [batch.status]
    deadline = time.monotonic() + timeout
    while batch.status not in ("completed", "failed", "cancelled", "expired") and time.monotonic() < deadline:
        time.sleep(0.3)
        batch = client.batches.retrieve(batch.id)
        if batch.status != seen[-1]:
            seen.append(batch.status)
    return batch, seen


def read_lines(client, file_id):
    return [json.loads(text) for text in client.files.content(file_id).text.splitlines()]


def test_a_batch_runs_to_completed_with_an_output_and_an_error_file(client):
    lines = [line("fruit"), line("colour", "Name a colour."), line("too-hot", temperature=5)]
    batch, seen = run(client, lines)
    assert batch.status == "completed", batch
    assert seen[0] == "validating" and seen[-1] == "completed"
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (3, 2, 1)
    assert batch.model == MODEL and batch.completed_at >= batch.created_at
    answered = {item["custom_id"]: item for item in read_lines(client, batch.output_file_id)}
    assert set(answered) == {"fruit", "colour"}
    reply = answered["fruit"]["response"]
    assert reply["status_code"] == 200 and reply["body"]["object"] == "chat.completion"
    assert reply["body"]["choices"][0]["finish_reason"] in ("stop", "length")
    assert batch.usage.input_tokens == sum(a["response"]["body"]["usage"]["prompt_tokens"] for a in answered.values())
    refused = read_lines(client, batch.error_file_id)
    assert [item["custom_id"] for item in refused] == ["too-hot"]
    assert refused[0]["response"]["status_code"] == 400  # the same refusal as a direct request with temperature 5
    assert refused[0]["response"]["body"]["error"]["param"] == "temperature"
    output = client.files.retrieve(batch.output_file_id)
    assert output.purpose == "batch_output" and output.bytes == len(client.files.content(output.id).content)


def test_a_cancelled_batch_keeps_what_was_answered(client):
    lines = [line(f"q{i}", "Write a long story about a lighthouse.", max_completion_tokens=200) for i in range(6)]
    uploaded = upload(client, lines)
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    deadline = time.monotonic() + 120
    while batch.status != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.3)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "cancelled" and batch.cancelled_at and batch.cancelling_at
    assert batch.request_counts.completed < 6
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)


def test_files_and_batches_are_listed_and_files_deleted(client):
    uploaded = upload(client, [line("one")])
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert uploaded.id in [f.id for f in client.files.list(purpose="batch")]
    assert batch.id in [b.id for b in client.batches.list(limit=100)]
    assert client.files.delete(uploaded.id).deleted
    with pytest.raises(openai.NotFoundError, match=uploaded.id):
        client.files.retrieve(uploaded.id)


REFUSED_AT_CREATE = [
    ({"endpoint": "/v1/nowhere"}, "endpoint"),
    ({"endpoint": "/v1/embeddings"}, "endpoint"),  # OpenAI's, but not served offline
    ({"completion_window": "1h"}, "completion_window"),
    ({"input_file_id": "file-missing"}, "input_file_id"),
]


@pytest.mark.parametrize(("change", "param"), REFUSED_AT_CREATE, ids=[p for _, p in REFUSED_AT_CREATE])
def test_a_create_openai_refuses_is_refused(client, change, param):
    uploaded = upload(client, [line("one")])
    arguments = {"input_file_id": uploaded.id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    with pytest.raises((openai.BadRequestError, openai.NotFoundError)) as caught:
        client.batches.create(**{**arguments, **change})
    assert caught.value.body["param"] == param


def test_a_file_of_another_purpose_is_not_a_batch(client):
    uploaded = upload(client, [line("one")], purpose="user_data")
    with pytest.raises(openai.BadRequestError, match="purpose"):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")


def test_an_upload_openai_refuses_is_refused(client):
    with pytest.raises(openai.BadRequestError, match="purpose"):
        upload(client, [line("one")], purpose="batches")
    with pytest.raises(openai.BadRequestError, match=r"\.jsonl"):
        upload(client, [line("one")], name="requests.json")


FAILING_FILES = {
    "invalid_json_line": [line("one"), "{not json"],
    "duplicate_custom_id": [line("one"), line("one")],
    "url_mismatch": [line("one"), {**line("two"), "url": "/v1/responses"}],
    "model_mismatch": [line("one"), line("two", model="gpt-6-luna")],
    "invalid_request": [line("one"), {**line("two"), "method": "GET"}],
}


@pytest.mark.parametrize("code", sorted(FAILING_FILES))
def test_a_file_openai_refuses_fails_the_batch(client, code):
    batch, _ = run(client, FAILING_FILES[code])
    assert batch.status == "failed" and batch.failed_at
    assert [(e.code, e.line) for e in batch.errors.data] == [(code, 2)]
    assert batch.output_file_id is None and batch.request_counts.total == 0


def test_an_empty_file_fails_the_batch(client):
    batch, _ = run(client, [])
    assert batch.status == "failed" and batch.errors.data[0].code == "empty_file"


def test_a_batch_under_openai_emulation_checks_each_line_by_openais_rules(server):
    base = server.base_url.removesuffix("/v1") + "/emulate/openai/v1"
    emulated = openai.OpenAI(base_url=base, api_key=fake_key("sk-proj-", 164), max_retries=0)
    # gpt-6-luna refuses a temperature other than 1 at its default reasoning effort (catalog.MODEL_RULES).
    batch, _ = run(emulated, [line("ok", model="gpt-6-luna"), line("hot", model="gpt-6-luna", temperature=0.2)])
    assert batch.status == "completed" and batch.model == "gpt-6-luna"
    (answer,) = read_lines(emulated, batch.output_file_id)
    assert answer["custom_id"] == "ok" and answer["response"]["body"]["model"] == "gpt-6-luna"
    (refusal,) = read_lines(emulated, batch.error_file_id)
    assert refusal["response"]["body"]["error"]["param"] == "temperature"


def test_the_routes_need_the_key_and_a_known_method(server):
    assert requests.get(server.base_url + "/files", timeout=10).status_code == 401
    headers = {"Authorization": f"Bearer {server.api_key}"}
    assert requests.put(server.base_url + "/batches", headers=headers, timeout=10).status_code == 404


def test_stored_files_stay_within_the_bound(monkeypatch):
    store = batch_files.FileStore()
    monkeypatch.setattr(batch_files, "MAX_STORED_BYTES", 100)
    for _ in range(5):
        store.store("a.jsonl", "batch", b"x" * 40)
    assert sum(f["meta"]["bytes"] for f in store.files.values()) <= 100
