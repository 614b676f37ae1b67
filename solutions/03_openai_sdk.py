"""Lesson 3, worked solutions."""

import openai


# Exercise 3.1
def ask(client, model, question):
    try:
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    except openai.NotFoundError:
        return f"Unknown model: {model}"
    return response.choices[0].message.content
