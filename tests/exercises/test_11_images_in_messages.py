"""Lesson 11's exercises: each worked solution passes its checker, a plausible wrong answer fails it."""

import openai

from exercises.cases import exercise_tests, solution


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


# exercise id (and what goes wrong) -> (the worked solution's answer, a plausible wrong answer)
CASES = {
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
}

test_every_exercise_has_a_case, test_the_worked_solution_passes, test_a_wrong_answer_fails_with_a_hint = exercise_tests(
    CASES, __name__
)
