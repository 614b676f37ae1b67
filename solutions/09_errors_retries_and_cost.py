"""Lesson 9, worked solutions."""

from helpers import catalog


# Exercise 9.1
def should_retry(status):
    return status is None or status in (408, 409, 429) or status >= 500


# Exercise 9.2
def conversation_cost(usages, model):
    per_million_in, per_million_out = catalog.PRICES_PER_MILLION_TOKENS[model]
    return sum(u.prompt_tokens * per_million_in + u.completion_tokens * per_million_out for u in usages) / 1_000_000
