"""Lesson 12, worked solutions."""


# Exercise 12.1
def ask_responses(client, model, system, question):
    response = client.responses.create(
        model=model,
        instructions=system,  # the system message becomes `instructions`
        input=question,  # the user message becomes `input`, a plain string
        max_output_tokens=60,  # max_completion_tokens becomes max_output_tokens
    )
    return response.output_text  # choices[0].message.content becomes output_text


# Exercise 12.2
def follow_up(client, model, first_question, first_response, next_question):
    history = [
        {"role": "user", "content": first_question},
        {"role": "assistant", "content": first_response.output_text},
        {"role": "user", "content": next_question},
    ]
    # store=False: nothing kept on the provider's side (the Responses API stores by default), since the
    # whole conversation travels in `input` anyway.
    return client.responses.create(model=model, input=history, store=False, max_output_tokens=60)
