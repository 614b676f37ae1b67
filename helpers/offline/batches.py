"""The Files and Batch API offline: upload a JSONL file of chat requests, run it as a batch, download the answers.

Served by the guard (guard.py routes /v1/files... and /v1/batches... here) with the
shapes of OpenAI's OpenAPI specification (`OpenAIFile`, `Batch`, `ListFilesResponse`,
`ListBatchesResponse`, `DeleteFileResponse`; tests/test_offline_shapes.py checks them):

- `POST /v1/files` (multipart: `file`, `purpose`), `GET /v1/files`, `GET /v1/files/{id}`,
  `GET /v1/files/{id}/content`, `DELETE /v1/files/{id}`;
- `POST /v1/batches` (`input_file_id`, `endpoint` "/v1/chat/completions", `completion_window`
  "24h"), `GET /v1/batches`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`.

A batch runs in the background, in the server's event loop: validating (the whole file is
read; a bad line fails the batch with `errors`, as OpenAI does) -> in_progress (one line at
a time, each through the guard's own chat path, so its checks, defaults and reply shape are
those of a direct request; under /emulate/openai/ each line is first checked by OpenAI's
rules for its model, as emulation.py does for a direct request) -> finalizing -> completed,
with an output file (answered lines) and an error file (refused lines). A cancel stops the
line being written: cancelling -> cancelled, with what was answered so far.

Storage is this process's memory: files and batches go when the server stops (the Batch API
is for answers that can wait, not for keeping them). It is bounded: at most
`MAX_STORED_BYTES` of files (the oldest not used by an unfinished batch make room) and the
`MAX_BATCHES` newest batches.

Error codes: the validation codes `invalid_json_line`, `duplicate_custom_id`, `url_mismatch`,
`model_mismatch`, `empty_file` and `too_many_tasks` are OpenAI's as quoted by
github.com/stdapi-ai/stdapi.ai issue 240 (not found on OpenAI's own pages); the wording of the
messages, and `invalid_request` for a line without its fields, are this server's own.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import secrets
import threading
import time
import urllib.parse

from .. import catalog
from . import emulation
from .asgi import CLIENT_GONE, read_body
from .errors import error_body, invalid_request, send_json

FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")  # CreateFileRequest's enum
BATCH_ENDPOINTS = (  # CreateBatchRequest's enum; this server runs the first one only
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
SERVED_ENDPOINT = "/v1/chat/completions"
MAX_FILE_BYTES = 8 * 1024 * 1024  # this server's limit for one upload (OpenAI's: catalog.BATCH_MAX_FILE_MB)
MAX_STORED_BYTES = 64 * 1024 * 1024  # all files together, outputs included
MAX_BATCHES = 100
EMULATED_HEADER = b"x-emulated-provider"  # set by emulation.py on a request under /emulate/<provider>/
_FINISHED = ("completed", "failed", "expired", "cancelled")


def handles(path: str) -> bool:
    """Whether `path` belongs to the Files or Batch API (served by BatchAPI)."""
    return path in ("/v1/files", "/v1/batches") or path.startswith(("/v1/files/", "/v1/batches/"))


def _not_found(kind: str, object_id: str, param: str) -> dict:
    return invalid_request(f"No such {kind} object: {object_id}", param)


def _missing(name: str) -> dict:
    return invalid_request(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")


class BatchAPI:
    """The files and batches of one server, and the tasks that run the batches."""

    def __init__(self, guard):
        self.guard = guard
        self.files: dict[str, dict] = {}  # id -> {"meta": OpenAIFile, "data": bytes}
        self.batches: dict[str, dict] = {}  # id -> Batch (+ private keys starting with "_")
        self.tasks: dict[str, asyncio.Task] = {}

    # --- Routing ------------------------------------------------------------------

    async def serve(self, scope, receive, send, path: str, method: str):
        parts = path.split("/")[2:]  # ["files", id, "content"] or ["batches", id, "cancel"]
        kind, object_id, action = (parts + [None, None])[:3]
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode())
        route = (kind, method, object_id is not None, action)
        handlers = {
            ("files", "POST", False, None): lambda: self.upload(scope, receive),
            ("files", "GET", False, None): lambda: self.list_files(query),
            ("files", "GET", True, None): lambda: self.retrieve_file(object_id),
            ("files", "DELETE", True, None): lambda: self.delete_file(object_id),
            ("batches", "POST", False, None): lambda: self.create(scope, receive),
            ("batches", "GET", False, None): lambda: self.list_batches(query),
            ("batches", "GET", True, None): lambda: self.retrieve(object_id),
            ("batches", "POST", True, "cancel"): lambda: self.cancel(object_id),
        }
        if route == ("files", "GET", True, "content"):
            return await self.send_content(send, object_id)
        handler = handlers.get(route) if len(parts) <= 3 else None
        if handler is None:
            message = f"Invalid URL ({method} {scope['path']})"
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        status, body = await handler()
        return await send_json(send, status, body)

    # --- Files --------------------------------------------------------------------

    async def upload(self, scope, receive):
        raw = await read_body(receive)
        content_type = dict(scope["headers"]).get(b"content-type", b"")
        if not content_type.startswith(b"multipart/form-data"):
            message = "Files are uploaded as multipart/form-data, with the fields 'file' and 'purpose'."
            return 400, invalid_request(message)
        fields, upload = _parse_form(content_type, raw)
        purpose = fields.get("purpose")
        for name, value in (("file", upload), ("purpose", purpose)):
            if value is None:
                return 400, _missing(name)
        if purpose not in FILE_PURPOSES:
            allowed = ", ".join(f"'{p}'" for p in FILE_PURPOSES)
            message = f"Invalid value for 'purpose': {purpose!r}. Supported values are: {allowed}."
            return 400, invalid_request(message, "purpose", "invalid_value")
        filename, data = upload
        if purpose == "batch" and not filename.endswith(".jsonl"):
            message = f"Invalid file format for Batch API. Must be .jsonl, not {filename!r}."
            return 400, invalid_request(message, "file", "invalid_file_format")
        if len(data) > MAX_FILE_BYTES:
            message = (
                f"The file is {len(data):,} bytes; the offline practice server takes files up to "
                f"{MAX_FILE_BYTES:,} bytes (OpenAI's Batch API: {catalog.BATCH_MAX_FILE_MB} MB)."
            )
            return 400, invalid_request(message, "file", "file_too_large")
        return 200, self._store(filename, purpose, data)

    def _store(self, filename: str, purpose: str, data: bytes) -> dict:
        self._make_room(len(data))
        now = int(time.time())
        meta = {
            "id": f"file-{secrets.token_hex(12)}",
            "object": "file",
            "bytes": len(data),
            "created_at": now,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        if purpose in ("batch", "batch_output"):
            meta["expires_at"] = now + catalog.BATCH_FILE_EXPIRY_DAYS * 24 * 3600
        self.files[meta["id"]] = {"meta": meta, "data": data}
        return meta

    def _make_room(self, needed: int) -> None:
        """Drop the oldest files no unfinished batch reads, until `needed` more bytes fit in MAX_STORED_BYTES."""
        in_use = {b["input_file_id"] for b in self.batches.values() if b["status"] not in _FINISHED}
        stored = sum(f["meta"]["bytes"] for f in self.files.values())
        for file_id in sorted(self.files, key=lambda i: self.files[i]["meta"]["created_at"]):
            if stored + needed <= MAX_STORED_BYTES:
                break
            if file_id not in in_use:
                stored -= self.files.pop(file_id)["meta"]["bytes"]

    async def list_files(self, query):
        purpose = (query.get("purpose") or [None])[0]
        order = (query.get("order") or ["desc"])[0]
        metas = [f["meta"] for f in self.files.values() if purpose in (None, f["meta"]["purpose"])]
        metas.sort(key=lambda m: m["created_at"], reverse=order != "asc")
        page, has_more = _page(metas, query, default_limit=10_000)
        first, last = (page[0]["id"], page[-1]["id"]) if page else (None, None)
        return 200, {"object": "list", "data": page, "first_id": first, "last_id": last, "has_more": has_more}

    async def retrieve_file(self, file_id):
        if file_id not in self.files:
            return 404, _not_found("File", file_id, "file_id")
        return 200, self.files[file_id]["meta"]

    async def delete_file(self, file_id):
        if file_id not in self.files:
            return 404, _not_found("File", file_id, "file_id")
        del self.files[file_id]
        return 200, {"id": file_id, "object": "file", "deleted": True}

    async def send_content(self, send, file_id):
        if file_id not in self.files:
            return await send_json(send, 404, _not_found("File", file_id, "file_id"))
        data = self.files[file_id]["data"]
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    # --- Batches ------------------------------------------------------------------

    async def create(self, scope, receive):
        status, problem, body = self.guard.parse_body(await read_body(receive))
        if problem:
            return status, problem
        for name in ("input_file_id", "endpoint", "completion_window"):
            if name not in body:
                return 400, _missing(name)
        if body["endpoint"] not in BATCH_ENDPOINTS:
            allowed = ", ".join(f"'{e}'" for e in BATCH_ENDPOINTS)
            message = f"Invalid value for 'endpoint': {body['endpoint']!r}. Supported values are: {allowed}."
            return 400, invalid_request(message, "endpoint", "invalid_value")
        if body["endpoint"] != SERVED_ENDPOINT:
            message = (
                f"The offline practice server runs batches of {SERVED_ENDPOINT} requests only, "
                f"not {body['endpoint']!r}."
            )
            return 400, invalid_request(message, "endpoint", "unsupported_value")
        if body["completion_window"] != catalog.BATCH_COMPLETION_WINDOW:
            message = (
                f"Invalid value for 'completion_window': {body['completion_window']!r}. "
                f"Supported values are: '{catalog.BATCH_COMPLETION_WINDOW}'."
            )
            return 400, invalid_request(message, "completion_window", "invalid_value")
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            return 404, _not_found("File", body["input_file_id"], "input_file_id")
        if stored["meta"]["purpose"] != "batch":
            message = (
                f"The file {body['input_file_id']} has purpose {stored['meta']['purpose']!r}; "
                "a batch reads files uploaded with purpose 'batch'."
            )
            return 400, invalid_request(message, "input_file_id", "invalid_value")
        metadata = body.get("metadata")
        if metadata is not None and not (isinstance(metadata, dict) and len(metadata) <= 16):
            message = "Invalid 'metadata': expected an object of up to 16 string keys and values."
            return 400, invalid_request(message, "metadata", "invalid_value")
        now = int(time.time())
        batch = {
            "id": f"batch_{secrets.token_hex(12)}",
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "status": "validating",
            "created_at": now,
            "expires_at": now + 24 * 3600,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": metadata,
            "model": None,
            "_data": stored["data"],
            "_provider": dict(scope["headers"]).get(EMULATED_HEADER, b"").decode() or None,
            "_stop": threading.Event(),
        }
        self._forget_old_batches()
        self.batches[batch["id"]] = batch
        self.tasks[batch["id"]] = asyncio.get_running_loop().create_task(self._run(batch, scope))
        return 200, _public(batch)

    def _forget_old_batches(self) -> None:
        finished = sorted((b for b in self.batches.values() if b["status"] in _FINISHED), key=lambda b: b["created_at"])
        for batch in finished[: max(0, len(self.batches) + 1 - MAX_BATCHES)]:
            del self.batches[batch["id"]]

    async def list_batches(self, query):
        batches = sorted(self.batches.values(), key=lambda b: b["created_at"], reverse=True)
        page, has_more = _page([_public(b) for b in batches], query, default_limit=20, most=100)
        body = {"object": "list", "data": page, "has_more": has_more}
        if page:
            body.update(first_id=page[0]["id"], last_id=page[-1]["id"])
        return 200, body

    async def retrieve(self, batch_id):
        if batch_id not in self.batches:
            return 404, _not_found("Batch", batch_id, "batch_id")
        return 200, _public(self.batches[batch_id])

    async def cancel(self, batch_id):
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, _not_found("Batch", batch_id, "batch_id")
        if batch["status"] in _FINISHED:
            message = f"Cannot cancel a batch with status '{batch['status']}'."
            return 409, invalid_request(message, None, "batch_not_cancellable")
        if batch["status"] != "cancelling":
            batch["status"], batch["cancelling_at"] = "cancelling", int(time.time())
            batch["_stop"].set()  # stops the line being written (app.py reads it as CLIENT_GONE)
        return 200, _public(batch)

    # --- Running a batch in the background -------------------------------------------

    async def _run(self, batch: dict, scope: dict):
        CLIENT_GONE.set(batch["_stop"])  # this task's own copy of the context: a cancel stops the reply
        try:
            lines, errors = validate(batch.pop("_data"), batch["endpoint"])
            if errors:
                return self._finish(batch, "failed", errors=errors)
            batch["request_counts"]["total"] = len(lines)
            batch["model"] = lines[0]["body"].get("model")
            if batch["status"] == "validating":
                batch["status"], batch["in_progress_at"] = "in_progress", int(time.time())
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
            if batch["status"] == "in_progress":
                batch["status"], batch["finalizing_at"] = "finalizing", int(time.time())
            for name, results in (("output", answered), ("error", refused)):
                if results:
                    data = "".join(json.dumps(r) + "\n" for r in results).encode()
                    batch[f"{name}_file_id"] = self._store(f"{batch['id']}_{name}.jsonl", "batch_output", data)["id"]
            batch["usage"] = {
                "input_tokens": usage["input_tokens"],
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": usage["output_tokens"],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": usage["input_tokens"] + usage["output_tokens"],
            }
            self._finish(batch, "cancelled" if batch["status"] == "cancelling" else "completed")
        except Exception as error:  # noqa: BLE001 - a batch that breaks says so instead of hanging
            self.guard._describe(error, {}, scope)  # logs it
            message = "The offline practice server failed while running this batch; its log file says why."
            self._finish(batch, "failed", errors=[{"code": "server_error", "message": message}])
        finally:
            self.tasks.pop(batch["id"], None)

    @staticmethod
    def _finish(batch: dict, status: str, errors=None):
        batch["status"] = status
        batch[f"{status}_at"] = int(time.time())
        batch.pop("_data", None)
        if errors:
            batch["errors"] = {"object": "list", "data": errors}

    async def _answer(self, batch: dict, scope: dict, line: dict):
        """(status, body) of one line's request, served as the guard serves a direct one."""
        body = dict(line["body"])
        model = body.get("model")
        provider = batch["_provider"]
        if provider:
            try:
                rule = emulation.check_model(provider, model)
                emulation.check_chat(provider, body, rule)
                body = emulation.rewrite_chat(provider, body, rule)
            except emulation.Refusal as refusal:
                return refusal.status, emulation.provider_error(provider, refusal.status, refusal.body)
        status, problem, body = self.guard.check_chat_body(SERVED_ENDPOINT, body)
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
        inner = dict(scope, method="POST", path=SERVED_ENDPOINT, raw_path=SERVED_ENDPOINT.encode(), headers=headers)
        inner["query_string"] = b""
        await self.guard.chat(inner, until_cancelled, collect, body, reply_sink=keep)
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


def _public(batch: dict) -> dict:
    """The Batch object as the API shows it: no private keys, no fields without a value yet."""
    shown = {k: v for k, v in batch.items() if not k.startswith("_") and v is not None}
    if batch.get("usage") is None and batch["status"] not in _FINISHED:
        shown.pop("usage", None)
    return json.loads(json.dumps(shown))


def _page(items: list, query: dict, *, default_limit: int, most: int = 10_000):
    after = (query.get("after") or [None])[0]
    try:
        limit = max(1, min(most, int((query.get("limit") or [default_limit])[0])))
    except ValueError:
        limit = default_limit
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return items[:limit], len(items) > limit


def _parse_form(content_type: bytes, raw: bytes):
    """({field: text}, (filename, bytes) of the 'file' field or None) from a multipart/form-data body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type + b"\r\n\r\n" + raw
    )
    fields, upload = {}, None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "file":
            upload = (part.get_filename() or "upload", data)
        elif name:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, upload
