"""Running one batch in the background (batches.py): validate its input file, answer each line, store the results.

validating (the whole file is read; a bad line fails the batch with `errors`) ->
in_progress (one line at a time, each admitted and served as a direct request is:
gate.py, chat.py; under /emulate/openai/ first checked by OpenAI's rules for its model,
provider_rules.py) -> finalizing -> completed, with an output file (answered lines) and
an error file (refused lines). A cancel stops the line being written.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time

from .. import catalog
from . import provider_rules
from .asgi import CLIENT_GONE
from .errors import invalid_request
from .failures import describe
from .inner import CHAT_PATH

FINISHED = ("completed", "failed", "expired", "cancelled")


def finish(batch: dict, status: str, errors=None):
    batch["status"] = status
    batch[f"{status}_at"] = int(time.time())
    batch.pop("_data", None)
    if errors:
        batch["errors"] = {"object": "list", "data": errors}


class BatchRunner:
    """Runs batches through one front's admission (`gate`) and chat serving (`chat`), into its `files`."""

    def __init__(self, gate, chat, files):
        self.gate, self.chat, self.files = gate, chat, files

    async def run(self, batch: dict, scope: dict):
        CLIENT_GONE.set(batch["_stop"])  # this task's own copy of the context: a cancel stops the reply
        try:
            lines, errors = validate(batch.pop("_data"), batch["endpoint"])
            if errors:
                return finish(batch, "failed", errors=errors)
            batch["request_counts"]["total"] = len(lines)
            batch["model"] = lines[0]["body"].get("model")
            if batch["status"] == "validating":
                batch["status"], batch["in_progress_at"] = "in_progress", int(time.time())
            answered, refused, usage = await self._answer_all(batch, scope, lines)
            if batch["status"] == "in_progress":
                batch["status"], batch["finalizing_at"] = "finalizing", int(time.time())
            for name, results in (("output", answered), ("error", refused)):
                if results:
                    data = "".join(json.dumps(r) + "\n" for r in results).encode()
                    stored = self.files.store(f"{batch['id']}_{name}.jsonl", "batch_output", data)
                    batch[f"{name}_file_id"] = stored["id"]
            batch["usage"] = {
                "input_tokens": usage["input_tokens"],
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": usage["output_tokens"],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": usage["input_tokens"] + usage["output_tokens"],
            }
            finish(batch, "cancelled" if batch["status"] == "cancelling" else "completed")
        except Exception as error:  # noqa: BLE001 - a batch that breaks says so instead of hanging
            describe(error, {}, scope)  # logs it
            message = "The offline practice server failed while running this batch; its log file says why."
            finish(batch, "failed", errors=[{"code": "server_error", "message": message}])

    async def _answer_all(self, batch: dict, scope: dict, lines: list):
        """(results answered, results refused, tokens used), counted in the batch's request_counts as they come."""
        answered, refused = [], []
        usage = {"input_tokens": 0, "output_tokens": 0}
        for line in lines:
            if batch["_stop"].is_set():
                break
            status, body = await self._answer(batch, scope, line)
            if batch["_stop"].is_set():
                break  # cut short by the cancel: not counted, as the reply is not whole
            request_id = f"req_{secrets.token_hex(16)}"
            result = {
                "id": f"batch_req_{secrets.token_hex(12)}",
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": request_id, "body": body},
                "error": None,
            }
            (answered if status == 200 else refused).append(result)
            batch["request_counts"]["completed" if status == 200 else "failed"] += 1
            if status == 200:
                usage["input_tokens"] += body["usage"]["prompt_tokens"]
                usage["output_tokens"] += body["usage"]["completion_tokens"]
        return answered, refused, usage

    async def _answer(self, batch: dict, scope: dict, line: dict):
        """(status, body) of one line's request, served as the front serves a direct one."""
        body = dict(line["body"])
        model = body.get("model")
        provider = batch["_provider"]
        if provider:
            try:
                rule = provider_rules.check_model(provider, model)
                provider_rules.check_chat(provider, body, rule)
                body = provider_rules.rewrite_chat(provider, body, rule)
            except provider_rules.Refusal as refusal:
                return refusal.status, provider_rules.provider_error(provider, refusal.status, refusal.body)
        status, problem, body = self.gate.admit(CHAT_PATH, body)
        if problem:
            return status, problem
        got = {"status": 500, "body": b"", "reply": None}

        async def collect(message):
            if message["type"] == "http.response.start":
                got["status"] = message["status"]
            elif message["type"] == "http.response.body":
                got["body"] += message.get("body", b"")

        async def keep(reply):
            got["reply"] = reply

        async def until_cancelled():
            while not batch["_stop"].is_set():
                await asyncio.sleep(0.2)
            return {"type": "http.disconnect"}

        headers = [(k, v) for k, v in scope["headers"] if k in (b"authorization", b"host")]
        inner = dict(scope, method="POST", path=CHAT_PATH, raw_path=CHAT_PATH.encode(), headers=headers)
        inner["query_string"] = b""
        await self.chat.chat(inner, until_cancelled, collect, body, reply_sink=keep)
        if got["reply"] is not None:
            got["reply"]["model"] = model  # the model the line named (under emulation, the provider's)
            return 200, got["reply"]
        try:
            return got["status"], json.loads(got["body"])
        except ValueError:
            return got["status"], invalid_request(got["body"].decode(errors="replace")[:300])


def validate(data: bytes, endpoint: str):
    """(lines, []) for an input file a batch can run, else ([], the BatchErrors that fail it)."""
    errors, lines, seen, models = [], [], set(), set()

    def fail(code, message, number, param=None):
        errors.append({"code": code, "message": message, "param": param, "line": number})

    text = data.decode("utf-8", errors="replace")
    numbered = [(n, t) for n, t in enumerate(text.splitlines(), start=1) if t.strip()]
    if not numbered:
        fail("empty_file", "The input file is empty: it holds no requests.", None)
    if len(numbered) > catalog.BATCH_MAX_REQUESTS:
        most = catalog.BATCH_MAX_REQUESTS
        message = f"The input file holds {len(numbered):,} requests; a batch takes up to {most:,}."
        fail("too_many_tasks", message, None)
    for number, text_line in numbered if not errors else []:
        try:
            line = json.loads(text_line)
        except ValueError:
            fail("invalid_json_line", "This line is not parseable as valid JSON.", number)
            continue
        if not isinstance(line, dict):
            fail("invalid_json_line", "This line is not a JSON object.", number)
            continue
        missing = [name for name in ("custom_id", "method", "url", "body") if name not in line]
        if missing:
            fail("invalid_request", f"This line has no {missing[0]!r}.", number, missing[0])
            continue
        if not isinstance(line["custom_id"], str) or not isinstance(line["body"], dict):
            param = "custom_id" if not isinstance(line["custom_id"], str) else "body"
            fail("invalid_request", f"'{param}' must be a string (custom_id) or an object (body).", number, param)
            continue
        if line["method"] != "POST":
            fail("invalid_request", f"The method is {line['method']!r}; batch requests use 'POST'.", number, "method")
            continue
        if line["url"] != endpoint:
            message = f"The url {line['url']!r} does not match the batch's endpoint {endpoint!r}."
            fail("url_mismatch", message, number, "url")
            continue
        if line["custom_id"] in seen:
            fail("duplicate_custom_id", f"The custom_id {line['custom_id']!r} is used more than once.", number)
            continue
        seen.add(line["custom_id"])
        model = line["body"].get("model")
        if models and model not in models:
            message = f"This line's model {model!r} differs from the first line's; a batch uses one model."
            fail("model_mismatch", message, number, "body.model")
            continue
        models.add(model)
        lines.append(line)
    return ([], errors) if errors else (lines, [])
