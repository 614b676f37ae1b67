"""Token counts without the model: the offline model's tokenizer and chat template, loaded on their own.

llama-cpp-python does not count the tokens of a streamed reply; OpenAI sends them
in a last chunk when asked (`stream_options={"include_usage": True}`). Counting
here uses the same template and tokenizer as the model server, so a streamed
reply's usage matches the non-streamed one. Also gives the vocabulary size, for
checking `logit_bias`.
"""

from __future__ import annotations

import contextlib
import io

from .model_file import model_file, require_offline_model


def load_vocabulary(model_path: str):
    """The model file's tokenizer alone, without its weights: `tokenize`, `detokenize`, `n_vocab`.

    llama.cpp warns, on stderr, that a vocabulary has no context length; that says
    nothing to a learner, so it is kept out of their notebook.
    """
    from llama_cpp import Llama

    with contextlib.redirect_stderr(io.StringIO()):
        return Llama(model_path, vocab_only=True, verbose=False)


def offline_tokenizer():
    """The offline practice model's own tokenizer (lesson 14), installing the model first if need be."""
    require_offline_model()  # waits for (or explains) the offline model's build
    return load_vocabulary(str(model_file()))


class TokenCounter:
    def __init__(self, model_path: str):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._vocab = load_vocabulary(model_path)
        metadata = self._vocab.metadata
        model = self._vocab._model
        self._format = Jinja2ChatFormatter(
            template=metadata["tokenizer.chat_template"],
            eos_token=model.token_get_text(self._vocab.token_eos()),
            bos_token=model.token_get_text(self._vocab.token_bos()),
        )
        self.vocabulary_size = self._vocab.n_vocab()

    def prompt_tokens(self, messages: list[dict]) -> int:
        formatted = self._format(messages=messages)
        return len(self._vocab.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True))

    def text_tokens(self, text: str) -> int:
        return len(self._vocab.tokenize(text.encode(), add_bos=False, special=False))
