"""The course's capstone: a customer-support assistant for Pebble & Pine, a small made-up shop.

db.py creates and seeds the shop's SQLite database; tools.py holds what the model may ask
the app to do (look up an order, look up a product, open a ticket), with their JSON
schemas; assistant.py runs the conversation (system prompt, trimmed history, the tool
loop, streaming, tokens and cost); app.py puts it in a Gradio chat page (`make app`).
Lesson 16 builds each piece step by step before importing them from here.
"""

from . import db, tools  # the shop and its tools, as lesson 16's checkers use them (`app=support_assistant`)

__all__ = ["db", "tools"]
