"""Request checks: what OpenAI refuses with a 4xx, refused here the same way before llama-cpp-python sees it.

First the checks that need this server's facts (its model, its context window),
then OpenAI's published specification (spec.py: types, ranges, enums, required
fields, unknown parameters), then the rules the specification cannot express
(`check_rules`: parameters that need another one, the order of tool messages,
token ids in `logit_bias`). Each check returns (status, OpenAI error body) for a
request to refuse, or (200, None).
"""

from __future__ import annotations

import re

from . import spec
from .errors import invalid_request, json_type, model_not_found

FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_CHOICES = 8  # `n` above this is refused: the offline model writes the choices one after another

ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def check_fields(path: str, body: dict, *, model: str, context_tokens: int):
    """The model, the token limits, the messages: checks that need the server's own facts."""
    requested = body.get("model")
    if not requested:
        return 400, invalid_request("You must provide a model parameter.", "model")
    if requested != model:
        return 404, model_not_found(requested, model)
    if "grammar" in body:  # a llama.cpp extension, and a malformed grammar crashes llama.cpp
        return 400, invalid_request("Unrecognized request argument supplied: grammar", "grammar", "unknown_parameter")
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            message = f"Invalid '{name}': expected an integer of at least 1, got {value!r}."
            return 400, invalid_request(message, name, "invalid_value")
        if value > context_tokens:
            message = (
                f"'{name}' is too large: {value}. This model's context window holds "
                f"{context_tokens} tokens, prompt included."
            )
            return 400, invalid_request(message, name, "invalid_value")
    if path == "/v1/chat/completions":
        return check_messages(body.get("messages"))
    return 200, None


def check_messages(messages):
    if not isinstance(messages, list):
        return 400, invalid_request("'messages' must be a list of message objects.", "messages")
    if not messages:
        return 400, invalid_request("'messages' must contain at least one message.", "messages")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            return 400, invalid_request(
                f"Invalid type for '{where}': expected an object, but got {json_type(message)} instead.",
                where,
                "invalid_type",
            )
        role = message.get("role")
        if role not in ROLES:
            return 400, invalid_request(
                f"Invalid value for '{where}.role': {role!r}. Supported "
                "roles: 'system', 'developer', 'user', 'assistant', 'tool'.",
                f"{where}.role",
            )
        status, problem = check_content(where, role, message.get("content"))
        if problem:
            return status, problem
    return 200, None


def check_content(where: str, role: str, content):
    param = f"{where}.content"
    if content is None:
        if role == "assistant":  # an assistant turn that only called tools
            return 200, None
        return 400, invalid_request(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    if isinstance(content, str):
        return 200, None
    if not isinstance(content, list):
        message = (
            f"Invalid type for '{param}': expected a string or an array of content parts, "
            f"but got {json_type(content)} instead."
        )
        return 400, invalid_request(message, param, "invalid_type")
    for number, part in enumerate(content):
        part_param = f"{param}[{number}]"
        if isinstance(part, dict) and part.get("type") == "image_url":
            return 400, text_only_model_refuses_images(where, number)
        if isinstance(part, dict) and part.get("type") not in ("text", None):
            message = (
                f"Invalid '{part_param}.type': {part.get('type')!r}. This offline model reads "
                "text only: send parts of type 'text'."
            )
            return 400, invalid_request(message, f"{part_param}.type", "invalid_value")
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            message = f"Invalid '{part_param}': expected an object like {{'type': 'text', 'text': '...'}}."
            return 400, invalid_request(message, part_param, "invalid_type")
    return 200, None


def text_only_model_refuses_images(where: str, number: int):
    """OpenAI's answer when a model that reads text only is sent an image part, word for word.

    Its body, as quoted in public bug reports (vllm-project/vllm#11629,
    browser-use/web-ui#274, danny-avila/LibreChat#6333): a 400, no `code`, and a
    `param` written with dots before the brackets, unlike its other errors.
    """
    message = "Invalid content type. image_url is only supported by certain models."
    param = f"{where.replace('[', '.[')}.content.[{number}].type"  # messages[0] -> messages.[0]
    return invalid_request(message, param)


def check_llama_schema(path: str, body: dict):
    """Validate the other fields with llama-cpp-python's own request model (which would answer a 500)."""
    from pydantic import ValidationError

    if path == "/v1/chat/completions":
        from llama_cpp.server.types import CreateChatCompletionRequest as Request
    else:
        from llama_cpp.server.types import CreateCompletionRequest as Request
    try:
        Request.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        message = f"Invalid value for '{param}': {first['msg']}." if param else f"{first['msg']}."
        return 400, invalid_request(message, param, "invalid_value")
    return 200, None


def check_chat(body: dict, vocabulary_size: int | None = None):
    """The specification's rules for a chat completion request, then the ones it cannot express."""
    status, problem = spec.check("chat", body)
    if problem:
        return status, problem
    return check_rules(body, vocabulary_size)


def check_rules(body: dict, vocabulary_size: int | None = None):
    tools = body.get("tools") or []
    for index, tool in enumerate(tools):  # documented in prose, not in the specification's schema
        name = (tool.get("function") or {}).get("name", "")
        if not FUNCTION_NAME.fullmatch(name):
            param = f"tools[{index}].function.name"
            message = (
                f"Invalid '{param}': string does not match pattern. Expected a string that matches the "
                f"pattern '{FUNCTION_NAME.pattern}' (letters, digits, underscores and dashes, at most 64)."
            )
            return 400, invalid_request(message, param, "invalid_value")
        function = tool.get("function") or {}
        problem = _strict_schema_problem(function.get("parameters") or {}) if function.get("strict") else None
        if problem:
            message = f"Invalid schema for function '{name}': {problem}"
            return 400, invalid_request(message, f"tools[{index}].function.parameters", "invalid_function_parameters")
    form = body.get("response_format") or {}
    if form.get("type") == "json_schema":
        if problem := strict_format_problem(form.get("json_schema") or {}):
            return 400, invalid_request(problem, "response_format", None)
    for name in ("tool_choice", "parallel_tool_calls"):
        if body.get(name) is not None and not tools:
            message = f"Invalid value for '{name}': '{name}' is only allowed when 'tools' are specified."
            return 400, invalid_request(message, name, "invalid_value")
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        if wanted not in [tool.get("function", {}).get("name") for tool in tools]:
            message = f"Invalid value for 'tool_choice': no function named '{wanted}' in 'tools'."
            return 400, invalid_request(message, "tool_choice.function.name", "invalid_value")
    if body.get("stream_options") is not None and not body.get("stream"):
        message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        return 400, invalid_request(message, "stream_options", "invalid_value")
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        message = "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."
        return 400, invalid_request(message, "top_logprobs", "invalid_value")
    choices = body.get("n")
    if choices is not None and choices > MAX_CHOICES:
        message = (
            f"Invalid 'n': this offline server writes at most {MAX_CHOICES} choices per request, "
            f"got {choices}. (OpenAI allows up to 128.)"
        )
        return 400, invalid_request(message, "n", "integer_above_max_value")
    status, problem = _check_logit_bias(body.get("logit_bias"), vocabulary_size)
    if problem:
        return status, problem
    return _check_tool_messages(body["messages"])


def strict_format_problem(form: dict) -> str | None:
    """OpenAI's words for a strict `json_schema` response format that strict mode refuses, or None.

    Chat Completions says it with param "response_format" and code null (as quoted in
    public bug reports, e.g. github.com/moeru-ai/xsai/issues/145, 2025); the Responses
    API with param "text.format.schema" and code "invalid_json_schema"
    (github.com/mavam/pi-web-providers/issues/14, 2026-04).
    """
    if not form.get("strict"):
        return None
    problem = _strict_schema_problem(form.get("schema") or {})
    return f"Invalid schema for response_format '{form.get('name')}': {problem}" if problem else None


def _strict_schema_problem(schema, context=()) -> str | None:
    """What OpenAI's strict mode refuses in a schema: an object that allows other keys, or leaves one optional.

    Strict mode (`"strict": true`) needs `"additionalProperties": false` on every object
    and every key of `properties` listed in `required`, nested objects included.
    """
    if not isinstance(schema, dict):
        return None
    if schema.get("type") == "object" or "properties" in schema:
        if schema.get("additionalProperties") is not False:
            return f"In context={context!r}, 'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties") or {}
        missing = [key for key in properties if key not in (schema.get("required") or [])]
        if missing:
            return (
                f"In context={context!r}, 'required' is required to be supplied and to be an array including "
                f"every key in properties. Missing '{missing[0]}'."
            )
        for key, value in properties.items():
            if problem := _strict_schema_problem(value, (*context, "properties", key)):
                return problem
    if problem := _strict_schema_problem(schema.get("items"), (*context, "items")):
        return problem
    for keyword in ("anyOf", "$defs", "definitions"):
        parts = schema.get(keyword)
        named = parts.items() if isinstance(parts, dict) else enumerate(parts or [])
        for label, part in named:
            if problem := _strict_schema_problem(part, (*context, keyword, str(label))):
                return problem
    return None


def _check_logit_bias(bias, vocabulary_size):
    for key, value in (bias or {}).items():
        if not key.isdigit() or (vocabulary_size and int(key) >= vocabulary_size):
            message = (
                f"Invalid key in 'logit_bias': {key}. Keys are token ids: integers from 0 "
                f"to {vocabulary_size - 1 if vocabulary_size else 'the vocabulary size'}."
            )
            return 400, invalid_request(message, "logit_bias", "invalid_value")
        if not -100 <= value <= 100:
            message = f"Invalid value in 'logit_bias' for token {key}: {value}. Expected a value from -100 to 100."
            return 400, invalid_request(message, "logit_bias", "invalid_value")
    return 200, None


def _check_tool_messages(messages: list[dict]):
    """Each tool message answers a call of the assistant message before it; each call gets its answer."""
    waiting: list[str] = []  # the calls of the last assistant message not yet answered
    caller = None
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in waiting:
                text = (
                    "Invalid parameter: messages with role 'tool' must be a response to a preceding message "
                    "with 'tool_calls'"
                )
                known = f" (no call with id {message.get('tool_call_id')!r} is waiting for an answer)."
                return 400, invalid_request(text + known, f"messages.[{index}].role", "invalid_value")
            waiting.remove(message["tool_call_id"])
            continue
        if waiting:
            return _unanswered(caller, waiting)
        if role == "assistant" and message.get("tool_calls"):
            waiting, caller = [call["id"] for call in message["tool_calls"]], index
    if waiting:
        return _unanswered(caller, waiting)
    return 200, None


def _unanswered(index: int, ids: list[str]):
    message = (
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
        f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(ids)}"
    )
    return 400, invalid_request(message, f"messages.[{index}].role", "invalid_value")
