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

import base64
import datetime
import json
import re

from .. import catalog, keys
from ..parameters import model_rule
from . import batches, spec
from .asgi import read_body, replay
from .errors import error_body, invalid_request, send_json

PREFIX = "/emulate/"
_SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1}  # OpenAI accepts the default value even where it refuses others
_GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}


def provider_of(rule: catalog.ModelRule) -> str | None:
    """Which provider serves the models a MODEL_RULES entry describes (None: the offline model)."""
    if rule.prefix.startswith(("gpt-", "o1", "o3", "o4")):
        return "openai"
    if rule.prefix.startswith("gemini-"):
        return "gemini"
    if rule.prefix == catalog.OFFLINE_MODEL:
        return None
    return "ollama"


def base_path(provider: str) -> str:
    """The path under the offline server's root where the emulated provider's base URL points."""
    return f"{PREFIX}{provider}{catalog.EMULATED_PROVIDERS[provider].path}"


class Refusal(Exception):
    """A request the emulated provider refuses: HTTP status and OpenAI-style error body."""

    def __init__(self, status: int, body: dict):
        super().__init__(body["error"]["message"])
        self.status, self.body = status, body


def _unsupported_value(param: str, value, model: str, allowed: str) -> Refusal:
    message = f"Unsupported value: '{param}' does not support {value!r} with this model. {allowed}"
    return Refusal(400, invalid_request(message, param, "unsupported_value"))


def _unsupported_parameter(param: str, extra: str = "") -> Refusal:
    message = f"Unsupported parameter: '{param}' is not supported with this model.{extra}"
    return Refusal(400, invalid_request(message, param, "unsupported_parameter"))


def check_model(provider: str, model) -> catalog.ModelRule:
    """The rule for `model` if the emulated provider serves it; else the provider's 404."""
    rule = model_rule(model) if isinstance(model, str) else None
    retired = catalog.RETIREMENTS.get(model) if isinstance(model, str) else None
    today = datetime.date.today().isoformat()
    if rule is None or provider_of(rule) != provider or (retired and retired[0] <= today):
        if provider == "ollama":
            message = f'model "{model}" not found, try pulling it first'
        else:
            message = f"The model `{model}` does not exist or you do not have access to it."
        raise Refusal(404, invalid_request(message, "model", "model_not_found"))
    return rule


def check_chat(provider: str, body: dict, rule: catalog.ModelRule) -> None:
    """Raise Refusal for what the provider refuses in a chat completion request."""
    facts = catalog.EMULATED_PROVIDERS[provider]
    if facts.read_fields is not None:
        return  # a provider that ignores what it does not read refuses none of it
    for field in facts.refused_fields:
        if field in body:
            message = f'Invalid JSON payload received. Unknown name "{field}": Cannot find field.'
            raise Refusal(400, invalid_request(message))
    if provider == "openai":  # the API's own schema comes before any model's rules
        status, problem = spec.check("chat", body)
        if problem:
            raise Refusal(status, problem)
    model = body.get("model")
    effort = body.get("reasoning_effort")
    if effort is not None:
        if not rule.efforts:
            raise _unsupported_parameter("reasoning_effort")
        if effort not in rule.efforts:
            allowed = "Supported values are: " + ", ".join(f"'{e}'" for e in rule.efforts) + "."
            raise _unsupported_value("reasoning_effort", effort, model, allowed)
    effort = effort or rule.default_effort
    refuses_sampling = rule.sampling == "never" or (rule.sampling == "effort-none" and effort != "none")
    if refuses_sampling:
        for name, default in _SAMPLING_DEFAULTS.items():
            if body.get(name) is not None and body[name] != default:
                why = "Only the default (1) value is supported."
                if rule.sampling == "effort-none":
                    why += ' Other values are supported with reasoning_effort "none".'
                raise _unsupported_value(name, body[name], model, why)
        for name in ("logprobs", "top_logprobs"):
            if body.get(name):
                extra = ' It is supported with reasoning_effort "none".' if rule.sampling == "effort-none" else ""
                raise _unsupported_parameter(name, extra)
    if body.get("tools") and rule.tools == "effort-none" and effort != "none":
        message = (
            f"Function tools with reasoning_effort {effort!r} are not supported for {model} in "
            "/v1/chat/completions. Set reasoning_effort to 'none', or use /v1/responses."
        )
        raise Refusal(400, invalid_request(message, "tools", "unsupported_parameter"))
    if facts.refuses_max_tokens_with_reasoning and rule.efforts and body.get("max_tokens") is not None:
        raise _unsupported_parameter("max_tokens", " Use 'max_completion_tokens' instead.")
    if facts.signs_tool_calls:
        check_thought_signatures(body.get("messages"))


def _signature(call) -> str | None:
    extra = call.get("extra_content") if isinstance(call, dict) else None
    google = extra.get("google") if isinstance(extra, dict) else None
    return google.get("thought_signature") if isinstance(google, dict) else None


def check_thought_signatures(messages) -> None:
    """Gemini 3: each step of the current turn (after the last user message) must send its first call's signature."""
    if not isinstance(messages, list):
        return
    users = [i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"]
    for position, message in enumerate(messages[users[-1] + 1 if users else 0 :]):
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if message.get("role") == "assistant" and calls and not _signature(calls[0]):
            name = (calls[0].get("function") or {}).get("name") if isinstance(calls[0], dict) else None
            raise Refusal(
                400,
                invalid_request(
                    f"Function call is missing a thought_signature in functionCall parts (function {name}, "
                    f"position {position + 1} of the current turn). Send the assistant message back as it came. "
                    "See https://ai.google.dev/gemini-api/docs/thought-signatures"
                ),
            )


def sign_tool_calls(choice_part: dict) -> None:
    """Give the first tool call of a reply (or its first streamed piece) a thought signature, as Gemini 3 does."""
    calls = choice_part.get("tool_calls") if isinstance(choice_part, dict) else None
    for call in calls or []:
        if isinstance(call, dict) and call.get("id") and call.get("index", 0) == 0:
            signature = base64.b64encode(f"emulated-thought:{call['id']}".encode()).decode()
            call["extra_content"] = {"google": {"thought_signature": signature}}


def check_responses(provider: str, body: dict, rule: catalog.ModelRule) -> None:
    """Raise Refusal for what the provider refuses in a Responses API request."""
    if provider == "ollama":
        return
    reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else {}
    effort = reasoning.get("effort")
    if effort is not None and effort not in rule.efforts:
        allowed = "Supported values are: " + ", ".join(f"'{e}'" for e in rule.efforts) + "."
        raise _unsupported_value("reasoning.effort", effort, body.get("model"), allowed)
    effort = effort or rule.default_effort
    if rule.sampling == "never" or (rule.sampling == "effort-none" and effort != "none"):
        for name, default in _SAMPLING_DEFAULTS.items():
            if body.get(name) is not None and body[name] != default:
                raise _unsupported_parameter(name)


def rewrite_chat(provider: str, body: dict, rule: catalog.ModelRule) -> dict:
    """The request as the offline model should see it: what the provider ignores left out, images as text."""
    facts = catalog.EMULATED_PROVIDERS[provider]
    body = dict(body)
    if facts.read_fields is not None:
        body = {name: value for name, value in body.items() if name in facts.read_fields}
        body.pop("reasoning", None)
    if rule.sampling == "ignored":
        for name in ("temperature", "top_p"):
            body.pop(name, None)
    body.pop("reasoning_effort", None)  # checked above; the offline model has no reasoning to change
    if facts.signs_tool_calls:  # checked above; the offline server reads OpenAI's fields only
        body["messages"] = [_without_signatures(message) for message in body.get("messages") or []]
    reads_images = catalog.IMAGE_INPUT.get(body.get("model"), (False, None))[0]
    if reads_images:
        body["messages"] = [_images_as_text(message) for message in body.get("messages") or []]
    body["model"] = catalog.OFFLINE_MODEL
    return body


def _without_signatures(message):
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    if not calls:
        return message
    bare = [{k: v for k, v in c.items() if k != "extra_content"} if isinstance(c, dict) else c for c in calls]
    return {**message, "tool_calls": bare}


def _images_as_text(message):
    """A message whose image parts become a text part: the tiny model cannot see, the provider's model would."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return message
    parts = [
        {"type": "text", "text": "[an image]"} if isinstance(p, dict) and p.get("type") == "image_url" else p
        for p in content
    ]
    return {**message, "content": parts}


def provider_error(provider: str, status: int, body) -> object:
    """An OpenAI-style error body in the emulated provider's own shape."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return body
    if provider == "gemini":
        status_name = _GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
        return [{"error": {"code": status, "message": error.get("message", ""), "status": status_name}}]
    if provider == "ollama":
        kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
        return {"error": {"message": error.get("message", ""), "type": kind, "param": None, "code": None}}
    return body


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
                inner_scope["headers"].append((batches.EMULATED_HEADER, provider.encode()))
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
                    body = {**body, "model": catalog.OFFLINE_MODEL}
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
