"""Lesson 8, worked solutions."""

from helpers import catalog


# Exercise 8.1
def portable_request(model, temperature, limit):
    parameters = {"max_completion_tokens": limit}
    if not model.startswith(catalog.REASONING_MODEL_PREFIXES):
        parameters["temperature"] = temperature
    return parameters


# Exercise 8.2
book_format = {
    "type": "json_schema",
    "json_schema": {
        "name": "book",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
            "required": ["title", "year"],
            "additionalProperties": False,
        },
    },
}
