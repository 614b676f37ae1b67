"""Lesson 15, worked solutions."""

import statistics
import time


# Exercise 15.1
def cheapest(rows):
    priced = [row for row in rows if row["dollars"] is not None]
    return min(priced, key=lambda row: row["dollars"])["model"] if priced else None


# Exercise 15.2
def median_seconds(client, model, prompt, runs):
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        client.chat.completions.create(model=model, messages=prompt)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)
