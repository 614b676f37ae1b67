"""Lesson 6, worked solutions."""


# Exercise 6.1
def trim_to_pairs(messages, max_pairs):
    system = [m for m in messages if m["role"] == "system"]
    others = [m for m in messages if m["role"] != "system"]
    waiting = others[-1:] if others and others[-1]["role"] == "user" else []
    answered = others[: len(others) - len(waiting)]
    kept = answered[len(answered) - 2 * max_pairs :] if max_pairs > 0 else []
    return system + kept + waiting
