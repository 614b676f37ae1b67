"""create_app: llama-cpp-python's app for the offline model, wrapped in the layers that make it answer like OpenAI
(and, under /emulate/<provider>/, like OpenAI, Gemini or Ollama by their rules: emulation.py).

CHAT_TUTORIAL_DEFAULT_SEED, if set (to an integer) in the server's environment,
is the seed of every chat completion or Responses request that names none, so
that notebook recordings come out the same on every run. A request's own `seed`
wins. Unset (the default), a request without a seed is sampled afresh each time,
as OpenAI does. The shared server reads it when it starts: stop it after
changing the variable.
"""

from __future__ import annotations

import collections
import os
import sys

from .. import catalog
from .asgi import CLIENT_GONE, COUNTS
from .emulation import ProviderEmulator
from .guard import OpenAIStyleGuard
from .model_file import model_file
from .practice_faults import PracticeFaults
from .tokens import TokenCounter

DEFAULT_SEED_VAR = "CHAT_TUTORIAL_DEFAULT_SEED"
LOGPROBS_ALIAS_SUFFIX = "@logprobs"  # the same model loaded with logits for every token, used only for logprobs


def default_seed() -> int | None:
    """The seed from CHAT_TUTORIAL_DEFAULT_SEED, None if unset; a clear error if it is not an integer."""
    value = os.environ.get(DEFAULT_SEED_VAR, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{DEFAULT_SEED_VAR} must be an integer, not {value!r}.") from None


def create_app(model_path: str, api_key: str | None, threads: int | None = None, health: dict | None = None):
    """llama-cpp-python's FastAPI app for the model file `model_path`, wrapped in OpenAIStyleGuard."""
    from llama_cpp.server.app import create_app as create_llama_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    seed = default_seed()
    threads = threads or os.cpu_count() or 1
    stop_when_client_goes()
    health = collections.ChainMap(health or {}, COUNTS)  # /health shows the counts as they change
    model_settings = ModelSettings(
        model=model_path,
        model_alias=catalog.OFFLINE_MODEL,
        n_ctx=catalog.OFFLINE_CONTEXT_TOKENS,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=False,  # the server's default (True) computes logits nobody asked for
        verbose=False,
    )
    # logprobs need the logits of every token, which slow every reply down: a second
    # alias of the same file keeps them, and llama-cpp-python loads it only for a request
    # with logprobs (swapping back, in a fraction of a second, on the next other request).
    logprobs_alias = catalog.OFFLINE_MODEL + LOGPROBS_ALIAS_SUFFIX
    logprobs_settings = model_settings.model_copy(update={"model_alias": logprobs_alias, "logits_all": True})
    # llama-cpp-python cuts a streamed reply short (no finish_reason) as soon as another
    # request waits for the model; with one server per class, every request must finish.
    server_settings = ServerSettings(interrupt_requests=False)
    app = create_llama_app(server_settings=server_settings, model_settings=[model_settings, logprobs_settings])
    guard = OpenAIStyleGuard(
        PracticeFaults(app),  # X-Practice-Fail: 429 and 5xx on request, for lesson 10
        api_key=api_key,
        model=catalog.OFFLINE_MODEL,
        context_tokens=catalog.OFFLINE_CONTEXT_TOKENS,
        counter=TokenCounter(model_path),
        logprobs_model=logprobs_alias,
        default_seed=seed,
        health=health,
    )
    # /emulate/<provider>/...: the same model, answering by OpenAI's, Gemini's or Ollama's rules.
    return ProviderEmulator(guard, api_key=api_key)


class _StopWhenGone:
    """A llama.cpp stopping criterion, asked after every new token: true once the client has gone."""

    def __init__(self, gone):
        self.gone, self.tokens, self.stopped = gone, 0, False

    def __call__(self, input_ids, logits) -> bool:
        if self.stopped:  # asked once more after the loop
            return True
        self.tokens += 1
        if not self.gone.is_set():
            return False
        self.stopped = True  # counted by asgi.ClientWatch, which saw the client go
        print(f"[guard] the client went away: its reply stopped after {self.tokens} tokens", file=sys.stderr)
        return True


def stop_when_client_goes() -> None:
    """Make llama-cpp-python stop generating a reply whose client has gone, and repeat seeded replies.

    Its server checks for a disconnect only between streamed chunks, and never while it
    writes a reply that is not streamed (the SDK's default): a learner who gave up on a
    long reply (a timeout, an interrupted cell) kept the one model busy for minutes, for
    nobody. Every completion (chat ones included) goes through `Llama.create_completion`,
    which takes stopping criteria but gets none from the chat handler; wrapped here, once
    per process, it adds one that reads CLIENT_GONE, the event the guard sets when the
    request's client disconnects (asgi.ClientWatch). The context variable reaches the
    worker thread that generates, as anyio copies the request's context into it.
    Outside a request served by the guard (CLIENT_GONE unset) nothing changes.
    """
    from llama_cpp import Llama, StoppingCriteriaList

    create_completion = Llama.create_completion
    if getattr(create_completion, "stops_when_client_goes", False):
        return

    def create_completion_until_gone(self, *args, stopping_criteria=None, **kwargs):
        gone = CLIENT_GONE.get()
        if gone is not None:
            stopping_criteria = StoppingCriteriaList([*(stopping_criteria or []), _StopWhenGone(gone)])
        if kwargs.get("seed") is not None:
            # llama-cpp-python keeps the previous prompt's tokens and evaluates only what
            # differs; evaluated in other batches, the same prompt gives slightly different
            # numbers, and a seeded reply then depended on the request before it. A seeded
            # request is evaluated from its first token, as in a fresh process (cost:
            # `make bench`, "seeded_prompt_afresh"); unseeded requests keep the reuse.
            self.reset()
        return create_completion(self, *args, stopping_criteria=stopping_criteria, **kwargs)

    create_completion_until_gone.stops_when_client_goes = True
    Llama.create_completion = create_completion_until_gone


def create_front_app(
    engine_urls: list[str],
    *,
    engine_key: str | None,
    model: str = catalog.OFFLINE_MODEL,
    api_key: str | None,
    engine_model: str | None = None,
    native_tools: bool = False,
    slots_per_engine: int = 1,
    context_tokens: int = catalog.OFFLINE_CONTEXT_TOKENS,
    counter=None,
):
    """The course's front (key, validation, practice failures, emulation) for raw OpenAI-compatible engines.

    ProviderEmulator(OpenAIStyleGuard(PracticeFaults(ForwardingApp(EnginePool(engine_urls))))):
    learners call the model `model` with `api_key`; the engines (base URLs ending in /v1) are
    called with `engine_key` and the model name `engine_model` (default: `model`), one
    request per slot, `slots_per_engine` slots each (set it to the engine's parallel slots:
    llama-server's --parallel, OLLAMA_NUM_PARALLEL, a share of vLLM's --max-num-seqs).

    Two kinds of engine (docs/engines.md):

    - `native_tools=False` (default): a llama-cpp-python server (`python -m llama_cpp.server`)
      of the course's model. Tools and structured output go to it as the offline server's
      prompt text and GBNF grammar (the `grammar` field only llama-cpp-python reads), and a
      streamed reply's usage is counted with the course model's tokenizer (`counter`,
      default: a TokenCounter of the offline model's file).
    - `native_tools=True`: an engine that does tools and `response_format` itself (vLLM,
      Ollama, llama.cpp's llama-server). They go to it untouched; `counter` is None unless
      given (the engine's tokenizer is not the course's), so a stream asking for usage is
      made from the engine's whole reply and its own count.
    """
    from .upstream import EnginePool, ForwardingApp

    engine_model = engine_model or model
    if counter is None and not native_tools:
        counter = TokenCounter(str(model_file()))
    pool = EnginePool(engine_urls, api_key=engine_key, slots_per_engine=slots_per_engine)
    forward = ForwardingApp(pool, model=engine_model)  # the guard's @logprobs alias becomes the engine's name
    guard = OpenAIStyleGuard(
        PracticeFaults(forward),
        api_key=api_key,
        model=model,
        context_tokens=context_tokens,
        counter=counter,
        logprobs_model=model + LOGPROBS_ALIAS_SUFFIX,
        default_seed=default_seed(),
        native_tools=native_tools,
    )
    return ProviderEmulator(guard, api_key=api_key)


def create_engines_app(engine_urls: list[str], *, engine_key: str | None, slots_per_engine: int = 1):
    """The inner app over the course's own offline servers (each has the whole front inside): a plain forwarder."""
    from .upstream import EnginePool, ForwardingApp

    return ForwardingApp(EnginePool(engine_urls, api_key=engine_key, slots_per_engine=slots_per_engine))
