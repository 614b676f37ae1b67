"""Lesson 9, worked solutions."""

import openai
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from helpers import catalog


# Exercise 9.1
def should_retry(status):
    return status is None or status in (408, 409, 429) or status >= 500


# Exercise 9.2
def conversation_cost(usages, model):
    per_million_in, per_million_out = catalog.PRICES_PER_MILLION_TOKENS[model]
    return sum(u.prompt_tokens * per_million_in + u.completion_tokens * per_million_out for u in usages) / 1_000_000


# Exercise 9.3
def worth_retrying(error):
    if isinstance(error, openai.RateLimitError):
        return error.code != "insufficient_quota"
    return isinstance(error, (openai.InternalServerError, openai.APIConnectionError))


@retry(
    retry=retry_if_exception(worth_retrying),
    wait=wait_random_exponential(multiplier=0.2, max=5),
    stop=stop_after_attempt(5),
    reraise=True,
)
def patient_ask(client, model, question):
    response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content
