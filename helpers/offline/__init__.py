"""The offline practice server's front: llama-cpp-python's app, with OpenAI's manners.

`helpers.local_server` runs the processes; this package is what they serve, one job a file:

- app: create_app, llama-cpp-python's app wrapped in the layers below
- guard: OpenAIStyleGuard, the ASGI layer (key, routes, models, errors, streams held back)
- validation: the request checks (what OpenAI refuses with a 4xx), with spec: the
  rules read from OpenAI's OpenAPI specification (openai_request_schemas.json)
- adapt: an OpenAI request rewritten into what llama-cpp-python reads
- tools: tool calling (tools in the prompt, calls under a grammar)
- shapes: OpenAI's response shapes (usage details, refusal, stream chunks)
- tokens: token counts for streamed replies (stream_options.include_usage)
- responses: POST /v1/responses, translated to and from chat completions
- errors: OpenAI's error body
- emulation: ProviderEmulator, answering as OpenAI, Gemini or Ollama by their rules (/emulate/<provider>/)
- practice_faults: failures on request (X-Practice-Fail), for lesson 10
"""

from .app import create_app

__all__ = ["create_app"]
