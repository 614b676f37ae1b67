"""Lesson 8, worked solutions."""

from helpers.parameters import model_rule


# Exercise 8.1
def portable_request(model, temperature, limit):
    parameters = {"max_completion_tokens": limit}
    rule = model_rule(model)
    if rule is None:  # a model the rules do not know: the safe choice
        return parameters
    if rule.sampling == "always":
        parameters["temperature"] = temperature
    elif rule.sampling == "effort-none":
        parameters |= {"temperature": temperature, "reasoning_effort": "none"}
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
