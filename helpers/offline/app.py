"""create_app: llama-cpp-python's app for the offline model, wrapped in the layers that make it answer like OpenAI."""

from __future__ import annotations

import os

from .. import catalog
from .guard import OpenAIStyleGuard
from .practice_faults import PracticeFaults


def create_app(model_path: str, api_key: str | None, threads: int | None = None, health: dict | None = None):
    """llama-cpp-python's FastAPI app for the model file `model_path`, wrapped in OpenAIStyleGuard."""
    from llama_cpp.server.app import create_app as create_llama_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    threads = threads or os.cpu_count() or 1
    model_settings = ModelSettings(
        model=model_path,
        model_alias=catalog.OFFLINE_MODEL,
        n_ctx=catalog.OFFLINE_CONTEXT_TOKENS,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=False,  # the server's default (True) computes logits nobody asked for
        verbose=False,
    )
    # llama-cpp-python cuts a streamed reply short (no finish_reason) as soon as another
    # request waits for the model; with one server per class, every request must finish.
    server_settings = ServerSettings(interrupt_requests=False)
    app = create_llama_app(server_settings=server_settings, model_settings=[model_settings])
    return OpenAIStyleGuard(
        PracticeFaults(app),  # X-Practice-Fail: 429 and 5xx on request, for lesson 9
        api_key=api_key,
        model=catalog.OFFLINE_MODEL,
        context_tokens=catalog.OFFLINE_CONTEXT_TOKENS,
        health=health,
    )
