"""Trim OpenAI's OpenAPI specification to the schemas this course's offline server deals with.

    python scripts/trim_openai_spec.py path/to/openapi.json COMMIT DATE

The specification is github.com/openai/openai-openapi (openapi.json). Two files come out:
- helpers/offline/openai_request_schemas.json: the request bodies the server checks
  (chat completions, responses), read by helpers/offline/spec.py;
- tests/openai_response_schemas.json: every response shape the server returns, read by
  tests/test_offline_shapes.py.
Descriptions and examples are dropped; `nullable: true` (OpenAPI 3.0 style, still used
there) becomes a JSON Schema `null` alternative, so that `jsonschema` reads the result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "https://github.com/openai/openai-openapi/blob/{commit}/openapi.json"
REQUESTS = ["CreateChatCompletionRequest", "CreateResponse"]
RESPONSES = [
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ErrorResponse",
    "ListModelsResponse",
    "Model",
    "Response",
    "ResponseStreamEvent",
    "OpenAIFile",
    "ListFilesResponse",
    "DeleteFileResponse",
    "Batch",
    "ListBatchesResponse",
]
_DROP = {"description", "example", "examples", "title", "x-oaiMeta", "x-oaiTypeLabel", "x-stainless-const"}


def _closure(schemas: dict, names: list[str]) -> list[str]:
    seen, stack = set(), list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        text = json.dumps(schemas[name])
        for part in text.split('"$ref": "#/components/schemas/')[1:]:
            stack.append(part.split('"', 1)[0])
    return sorted(seen)


def _clean(node):
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _clean(value) for key, value in node.items() if key not in _DROP}
    if out.pop("nullable", False):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        elif isinstance(kind, list):
            out["type"] = [*kind, "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def main(argv: list[str]) -> int:
    spec_file, commit, date = argv
    schemas = json.loads(Path(spec_file).read_text())["components"]["schemas"]
    for names, target in [
        (REQUESTS, ROOT / "helpers" / "offline" / "openai_request_schemas.json"),
        (RESPONSES, ROOT / "tests" / "openai_response_schemas.json"),
    ]:
        kept = _closure(schemas, names)
        document = {
            "source": SOURCE.format(commit=commit),
            "retrieved": date,
            "note": "Trimmed by scripts/trim_openai_spec.py: these schemas and all they refer to.",
            "roots": names,
            "components": {"schemas": {name: _clean(schemas[name]) for name in kept}},
        }
        target.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        print(f"{target.relative_to(ROOT)}: {len(kept)} schemas, {target.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
