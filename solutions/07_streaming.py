"""Lesson 7, worked solutions."""


# Exercise 7.1
def collect(chunks):
    pieces = []
    for chunk in chunks:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    return "".join(pieces)
