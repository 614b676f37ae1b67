"""The Files API offline (`/v1/files`): uploads and batch outputs, kept in this process's memory (batches.py).

At most `MAX_STORED_BYTES` of files together: the oldest that no unfinished batch
reads make room for a new one.
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
import time

from .. import catalog
from .asgi import read_body
from .errors import invalid_request, send_json

FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")  # CreateFileRequest's enum
MAX_FILE_BYTES = 8 * 1024 * 1024  # this server's limit for one upload (OpenAI's: catalog.BATCH_MAX_FILE_MB)
MAX_STORED_BYTES = 64 * 1024 * 1024  # all files together, outputs included


def not_found(kind: str, object_id: str, param: str) -> dict:
    return invalid_request(f"No such {kind} object: {object_id}", param)


def missing(name: str) -> dict:
    return invalid_request(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")


class FileStore:
    """The files of one server: id -> {"meta": OpenAIFile, "data": bytes}."""

    def __init__(self, in_use=lambda: set()):
        self.files: dict[str, dict] = {}
        self.in_use = in_use  # () -> the ids of the files unfinished batches read

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
                return 400, missing(name)
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
        return 200, self.store(filename, purpose, data)

    def store(self, filename: str, purpose: str, data: bytes) -> dict:
        """Keep `data` as a new file; its OpenAIFile object."""
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
        in_use = self.in_use()
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
        shown, has_more = page(metas, query, default_limit=10_000)
        first, last = (shown[0]["id"], shown[-1]["id"]) if shown else (None, None)
        return 200, {"object": "list", "data": shown, "first_id": first, "last_id": last, "has_more": has_more}

    async def retrieve_file(self, file_id):
        if file_id not in self.files:
            return 404, not_found("File", file_id, "file_id")
        return 200, self.files[file_id]["meta"]

    async def delete_file(self, file_id):
        if file_id not in self.files:
            return 404, not_found("File", file_id, "file_id")
        del self.files[file_id]
        return 200, {"id": file_id, "object": "file", "deleted": True}

    async def send_content(self, send, file_id):
        if file_id not in self.files:
            return await send_json(send, 404, not_found("File", file_id, "file_id"))
        data = self.files[file_id]["data"]
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def page(items: list, query: dict, *, default_limit: int, most: int = 10_000):
    """(the page of `items` the query's `after` and `limit` ask for, whether more follow)."""
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
