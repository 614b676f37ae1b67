"""Lesson 12's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

from exercises.cases import exercise_tests, solution


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


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
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
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
