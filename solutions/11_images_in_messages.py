"""Lesson 11, worked solution."""

import base64

import openai


# Exercise 11.1
def image_part(png, detail):
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return {"type": "image_url", "image_url": {"url": url, "detail": detail}}


# Exercise 11.2
def ask_with_image(client, model, question, image_url):
    picture = {"type": "image_url", "image_url": {"url": image_url}}
    try:
        response = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": [{"type": "text", "text": question}, picture]}],
            max_completion_tokens=1000,
        )
        return response.choices[0].message.content, True
    except openai.BadRequestError as error:
        if not (error.param or "").endswith(".type") or "image_url" not in str(error.message):
            raise  # a 400 for another reason: not ours to hide
    response = client.chat.completions.create(  # the model reads text only: ask without the picture
        model=model, messages=[{"role": "user", "content": question}], max_completion_tokens=1000
    )
    return response.choices[0].message.content, False
