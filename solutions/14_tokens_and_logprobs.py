"""Lesson 14, worked solution."""

import math

from helpers.parameters import request_options


# Exercise 14.1
def token_probabilities(response):
    return [(item.token, math.exp(item.logprob)) for item in response.choices[0].logprobs.content]


# Exercise 14.2
def classify(client, model, text, labels):
    question = f"{text}\nIs this {' or '.join(labels)}? Answer with one word."
    # gpt-6-luna returns logprobs only with reasoning_effort="none": request_options adds it where a model needs it.
    options = request_options(model, reasoning_effort="none", logprobs=True, top_logprobs=20)
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        max_completion_tokens=1,
        **options.send,
    )
    scores = dict.fromkeys(labels, 0.0)
    for alternative in response.choices[0].logprobs.content[0].top_logprobs:
        word = alternative.token.strip().lower()
        for label in labels:
            if word and label.lower().startswith(word):  # "Neg" counts for "negative"
                scores[label] += math.exp(alternative.logprob)
    total = sum(scores.values())
    if total == 0:
        return None, 0.0
    best = max(labels, key=lambda label: scores[label])
    return best, scores[best] / total
