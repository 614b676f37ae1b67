"""A stand-in provider for tests: it streams the tool calls and text a test scripts, and records every request.

What we send to a provider we cannot reach is tested against it (the developers' guide allows a
local recording server for that); it also plays a model that does the worst a model could,
which the real offline model will not do on demand.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _chunk(delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def tool_call_reply(*calls: dict) -> list[dict]:
    """Chunks of a reply that calls tools: each call is {"name", "arguments", and any extra fields}."""
    chunks = [_chunk({"role": "assistant", "content": None})]
    for index, call in enumerate(calls):
        extra = {k: v for k, v in call.items() if k not in ("name", "arguments")}
        first = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": call["name"]}}
        chunks.append(_chunk({"tool_calls": [{**first, "function": {**first["function"], "arguments": ""}, **extra}]}))
        arguments = call["arguments"]
        for start in range(0, len(arguments), 8):  # arguments arrive in pieces
            piece = {"index": index, "function": {"arguments": arguments[start : start + 8]}}
            chunks.append(_chunk({"tool_calls": [piece]}))
    chunks.append(_chunk({}, "tool_calls"))
    return chunks


def text_reply(text: str) -> list[dict]:
    return [_chunk({"role": "assistant", "content": ""}), _chunk({"content": text}), _chunk({}, "stop")]


class ScriptedProvider:
    """Serves `replies` in order (the last one repeats) on 127.0.0.1; `requests` holds each request's body."""

    def __init__(self, replies: list[list[dict]]):
        self.replies, self.requests = list(replies), []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append(body)
                chunks = provider.replies[min(len(provider.requests), len(provider.replies)) - 1]
                usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
                stream = [*chunks, {**chunks[-1], "choices": [], "usage": usage}]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in stream:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def client(self):
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key="scripted", max_retries=0, timeout=10)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
