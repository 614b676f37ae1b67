"""Lesson 5, worked solutions."""

import re


# Exercise 5.1
def answer_only(text):
    return re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL).strip()


# Exercise 5.2
def local_answer(client, model, question):
    response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return answer_only(response.choices[0].message.content)
