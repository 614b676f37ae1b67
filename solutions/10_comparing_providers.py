"""Lesson 10, worked solutions."""


# Exercise 10.1
def cheapest(rows):
    priced = [row for row in rows if row["dollars"] is not None]
    return min(priced, key=lambda row: row["dollars"])["model"] if priced else None
