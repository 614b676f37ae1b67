"""Lesson 5, worked solutions."""

import re


# Exercise 5.1
def answer_only(text):
    return re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL).strip()
