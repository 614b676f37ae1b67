"""The emulated providers' rules: what OpenAI, Gemini or Ollama refuse, ignore or add, as pure functions.

Each check raises Refusal (HTTP status, OpenAI-style error body) for a request the
provider refuses; `rewrite_chat` and `rewrite_responses` give the request as the offline model should see it;
`provider_error` puts an error body in the provider's own shape. Used by the emulator
(emulation.py) for a direct request and by the Batch API (batches.py) for each line.
"""

from __future__ import annotations

import base64
import datetime

from .. import catalog
from ..parameters import model_rule
from . import spec
from .errors import invalid_request, model_not_found

EMULATED_HEADER = b"x-emulated-provider"  # set by emulation.py on a Files or Batch API request it passes on
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
            raise Refusal(404, invalid_request(message, "model", "model_not_found"))
        raise Refusal(404, model_not_found(model))
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


def rewrite_responses(body: dict) -> dict:
    """A Responses API request as the offline model should see it: image parts as text where the model reads images."""
    reads_images = catalog.IMAGE_INPUT.get(body.get("model"), (False, None))[0]
    items = body.get("input")
    if reads_images and isinstance(items, list):
        body = {**body, "input": [_input_images_as_text(item) for item in items]}
    return {**body, "model": catalog.OFFLINE_MODEL}


def _input_images_as_text(item):
    """An input item whose input_image parts (of a message, or of a function call's output) become text parts."""
    if not isinstance(item, dict):
        return item
    field = "output" if item.get("type") == "function_call_output" else "content"
    parts = item.get(field)
    if not isinstance(parts, list):
        return item
    text = {"type": "input_text", "text": "[an image]"}
    return {**item, field: [text if isinstance(p, dict) and p.get("type") == "input_image" else p for p in parts]}


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
