"""helpers/offline/tokens.py: the offline model's tokenizer, as lesson 14 loads it."""

import pytest

from helpers.offline.tokens import offline_tokenizer

pytestmark = pytest.mark.server  # needs the offline model installed


def test_the_tokenizer_loads_without_llama_cpps_warning(capfd):
    """Unredirected, llama.cpp prints 'n_ctx_seq (...) > n_ctx_train (0)' into the learner's notebook."""
    offline_tokenizer()
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_it_cuts_text_into_the_models_own_pieces():
    tokenizer = offline_tokenizer()
    ids = tokenizer.tokenize(b"Tokenization", add_bos=False)
    assert [tokenizer.detokenize([i]).decode() for i in ids] == ["Token", "ization"]
    assert tokenizer.n_vocab() == 49152  # SmolLM2's vocabulary
