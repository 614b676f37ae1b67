"""ProviderEmulator: the offline server answering *as* OpenAI, Gemini or Ollama, by their rules.

Under `/emulate/<provider>/` plus that provider's own base URL path (OpenAI `/v1`, Gemini
`/v1beta/openai`, Ollama `/v1` and `/api/tags`), a request is checked against what the
provider's model accepts (`catalog.MODEL_RULES`, `IMAGE_INPUT`, `RESPONSES_API`,
`EMULATED_PROVIDERS`). What the provider refuses gets its error body; what it ignores is
dropped; the rest goes on to the usual OpenAI-style front (guard.py) for the offline model,
and the reply names the emulated model. The text is still the tiny model's: emulation tests
what a learner *sends*, not how well a big model answers.

This is what `make test` runs every lesson, solution and the support assistant against
(configured as a learner with a key is), and what CHAT_TUTORIAL_EMULATE points lessons at.
"""

from __future__ import annotations

import json
import re

from .. import catalog, keys
from . import batches
from .asgi import read_body, replay
from .errors import error_body, invalid_request, send_json
from .provider_rules import (
    EMULATED_HEADER,
    Refusal,
    check_chat,
    check_model,
    check_responses,
    provider_error,
    rewrite_chat,
    rewrite_responses,
    sign_tool_calls,
)

PREFIX = "/emulate/"


def base_path(provider: str) -> str:
    """The path under the offline server's root where the emulated provider's base URL points."""
    return f"{PREFIX}{provider}{catalog.EMULATED_PROVIDERS[provider].path}"


class ProviderEmulator:
    """ASGI middleware in front of the OpenAI-style guard: /emulate/<provider>/... answers as that provider."""

    def __init__(self, app, *, api_key: str | None):
        self.app = app
        self.api_key = api_key  # the offline server's own key, sent on to the guard

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            return await self.app(scope, receive, send)
        provider, _, tail = scope["path"][len(PREFIX) :].partition("/")
        facts = catalog.EMULATED_PROVIDERS.get(provider)
        if facts is None:
            known = ", ".join(catalog.EMULATED_PROVIDERS)
            message = f"No emulated provider {provider!r} here; the emulator knows {known}."
            return await send_json(send, 404, error_body(message, "invalid_request_error"))
        tail = "/" + tail.rstrip("/")
        method = scope["method"]
        if provider == "ollama" and tail == "/api/tags" and method == "GET":
            models = [{"name": f"{m}:latest" if ":" not in m else m, "model": m} for m in facts.models]
            return await send_json(send, 200, {"models": models})
        route = tail[len(facts.path) :] if tail.startswith(facts.path) else None
        try:
            if route is None or not self._known(provider, route, method):
                raise Refusal(404, error_body(f"Invalid URL ({method} {scope['path']})", "invalid_request_error"))
            self._check_key(provider, dict(scope["headers"]).get(b"authorization", b""))
            if batches.handles("/v1" + route):  # each line is checked by the provider's rules when it runs
                inner_scope = self._inner_scope(scope, "/v1" + route)
                inner_scope["headers"].append((EMULATED_HEADER, provider.encode()))
                return await self.app(inner_scope, receive, send)
            if route == "/models":
                cards = [self._card(provider, m) for m in facts.models]
                return await send_json(send, 200, {"object": "list", "data": cards})
            if route.startswith("/models/"):
                model = route.removeprefix("/models/")
                check_model(provider, model)
                return await send_json(send, 200, self._card(provider, model))
            raw = await read_body(receive)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            model = body.get("model") if isinstance(body, dict) else None
            if isinstance(body, dict):
                rule = check_model(provider, model)
                if route == "/chat/completions":
                    check_chat(provider, body, rule)
                    body = rewrite_chat(provider, body, rule)
                else:
                    check_responses(provider, body, rule)
                    body = rewrite_responses(body)
                    if provider == "ollama":  # no stored state: previous_response_id and conversation are not read
                        body.pop("previous_response_id", None)
                        body.pop("conversation", None)
                raw = json.dumps(body).encode()
        except Refusal as refusal:
            return await send_json(send, refusal.status, provider_error(provider, refusal.status, refusal.body))
        inner_scope = self._inner_scope(scope, "/v1" + route)
        return await self.app(inner_scope, replay(raw, receive), _as_provider(send, provider, model))

    @staticmethod
    def _known(provider: str, route: str, method: str) -> bool:
        if route == "/models" or route.startswith("/models/"):
            return method == "GET"
        if route == "/chat/completions":
            return method == "POST"
        if route == "/responses":
            return method == "POST" and catalog.RESPONSES_API[provider].serves
        if batches.handles("/v1" + route):
            return provider == "openai"  # OpenAI's Files and Batch API (the offline server's, batches.py)
        return False

    @staticmethod
    def _check_key(provider: str, header: bytes) -> None:
        if provider == "ollama":
            return  # Ollama reads no key
        key = header.decode(errors="replace").removeprefix("Bearer ").strip()
        try:
            if provider == "gemini":
                keys.validate_gemini_key(key)
            else:
                keys.validate_openai_key(key)
        except keys.KeyProblem:
            if provider == "gemini":
                raise Refusal(400, invalid_request("API key not valid. Please pass a valid API key.")) from None
            message = (
                f"Incorrect API key provided: {keys.mask_key(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            raise Refusal(401, error_body(message, "invalid_request_error", code="invalid_api_key")) from None

    @staticmethod
    def _card(provider: str, model: str) -> dict:
        owner = {"openai": "system", "gemini": "google", "ollama": "library"}[provider]
        return {"id": model, "object": "model", "created": 0, "owned_by": owner}

    def _inner_scope(self, scope, path: str) -> dict:
        dropped = (b"authorization", b"content-length")
        headers = [(name, value) for name, value in scope["headers"] if name not in dropped]
        if self.api_key:
            headers.append((b"authorization", f"Bearer {self.api_key}".encode()))
        return {**scope, "path": path, "raw_path": path.encode(), "headers": headers}


_MODEL_FIELD = re.compile(rb'"model": ?"' + re.escape(catalog.OFFLINE_MODEL.encode()) + rb'"')


def _signed(data: bytes) -> bytes:
    """A chat completion (or one streamed `data:` event) with its tool calls signed; anything else as it was."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return data
    if not isinstance(parsed, dict) or not isinstance(parsed.get("choices"), list):
        return data
    for choice in parsed["choices"]:
        if isinstance(choice, dict):
            sign_tool_calls(choice.get("message") or choice.get("delta") or {})
    return json.dumps(parsed).encode()


def _signed_events(text: bytes) -> bytes:
    lines = [b"data: " + _signed(line[6:]) if line.startswith(b"data: {") else line for line in text.split(b"\n")]
    return b"\n".join(lines)


def _as_provider(send, provider: str, model):
    """Wrap `send`: replies name the emulated model; errors come in the provider's shape."""
    name = json.dumps(model if isinstance(model, str) else catalog.OFFLINE_MODEL).encode()
    signs = catalog.EMULATED_PROVIDERS[provider].signs_tool_calls
    state: dict = {}

    async def provider_send(message):
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            state["start"] = message
            state["stream"] = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            state["buffer"] = b""
            if state["stream"]:
                clean = [(k, v) for k, v in message.get("headers") or [] if k != b"content-length"]
                await send({**message, "headers": clean})
            return
        if message["type"] != "http.response.body":
            return await send(message)
        body = message.get("body", b"")
        if state.get("stream"):
            if signs:  # whole events only: a piece of one waits for the rest
                state["buffer"] += body
                complete, _, state["buffer"] = state["buffer"].rpartition(b"\n\n")
                body = _signed_events(complete + b"\n\n") if complete else b""
                if not message.get("more_body") and state["buffer"]:
                    body, state["buffer"] = body + state["buffer"], b""
            return await send({**message, "body": _MODEL_FIELD.sub(b'"model": ' + name, body)})
        state["buffer"] += body
        if message.get("more_body"):
            return
        start, data = state["start"], state["buffer"]
        status = start["status"]
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
        if status >= 400 and parsed is not None:
            data = json.dumps(provider_error(provider, status, parsed)).encode()
        else:
            data = _MODEL_FIELD.sub(b'"model": ' + name, _signed(data) if signs and status < 400 else data)
        headers = [(k, v) for k, v in start.get("headers") or [] if k != b"content-length"]
        headers.append((b"content-length", str(len(data)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    return provider_send
