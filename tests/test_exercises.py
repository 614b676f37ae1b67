"""Every exercise: the worked solution passes its checker, and a wrong answer fails it."""

import asyncio
import importlib.util
import json
import time
from pathlib import Path

import openai
import pytest

from helpers import catalog
from helpers.exercises import evaluate, exercise_ids, makes_request

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


def solution(lesson: str):
    path = next(SOLUTIONS.glob(f"{lesson}_*.py"))
    spec = importlib.util.spec_from_file_location(f"solutions_{lesson}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wrong_mask(key):
    for prefix in ("sk-svcacct-", "sk-proj-", "AIza"):
        if key.startswith(prefix):
            return f"{prefix}...{key[-4:]}"
    return f"{key[:4]}...{key[-4:]}"


def ask_catching_everything(client, model, question):
    try:
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    except Exception:
        return f"Unknown model: {model}"
    return response.choices[0].message.content


def trim_with_wrapping_slice(messages, max_pairs):
    system = [m for m in messages if m["role"] == "system"]
    others = [m for m in messages if m["role"] != "system"]
    waiting = others[-1:] if others and others[-1]["role"] == "user" else []
    answered = others[: len(others) - len(waiting)]
    kept = answered[len(answered) - 2 * max_pairs :] if max_pairs > 0 else []
    return system + kept + waiting


def trim_by_guessed_tokens(client, model, messages, budget):
    trim = solution("06").trim_to_pairs
    client.chat.completions.create(model=model, messages=messages, max_completion_tokens=1)
    for keep in range(len(messages) // 2, -1, -1):
        if sum(len(m["content"]) for m in trim(messages, keep)) / 4 <= budget:
            return trim(messages, keep)
    return None


def _batch_request(model, question, number, **changes):
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_completion_tokens": 1000}
    request = {"custom_id": f"q{number}", "method": "POST", "url": "/v1/chat/completions", "body": body}
    return {**request, **changes}


def batch_file_as_one_array(model, questions):
    return json.dumps([_batch_request(model, q, n) for n, q in enumerate(questions)])


def batch_file_with_one_custom_id(model, questions):
    requests = [_batch_request(model, q, n, custom_id="question") for n, q in enumerate(questions)]
    return "".join(json.dumps(request) + "\n" for request in requests)


def batch_file_without_v1(model, questions):
    requests = [_batch_request(model, q, n, url="/chat/completions") for n, q in enumerate(questions)]
    return "".join(json.dumps(request) + "\n" for request in requests)


def batch_file_without_body(model, questions):
    lines = []
    for number, question in enumerate(questions):
        request = _batch_request(model, question, number)
        lines.append(json.dumps({**{k: v for k, v in request.items() if k != "body"}, **request["body"]}) + "\n")
    return "".join(lines)


def batch_file_with_zero_tokens(model, questions):
    lines = []
    for number, question in enumerate(questions):
        request = _batch_request(model, question, number)
        request["body"]["max_completion_tokens"] = 0
        lines.append(json.dumps(request) + "\n")
    return "".join(lines)


def first_token_after_the_loop(client, model, messages):
    started = time.perf_counter()
    pieces = []
    for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    return time.perf_counter() - started, "".join(pieces)


def collect_ignoring_index(chunks):
    call = {"id": None, "name": "", "arguments": ""}
    for chunk in chunks:
        for piece in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call["id"] = call["id"] or piece.id
            call["name"] = piece.function.name or call["name"]
            call["arguments"] += piece.function.arguments or ""
    return [call] if call["id"] else []


def time_tool_left_open():
    tool = solution("09").time_tool
    parameters = {"type": "object", "properties": tool["function"]["parameters"]["properties"]}
    return {"type": "function", "function": {**tool["function"], "parameters": parameters}}


def ask_with_tools_letting_errors_through(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    for _ in range(max_rounds):
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        for call in message.tool_calls:
            result = functions[call.function.name](**json.loads(call.function.arguments))  # no try: a failure crashes
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    return None


def answer_calls(message, functions, messages):
    """Run each tool call of `message` and append its result (or its error) to `messages`."""
    for call in message.tool_calls:
        try:
            result = functions[call.function.name](**json.loads(call.function.arguments))
        except Exception as error:
            result = {"error": str(error)}
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})


def ask_with_tools_without_a_cap(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    while True:  # max_rounds ignored
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        answer_calls(message, functions, messages)


def ask_with_tools_for_one_round(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
    message = reply.choices[0].message
    if not message.tool_calls or max_rounds < 2:
        return message.content
    messages.append(message)
    answer_calls(message, functions, messages)  # the calls of the first reply only; no second round
    reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
    return reply.choices[0].message.content


def ask_with_tools_one_request_too_many(client, model, messages, tools, functions, max_rounds):
    messages = list(messages)
    for _ in range(max_rounds + 1):  # "max_rounds rounds of tools, then one more for the answer"
        reply = client.chat.completions.create(model=model, messages=messages, tools=tools, max_completion_tokens=60)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)
        answer_calls(message, functions, messages)
    return None


def retry_everything(client, model, question):
    for attempt in range(3):
        try:
            response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
            return response.choices[0].message.content
        except Exception:
            if attempt == 2:
                raise
    return None


def median_of_one(client, model, prompt, runs):
    started = time.perf_counter()
    client.chat.completions.create(model=model, messages=prompt)
    return time.perf_counter() - started


async def _reply(client, model, question):
    response = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
    return response.choices[0].message.content


def cancel_without_asking(session, order_id):
    order = session.order(order_id)
    if order is None or order["status"] != "processing":
        return {"error": f"Order {order_id} cannot be cancelled."}
    with session.connection:  # cancels at once: the model's word is taken as the person's
        session.connection.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
    return {"order_id": order_id, "status": "cancelled"}


def _propose_cancel(session, order_id, recheck=True):
    def carry_out():
        status = "processing" if recheck else "%"
        with session.connection:
            cursor = session.connection.execute(
                "UPDATE orders SET status = 'cancelled' WHERE id = ? AND status LIKE ?", (order_id, status)
            )
        return {"order_id": order_id, "status": "cancelled"} if cursor.rowcount else {"error": "Too late."}

    return session.propose(f"Cancel order {order_id}", carry_out)


def cancel_refusing_only_shipped(session, order_id):
    order = session.order(order_id)
    if order is None:
        return session.not_found(order_id)
    if order["status"] == "shipped":  # a delivered or cancelled order gets proposed too
        return {"error": f"Order {order_id} has shipped."}
    return _propose_cancel(session, order_id)


def cancel_any_customers_order(session, order_id):
    order = session.connection.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:  # reads the order by number only: anyone's order can be cancelled
        return {"error": f"There is no order {order_id}."}
    if order["status"] != "processing":
        return {"error": f"Order {order_id} is {order['status']}."}
    return _propose_cancel(session, order_id)


def cancel_without_checking_again(session, order_id):
    order = session.order(order_id)
    if order is None:
        return session.not_found(order_id)
    if order["status"] != "processing":
        return {"error": f"Order {order_id} is {order['status']}."}
    return _propose_cancel(session, order_id, recheck=False)  # at the click, cancels whatever the status


def cancel_saying_it_is_someone_elses(session, order_id):
    order = session.connection.execute("SELECT customer_id FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is not None and order["customer_id"] != session.customer_id:
        return {"error": f"Order {order_id} belongs to another customer."}  # tells that it exists
    return solution("16").cancel_order(session, order_id)


CANCEL_TOOL_WITH_CONFIRM = {
    "type": "function",
    "function": {
        "name": "cancel_order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "confirm": {"type": "boolean"}},
            "required": ["order_id", "confirm"],
        },
    },
}

MY_ORDER_TOOL_BY_EMAIL = {
    "type": "function",
    "function": {
        "name": "my_order",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "integer"}, "email": {"type": "string"}},
            "required": ["order_id", "email"],
        },
    },
}


def my_order_unscoped(session, order_id):
    order = session.connection.execute("SELECT id, status FROM orders WHERE id = ?", (order_id,)).fetchone()
    return {"order_id": order_id, "status": order["status"]} if order else {"error": f"No order {order_id}."}


def my_order_with_its_own_not_found(session, order_id):
    order = session.order(order_id)
    if order is None:
        owned = session.connection.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone()
        return {"error": f"Order {order_id} is not yours." if owned else f"No order {order_id}."}
    return {"order_id": order_id, "status": order["status"]}


def run_allow_listed_without_validation(session, name, arguments):
    from support_assistant.tools import FUNCTIONS

    if name not in FUNCTIONS:
        return json.dumps({"error": f"There is no tool {name!r}."})
    try:
        return json.dumps(FUNCTIONS[name](session, **json.loads(arguments)))
    except (ValueError, TypeError) as error:
        return json.dumps({"error": str(error)})


def run_by_name(session, name, arguments):
    from support_assistant import tools

    return json.dumps(getattr(tools, name)(session, **json.loads(arguments)))


async def ask_all_one_by_one(client, model, questions, limit):
    return [await _reply(client, model, question) for question in questions]


async def ask_all_unbounded(client, model, questions, limit):
    return await asyncio.gather(*(_reply(client, model, question) for question in questions))


async def ask_all_two_at_a_time(client, model, questions, limit):
    semaphore = asyncio.Semaphore(2)  # the number from the lesson, not the `limit` given

    async def ask(question):
        async with semaphore:
            return await _reply(client, model, question)

    return await asyncio.gather(*(ask(question) for question in questions))


async def ask_all_as_they_finish(client, model, questions, limit):
    semaphore = asyncio.Semaphore(limit)

    async def ask(question):
        async with semaphore:
            return await _reply(client, model, question)

    return [await reply for reply in asyncio.as_completed([ask(question) for question in questions])]


def port_left_on_chat(client, model, system, question):
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
        max_completion_tokens=60,
    )
    return response.choices[0].message.content


def port_returning_the_first_item(client, model, system, question):
    response = client.responses.create(model=model, instructions=system, input=question, max_output_tokens=60)
    return response.output[0]


def port_with_the_lessons_system_prompt(client, model, system, question):
    response = client.responses.create(
        model=model,
        instructions="You are a helpful assistant. Answer in one short sentence.",
        input=question,
        max_output_tokens=60,
    )
    return response.output_text


def follow_up_stored_by_default(client, model, first_question, first_response, next_question):
    history = [
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": first_response.output_text},
        {"role": "user", "content": next_question},
    ]
    return client.responses.create(model=model, input=history, max_output_tokens=60)


def follow_up_by_stored_id(client, model, first_question, first_response, next_question):
    return client.responses.create(
        model=model, input=next_question, previous_response_id=first_response.id, max_output_tokens=60
    )


def follow_up_forgetting_the_answer(client, model, first_question, first_response, next_question):
    history = [{"role": "user", "content": first_question}, {"role": "user", "content": next_question}]
    return client.responses.create(model=model, input=history, max_output_tokens=60)


def image_part_without_prefix(png, detail):
    return {"type": "image_url", "image_url": {"url": __import__("base64").b64encode(png).decode(), "detail": detail}}


def ask_with_image_no_fallback(client, model, question, image_url):
    picture = {"type": "image_url", "image_url": {"url": image_url}}
    content = [{"type": "text", "text": question}, picture]
    response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    return response.choices[0].message.content, True


def ask_with_image_falling_back_on_anything(client, model, question, image_url):
    try:
        return ask_with_image_no_fallback(client, model, question, image_url)
    except Exception:
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
        return response.choices[0].message.content, False


def ask_with_image_falling_back_on_any_400(client, model, question, image_url):
    try:
        return ask_with_image_no_fallback(client, model, question, image_url)
    except openai.BadRequestError:
        response = client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
        return response.choices[0].message.content, False


def image_part_for_three_details(png, detail):
    if detail not in ("low", "high", "auto"):
        raise ValueError(f"detail must be 'low', 'high' or 'auto', not {detail!r}")
    url = "data:image/png;base64," + __import__("base64").b64encode(png).decode()
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


def classify_by_the_chosen_token(client, model, text, labels):
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": f"{text}\nIs this {' or '.join(labels)}? Answer with one word."}],
        max_completion_tokens=1,
        logprobs=True,
        top_logprobs=20,
    )
    chosen = response.choices[0].logprobs.content[0]
    return chosen.token.strip().lower(), __import__("math").exp(chosen.logprob)


# exercise id -> (the worked solution's answer, a plausible wrong answer)
CASES = {
    "1.1": (lambda: solution("01").fixed_line, lambda: "OPENAI_API_KEY=\u201csk-proj-" + "EXAMPLE0" * 20 + "\u201d"),
    # Knows the prefixes the checker used to try, but not an older sk- key or a newer AQ. key.
    "1.2": (lambda: solution("01").my_mask, lambda: wrong_mask),
    # Sends the question, but returns the whole response object instead of its text.
    "1.3": (
        lambda: solution("01").first_reply,
        lambda: (
            lambda client, model, question: client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": question}]
            )
        ),
    ),
    "2.1": (
        lambda: solution("02").make_pirate_payload("smollm2-135m-instruct"),
        lambda: {"model": "m", "messages": [{"role": "user", "content": "Tell me a fun fact about parrots."}]},
    ),
    "2.2": (
        lambda: solution("02").reply_text,
        lambda: lambda response: response.json()["choices"][0]["message"]["content"],
    ),
    # A bare `except` that also swallows a wrong key and a timeout.
    "3.1": (lambda: solution("03").ask, lambda: ask_catching_everything),
    "4.1": (lambda: solution("04").gemini_client, lambda: lambda key: __import__("openai").OpenAI(api_key=key)),
    # Lists the models but returns the SDK's objects, not their ids.
    "4.2": (lambda: solution("04").served_models, lambda: lambda client: list(client.models.list())),
    # Asks, but returns the message object rather than its text.
    "5.2": (
        lambda: solution("05").local_answer,
        lambda: (
            lambda client, model, question: (
                client.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
                .choices[0]
                .message
            )
        ),
    ),
    "5.1": (lambda: solution("05").answer_only, lambda: lambda text: text.replace("<think>", "").strip()),
    # Right for every max_pairs the conversation can satisfy; a larger one wraps round (negative slice start).
    "6.1": (lambda: solution("06").trim_to_pairs, lambda: trim_with_wrapping_slice),
    # Counts characters / 4 instead of asking the server (usage.prompt_tokens).
    "6.2": (lambda: solution("06").trim_to_budget, lambda: trim_by_guessed_tokens),
    # Assumes every chunk has choices[0]: fails on OpenAI's final usage chunk.
    "7.1": (
        lambda: solution("07").collect,
        lambda: lambda chunks: "".join(c.choices[0].delta.content or "" for c in chunks),
    ),
    # Streams, but stops the clock after the loop: the time of the whole reply.
    "7.2": (lambda: solution("07").first_token, lambda: first_token_after_the_loop),
    "8.1": (
        lambda: solution("08").portable_request,
        lambda: lambda model, temperature, limit: {"temperature": temperature, "max_completion_tokens": limit},
    ),
    "8.1 by name prefix": (
        lambda: solution("08").portable_request,
        # the old rule of thumb: strip temperature for gpt-5 names, send it everywhere else
        lambda: (
            lambda model, temperature, limit: (
                {"max_completion_tokens": limit}
                | ({} if model.startswith(("gpt-5", "o")) else {"temperature": temperature})
            )
        ),
    ),
    "8.2": (lambda: solution("08").book_format, lambda: {"type": "json_object"}),
    # strict, but the schema leaves other keys open and city optional: OpenAI (and the offline server) refuse it.
    "9.1": (lambda: solution("09").time_tool, time_tool_left_open),
    # Puts every piece into one call: right for one call, wrong for two.
    "9.2": (lambda: solution("09").collect_tool_calls, lambda: collect_ignoring_index),
    # The loop, but a tool that raises crashes it.
    "9.3": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_letting_errors_through),
    "9.3 without a cap": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_without_a_cap),
    # Runs the first reply's calls and asks once more, whatever that reply asks for.
    "9.3 one round only": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_for_one_round),
    "9.3 one request too many": (lambda: solution("09").ask_with_tools, lambda: ask_with_tools_one_request_too_many),
    "10.1": (
        lambda: solution("10").should_retry,
        # retries every 429, billing errors included
        lambda: (
            lambda error: (
                isinstance(error, (openai.RateLimitError, openai.APIConnectionError))
                or getattr(error, "status_code", 0) >= 500
            )
        ),
    ),
    "10.2": (
        lambda: solution("10").conversation_cost,
        lambda: lambda usages, model: sum(u.prompt_tokens + u.completion_tokens for u in usages) / 1_000_000,
    ),
    # Measures once, whatever `runs` says.
    "15.2": (lambda: solution("15").median_seconds, lambda: median_of_one),
    # Retries every exception, a wrong key included.
    "10.3": (lambda: solution("10").patient_ask, lambda: retry_everything),
    "10.2 without the cache": (
        lambda: solution("10").conversation_cost,
        lambda: (
            lambda usages, model: (
                sum(
                    u.prompt_tokens * catalog.PRICES[model].input + u.completion_tokens * catalog.PRICES[model].output
                    for u in usages
                )
                / 1_000_000
            )
        ),
    ),
    "15.1": (
        lambda: solution("15").cheapest,
        lambda: lambda rows: min(rows, key=lambda r: r["dollars"] or 0)["model"] if rows else None,
    ),
    # Takes the model's word for the person's: cancels at once.
    "16.1": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_without_asking),
    ),
    "16.1 a confirm parameter": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (CANCEL_TOOL_WITH_CONFIRM, solution("16").cancel_order),
    ),
    "16.1 delivered proposed": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_refusing_only_shipped),
    ),
    "16.1 another customer's": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_any_customers_order),
    ),
    "16.1 says it exists": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_saying_it_is_someone_elses),
    ),
    "16.1 no second check": (
        lambda: (solution("16").CANCEL_ORDER_TOOL, solution("16").cancel_order),
        lambda: (solution("16").CANCEL_ORDER_TOOL, cancel_without_checking_again),
    ),
    "16.3": (
        lambda: (solution("16").MY_ORDER_TOOL, solution("16").my_order),
        lambda: (solution("16").MY_ORDER_TOOL, my_order_unscoped),
    ),
    "16.3 email in the schema": (
        lambda: (solution("16").MY_ORDER_TOOL, solution("16").my_order),
        lambda: (MY_ORDER_TOOL_BY_EMAIL, solution("16").my_order),
    ),
    "16.3 an oracle": (
        lambda: (solution("16").MY_ORDER_TOOL, solution("16").my_order),
        lambda: (solution("16").MY_ORDER_TOOL, my_order_with_its_own_not_found),
    ),
    # Allow-listed, but trusts the arguments: a 2000-character summary goes into the database.
    "16.2": (lambda: solution("16").safe_run, lambda: run_allow_listed_without_validation),
    "16.2 by name": (lambda: solution("16").safe_run, lambda: run_by_name),
    # Still a chat completion: nothing reached /responses.
    "12.1": (lambda: solution("12").ask_responses, lambda: port_left_on_chat),
    # Ported, but returns the first output item (a message object) instead of output_text.
    "12.1 returning an item": (lambda: solution("12").ask_responses, lambda: port_returning_the_first_item),
    # Relies on server-side state, which the offline server (like Ollama) does not keep: a 400.
    "12.2": (lambda: solution("12").follow_up, lambda: follow_up_by_stored_id),
    "12.2 without the answer": (lambda: solution("12").follow_up, lambda: follow_up_forgetting_the_answer),
    # Sends the whole conversation but leaves `store` at its default (true): the response is kept anyway.
    "12.2 stored by default": (lambda: solution("12").follow_up, lambda: follow_up_stored_by_default),
    # Types in the lesson's system prompt instead of using the `system` it is given.
    "12.1 with the lesson's prompt": (
        lambda: solution("12").ask_responses,
        lambda: port_with_the_lessons_system_prompt,
    ),
    # Base64 text without the "data:image/png;base64," in front: not a URL.
    "11.1": (lambda: solution("11").image_part, lambda: image_part_without_prefix),
    # Lets the text-only model's 400 end the program.
    "11.2": (lambda: solution("11").ask_with_image, lambda: ask_with_image_no_fallback),
    # Retries text-only after any error, a model that does not exist included.
    "11.2 on any error": (lambda: solution("11").ask_with_image, lambda: ask_with_image_falling_back_on_anything),
    # Retries text-only after any 400: a parameter out of range is hidden behind a second request.
    "11.2 on any 400": (lambda: solution("11").ask_with_image, lambda: ask_with_image_falling_back_on_any_400),
    # Knows only three values of `detail`; the guide now has four ("original").
    "11.1 with three details": (lambda: solution("11").image_part, lambda: image_part_for_three_details),
    # Checks the name only: any lookup_order passes, whatever its arguments.
    "17.1": (
        lambda: solution("17").called_with,
        lambda: lambda run, name, arguments: name in [c.name for c in run.tools],
    ),
    # json.loads without a guard: arguments that are not JSON raise instead of failing the case.
    "17.1 unguarded": (
        lambda: solution("17").called_with,
        lambda: (
            lambda run, name, arguments: any(c.name == name and json.loads(c.arguments) == arguments for c in run.tools)
        ),
    ),
    # Looks at the first call only.
    "17.1 first call only": (
        lambda: solution("17").called_with,
        lambda: (
            lambda run, name, arguments: (
                bool(run.tools) and run.tools[0].name == name and run.tools[0].parsed_arguments() == arguments
            )
        ),
    ),
    # The customer's own order: passes with the planted regression too, so it catches nothing.
    "17.2": (
        lambda: (solution("17").CASE, solution("17").grade),
        lambda: (
            {"id": "own order", "message": "Where is my order 1025?"},
            lambda run: any(c.name == "lookup_order" and "error" not in c.parsed_result() for c in run.tools),
        ),
    ),
    # A grader that fails everything fails the working assistant too.
    "17.2 fails everything": (
        lambda: (solution("17").CASE, solution("17").grade),
        lambda: (solution("17").CASE, lambda run: False),
    ),
    "13.1": (lambda: solution("13").ask_all, lambda: ask_all_one_by_one),
    # Returns the logprobs themselves, not probabilities.
    "14.1": (
        lambda: solution("14").token_probabilities,
        lambda: lambda response: [(t.token, t.logprob) for t in response.choices[0].logprobs.content],
    ),
    # Trusts the one token the model happened to write, and its raw probability.
    "14.2": (lambda: solution("14").classify, lambda: classify_by_the_chosen_token),
    "13.1 without a limit": (lambda: solution("13").ask_all, lambda: ask_all_unbounded),
    "13.1 in the order they finish": (lambda: solution("13").ask_all, lambda: ask_all_as_they_finish),
    # A semaphore, but Semaphore(2) whatever `limit` says: passes limit=2, fails limit=3 and limit=1.
    "13.1 with a fixed limit": (lambda: solution("13").ask_all, lambda: ask_all_two_at_a_time),
    # One JSON array, not one request per line (JSONL).
    "13.2": (lambda: solution("13").batch_file, lambda: batch_file_as_one_array),
    # The same custom_id on every line: the batch fails with duplicate_custom_id.
    "13.2 same custom_id": (lambda: solution("13").batch_file, lambda: batch_file_with_one_custom_id),
    # The SDK's path, not the endpoint's: the batch fails with url_mismatch.
    "13.2 without /v1": (lambda: solution("13").batch_file, lambda: batch_file_without_v1),
    # The request's fields at the top of the line, with no "body".
    "13.2 no body": (lambda: solution("13").batch_file, lambda: batch_file_without_body),
    # max_tokens 0: a body the API refuses, so each request goes to the error file.
    "13.2 refused body": (lambda: solution("13").batch_file, lambda: batch_file_with_zero_tokens),
    "13.1 not async": (
        lambda: solution("13").ask_all,
        lambda: lambda client, model, questions, limit: [question for question in questions],
    ),
}


def test_every_exercise_has_a_case():
    assert sorted({case.split()[0] for case in CASES}) == sorted(exercise_ids())


@pytest.mark.parametrize("exercise_id", sorted(CASES))
def test_the_worked_solution_passes(exercise_id, monkeypatch):
    from helpers.exercises import practice

    servers = []  # a checker that sends requests asks for the offline server first
    real_server = practice.practice_server
    monkeypatch.setattr(practice, "practice_server", lambda **kw: servers.append(1) or real_server(**kw))
    right, _ = CASES[exercise_id]
    passed, report = evaluate(exercise_id.split()[0], right())
    assert passed, report
    assert bool(servers) == makes_request(exercise_id.split()[0]), "sends_requests= must say what the checker does"


@pytest.mark.parametrize("exercise_id", sorted(CASES))
def test_a_wrong_answer_fails_with_a_hint(exercise_id):
    _, wrong = CASES[exercise_id]
    passed, report = evaluate(exercise_id.split()[0], wrong())
    assert not passed
    assert report.startswith(f"NOT YET  {exercise_id.split()[0]}") and "Hint: " in report


def test_an_unknown_exercise_is_named():
    with pytest.raises(KeyError, match="6.1"):
        evaluate("99.9", None)
