"""The Files and Batch API offline: upload a JSONL file of chat requests, run it as a batch, download the answers.

Served by the guard (guard.py routes /v1/files... and /v1/batches... here; the files are
batch_files.py's, a batch runs in batch_runner.py) with the
shapes of OpenAI's OpenAPI specification (`OpenAIFile`, `Batch`, `ListFilesResponse`,
`ListBatchesResponse`, `DeleteFileResponse`; tests/test_offline_shapes.py checks them):

- `POST /v1/files` (multipart: `file`, `purpose`), `GET /v1/files`, `GET /v1/files/{id}`,
  `GET /v1/files/{id}/content`, `DELETE /v1/files/{id}`;
- `POST /v1/batches` (`input_file_id`, `endpoint` "/v1/chat/completions", `completion_window`
  "24h"), `GET /v1/batches`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`.

A batch runs in the background, in the server's event loop: validating (the whole file is
read; a bad line fails the batch with `errors`, as OpenAI does) -> in_progress (one line at
a time, each through the front's own admission and chat path, so its checks, defaults and reply shape are
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
import json
import secrets
import threading
import time
import urllib.parse

from .. import catalog
from .asgi import read_body
from .batch_files import FileStore, missing, not_found, page
from .batch_runner import FINISHED, BatchRunner
from .errors import error_body, invalid_request, send_json
from .gate import parse_body
from .provider_rules import EMULATED_HEADER

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
MAX_BATCHES = 100


def handles(path: str) -> bool:
    """Whether `path` belongs to the Files or Batch API (served by BatchAPI)."""
    return path in ("/v1/files", "/v1/batches") or path.startswith(("/v1/files/", "/v1/batches/"))


class BatchAPI:
    """The files and batches of one server, and the tasks that run the batches."""

    def __init__(self, gate, chat):
        self.batches: dict[str, dict] = {}  # id -> Batch (+ private keys starting with "_")
        self.tasks: dict[str, asyncio.Task] = {}
        self.files = FileStore(in_use=self._files_in_use)
        self.runner = BatchRunner(gate, chat, self.files)

    def _files_in_use(self) -> set:
        return {b["input_file_id"] for b in self.batches.values() if b["status"] not in FINISHED}

    async def serve(self, scope, receive, send, path: str, method: str):
        parts = path.split("/")[2:]  # ["files", id, "content"] or ["batches", id, "cancel"]
        kind, object_id, action = (parts + [None, None])[:3]
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode())
        route = (kind, method, object_id is not None, action)
        files = self.files
        handlers = {
            ("files", "POST", False, None): lambda: files.upload(scope, receive),
            ("files", "GET", False, None): lambda: files.list_files(query),
            ("files", "GET", True, None): lambda: files.retrieve_file(object_id),
            ("files", "DELETE", True, None): lambda: files.delete_file(object_id),
            ("batches", "POST", False, None): lambda: self.create(scope, receive),
            ("batches", "GET", False, None): lambda: self.list_batches(query),
            ("batches", "GET", True, None): lambda: self.retrieve(object_id),
            ("batches", "POST", True, "cancel"): lambda: self.cancel(object_id),
        }
        if route == ("files", "GET", True, "content"):
            return await files.send_content(send, object_id)
        handler = handlers.get(route) if len(parts) <= 3 else None
        if handler is None:
            message = f"Invalid URL ({method} {scope['path']})"
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        status, body = await handler()
        return await send_json(send, status, body)

    async def create(self, scope, receive):
        status, problem, body = parse_body(await read_body(receive))
        if not problem:
            status, problem = check_create(body, self.files.files)
        if problem:
            return status, problem
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
            "metadata": body.get("metadata"),
            "model": None,
            "_data": self.files.files[body["input_file_id"]]["data"],
            "_provider": dict(scope["headers"]).get(EMULATED_HEADER, b"").decode() or None,
            "_stop": threading.Event(),
        }
        self._forget_old_batches()
        self.batches[batch["id"]] = batch
        self.tasks[batch["id"]] = asyncio.get_running_loop().create_task(self._run(batch, scope))
        return 200, _public(batch)

    async def _run(self, batch: dict, scope: dict):
        try:
            await self.runner.run(batch, scope)
        finally:
            self.tasks.pop(batch["id"], None)

    def _forget_old_batches(self) -> None:
        finished = sorted((b for b in self.batches.values() if b["status"] in FINISHED), key=lambda b: b["created_at"])
        for batch in finished[: max(0, len(self.batches) + 1 - MAX_BATCHES)]:
            del self.batches[batch["id"]]

    async def list_batches(self, query):
        batches = sorted(self.batches.values(), key=lambda b: b["created_at"], reverse=True)
        shown, has_more = page([_public(b) for b in batches], query, default_limit=20, most=100)
        body = {"object": "list", "data": shown, "has_more": has_more}
        if shown:
            body.update(first_id=shown[0]["id"], last_id=shown[-1]["id"])
        return 200, body

    async def retrieve(self, batch_id):
        if batch_id not in self.batches:
            return 404, not_found("Batch", batch_id, "batch_id")
        return 200, _public(self.batches[batch_id])

    async def cancel(self, batch_id):
        batch = self.batches.get(batch_id)
        if batch is None:
            return 404, not_found("Batch", batch_id, "batch_id")
        if batch["status"] in FINISHED:
            message = f"Cannot cancel a batch with status '{batch['status']}'."
            return 409, invalid_request(message, None, "batch_not_cancellable")
        if batch["status"] != "cancelling":
            batch["status"], batch["cancelling_at"] = "cancelling", int(time.time())
            batch["_stop"].set()  # stops the line being written (app.py reads it as CLIENT_GONE)
        return 200, _public(batch)


def check_create(body: dict, files: dict):
    """(status, OpenAI error body) for a CreateBatchRequest to refuse, else (200, None); `files`: the stored files."""
    for name in ("input_file_id", "endpoint", "completion_window"):
        if name not in body:
            return 400, missing(name)
    if body["endpoint"] not in BATCH_ENDPOINTS:
        allowed = ", ".join(f"'{e}'" for e in BATCH_ENDPOINTS)
        message = f"Invalid value for 'endpoint': {body['endpoint']!r}. Supported values are: {allowed}."
        return 400, invalid_request(message, "endpoint", "invalid_value")
    if body["endpoint"] != SERVED_ENDPOINT:
        message = (
            f"The offline practice server runs batches of {SERVED_ENDPOINT} requests only, not {body['endpoint']!r}."
        )
        return 400, invalid_request(message, "endpoint", "unsupported_value")
    if body["completion_window"] != catalog.BATCH_COMPLETION_WINDOW:
        message = (
            f"Invalid value for 'completion_window': {body['completion_window']!r}. "
            f"Supported values are: '{catalog.BATCH_COMPLETION_WINDOW}'."
        )
        return 400, invalid_request(message, "completion_window", "invalid_value")
    stored = files.get(body["input_file_id"])
    if stored is None:
        return 404, not_found("File", body["input_file_id"], "input_file_id")
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
    return 200, None


def _public(batch: dict) -> dict:
    """The Batch object as the API shows it: no private keys, no fields without a value yet."""
    shown = {k: v for k, v in batch.items() if not k.startswith("_") and v is not None}
    if batch.get("usage") is None and batch["status"] not in FINISHED:
        shown.pop("usage", None)
    return json.loads(json.dumps(shown))
