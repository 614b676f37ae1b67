"""Request checks: what OpenAI refuses with a 4xx, refused here the same way before llama-cpp-python sees it.

Each check returns (status, OpenAI error body) for a request to refuse, or (200, None).
"""

from __future__ import annotations

from .errors import invalid_request, json_type

ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def check_fields(path: str, body: dict, *, model: str, context_tokens: int):
    """The model, the token limits, the messages: checks that need the server's own facts."""
    requested = body.get("model")
    if not requested:
        return 400, invalid_request("You must provide a model parameter.", "model")
    if requested != model:
        return 404, invalid_request(
            f"The model `{requested}` does not exist or you do not have access to it. "
            f"This offline server serves only `{model}`.",
            "model",
            "model_not_found",
        )
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
