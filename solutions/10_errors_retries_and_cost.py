"""Lesson 10, worked solutions."""

import openai
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from helpers import catalog


# Exercise 10.1
def should_retry(error):
    if isinstance(error, openai.RateLimitError):
        return error.type != "insufficient_quota"  # a billing error comes back as 429 too
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409) or error.status_code >= 500
    return isinstance(error, openai.APIConnectionError)  # includes timeouts


# Exercise 10.2
def conversation_cost(usages, model):
    price = catalog.PRICES[model]
    cached_price = price.input if price.cached_input is None else price.cached_input
    dollars = 0.0
    for usage in usages:
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        dollars += (usage.prompt_tokens - cached) * price.input + cached * cached_price
        dollars += usage.completion_tokens * price.output
    return dollars / 1_000_000


# Exercise 10.3: exercise 10.1's rule decides what is retried.
@retry(
    retry=retry_if_exception(should_retry),
    wait=wait_random_exponential(multiplier=0.2, max=5),
    stop=stop_after_attempt(5),
    reraise=True,
)
def patient_ask(client, model, question):
    response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content
