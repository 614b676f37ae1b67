"""Lesson 7, worked solutions."""

import time


# Exercise 7.1
def collect(chunks):
    pieces = []
    for chunk in chunks:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    return "".join(pieces)


# Exercise 7.2
def first_token(client, model, messages):
    started = time.perf_counter()
    stream = client.chat.completions.create(model=model, messages=messages, stream=True)
    first_token_at = None
    pieces = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            if first_token_at is None:
                first_token_at = time.perf_counter() - started
            pieces.append(chunk.choices[0].delta.content)
    return first_token_at, "".join(pieces)
