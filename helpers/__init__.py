"""Helpers for the Chat Completions course: keys, settings, providers, the offline model.

The notebooks import what they need from here; each module is small enough to
read in one sitting:

- keys: validate_openai_key, validate_gemini_key, mask_key, KeyProblem
- environment: load_env, get_setting (where a value came from), repo_root
- catalog: every fact that goes stale (base URLs, model IDs, key formats, prices,
  parameter rules), each with its source and the date it was checked
- parameters: which request parameters a model accepts (request_options, model_rule)
- providers: provider_settings, make_client (with the offline fallback),
  configured_providers (OpenAI, Gemini, Ollama and any added in .env)
- offline/: the offline model, one wing in floors: installing it (build, model_file),
  what its server serves (llama-cpp-python's app with OpenAI's manners, failures on
  request for lesson 10), its processes, and the lifecycle the lessons use (start, stop, status)
- local_server, offline_build: that wing's command lines, by the names the README uses
  (`python -m helpers.local_server start`); local_server also hands on start, stop and status
- progress: one line of progress that changes in place (notebook, terminal, log)
- colab: the set-up cell of every lesson, in Google Colab
- course_folder: `chat-completions-course FOLDER`, the lessons copied out of the installed package
- exercises: the checkers behind each lesson's "Your turn"
- doctor: the self-check, `python -m helpers.doctor`
"""

import importlib

# Imported on first use, so that `python -m helpers.local_server` does not load
# the module twice (once through this package, once as __main__).
_EXPORTS = {
    "DEFAULT_TIMEOUT": "providers",
    "KeyProblem": "keys",
    "LocalServerError": "offline.model_file",
    "ProviderSettings": "providers",
    "configured_providers": "providers",
    "get_setting": "environment",
    "load_env": "environment",
    "make_client": "providers",
    "mask_key": "keys",
    "provider_settings": "providers",
    "repo_root": "environment",
    "validate_gemini_key": "keys",
    "validate_openai_key": "keys",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'helpers' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
