"""Lesson 4, worked solutions."""

from openai import OpenAI

from helpers import catalog


# Exercise 4.1
def gemini_client(api_key):
    return OpenAI(base_url=catalog.GEMINI.base_url, api_key=api_key, timeout=60.0)


# Exercise 4.2
def served_models(client):
    return [model.id.removeprefix("models/") for model in client.models.list()]
