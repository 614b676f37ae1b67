"""Recorded outputs: no screened word in any of them, and the review listing of `make record` works."""

import json
import subprocess
from pathlib import Path

import pytest

from course_tools.isolation import DEFAULT_SEED_VAR, RECORDING_SEED, isolate_environment
from course_tools.recorded_outputs import (
    changed_model_outputs,
    flagged_words,
    review_listing,
    screen_notebook,
    screened_words,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_recorded_output_contains_a_screened_word(path):
    assert screen_notebook(path) == [], "read the output, change the prompt to safer ground and record again"


def test_the_screen_catches_the_text_it_is_for():
    # Paraphrased from the invented "fun facts" once recorded in lesson 5.
    harmful = "In 2015 a woman was Killed, and her boyfriend was a RAPIST; a gunshot wound. Sex!"
    assert flagged_words(harmful) == ["killed", "rapist", "gunshot", "sex"]


def test_the_screen_matches_whole_words_only():
    harmless = "A skilled sextant user, grapes, Essex and the Scunthorpe bombardier beetle are fine: stabilise."
    assert flagged_words(harmless) == []


def test_the_word_list_covers_violence_sexual_content_and_slurs():
    words = screened_words()
    assert len(words) >= 80
    assert {"murder", "porn"} <= words  # one of each kind, spelled here; slurs stay encoded


def _notebook(*cells):
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": cell_id,
                "source": source,
                "metadata": {"tags": ["nbval-ignore-output"]} if model_text else {},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": text}],
            }
            for cell_id, source, text, model_text in cells
        ]
    }


def test_only_model_text_that_changed_is_listed():
    before = _notebook(("a", "ask()", "Octopuses have three hearts.\n", True), ("b", "show()", "stop\n", False))
    after = _notebook(
        ("a", "ask()", "Octopuses have blue blood.\n", True),
        ("b", "show()", "length\n", False),  # not model text: nbval compares it, no review needed
        ("c", "ask_again()", "Honey keeps.\n", True),  # a new cell counts as changed
    )
    assert changed_model_outputs(before, after) == [(0, "Octopuses have blue blood.\n"), (2, "Honey keeps.\n")]
    assert changed_model_outputs(after, after) == []
    assert changed_model_outputs(None, after) == [(0, "Octopuses have blue blood.\n"), (2, "Honey keeps.\n")]


def test_the_listing_compares_with_the_last_commit_and_marks_screened_words(tmp_path):
    def git(*arguments):
        subprocess.run(["git", *arguments], cwd=tmp_path, check=True, capture_output=True)

    path = tmp_path / "01_demo.ipynb"
    path.write_text(json.dumps(_notebook(("a", "ask()", "Octopuses have three hearts.\n", True))))
    git("init", "-q")
    git("add", path.name)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "recorded")
    assert review_listing(path) == ""

    path.write_text(json.dumps(_notebook(("a", "ask()", "The pirate was killed.\n", True))))
    listing = review_listing(path)
    assert listing.splitlines() == [
        "--- 01_demo.ipynb cell 0 (changed since HEAD)   !! SCREENED WORDS: killed",
        "The pirate was killed.",
    ]


def test_recordings_and_test_runs_use_the_same_seed():
    environ = {DEFAULT_SEED_VAR: "999"}
    isolate_environment(environ)
    assert environ[DEFAULT_SEED_VAR] == RECORDING_SEED
