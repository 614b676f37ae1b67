"""Lesson 1, worked solutions."""

from helpers.exercises import MADE_UP_KEY

# Exercise 1.1: the name was misspelt (OPEN_API_KEY) and the key wrapped in typographic quotes.
fixed_line = "OPENAI_API_KEY=" + MADE_UP_KEY


# Exercise 1.2
def my_mask(key):
    """The recognised prefix, "...", and the last four characters."""
    for prefix in ("sk-svcacct-", "sk-proj-", "sk-", "AIza", "AQ."):
        if key.startswith(prefix):
            return f"{prefix}...{key[-4:]}"
    return f"...{key[-4:]}"


# Exercise 1.3
def first_reply(client, model, question):
    response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content
