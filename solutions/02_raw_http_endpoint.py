"""Lesson 2, worked solutions."""


# Exercise 2.1. In the notebook: pirate_payload = make_pirate_payload(settings.model)
def make_pirate_payload(model):
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a pirate. Talk like one."},
            {"role": "user", "content": "Tell me a fun fact about parrots."},
        ],
    }


# Exercise 2.2
def reply_text(response):
    """The reply's text for a 200; otherwise a RuntimeError with the status and the error message."""
    if response.status_code != 200:
        message = response.json().get("error", {}).get("message", response.text)
        raise RuntimeError(f"HTTP {response.status_code}: {message}")
    return response.json()["choices"][0]["message"]["content"]
