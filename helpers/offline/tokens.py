"""Token counts without the model: the offline model's tokenizer and chat template, loaded on their own.

llama-cpp-python does not count the tokens of a streamed reply; OpenAI sends them
in a last chunk when asked (`stream_options={"include_usage": True}`). Counting
here uses the same template and tokenizer as the model server, so a streamed
reply's usage matches the non-streamed one. Also gives the vocabulary size, for
checking `logit_bias`.
"""

from __future__ import annotations


class TokenCounter:
    def __init__(self, model_path: str):
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._vocab = Llama(model_path, vocab_only=True, verbose=False)
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
