"""Request checks built from OpenAI's published OpenAPI specification.

openai_request_schemas.json is a trimmed copy of the request schemas in
github.com/openai/openai-openapi (source commit and date inside; rebuilt with
scripts/trim_openai_spec.py). A request body is validated against it with
`jsonschema`, so that every type, range, enum and required field OpenAI documents
is checked, including the ones nobody here thought of; the first problem is
reported the way OpenAI words it, with the `param` it names.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from .errors import invalid_request, json_type

SCHEMAS_FILE = Path(__file__).with_name("openai_request_schemas.json")
ROOTS = {"chat": "CreateChatCompletionRequest", "responses": "CreateResponse"}
_TYPE_NAMES = {
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a decimal",
    "string": "a string",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


# Marked required in the specification, but OpenAI's API and its own SDK examples
# (client.responses.create(tools=[{"type": "function", "name": ..., ...}])) do without.
# An input_image's `detail`: required in InputImageContent, yet the SDK documents it as
# "Defaults to `auto`" (openai-python src/openai/types/responses/response_input_image_param.py,
# commit 174a428, read 2026-11-30), the spec's own InputImageContentParamAutoParam (images in
# a function call's output) requires only `type`, and Responses code in the wild sends
# {"type": "input_image", "image_url": ...} without it. Refusing it would fail a learner's
# copied example offline that OpenAI answers.
_OPTIONAL_IN_PRACTICE = {"FunctionTool": {"strict", "parameters"}, "InputImageContent": {"detail"}}


@functools.lru_cache(maxsize=1)
def _document() -> dict:
    document = _unions_as_any_of(json.loads(SCHEMAS_FILE.read_text()))
    schemas = document["components"]["schemas"]
    for name, optional in _OPTIONAL_IN_PRACTICE.items():
        schemas[name]["required"] = [field for field in schemas[name]["required"] if field not in optional]
    return document


def _unions_as_any_of(node):
    """Every `oneOf` read as `anyOf`: a value is accepted when it fits one of the forms, as OpenAI reads them.

    The specification writes its unions as OpenAPI `oneOf` (with a `discriminator`), but
    their forms overlap: an input item `{"role": "user", "content": [parts]}` is both an
    EasyInputMessage and an InputMessage (an Item), and JSON Schema's `oneOf` refuses a
    value that fits more than one form. OpenAI's API and SDKs take such a value, so here
    fitting any one form is enough; a value that fits none is refused as before.
    """
    if isinstance(node, list):
        return [_unions_as_any_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {("anyOf" if key == "oneOf" else key): _unions_as_any_of(value) for key, value in node.items()}


@functools.cache
def _validator(kind: str):
    import jsonschema

    root = {"$ref": f"#/components/schemas/{ROOTS[kind]}", "components": _document()["components"]}
    return jsonschema.Draft202012Validator(root)


@functools.cache
def known_parameters(kind: str) -> frozenset[str]:
    """Every top-level parameter the specification names for this request."""
    schemas = _document()["components"]["schemas"]
    names: set[str] = set()

    def collect(schema: dict) -> None:
        if "$ref" in schema:
            return collect(schemas[schema["$ref"].rsplit("/", 1)[-1]])
        names.update(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            collect(part)

    collect(schemas[ROOTS[kind]])
    return frozenset(names)


def param_path(parts) -> str:
    """['messages', 0, 'content'] -> 'messages[0].content', as OpenAI names parameters."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check(kind: str, body: dict):
    """(400, OpenAI error body) for the first way `body` breaks the specification, else (200, None)."""
    for name in body:
        if name not in known_parameters(kind):
            return 400, invalid_request(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
    error = next(iter(_validator(kind).iter_errors(body)), None)
    if error is None:
        return 200, None
    return 400, _describe(_most_telling(error))


def _types_of(schema: dict) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return kind
    if kind:
        return [kind]
    if "enum" in schema or "const" in schema:
        return []
    if "$ref" in schema:
        return [_resolved_type(schema["$ref"])]
    return [t for part in schema.get("anyOf", []) + schema.get("oneOf", []) for t in _types_of(part)]


def _resolved_type(ref: str) -> str:
    schema = _document()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    types = _types_of(schema)
    return types[0] if types else "object"


def _most_telling(error):
    """Inside an anyOf/oneOf, the error of the branch meant for this value says the most.

    A branch is out if the value has the wrong JSON type for it, or if its
    discriminator (`type` or `role`) does not match; of the rest, the deepest error wins.
    A branch that needs a discriminator the value lacks is out too, unless that leaves no
    branch and no discriminator value to name (then the missing field is the news).
    """
    while error.validator in ("anyOf", "oneOf") and error.context:
        depth = len(error.absolute_path)
        branches: dict = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant, lacking = [], []
        for subs in branches.values():
            if any(sub.validator == "type" and len(sub.absolute_path) == depth for sub in subs):
                continue
            if any(_wrong_value_of_discriminator(sub, depth) for sub in subs):
                continue
            if any(_lacks_discriminator(sub, depth) for sub in subs):
                lacking.extend(subs)
                continue
            meant.extend(subs)
        if not meant:  # no branch takes this value
            named = _wrong_discriminator(error)
            if named is not None or not lacking:
                return named or error
            meant = lacking
        error = max(meant, key=lambda sub: len(sub.absolute_path))
    return error


def _wrong_value_of_discriminator(sub, depth: int) -> bool:
    """`type` or `role` set to a value this branch does not take (an enum, a const, or a nullable enum)."""
    if len(sub.absolute_path) != depth + 1 or sub.absolute_path[-1] not in _DISCRIMINATORS:
        return False
    return sub.validator in ("enum", "const") or (sub.validator == "anyOf" and bool(_allowed_values(sub)))


def _allowed_values(sub) -> list:
    if sub.validator == "enum":
        return list(sub.validator_value)
    if sub.validator == "const":
        return [sub.validator_value]
    if sub.validator == "anyOf":  # e.g. ItemReference's type: "item_reference" or null
        return [value for part in sub.context for value in _allowed_values(part) if value is not None]
    return []


def _lacks_discriminator(sub, depth: int) -> bool:
    if sub.validator != "required" or len(sub.absolute_path) != depth:
        return False
    return _quoted_name(sub, "") in _DISCRIMINATORS


def _quoted_name(error, otherwise: str) -> str:
    """The property a `required` or `additionalProperties` error names ("'role' is a required property")."""
    return error.message.split("'")[1] if "'" in error.message else otherwise


_DISCRIMINATORS = ("type", "role")


def _wrong_discriminator(error):
    """For a `type` (or `role`) no branch knows: one enum error that lists every value the branches accept."""
    depth = len(error.absolute_path)
    wrong = [sub for sub in error.context if _wrong_value_of_discriminator(sub, depth)]
    if len({sub.absolute_path[-1] for sub in wrong}) > 1:
        wrong = _the_one_wrong_discriminator(error, wrong)
    if not wrong:
        return None
    allowed = []
    for sub in wrong:
        for option in _allowed_values(sub):
            if option not in allowed:
                allowed.append(option)
    first = wrong[0]
    first.validator, first.validator_value = "enum", allowed
    return first


def _the_one_wrong_discriminator(error, wrong: list) -> list:
    """Both `type` and `role` are wrong somewhere: keep the one that is wrong in a branch taking the other.

    `{"type": "message", "role": "wizard"}` is a message (a branch with a `type` of "message"
    refuses only its role), so the role is named, not every item type there is.
    """
    value = error.instance if isinstance(error.instance, dict) else {}
    by_branch: dict = {}
    for sub in wrong:
        by_branch.setdefault(sub.relative_schema_path[0], set()).add(sub.absolute_path[-1])
    kept = set()
    for branch, names in by_branch.items():
        others = [name for name in _DISCRIMINATORS if name in value and name not in names]
        if len(names) == 1 and others and all(name in _properties(error.validator_value[branch]) for name in others):
            kept |= names
    return [sub for sub in wrong if sub.absolute_path[-1] in kept] if len(kept) == 1 else []


def _properties(schema: dict) -> set:
    """The property names a schema (following $ref and allOf) describes."""
    if "$ref" in schema:
        schema = _document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= _properties(part)
    return names


def _is_type(value, kind: str) -> bool:
    checks = {
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    return checks.get(kind, lambda v: True)(value)


def _describe(error) -> dict:
    param = param_path(error.absolute_path) or None
    value, rule, limit = error.instance, error.validator, error.validator_value
    shown = json.dumps(value) if not isinstance(value, str) else repr(value)
    if rule == "required":
        missing = _quoted_name(error, str(limit))
        where = f"{param}.{missing}" if param else missing
        return invalid_request(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
    if rule in ("type", "anyOf", "oneOf"):
        if rule == "type":
            expected = [limit] if isinstance(limit, str) else list(limit)
        else:
            expected = _types_of(error.schema)
        expected = [t for t in expected if t != "null"] or expected
        if expected and not any(_is_type(value, t) for t in expected):
            names = " or ".join(dict.fromkeys(_TYPE_NAMES.get(t, t) for t in expected))
            return invalid_request(
                f"Invalid type for '{param}': expected {names}, but got {json_type(value)} instead.",
                param,
                "invalid_type",
            )
        message = f"Invalid value for '{param}': {shown} is not one of the forms the API accepts."
        return invalid_request(message, param, "invalid_value")
    if rule in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        kind = "integer" if isinstance(value, int) else "decimal"
        below = rule.endswith("inimum")
        sign = (">" if below else "<") + ("" if rule.startswith("exclusive") else "=")
        return invalid_request(
            f"Invalid '{param}': {kind} {'below minimum' if below else 'above maximum'} value. "
            f"Expected a value {sign} {limit}, but got {value} instead.",
            param,
            f"{kind}_{'below_min' if below else 'above_max'}_value",
        )
    if rule in ("maxItems", "minItems"):
        if rule == "minItems" and not value:
            return invalid_request(
                f"Invalid '{param}': empty array. Expected an array with minimum length {limit}, "
                "but got an empty array instead.",
                param,
                "empty_array",
            )
        too = "long" if rule == "maxItems" else "short"
        return invalid_request(
            f"Invalid '{param}': array too {too}. Expected an array with {'maximum' if too == 'long' else 'minimum'} "
            f"length {limit}, but got an array with length {len(value)} instead.",
            param,
            f"array_{'above_max' if too == 'long' else 'below_min'}_length",
        )
    if rule in ("maxLength", "minLength"):
        too = "long" if rule == "maxLength" else "short"
        return invalid_request(
            f"Invalid '{param}': string too {too}. Expected a string with {'maximum' if too == 'long' else 'minimum'} "
            f"length {limit}, but got a string with length {len(value)} instead.",
            param,
            f"string_{'above_max' if too == 'long' else 'below_min'}_length",
        )
    if rule in ("enum", "const"):
        allowed = limit if rule == "enum" else [limit]
        listed = ", ".join(repr(option) for option in allowed if option is not None)
        return invalid_request(f"Invalid value: {shown}. Supported values are: {listed}.", param, "invalid_value")
    if rule == "pattern":
        return invalid_request(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '{limit}'.",
            param,
            "invalid_value",
        )
    if rule == "additionalProperties":
        extra = _quoted_name(error, "?")
        where = f"{param}.{extra}" if param else extra
        return invalid_request(f"Unknown parameter: '{where}'.", where, "unknown_parameter")
    return invalid_request(f"Invalid value for '{param}': {error.message}.", param, "invalid_value")
